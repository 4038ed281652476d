"""Request and response models of the native HTTP API (``/v1/ask``, ``/v1/documents``, health, errors).

They mirror the shared dataclasses (``Answer.to_dict``, ``Citation``, ``Passage``) field for field, so
the OpenAPI schema documents exactly what the service returns.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from govqa.types import Filters

MAX_HISTORY_TURNS = 50
MAX_TEXT_CHARS = 20_000  # one history message; the body size limit bounds the whole request anyway


# --- errors ------------------------------------------------------------------------------------------
class ErrorDetail(BaseModel):
    code: str = Field(examples=["bad_question"], description="Stable machine-readable error name.")
    message: str = Field(examples=["the question is empty: ask something about the reports"])
    details: list[dict[str, Any]] | None = Field(
        default=None, description="Validation errors only: where and what (no request values are echoed)."
    )


class ErrorResponse(BaseModel):
    """Every error the API returns, whatever the status code."""

    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for the error statuses a route can return."""
    text = {
        400: "Bad input (empty question, unreadable file ...)",
        401: "Missing or unknown API key",
        403: "The key may not change documents",
        404: "No such document",
        413: "Request body or upload too large",
        422: "Request does not match the schema",
        429: "Rate limit exceeded; see the Retry-After header",
        500: "Internal error",
        503: "Models or index not ready yet",
    }
    return {s: {"model": ErrorResponse, "description": text.get(s, "Error")} for s in statuses}


def sse_event_schema(events: list[str] | None, data: str) -> dict[str, Any]:
    """OpenAPI schema of one server-sent event (``text/event-stream`` describes each event)."""
    event: dict[str, Any] = {"type": "string"}
    if events:
        event["enum"] = events
    return {
        "type": "object",
        "required": ["data", *(["event"] if events else [])],
        "properties": {"event": event, "data": {"type": "string", "description": data}},
    }


# --- asking ------------------------------------------------------------------------------------------
class FiltersIn(BaseModel):
    """Restrict answering to some reports."""

    model_config = ConfigDict(extra="forbid")

    body: str | None = Field(default=None, max_length=100, examples=["某镇"], description="Government body.")
    year: int | None = Field(default=None, ge=1949, le=2100, examples=[2023], description="Year covered.")
    document: str | None = Field(
        default=None, max_length=255, description="A document id or source file name from /v1/documents."
    )

    def to_filters(self) -> Filters | None:
        if self.body is None and self.year is None and self.document is None:
            return None
        return Filters(body=self.body, year=self.year, document=self.document)


class ChatTurn(BaseModel):
    role: Literal["user", "assistant", "system"]
    content: str = Field(max_length=MAX_TEXT_CHARS)


def turns_to_pairs(turns: list[tuple[str, str]] | list[ChatTurn]) -> list[tuple[str, str]]:
    """Earlier conversation as (user, assistant) pairs; system turns are ignored."""
    pairs: list[tuple[str, str]] = []
    pending: str | None = None
    for turn in turns:
        if isinstance(turn, tuple):
            pairs.append((turn[0], turn[1]))
            continue
        if turn.role == "user":
            if pending is not None:
                pairs.append((pending, ""))
            pending = turn.content
        elif turn.role == "assistant":
            pairs.append((pending or "", turn.content))
            pending = None
    if pending is not None:
        pairs.append((pending, ""))
    return pairs


class AskRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"question": "2024年某镇税收收入是多少？"},
                {
                    "question": "那2024年呢？",
                    "history": [["2023年某镇税收收入是多少？", "……[1]"]],
                    "filters": {"body": "某镇"},
                    "stream": False,
                },
            ]
        },
    )

    question: str = Field(min_length=1, description="A question about the reports, Chinese or English.")
    history: list[tuple[str, str]] | list[ChatTurn] = Field(
        default_factory=list,
        max_length=MAX_HISTORY_TURNS,
        description="Earlier turns: [[user, assistant], ...] or [{role, content}, ...].",
    )
    filters: FiltersIn | None = None
    stream: bool = Field(
        default=False,
        description="true: server-sent events `delta` {text}, `citations` [...], `done` {answer}; "
        "`error` {error} if it fails mid-way.",
    )

    def history_pairs(self) -> list[tuple[str, str]]:
        return turns_to_pairs(self.history)


class CitationOut(BaseModel):
    n: int = Field(description="The [n] marker in the answer text.")
    chunk_id: str
    doc_id: str
    source: str = Field(description="File name of the report.")
    title: str = Field(examples=["2024年某镇政府工作报告"])
    heading_path: list[str]
    heading: str = Field(description="heading_path joined with ' › '.")
    quote: str = Field(description="Verbatim text of the report.")
    start: int = Field(description="Offset of the quote in the report's cleaned text.")
    end: int
    passage: str = Field(default="", description="The whole chunk the quote sits in.")
    passage_start: int = 0


