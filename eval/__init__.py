"""govqa stage: eval."""
