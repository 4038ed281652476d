"""The govqa exception family.

Every error a user can cause or fix is a ``GovQAError`` carrying a message that says what was wrong
and how to fix it. Library code raises these; only the edges (CLI, HTTP app, UI) convert them into
exit codes, JSON errors or chat messages.
"""

from __future__ import annotations


class GovQAError(Exception):
    """Base class: a problem the user can understand and fix. ``code`` is a stable machine name."""

    code = "govqa_error"
    http_status = 400


class ConfigError(GovQAError):
    """A setting has a bad value (e.g. ``top_k must be > 0, got 0``)."""

    code = "config_error"


class InputFileError(GovQAError):
    """A file given for ingestion cannot be read as a report (wrong type, empty, binary, too big...)."""

    code = "bad_input_file"

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class InputTooLargeError(InputFileError):
    """A file that would take more work than the server allows (a zip bomb, too many pages)."""

    code = "payload_too_large"
    http_status = 413


class ModelNotReadyError(GovQAError):
    """A model the configuration needs has not been prepared (run ``govqa models prepare``)."""

    code = "model_not_ready"
    http_status = 503


class IndexMismatchError(GovQAError):
    """The index on disk was built with another embedding model, dimension or format."""

    code = "index_mismatch"
    http_status = 409


class IndexCorruptError(GovQAError):
    """The index on disk cannot be read."""

    code = "index_corrupt"
    http_status = 500


class NotFoundError(GovQAError):
    """A document or chunk id does not exist."""

    code = "not_found"
    http_status = 404


class BadQuestionError(GovQAError):
    """A question or its filters are malformed (empty, too long, unknown filter value)."""

    code = "bad_question"


class LLMError(GovQAError):
    """The configured chat model could not be reached or returned something unusable."""

    code = "llm_error"
    http_status = 502
