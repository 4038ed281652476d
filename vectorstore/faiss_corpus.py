"""``CorpusIndex``: the reports, their chunks, FAISS and BM25 in one folder, changed together.

The facade the ingest pipeline writes through and the retrieval stage reads from. Replacing or
deleting a document is one SQLite transaction over the documents table and the items table; the faiss
index and the BM25 postings follow it after the commit (see ``storage``), so both retrievers always see
the same chunks. Safe for many reader threads and one writer at a time; other processes may write the
same folder (SQLite locking), and readers here reload when they do.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import numpy as np

from govqa.models.embedders import Embedder
from govqa.types import Chunk, Document, DocumentRecord, Passage
from vectorstore.base import (
    Allow,
    check_chunks,
    chunk_order,
    normalise_rows,
    not_found,
)
from vectorstore.bm25 import BM25Index, get_tokenizer
from vectorstore.chunk_cache import ChunkCache
from vectorstore.convert import chunk_to_item, row_to_chunk
from vectorstore.faiss_index import IndexSpec
from vectorstore.faiss_store import FaissVectorStore, open_folder
from vectorstore.rows import Item, Row, rows_by, take_ranked
from vectorstore.storage import IndexFolder

log = logging.getLogger(__name__)

_DOC_COLUMNS = "doc_id, source, sha256, meta, chunk_count, ingested_at"


class _BM25View:
    """BM25 postings over the stored tokens of every item, kept in step by ``IndexFolder``."""

    def __init__(self) -> None:
        self.index = BM25Index()

    def reset(self, conn: sqlite3.Connection, generation: int) -> None:
        index = BM25Index()
        for fid, tokens in conn.execute("SELECT fid, tokens FROM items WHERE tokens IS NOT NULL"):
            index.add(fid, tokens.split())
        self.index = index

    def apply(self, removed: Sequence[int], added: Sequence[tuple[int, Item]]) -> None:
        self.index.remove(removed)
        for fid, item in added:
            if item.tokens is not None:
                self.index.add(fid, item.tokens)

    def stale(self, generation: int) -> bool:
        return False  # nothing on disk but the tokens in SQLite

    def persist(self, generation: int) -> None:
        return None

    def manifest_fields(self) -> dict[str, Any]:
        return {}


class CorpusIndex:
    """Documents + chunks + dense (FAISS) and sparse (BM25) search over one index folder."""

    def __init__(self, folder: IndexFolder, store: FaissVectorStore, bm25: _BM25View) -> None:
        self._folder = folder
        self._store = store
        self._bm25 = bm25
        self._chunks = ChunkCache()  # decoded search results by fid (never stale: see chunk_cache)

    @classmethod
    def open(
        cls,
        path: Path,
        embedder: Embedder,
        *,
        bm25_tokenizer: str = "both",
        create: bool = True,
        index_spec: IndexSpec | None = None,
    ) -> Self:
        """Open the index in ``path`` (created if missing and ``create``).

        An index built with another embedding model or dimension is re-embedded from its stored texts
        (once, inside the opening transaction: all or nothing). Raises IndexCorruptError if its database
        cannot be read, NotFoundError if missing and not ``create``.
        A different ``bm25_tokenizer`` than the stored one re-tokenises the stored chunks (no re-embedding).
        ``index_spec`` picks the faiss index kind (default: exact below 100,000 chunks, then HNSW/IVF).
        """
        get_tokenizer(bm25_tokenizer)  # a bad name fails before anything is touched
        folder = open_folder(Path(path), embedder, bm25_tokenizer=bm25_tokenizer, create=create)
        try:
            store = FaissVectorStore(embedder, folder=folder, index_spec=index_spec)
            bm25 = _BM25View()
            folder.attach(bm25)
        except BaseException:
            folder.close()
            raise
        return cls(folder, store, bm25)

    @property
    def path(self) -> Path:
        return self._folder.path

    @property
    def vectorstore(self) -> FaissVectorStore:
        """The LangChain view of the chunks (``as_retriever()``); write through this class, not it."""
        return self._store

    # --- documents -----------------------------------------------------------------------------------
    def documents(self) -> list[DocumentRecord]:
        with self._folder.read() as conn:
            rows = conn.execute(f"SELECT {_DOC_COLUMNS} FROM documents ORDER BY source, doc_id").fetchall()
        return [DocumentRecord.from_row(r) for r in rows]

    def get_document(self, doc_id: str) -> DocumentRecord | None:
        with self._folder.read() as conn:
            r = conn.execute(f"SELECT {_DOC_COLUMNS} FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return DocumentRecord.from_row(r) if r else None

    def find_by_source(self, source: str) -> DocumentRecord | None:
        with self._folder.read() as conn:
            r = conn.execute(
                f"SELECT {_DOC_COLUMNS} FROM documents WHERE source = ? ORDER BY ingested_at DESC", (source,)
            ).fetchone()
        return DocumentRecord.from_row(r) if r else None

    def document_text(self, doc_id: str) -> str:
        """The cleaned canonical text citations quote."""
        with self._folder.read() as conn:
            r = conn.execute("SELECT text FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        if r is None:
            raise not_found(doc_id)
        return str(r[0])

    def existing_vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors of the chunk ids that exist, so unchanged chunks are not embedded again."""
        with self._folder.read() as conn:
            rows = rows_by(conn, "id", list(chunk_ids), vectors=True, dim=self._folder.dim)
        return {i: r.vector for i, r in rows.items() if r.vector is not None}

    def replace_document(self, doc: Document, chunks: list[Chunk], vectors: np.ndarray) -> None:
        """Store ``doc`` with exactly these chunks, atomically replacing whatever it had before."""
        vectors = np.asarray(vectors, dtype=np.float32)
        check_chunks(doc, chunks, vectors)
        vectors = normalise_rows(vectors) if len(chunks) else vectors
        tokens = self._folder.tokenize([c.embed_text for c in chunks])
        items = [chunk_to_item(c, v, t) for c, v, t in zip(chunks, vectors, tokens, strict=True)]
        with self._folder.write() as tx:
            tx.delete_docs([doc.doc_id])
            clash = rows_by(tx.conn, "id", [c.chunk_id for c in chunks])
            if clash:
                other = next(iter(clash.values()))
                raise ValueError(
                    f"chunk id {other.id!r} of {doc.source} is already stored for document {other.doc_id!r}: "
                    "chunk ids must be unique across documents"
                )
            tx.insert(items)
            tx.execute(
                "INSERT OR REPLACE INTO documents (doc_id, source, sha256, meta, text, chunk_count, ingested_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    doc.doc_id,
                    doc.source,
                    doc.sha256,
                    json.dumps(doc.meta.to_dict(), ensure_ascii=False),
                    doc.text,
                    len(chunks),
                    datetime.now(UTC).isoformat(timespec="seconds"),
                ),
            )
        log.info("stored %s (%s): %d chunks", doc.doc_id, doc.source, len(chunks))

    def delete_document(self, doc_id: str) -> None:
        with self._folder.write() as tx:
            if tx.query("SELECT 1 FROM documents WHERE doc_id = ?", (doc_id,)).fetchone() is None:
                raise not_found(doc_id)
            tx.delete_docs([doc_id])
            tx.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
        log.info("deleted document %s", doc_id)

    # --- chunks --------------------------------------------------------------------------------------
    def get_chunks(self, chunk_ids: Sequence[str]) -> list[Chunk]:
        """The chunks that exist, in the order asked."""
        with self._folder.read() as conn:
            rows = rows_by(conn, "id", list(chunk_ids))
        return [row_to_chunk(rows[i]) for i in dict.fromkeys(chunk_ids) if i in rows and rows[i].doc_id]

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        return _in_order(self._store.all_rows("doc_id = ?", (doc_id,)))

    def all_chunks(self) -> list[Chunk]:
        return _in_order(self._store.all_rows("doc_id IS NOT NULL"))

    # --- search --------------------------------------------------------------------------------------
    def dense_search(self, query_vector: np.ndarray, k: int, *, allow: Allow | None = None) -> list[Passage]:
        """The ``k`` chunks nearest ``query_vector`` by cosine, ``scores={"dense": cosine}``."""
        found = self._store.search_rows(query_vector, k, _keep(allow), self._chunks.fetch)
        return [_passage(chunk, score, "dense") for chunk, score in found]

    def bm25_search(self, query: str, k: int, *, allow: Allow | None = None) -> list[Passage]:
        """The ``k`` best chunks by BM25 over the index's tokenizer, ``scores={"bm25": score}``."""
        tokens = self._folder.tokenize([query])[0]
        if not tokens or k <= 0:
            return []
        with self._folder.read() as conn:
            found = take_ranked(conn, self._bm25.index.ranked(tokens), k, _keep(allow), self._chunks.fetch)
        return [_passage(chunk, score, "bm25") for chunk, score in found]

    # --- housekeeping --------------------------------------------------------------------------------
    def generation(self) -> int:
        """Bumped by every write to the index (from any process): what caches of answers key on."""
        return self._folder.generation()

    def stats(self) -> dict[str, Any]:
        with self._folder.read() as conn:
            documents = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
            chunks = conn.execute("SELECT count(*) FROM items WHERE doc_id IS NOT NULL").fetchone()[0]
            generation = int(conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
            vectors, vocabulary = len(self._store), self._bm25.index.vocabulary_size
        files = [p for p in self.path.iterdir() if p.is_file()]
        return {
            "path": str(self.path),
            "documents": int(documents),
            "chunks": int(chunks),
            "vectors": vectors,
            "embedding_model": self._folder.model,
            "dim": self._folder.dim,
            "bm25_tokenizer": self._folder.tokenizer_name,
            "bm25_vocabulary": vocabulary,
            "generation": generation,
            "disk_bytes": sum(p.stat().st_size for p in files),
        }

    def backup(self, dest: Path) -> Path:
        """A consistent copy of the index's database in the folder ``dest`` (see ``IndexFolder.backup``)."""
        return self._folder.backup(dest)

    def close(self) -> None:
        self._folder.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _keep(allow: Allow | None) -> Callable[[Chunk | None], bool]:
    if allow is None:
        return lambda chunk: chunk is not None
    return lambda chunk: chunk is not None and allow(chunk)


def _passage(chunk: Chunk | None, score: float, kind: str) -> Passage:
    assert chunk is not None  # _keep turned down the items that are not chunks
    return Passage(chunk=chunk, score=score, scores={kind: score})


def _in_order(rows: list[Row]) -> list[Chunk]:
    return sorted((row_to_chunk(r) for r in rows), key=chunk_order)
