"""Chunk ↔ stored item ↔ LangChain ``Document``: the one place that maps between them.

A stored chunk keeps its body as the text (what ``page_content`` shows and citations quote), everything
else from ``Chunk.to_dict()`` as JSON metadata, and ``chunk.embed_text`` (title › headings, then body)
as what was embedded and tokenised for BM25.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from langchain_core.documents import Document

from govqa.types import Chunk
from vectorstore.rows import Item, Row


def chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    d = chunk.to_dict()
    del d["text"]
    return d


def chunk_to_item(chunk: Chunk, vector: np.ndarray, tokens: tuple[str, ...] | None) -> Item:
    return Item(
        id=chunk.chunk_id,
        text=chunk.text,
        index_text=chunk.embed_text,
        metadata=chunk_metadata(chunk),
        vector=vector,
        tokens=tokens,
        doc_id=chunk.doc_id,
    )


def row_to_chunk(row: Row) -> Chunk:
    return Chunk.from_dict({**row.metadata, "chunk_id": row.id, "text": row.text})


def chunk_to_document(chunk: Chunk) -> Document:
    return Document(id=chunk.chunk_id, page_content=chunk.text, metadata=chunk_metadata(chunk))


def document_to_chunk(doc: Document) -> Chunk:
    """The chunk behind a document returned by the store (e.g. from ``as_retriever()``)."""
    return Chunk.from_dict({"chunk_id": doc.id, **doc.metadata, "text": doc.page_content})
