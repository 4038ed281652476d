"""The SQLite layout of an index folder and the checks made when one is opened."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from govqa.errors import IndexCorruptError, IndexMismatchError
from vectorstore.bm25 import NO_TOKENIZER, TOKENIZER_VERSION, get_tokenizer

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
DB_FILE = "index.sqlite"

STATEMENTS = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS items (
        fid INTEGER PRIMARY KEY AUTOINCREMENT,  -- the faiss id: never reused, a set of fids names a state
        id TEXT NOT NULL UNIQUE,                -- chunk id / LangChain document id
        doc_id TEXT,                            -- owning document: NULL for items added through LangChain
        text TEXT NOT NULL,                     -- page content / chunk body
        index_text TEXT NOT NULL,               -- what was embedded and tokenised (chunk.embed_text)
        metadata TEXT NOT NULL,                 -- JSON object
        vector BLOB NOT NULL,                   -- float32 little-endian, dim * 4 bytes
        tokens TEXT                             -- BM25 tokens joined by spaces, NULL without a tokenizer
    )""",
    "CREATE INDEX IF NOT EXISTS items_doc ON items(doc_id)",
    """CREATE TABLE IF NOT EXISTS documents (
        doc_id TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        meta TEXT NOT NULL,                     -- DocumentMeta as JSON
        text TEXT NOT NULL,                     -- the cleaned canonical text citations quote
        chunk_count INTEGER NOT NULL,
        ingested_at TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS documents_source ON documents(source)",
)

REEMBED_BATCH = 1024  # chunks re-embedded per call while an index moves to another embedder
Reembed = Callable[[list[str]], np.ndarray]  # passage texts -> one normalised float32 row each

_BUSY = (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED
_DAMAGED = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB


@dataclass(frozen=True)
class Meta:
    model: str
    dim: int  # 0 until the first vector is stored
    tokenizer: str
    generation: int


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def corrupt_error(db_path: Path, e: sqlite3.DatabaseError) -> IndexCorruptError:
    if getattr(e, "sqlite_errorcode", None) in _DAMAGED:
        return IndexCorruptError(
            f"{db_path}: damaged or not a govqa index ({e}). Restore index.sqlite from a backup (`govqa "
            f"backup` makes one), or move the folder {db_path.parent} aside and ingest the reports again "
            "(`govqa ingest --reindex <files>`)"
        )
    return IndexCorruptError(
        f"{db_path}: cannot be opened ({e}); check that the folder exists and that this user may read and "
        "write it"
    )


def is_busy(e: sqlite3.DatabaseError) -> bool:
    """Another connection holds the database: nothing is wrong with the file."""
    return getattr(e, "sqlite_errorcode", None) in _BUSY


def generation(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])


def read_meta(conn: sqlite3.Connection) -> Meta:
    m = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    return Meta(m["embedding_model"], int(m["dim"]), m["bm25_tokenizer"], int(m["generation"]))


def setup(
    conn: sqlite3.Connection,
    path: Path,
    model: str,
    dim: int,
    bm25_tokenizer: str | None,
    reembed: Reembed | None = None,
) -> None:
    """Create the tables, or check that the stored index fits ``model``/``dim`` (inside a transaction).

    An index built with another embedder is re-embedded from its stored texts with ``reembed`` (or refused
    without one): its vectors are never mixed with another model's.
    """
    for statement in STATEMENTS:
        conn.execute(statement)
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    if not meta:
        meta = {
            "format_version": str(FORMAT_VERSION),
            "embedding_model": model,
            "dim": str(dim),
            "bm25_tokenizer": bm25_tokenizer or NO_TOKENIZER,
            "bm25_tokenizer_version": str(TOKENIZER_VERSION),
            "generation": "0",
            "created_at": now(),
        }
        conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta.items())
    try:
        version, stored_model, stored_dim = (
            int(meta["format_version"]),
            meta["embedding_model"],
            int(meta["dim"]),
        )
        stored_tokenizer = (meta["bm25_tokenizer"], meta["bm25_tokenizer_version"])
        int(meta["generation"])
    except (KeyError, ValueError) as e:
        raise IndexCorruptError(
            f"{path / DB_FILE}: damaged meta table ({e!r}); delete the folder {path} and ingest again "
            "(`govqa ingest --reindex`)"
        ) from e
    if version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"the index at {path} has format version {version}, this govqa reads version {FORMAT_VERSION}: "
            f"re-index with `govqa ingest --reindex` (or delete the folder {path})"
        )
    _check_model(conn, path, stored_model, stored_dim, model, dim, reembed)
    if bm25_tokenizer is not None and stored_tokenizer != (bm25_tokenizer, str(TOKENIZER_VERSION)):
        _retokenize(conn, path, bm25_tokenizer)


def _dims(dim: int) -> str:
    return f"{dim} dimensions" if dim else "dimension not known yet"


def _check_model(
    conn: sqlite3.Connection,
    path: Path,
    stored_model: str,
    stored_dim: int,
    model: str,
    dim: int,
    reembed: Reembed | None,
) -> None:
    same_dim = not (dim and stored_dim) or dim == stored_dim
    if stored_model == model and same_dim:
        return
    if conn.execute("SELECT count(*) FROM items").fetchone()[0] == 0:  # nothing embedded yet: adopt
        _set_model(conn, model, dim)
        return
    if reembed is not None:
        _reembed(conn, path, stored_model, model, reembed)
        return
    raise IndexMismatchError(
        f"the index at {path} was built with embedding model {stored_model!r} ({_dims(stored_dim)}), "
        f"but the configured model is {model!r} ({_dims(dim)}). Re-index with `govqa ingest --reindex` "
        f"(or delete the folder {path} and ingest again), or set GOVQA_EMBEDDING_MODEL={stored_model!r}"
    )


def _set_model(conn: sqlite3.Connection, model: str, dim: int) -> None:
    conn.execute("UPDATE meta SET value = ? WHERE key = 'embedding_model'", (model,))
    conn.execute("UPDATE meta SET value = ? WHERE key = 'dim'", (str(dim),))


def _reembed(conn: sqlite3.Connection, path: Path, stored_model: str, model: str, reembed: Reembed) -> None:
    """Every stored chunk's vector from its ``index_text`` with the new embedder, in this transaction:
    a failure part-way rolls everything back, so the index keeps the old model's vectors whole."""
    rows = conn.execute("SELECT fid, index_text FROM items ORDER BY fid").fetchall()
    log.warning(
        "the index at %s was built with embedding model %r; re-embedding its %d chunks with %r",
        path,
        stored_model,
        len(rows),
        model,
    )
    dim = 0
    for start in range(0, len(rows), REEMBED_BATCH):
        part = rows[start : start + REEMBED_BATCH]
        vectors = np.ascontiguousarray(reembed([text for _, text in part]), dtype="<f4")
        if vectors.ndim != 2 or vectors.shape[0] != len(part) or not np.all(np.isfinite(vectors)):
            raise IndexMismatchError(
                f"re-embedding the index at {path} with {model!r} gave {vectors.shape} vectors for "
                f"{len(part)} chunks; nothing was changed"
            )
        if dim and vectors.shape[1] != dim:
            raise IndexMismatchError(f"{model!r} gave vectors of {vectors.shape[1]} and {dim} dimensions")
        dim = vectors.shape[1]
        conn.executemany(
            "UPDATE items SET vector = ? WHERE fid = ?",
            ((vector.tobytes(), fid) for vector, (fid, _) in zip(vectors, part, strict=True)),
        )
    _set_model(conn, model, dim)
    conn.execute("UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'generation'")


def _retokenize(conn: sqlite3.Connection, path: Path, name: str) -> None:
    """Tokens for another BM25 tokenizer, from the stored texts: no re-embedding needed."""
    tokenizer = get_tokenizer(name)
    rows = conn.execute("SELECT fid, index_text FROM items").fetchall()
    log.info("re-tokenising %d items in %s for BM25 with %r", len(rows), path, name)
    conn.executemany(
        "UPDATE items SET tokens = ? WHERE fid = ?",
        ((" ".join(tokenizer(text)) if tokenizer else None, fid) for fid, text in rows),
    )
    conn.execute("UPDATE meta SET value = ? WHERE key = 'bm25_tokenizer'", (name,))
    conn.execute("UPDATE meta SET value = ? WHERE key = 'bm25_tokenizer_version'", (str(TOKENIZER_VERSION),))
    conn.execute("UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'generation'")
