"""govqa: Q&A with cited passages over government work reports."""

__version__ = "0.1.0"
