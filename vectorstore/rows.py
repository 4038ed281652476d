"""The items table: what a stored vector carries, how it is written inside a transaction and read back."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from govqa.errors import IndexCorruptError, IndexMismatchError

_BATCH = 500  # ids per "IN (...)" query
T = TypeVar("T")


@dataclass(frozen=True)
class Item:
    """A row to store, before SQLite gives it its fid (the id faiss knows it by)."""

    id: str
    text: str
    index_text: str  # what was embedded and tokenised
    metadata: dict[str, Any]
    vector: np.ndarray
    tokens: tuple[str, ...] | None = None
    doc_id: str | None = None


@dataclass(frozen=True)
class Row:
    """A stored item as read back; ``metadata`` is a fresh dict on every read."""

    fid: int
    id: str
    doc_id: str | None
    text: str
    index_text: str
    metadata: dict[str, Any]
    vector: np.ndarray | None = None


@dataclass
class Tx:
    """The open write transaction: records what changed so the views can follow after the commit."""

    conn: sqlite3.Connection
    dim: int
    path: Path
    model: str
    removed: list[int] = field(default_factory=list)
    added: list[tuple[int, Item]] = field(default_factory=list)
    changed: bool = False

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """A statement that changes data (documents table ...)."""
        self.changed = True
        return self.conn.execute(sql, params)

    def query(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def insert(self, items: Sequence[Item]) -> list[int]:
        """Insert new items (their ids must not exist: delete first to replace)."""
        fids = []
        for item in items:
            vector = self._check_vector(item)
            metadata = _dump_metadata(item.metadata, item.id)
            tokens = " ".join(item.tokens) if item.tokens is not None else None
            cur = self.conn.execute(
                "INSERT INTO items (id, doc_id, text, index_text, metadata, vector, tokens) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (item.id, item.doc_id, item.text, item.index_text, metadata, vector.tobytes(), tokens),
            )
            fid = int(cur.lastrowid or 0)
            fids.append(fid)
            self.added.append((fid, item))
        self.changed = self.changed or bool(items)
        return fids

    def _check_vector(self, item: Item) -> np.ndarray:
        vector = np.ascontiguousarray(item.vector, dtype="<f4")
        if vector.ndim != 1 or not np.all(np.isfinite(vector)):
            raise ValueError(f"item {item.id!r}: the vector must be one row of finite floats")
        if self.dim == 0:  # the first vector fixes the dimension
            self.dim = vector.shape[0]
            self.conn.execute("UPDATE meta SET value = ? WHERE key = 'dim'", (str(self.dim),))
        elif vector.shape[0] != self.dim:
            raise IndexMismatchError(
                f"a {vector.shape[0]}-dimensional vector cannot go into the index at {self.path}, which holds "
                f"{self.dim}-dimensional vectors from {self.model!r}; re-index with `govqa ingest --reindex`"
            )
        return vector

    def delete_ids(self, ids: Iterable[str]) -> list[int]:
        return self._delete("id", list(ids))

    def delete_docs(self, doc_ids: Iterable[str]) -> list[int]:
        return self._delete("doc_id", list(doc_ids))

    def delete_all(self) -> list[int]:
        fids = [f for (f,) in self.conn.execute("SELECT fid FROM items")]
        self.conn.execute("DELETE FROM items")
        self.removed.extend(fids)
        self.changed = self.changed or bool(fids)
        return fids

    def _delete(self, column: str, keys: list[str]) -> list[int]:
        fids: list[int] = []
        for part in _batches(keys):
            marks = ",".join("?" * len(part))
            found = [
                f for (f,) in self.conn.execute(f"SELECT fid FROM items WHERE {column} IN ({marks})", part)
            ]
            self.conn.execute(f"DELETE FROM items WHERE {column} IN ({marks})", part)
            fids.extend(found)
        self.removed.extend(fids)
        self.changed = self.changed or bool(fids)
        return fids


def _dump_metadata(metadata: dict[str, Any], item_id: str) -> str:
    try:
        return json.dumps(metadata, ensure_ascii=False, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise TypeError(f"item {item_id!r}: metadata must be JSON-serialisable ({e})") from e


def _batches(keys: Sequence[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(keys), _BATCH):
        yield list(keys[start : start + _BATCH])


_COLUMNS = "fid, id, doc_id, text, index_text, metadata"


def select_rows(
    conn: sqlite3.Connection,
    where: str = "",
    params: Sequence[Any] = (),
    *,
    vectors: bool = False,
    dim: int = 0,
) -> list[Row]:
    """Rows matching an SQL condition on the items table, in fid order unless ``where`` orders them."""
    columns = _COLUMNS + (", vector" if vectors else "")
    sql = f"SELECT {columns} FROM items" + (f" WHERE {where}" if where else "")
    if "ORDER BY" not in where.upper():
        sql += " ORDER BY fid"
    return [_row(r, vectors, dim) for r in conn.execute(sql, params)]


def rows_by(
    conn: sqlite3.Connection, column: str, keys: Sequence[Any], *, vectors: bool = False, dim: int = 0
) -> dict[Any, Row]:
    """Rows whose ``column`` (``fid`` or ``id``) is in ``keys``, keyed by that column."""
    out: dict[Any, Row] = {}
    for part in _batches(list(dict.fromkeys(keys))):
        marks = ",".join("?" * len(part))
        for row in select_rows(conn, f"{column} IN ({marks})", part, vectors=vectors, dim=dim):
            out[row.fid if column == "fid" else row.id] = row
    return out


def _row(r: tuple[Any, ...], vectors: bool, dim: int) -> Row:
    vector = None
    if vectors:
        vector = decode_vector(r[6], dim, r[1])
    return Row(int(r[0]), r[1], r[2], r[3], r[4], json.loads(r[5]), vector)


def decode_vector(blob: bytes, dim: int, item_id: str) -> np.ndarray:
    if len(blob) != dim * 4:
        raise IndexCorruptError(
            f"the vector of item {item_id!r} has {len(blob)} bytes, expected {dim * 4} ({dim} float32); "
            "the index database is damaged: re-index with `govqa ingest --reindex`"
        )
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


def take_ranked(
    conn: sqlite3.Connection,
    ranked: Iterable[tuple[int, float]],
    k: int,
    keep: Callable[[T], bool] | None = None,
    fetch: Callable[[sqlite3.Connection, list[int]], Mapping[int, T]] | None = None,
) -> list[tuple[T, float]]:
    """The first ``k`` items of a ranking (fid, score) that ``keep`` accepts; items are rows, or what
    ``fetch(conn, fids)`` gives for the fids (e.g. cached chunks).

    Items are read lazily: ``k`` at first, then in doubling batches while ``keep`` turns them down.
    """
    get = fetch or _rows_by_fid
    out: list[tuple[T, float]] = []
    pending: list[tuple[int, float]] = []
    want = k

    def drain() -> bool:
        items = get(conn, [f for f, _ in pending])
        for fid, score in pending:
            if fid in items and (keep is None or keep(items[fid])):
                out.append((items[fid], score))
                if len(out) >= k:
                    return True
        pending.clear()
        return False

    if k <= 0:
        return out
    for fid, score in ranked:
        pending.append((int(fid), float(score)))
        if len(pending) >= want:
            if drain():
                return out
            want = min(2 * want, _BATCH)
    if pending:
        drain()
    return out


def _rows_by_fid(conn: sqlite3.Connection, fids: list[int]) -> Mapping[int, Any]:
    return rows_by(conn, "fid", fids)
