"""What every corpus backend shares: the ``Corpus`` interface, the document record, input checks.

``CorpusIndex`` (FAISS + SQLite + BM25 in one folder) and ``MilvusCorpus`` (a Milvus deployment)
implement ``Corpus``; the ingest pipeline, the hybrid retriever and the service only use this interface.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from langchain_core.vectorstores import VectorStore

from govqa.errors import NotFoundError
from govqa.types import Chunk, Document, DocumentMeta, Passage

Allow = Callable[[Chunk], bool]


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


class Corpus(Protocol):
    """Documents, their chunks and vectors, dense and BM25 search: what ingest and retrieval need."""

    @property
    def vectorstore(self) -> VectorStore: ...

    def documents(self) -> list[DocumentRecord]: ...

    def get_document(self, doc_id: str) -> DocumentRecord | None: ...

    def find_by_source(self, source: str) -> DocumentRecord | None: ...

    def document_text(self, doc_id: str) -> str: ...

    def existing_vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]: ...

    def replace_document(self, doc: Document, chunks: list[Chunk], vectors: np.ndarray) -> None: ...

    def delete_document(self, doc_id: str) -> None: ...

    def get_chunks(self, chunk_ids: Sequence[str]) -> list[Chunk]: ...

    def chunks_of(self, doc_id: str) -> list[Chunk]: ...

    def all_chunks(self) -> list[Chunk]: ...

    def dense_search(
        self, query_vector: np.ndarray, k: int, *, allow: Allow | None = None
    ) -> list[Passage]: ...

    def bm25_search(self, query: str, k: int, *, allow: Allow | None = None) -> list[Passage]: ...

    def stats(self) -> dict[str, Any]: ...

    def close(self) -> None: ...


def not_found(doc_id: str) -> NotFoundError:
    return NotFoundError(f"no document with id {doc_id!r}; list the ids with `govqa docs list`")


def chunk_order(chunk: Chunk) -> tuple[str, int, int]:
    """Document order: by document, then position."""
    return (chunk.doc_id, chunk.ordinal, chunk.start)


def check_chunks(doc: Document, chunks: list[Chunk], vectors: np.ndarray) -> None:
    """``chunks`` are ``doc``'s, each exactly ``doc.text[start:end]``, ids unique, one vector each."""
    if not chunks and vectors.size == 0:
        return
    if vectors.ndim != 2 or vectors.shape[0] != len(chunks):
        raise ValueError(
            f"{doc.source}: got {vectors.shape[0] if vectors.ndim else 0} vectors for {len(chunks)} chunks"
        )
    seen: set[str] = set()
    for c in chunks:
        if c.doc_id != doc.doc_id:
            raise ValueError(f"chunk {c.chunk_id!r} belongs to {c.doc_id!r}, not to {doc.doc_id!r}")
        if c.chunk_id in seen:
            raise ValueError(f"{doc.source}: chunk id {c.chunk_id!r} appears twice")
        seen.add(c.chunk_id)
        if doc.text[c.start : c.end] != c.text:
            raise ValueError(f"{doc.source}: chunk {c.chunk_id!r} is not document.text[{c.start}:{c.end}]")
