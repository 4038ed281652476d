"""What every corpus backend shares: the ``Corpus`` interface, input checks, and the backend-neutral
vector helpers (``embedding_identity``, ``passage_vectors``, ``query_vector``, ``normalise_rows``).

``CorpusIndex`` (FAISS + SQLite + BM25 in one folder, ``vectorstore.faiss_corpus``) and ``MilvusCorpus``
(a Milvus deployment, ``vectorstore.milvus_corpus``) implement ``Corpus``; the ingest pipeline, the hybrid retriever and the service only use this interface.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from govqa.errors import NotFoundError
from govqa.models.embedders import Embedder
from govqa.types import Chunk, Document, DocumentRecord, Passage

Allow = Callable[[Chunk], bool]


def embedding_identity(embedding: Embeddings) -> tuple[str, int]:
    """(model name, dimension or 0 if not known before the first vector) of any LangChain embeddings.

    Never loads a model: our ``Embedder`` says its name and (once loaded) its dimension.
    """
    if isinstance(embedding, Embedder):
        return embedding.name, int(embedding.dim or 0)
    name = type(embedding).__name__
    for attr in ("model", "model_name"):
        value = getattr(embedding, attr, None)
        if isinstance(value, str) and value:
            name = value
            break
    size = getattr(embedding, "size", None)
    return name, size if isinstance(size, int) and size > 0 else 0


def passage_vectors(embedding: Embeddings, texts: list[str]) -> np.ndarray:
    """Normalised float32 rows for passages from any LangChain embeddings (ours: without a list detour)."""
    if isinstance(embedding, Embedder):
        return embedding.encode_passages(texts)
    return normalise_rows(embedding.embed_documents(texts))


def query_vector(embedding: Embeddings, text: str) -> np.ndarray:
    """The normalised float32 vector of one question from any LangChain embeddings."""
    if isinstance(embedding, Embedder):
        return embedding.encode_queries([text])[0]
    return normalise_rows(embedding.embed_query(text))[0]


def normalise_rows(vectors: Any) -> np.ndarray:
    v = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(v / norms, dtype=np.float32)


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