class PassageOut(BaseModel):
    chunk_id: str
    doc_id: str
    source: str
    title: str
    heading: str
    heading_path: list[str]
    text: str
    start: int
    end: int
    score: float
    scores: dict[str, float] = Field(default_factory=dict)


class AnswerOut(BaseModel):
    """The structured answer, as ``Answer.to_dict()``."""

    question: str
    standalone_question: str = Field(description="The question after folding in the history.")
    answer: str = Field(description="The answer text with [n] citation markers, or the refusal.")
    refused: bool = Field(description="true when the reports do not answer the question.")
    lang: str
    mode: str
    citations: list[CitationOut]
    related: list[PassageOut] = Field(description="Nearby passages: shown with a refusal, or 'see also'.")
    retrieved: list[PassageOut]
    timings_ms: dict[str, float]
    tokens: dict[str, int]
    warnings: list[str]


# --- documents ---------------------------------------------------------------------------------------
class DocumentOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    doc_id: str
    source: str
    chunk_count: int
    sha256: str = ""
    meta: dict[str, Any] = Field(default_factory=dict, description="body, title, date, speaker, years ...")
    ingested_at: str = Field(default="", description="ISO 8601, UTC.")


class DocumentList(BaseModel):
    documents: list[DocumentOut]


class UploadOut(BaseModel):
    doc_id: str
    source: str = Field(description="The stored name: the upload's base name, never a path.")
    status: Literal["added", "updated", "unchanged"]
    chunks: int
    embedded: int = Field(description="Chunks embedded now (0 when the file was unchanged).")
    job_id: str = Field(default="", description="The ingest job that did it.")


class JobOut(BaseModel):
    job_id: str
    source: str
    status: Literal["queued", "running", "done", "failed"]
    error: str = Field(default="", description="Why it failed.")
    seconds: float = Field(description="Time spent ingesting so far.")
    pages_done: int = Field(default=0, description="Pages of a PDF read so far (scanned pages are OCR'd).")
    pages_total: int = Field(
        default=0, description="Pages of the PDF in all (0: not a PDF, or not read yet)."
    )
    result: UploadOut | None = Field(default=None, description="The outcome, once done.")
    url: str = Field(description="Where to ask for this job again.")


class HeadingOut(BaseModel):
    level: int = Field(description="1 = a top-level part of the report.")
    title: str
    start: int = Field(description="Where the heading stands in `text` (characters).")


class DocumentTextOut(BaseModel):
    doc_id: str
    title: str
    source: str
    text: str = Field(description="The cleaned text that citations' offsets point into.")
    headings: list[HeadingOut] = Field(description="The heading tree in document order: a table of contents.")


class DeletedOut(BaseModel):
    deleted: DocumentOut


# --- health ------------------------------------------------------------------------------------------
class Health(BaseModel):
    status: Literal["ok"] = "ok"


class IngestStatus(BaseModel):
    running: int = Field(description="Uploads being ingested now (0 or 1).")
    queued: int = Field(description="Uploads waiting for the ingest worker.")
    longest_s: float = Field(description="How long the running upload has taken so far.")
    stuck: bool = Field(description="The running upload is over GOVQA_INGEST_BUDGET_S (answers go on).")


class Ready(BaseModel):
    status: Literal["ready"] = "ready"
    documents: int
    ingest: IngestStatus | None = None


# --- feedback ----------------------------------------------------------------------------------------
class FeedbackCitation(BaseModel):
    model_config = ConfigDict(extra="ignore")

    n: int = 0
    title: str = Field(default="", max_length=500)
    heading: str = Field(default="", max_length=1000)
    quote: str = Field(default="", max_length=4000)
    source: str = Field(default="", max_length=300)
    start: int = 0
    end: int = 0


class FeedbackIn(BaseModel):
    rating: Literal["up", "down"]
    question: str = Field(min_length=1, max_length=4000)
    answer: str = Field(max_length=8000)
    citations: list[FeedbackCitation] = Field(default_factory=list, max_length=20)
    mode: str = Field(default="", max_length=40)
    refused: bool = False
    comment: str = Field(default="", max_length=2000)


class FeedbackOut(BaseModel):
    id: int
    created: str
    rating: Literal["up", "down"]
    question: str
    answer: str
    citations: list[dict[str, Any]]
    mode: str
    refused: bool
    comment: str
    who: str = Field(description="A key fingerprint or the client's address; never a key.")


class FeedbackList(BaseModel):
    feedback: list[FeedbackOut]
