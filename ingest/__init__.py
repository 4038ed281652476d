"""govqa stage: ingest."""
