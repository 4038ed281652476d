"""The data that flows between stages, defined once.

ingest produces ``Document`` and ``Chunk``; vectorstore stores chunks and returns them as ``Passage``;
rag turns passages into an ``Answer`` with ``Citation``s; CLI, API, UI and eval all consume ``Answer``.
Everything here is a plain dataclass with ``to_dict``/``from_dict`` for JSON (never pickle).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from govqa.errors import BadQuestionError

HEADING_SEP = " › "


@dataclass(frozen=True)
class DocumentMeta:
    """What a report says about itself: whose report, which years, who delivered it."""

    body: str = ""  # the government body: 东丽镇, 北辰区, 河西镇 ...
    title: str = ""  # e.g. 2019年东丽镇政府工作报告
    date: str = ""  # ISO date the report was delivered, e.g. 2019-12-28
    speaker: str = ""  # e.g. 王明
    speaker_role: str = ""  # e.g. 镇长
    years_reviewed: tuple[int, ...] = ()
    years_planned: tuple[int, ...] = ()
    meeting: str = ""  # e.g. 第十四届全国人民代表大会第三次会议
    ocr_engine: str = ""  # e.g. "tesseract 5.3.0 (chi_sim)" when some pages were read by OCR
    ocr_pages: tuple[int, ...] = ()  # 1-based numbers of the pages whose text came from OCR
    # other years the report states figures for ("由2018年的1520亿元增加到…"): in scope for them too
    years_stated: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["years_reviewed"] = list(self.years_reviewed)
        d["years_planned"] = list(self.years_planned)
        d["ocr_pages"] = list(self.ocr_pages)
        d["years_stated"] = list(self.years_stated)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DocumentMeta:
        return cls(
            body=str(d.get("body", "")),
            title=str(d.get("title", "")),
            date=str(d.get("date", "")),
            speaker=str(d.get("speaker", "")),
            speaker_role=str(d.get("speaker_role", "")),
            meeting=str(d.get("meeting", "")),
            years_reviewed=tuple(int(y) for y in d.get("years_reviewed", ())),
            years_planned=tuple(int(y) for y in d.get("years_planned", ())),
            ocr_engine=str(d.get("ocr_engine", "")),
            ocr_pages=tuple(int(p) for p in d.get("ocr_pages", ())),
            years_stated=tuple(int(y) for y in d.get("years_stated", ())),
        )

    @property
    def missing(self) -> tuple[str, ...]:
        """The fields that could not be read from the report (the user can set them: ``govqa ingest
        --body … --year …`` or a ``<file>.meta.json`` sidecar)."""
        return tuple(
            name
            for name, value in (("body", self.body), ("date", self.date), ("years", self.years))
            if not value
        )

    @property
    def ocr_note(self) -> str:
        """ "text of pages 1-3 read by OCR (tesseract …)" when OCR was used, else ""."""
        if not self.ocr_engine:
            return ""
        return f"text of page(s) {page_ranges(self.ocr_pages)} read by OCR ({self.ocr_engine}); check figures"

    @property
    def years(self) -> tuple[int, ...]:
        """Every year the report speaks about, reviewed or planned."""
        return tuple(sorted(set(self.years_reviewed) | set(self.years_planned)))


@dataclass(frozen=True)
class Document:
    """One ingested report: its cleaned canonical text (what citations quote) and metadata."""

    doc_id: str  # stable id derived from the source name: re-ingesting a changed file replaces it
    source: str  # the file name as ingested (no directories)
    text: str  # cleaned text
    meta: DocumentMeta
    sha256: str  # of the raw file bytes: unchanged file -> nothing to do

    def to_dict(self, with_text: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {
            "doc_id": self.doc_id,
            "source": self.source,
            "sha256": self.sha256,
            "meta": self.meta.to_dict(),
        }
        if with_text:
            d["text"] = self.text
        return d


@dataclass(frozen=True)
class Chunk:
    """A piece of one section of a report. ``text`` is ``document.text[start:end]`` exactly."""

    chunk_id: str
    doc_id: str
    source: str
    text: str
    heading_path: tuple[str, ...]
    start: int
    end: int
    meta: DocumentMeta
    ordinal: int = 0  # position of the chunk within its document
    # shown and embedded before ``text`` but not part of the document text: the caption and header rows
    # of a table repeated on a chunk cut from the middle of a long table
    lead: str = ""

    @property
    def context(self) -> str:
        """``title › part › section``: where the chunk sits, prefixed to what is embedded and indexed."""
        parts = [p for p in (self.meta.title, *self.heading_path) if p]
        return HEADING_SEP.join(parts)

    @property
    def embed_text(self) -> str:
        """What the embedder and BM25 see: context line, then the (table lead and) body."""
        body = f"{self.lead}\n{self.text}" if self.lead else self.text
        return f"{self.context}\n{body}" if self.context else body

    @property
    def heading(self) -> str:
        return HEADING_SEP.join(self.heading_path)

    def to_dict(self) -> dict[str, Any]:
        return {
            "chunk_id": self.chunk_id,
            "doc_id": self.doc_id,
            "source": self.source,
            "text": self.text,
            "heading_path": list(self.heading_path),
            "start": self.start,
            "end": self.end,
            "meta": self.meta.to_dict(),
            "ordinal": self.ordinal,
            **({"lead": self.lead} if self.lead else {}),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Chunk:
        return cls(
            chunk_id=str(d["chunk_id"]),
            doc_id=str(d["doc_id"]),
            source=str(d["source"]),
            text=str(d["text"]),
            heading_path=tuple(str(h) for h in d.get("heading_path", ())),
            start=int(d["start"]),
            end=int(d["end"]),
            meta=DocumentMeta.from_dict(d.get("meta", {})),
            ordinal=int(d.get("ordinal", 0)),
            lead=str(d.get("lead", "")),
        )


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with the scores that ranked it (dense, bm25, fused, rerank ...)."""

    chunk: Chunk
    score: float
    scores: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "chunk_id": self.chunk.chunk_id,
            "doc_id": self.chunk.doc_id,
            "source": self.chunk.source,
            "title": self.chunk.meta.title,
            "heading": self.chunk.heading,
            "heading_path": list(self.chunk.heading_path),
            "text": self.chunk.text,
            "start": self.chunk.start,
            "end": self.chunk.end,
            "score": self.score,
            "scores": dict(self.scores),
        }


