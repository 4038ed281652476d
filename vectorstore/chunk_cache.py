"""Decoded chunks by fid, so searches do not read and decode the same rows for every question.

A search ranks fids, then reads their rows (SQLite, JSON metadata) and turns them into ``Chunk`` objects,
walking down the ranking while a filter turns rows down: about 150 rows per question on the samples, a
quarter of an uncached answer's time. A fid is never reused, and a stored row's text and metadata never
change (only its vector and BM25 tokens are rewritten in place), so a cached entry never goes stale: a
deleted row's fid is simply never ranked again. Items that are not chunks of a document (added through the
LangChain view, ``doc_id`` NULL) are kept as None. Bounded: beyond ``capacity`` the oldest entries go.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence

from govqa.types import Chunk
from vectorstore.convert import row_to_chunk
from vectorstore.rows import rows_by

DEFAULT_CAPACITY = 20_000  # chunks (~3 KB each decoded): ~60 MB at most


class ChunkCache:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._chunks: dict[int, Chunk | None] = {}
        self._lock = threading.Lock()
        self.reads = 0  # rows read from SQLite (tests and benchmarks look)

    def fetch(self, conn: sqlite3.Connection, fids: Sequence[int]) -> dict[int, Chunk | None]:
        """The chunk (None: not a document's chunk) of every stored fid in ``fids``; absent fids are left out."""
        with self._lock:
            found = {f: self._chunks[f] for f in fids if f in self._chunks}
        missing = [f for f in fids if f not in found]
        if missing:
            rows = rows_by(conn, "fid", missing)
            fresh = {fid: row_to_chunk(r) if r.doc_id is not None else None for fid, r in rows.items()}
            with self._lock:
                self.reads += len(rows)
                self._chunks.update(fresh)
                for old in list(self._chunks)[: max(0, len(self._chunks) - self.capacity)]:
                    del self._chunks[old]
            found.update(fresh)
        return found

    def __len__(self) -> int:
        return len(self._chunks)
