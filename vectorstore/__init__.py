"""govqa stage: vectorstore."""
