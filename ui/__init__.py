"""govqa stage: ui."""
