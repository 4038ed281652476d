"""Decoded chunks by fid, so searches do not read and decode the same rows for every question.

A search ranks fids, then reads their rows (SQLite, JSON metadata) and turns them into ``Chunk`` objects,
walking down the ranking while a filter turns rows down: about 150 rows per question on the samples, a
quarter of an uncached answer's time. A fid is never reused, and a stored row's text and metadata never
change (only its vector and BM25 tokens are rewritten in place), so a cached entry never goes stale: a
deleted row's fid is simply never ranked again. Items that are not chunks of a document (added through the
LangChain view, ``doc_id`` NULL) are kept as None. Bounded: beyond ``capacity`` the least recently used go.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence

from govqa.cache import LRUCache
from govqa.types import Chunk
from vectorstore.convert import row_to_chunk
from vectorstore.rows import rows_by

DEFAULT_CAPACITY = 20_000  # chunks (~3 KB each decoded): ~60 MB at most

_ABSENT = object()  # cached for an item that is not a chunk (LRUCache.get gives None for a miss)


class ChunkCache:
    """The project's ``LRUCache`` of decoded chunks, filled from the rows a search asks for."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._chunks: LRUCache[Chunk | object] = LRUCache(capacity)
        self._reads_lock = threading.Lock()
        self.reads = 0  # rows read from SQLite (tests and benchmarks look)

    def fetch(self, conn: sqlite3.Connection, fids: Sequence[int]) -> dict[int, Chunk | None]:
        """The chunk (None: not a document's chunk) of every stored fid in ``fids``; absent fids are left out."""
        found: dict[int, Chunk | None] = {}
        missing = []
        for fid in fids:
            cached = self._chunks.get(fid)
            if cached is None:
                missing.append(fid)
            else:
                found[fid] = cached if isinstance(cached, Chunk) else None  # _ABSENT: not a chunk
        if missing:
            rows = rows_by(conn, "fid", missing)
            with self._reads_lock:
                self.reads += len(rows)
            for fid, row in rows.items():
                chunk = row_to_chunk(row) if row.doc_id is not None else None
                self._chunks.put(fid, _ABSENT if chunk is None else chunk)
                found[fid] = chunk
        return found

    def __len__(self) -> int:
        return len(self._chunks)
