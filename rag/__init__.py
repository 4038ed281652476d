"""govqa stage: rag."""