@dataclass(frozen=True)
class Citation:
    """The evidence behind an answer's ``[n]``: a verbatim quote and where it sits in its report."""

    n: int
    chunk_id: str
    doc_id: str
    source: str
    title: str
    heading_path: tuple[str, ...]
    quote: str  # verbatim substring of the document's cleaned text
    start: int  # offsets of ``quote`` in the document's cleaned text
    end: int
    passage: str = ""  # the whole chunk body the quote sits in (for highlighting)
    passage_start: int = 0  # offset of ``passage`` in the document's cleaned text
    lead: str = ""  # the table caption and header rows shown before ``passage`` (see ``Chunk.lead``)
    ocr_note: str = ""  # set when the document's text was (partly) read by OCR (``DocumentMeta.ocr_note``)

    @property
    def heading(self) -> str:
        return HEADING_SEP.join(self.heading_path)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["heading_path"] = list(self.heading_path)
        d["heading"] = self.heading
        return d


@dataclass
class Answer:
    """The one structured answer shared by CLI, API, UI and eval."""

    question: str
    text: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    related: list[Passage] = field(default_factory=list)  # shown with a refusal, or as "see also"
    retrieved: list[Passage] = field(default_factory=list)  # ranked retrieval before answering
    standalone_question: str = ""  # the question after multi-turn condensing
    lang: str = "zh"
    mode: str = "extractive"
    timings_ms: dict[str, float] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # e.g. claims without support
    notes: list[str] = field(default_factory=list)  # e.g. a filter the question overrode (also in text)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "standalone_question": self.standalone_question or self.question,
            "answer": self.text,
            "refused": self.refused,
            "lang": self.lang,
            "mode": self.mode,
            "citations": [c.to_dict() for c in self.citations],
            "related": [p.to_dict() for p in self.related],
            "retrieved": [p.to_dict() for p in self.retrieved],
            "timings_ms": dict(self.timings_ms),
            "tokens": dict(self.tokens),
            "warnings": list(self.warnings),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class DocumentRecord:
    """A stored report as listed: no text (``Corpus.document_text`` has it)."""

    doc_id: str
    source: str
    sha256: str
    meta: DocumentMeta
    chunk_count: int
    ingested_at: str  # ISO 8601, UTC

    def to_dict(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "source": self.source,
            "sha256": self.sha256,
            "meta": self.meta.to_dict(),
            "chunk_count": self.chunk_count,
            "ingested_at": self.ingested_at,
        }

    @classmethod
    def from_row(cls, r: tuple[Any, ...]) -> DocumentRecord:
        """From (doc_id, source, sha256, meta JSON, chunk_count, ingested_at)."""
        return cls(r[0], r[1], r[2], DocumentMeta.from_dict(json.loads(r[3])), int(r[4]), r[5])


@dataclass(frozen=True)
class Filters:
    """Explicit filters a user can set (CLI flags, API ``filters``, UI dropdowns)."""

    body: str | None = None
    year: int | None = None
    document: str | None = None  # a doc_id or a source file name

    def __post_init__(self) -> None:
        if self.year is not None and not 1949 <= self.year <= 2100:
            raise BadQuestionError(f"filter year must be between 1949 and 2100, got {self.year}")


def page_ranges(pages: tuple[int, ...] | list[int]) -> str:
    """``(1, 2, 3, 5)`` -> ``"1-3, 5"``."""
    out: list[str] = []
    nums = sorted(set(pages))
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(str(nums[i]) if i == j else f"{nums[i]}-{nums[j]}")
        i = j + 1
    return ", ".join(out)
