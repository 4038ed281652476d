"""One index folder: SQLite holds the data, in-memory views derive from it, every write is atomic.

Folder layout::

    index.sqlite    items (text, metadata JSON, float32 vector blob, BM25 tokens), documents, meta
    index.faiss     faiss.write_index of the vectors: a cache, rebuilt from SQLite when stale
    manifest.json   format version, embedding model, dimension, BM25 tokenizer, index.faiss generation

A write is one SQLite transaction that also bumps ``meta.generation``. The views (the faiss index, the
BM25 postings) are updated after the commit under an exclusive lock, so readers see SQLite and the views
at one generation; when SQLite is at another generation than the views (another process wrote, or a
crash left the cache behind) the views are rebuilt from SQLite. Derived files are written afterwards to a
temp file, fsync-ed and ``os.replace``-d while SQLite's write lock is held, so two processes never
interleave them. Nothing is pickled.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from govqa.errors import IndexCorruptError, IndexMismatchError, NotFoundError
from vectorstore import schema
from vectorstore.bm25 import NO_TOKENIZER, TOKENIZER_VERSION, Tokenizer, get_tokenizer
from vectorstore.locks import RWLock
from vectorstore.rows import Item, Tx

log = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.json"


class View(Protocol):
    """Something kept in memory that is derived from the items table (faiss index, BM25 postings)."""

    def reset(self, conn: sqlite3.Connection, generation: int) -> None: ...

    def apply(self, removed: Sequence[int], added: Sequence[tuple[int, Item]]) -> None: ...

    def stale(self, generation: int) -> bool:
        """True if its files on disk are not at ``generation``."""
        ...

    def persist(self, generation: int) -> None: ...

    def manifest_fields(self) -> dict[str, Any]: ...


class IndexFolder:
    """The SQLite database of one index folder, its locks and the views derived from it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db_path = path / schema.DB_FILE
        self.model = ""
        self.dim = 0
        self.tokenizer_name = NO_TOKENIZER
        self._tokenizer: Tokenizer | None = None
        self._rw = RWLock()
        self._write_mutex = threading.Lock()
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._views: list[View] = []
        self._loaded = -1  # the generation the views reflect
        self._closed = False
        self._writer: sqlite3.Connection

    # --- opening -------------------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: Path,
        *,
        model: str,
        dim: int,
        bm25_tokenizer: str | None,
        create: bool = True,
        reembed: schema.Reembed | None = None,
    ) -> IndexFolder:
        """Open (or create) the index in ``path``; ``bm25_tokenizer=None`` keeps the stored one.

        An index built with another embedding model is re-embedded with ``reembed`` (refused without it).
        """
        path = Path(path)
        if (path / "index.pkl").exists():
            raise IndexMismatchError(
                f"{path} holds a langchain-community FAISS index (index.pkl is a pickle, which govqa never "
                "loads); ingest into another folder, or delete this one and run `govqa ingest`"
            )
        db = path / schema.DB_FILE
        if not db.exists() or db.stat().st_size == 0:
            _refuse_lost_database(path, db)
        if not db.exists():
            if not create:
                raise NotFoundError(f"no index at {path}: add reports with `govqa ingest <files>` first")
            path.mkdir(parents=True, exist_ok=True)
        folder = cls(path)
        try:
            conn = folder._writer = folder._connect()
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("BEGIN IMMEDIATE")
            try:
                schema.setup(conn, path, model, dim, bm25_tokenizer, reembed)
                folder._load_meta(conn)
                conn.execute("COMMIT")
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
        except sqlite3.DatabaseError as e:
            folder.close()
            if schema.is_busy(e):
                raise
            raise schema.corrupt_error(folder.db_path, e) from e
        except BaseException:
            folder.close()
            raise
        return folder

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_path, timeout=30.0, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA synchronous = FULL")
        with self._conns_lock:
            self._conns.append(conn)
        return conn

    def _load_meta(self, conn: sqlite3.Connection) -> None:
        meta = schema.read_meta(conn)
        self.model, self.dim = meta.model, meta.dim
        if meta.tokenizer != self.tokenizer_name or self._tokenizer is None:
            self.tokenizer_name = meta.tokenizer
            self._tokenizer = get_tokenizer(meta.tokenizer)

    # --- views ---------------------------------------------------------------------------------------
    def attach(self, view: View) -> None:
        """Load ``view`` at the current generation and keep it in step with every later write."""
        self._check_open()
        with self._write_mutex:
            with self._rw.exclusive():
                conn = self._reader()
                conn.execute("BEGIN")
                try:
                    generation = schema.generation(conn)
                    self._views.append(view)
                    if generation != self._loaded:
                        self._reset_views(conn, generation)
                    else:
                        view.reset(conn, generation)
                except BaseException:
                    self._views.remove(view)
                    raise
                finally:
                    conn.execute("COMMIT")
            self._persist()

    def _reset_views(self, conn: sqlite3.Connection, generation: int) -> None:
        self._loaded = -1
        self._load_meta(conn)
        for view in self._views:
            view.reset(conn, generation)
        self._loaded = generation

    def tokenize(self, texts: Sequence[str]) -> list[tuple[str, ...] | None]:
        """BM25 tokens with the index's tokenizer (None for each text if the index has none)."""
        tokenizer = self._tokenizer
        return [tuple(tokenizer(t)) if tokenizer else None for t in texts]

    # --- transactions --------------------------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot: SQLite and the views at one generation, for this thread."""
        self._check_open()
        local = self._local
        if getattr(local, "depth", 0):  # nested read in the same thread: same snapshot
            local.depth += 1
            try:
                yield local.conn
            finally:
                local.depth -= 1
            return
        conn = self._reader()
        while True:
            with self._rw.shared():
                conn.execute("BEGIN")
                try:
                    if schema.generation(conn) == self._loaded:
                        local.conn, local.depth = conn, 1
                        try:
                            yield conn
                        finally:
                            local.depth = 0
                        return
                finally:
                    conn.execute("COMMIT")
            self._refresh()

    def _refresh(self) -> None:
        with self._rw.exclusive():
            conn = self._reader()
            conn.execute("BEGIN")
            try:
                generation = schema.generation(conn)
                if generation != self._loaded:
                    log.info("index %s changed on disk (generation %d): reloading", self.path, generation)
                    self._reset_views(conn, generation)
            finally:
                conn.execute("COMMIT")

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """One atomic write. Views follow after the commit; derived files are rewritten after that."""
        self._check_open()
        with self._write_mutex:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            committed = False
            try:
                generation = schema.generation(conn)
                if generation != self._loaded:
                    with self._rw.exclusive():
                        self._reset_views(conn, generation)
                tx = Tx(conn, self.dim, self.path, self.model)
                yield tx
                if not tx.changed:
                    conn.execute("COMMIT")
                    committed = True
                    return
                conn.execute("UPDATE meta SET value = ? WHERE key = 'generation'", (str(generation + 1),))
                with self._rw.exclusive():
                    self._commit(conn)
                    committed = True
                    self._after_commit(tx, generation + 1)
            except BaseException:
                if not committed and conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            self._persist()

    def _commit(self, conn: sqlite3.Connection) -> None:
        conn.execute("COMMIT")

    def _after_commit(self, tx: Tx, generation: int) -> None:
        try:
            self.dim = tx.dim
            for view in self._views:
                view.apply(tx.removed, tx.added)
                if getattr(view, "needs_reset", False):  # e.g. HNSW tombstones past their limit
                    self._rebuild_view(view, generation)
            self._loaded = generation
        except Exception:  # the data is committed: rebuild the views from it on the next read
            log.exception("updating the in-memory index failed; it is rebuilt from %s", self.db_path)
            self._loaded = -1

    def _rebuild_view(self, view: View, generation: int) -> None:
        conn = self._writer  # just committed: a fresh read transaction sees that generation (or later)
        conn.execute("BEGIN")
        try:
            if schema.generation(conn) != generation:
                raise RuntimeError("another process wrote meanwhile")  # the next read rebuilds all
            view.reset(conn, generation)
        finally:
            conn.execute("COMMIT")

    # --- derived files -------------------------------------------------------------------------------
    def _persist(self) -> None:
        """Bring index.faiss and manifest.json up to the views' generation (call with the write mutex)."""
        generation = self._loaded
        if generation < 0 or not (
            self._manifest_stale(generation) or any(v.stale(generation) for v in self._views)
        ):
            return
        conn = self._writer
        try:
            conn.execute("BEGIN IMMEDIATE")  # SQLite's write lock doubles as the lock on derived files
        except sqlite3.OperationalError as e:
            log.warning(
                "cannot lock %s to update derived files (%s); using the in-memory index", self.db_path, e
            )
            return
        try:
            if schema.generation(conn) != generation:
                return  # another process wrote since: it writes the files for its generation
            for view in self._views:
                if view.stale(generation):
                    view.persist(generation)
            self.replace_file(MANIFEST_FILE, _json_writer(self._manifest(generation)))
            for leftover in self.path.glob(".*.tmp"):  # from a writer killed mid-write; we hold the lock
                leftover.unlink(missing_ok=True)
        except OSError as e:
            log.warning(
                "could not update files in %s (%s); they are rebuilt from SQLite on next open", self.path, e
            )
        finally:
            conn.execute("COMMIT")

    def _manifest(self, generation: int) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": "govqa-index",
            "format_version": schema.FORMAT_VERSION,
            "embedding_model": self.model,
            "dim": self.dim,
            "metric": "cosine",
            "bm25_tokenizer": self.tokenizer_name,
            "bm25_tokenizer_version": TOKENIZER_VERSION,
            "generation": generation,
        }
        for view in self._views:
            data.update(view.manifest_fields())
        return data

    def _manifest_stale(self, generation: int) -> bool:
        on_disk = self.manifest()
        return any(on_disk.get(k) != v for k, v in self._manifest(generation).items())

    def manifest(self) -> dict[str, Any]:
        """manifest.json as on disk; {} if missing or unreadable (it is rewritten from SQLite)."""
        path = self.path / MANIFEST_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:
            log.warning("%s is unreadable (%s); rewriting it from the database", path, e)
            return {}
        return data if isinstance(data, dict) else {}

    def replace_file(self, name: str, write: Callable[[Path], None]) -> None:
        """Write ``name`` atomically: a temp file in the folder, fsync, ``os.replace``, fsync the folder."""
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.path)
        os.close(fd)
        tmp_path = Path(tmp)
        try:
            write(tmp_path)
            with open(tmp_path, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(tmp_path, self.path / name)
        except BaseException:
            tmp_path.unlink(missing_ok=True)
            raise
        _fsync_dir(self.path)

    # --- connections ---------------------------------------------------------------------------------
    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "reader", None)
        if conn is None:
            conn = self._connect()
            self._local.reader = conn
        return conn

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"the index at {self.path} is closed")

    def generation(self) -> int:
        with self.read() as conn:
            return schema.generation(conn)

    def backup(self, dest: Path) -> Path:
        """A consistent copy of the database at ``dest`` (SQLite's online backup; writers may go on).

        ``dest`` is a folder; it receives ``index.sqlite`` and ``manifest.json`` (index.faiss is rebuilt
        from the database when the copy is opened). Restoring is copying them back into the index folder.
        """
        self._check_open()
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        target = dest / schema.DB_FILE
        if target.exists():
            raise FileExistsError(f"{target} exists already: back up into an empty folder")
        out = sqlite3.connect(target)
        try:
            with self._write_mutex:
                self._writer.backup(out)
        finally:
            out.close()
        (dest / MANIFEST_FILE).write_text(json.dumps(self.manifest(), indent=2), encoding="utf-8")
        return target

    def close(self) -> None:
        if self._closed:
            return
        with self._write_mutex, self._rw.exclusive():
            self._closed = True
            try:  # fold the WAL into the database file, so a copy of index.sqlite alone is complete
                self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except (sqlite3.Error, AttributeError) as e:
                log.debug("no WAL checkpoint at close (%s)", e)
            with self._conns_lock:
                for conn in self._conns:
                    conn.close()
                self._conns.clear()


def _refuse_lost_database(path: Path, db: Path) -> None:
    """An index whose manifest says it held data must not silently start over with an empty database."""
    try:
        manifest = json.loads((path / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    generation = manifest.get("generation", 0) if isinstance(manifest, dict) else 0
    if isinstance(generation, int) and generation > 0:
        state = "is empty" if db.exists() else "is missing"
        raise IndexCorruptError(
            f"{db} {state}, but {path / MANIFEST_FILE} says this index held documents (generation "
            f"{generation}). Restore index.sqlite from a backup (`govqa backup` makes one), or rebuild the "
            f"index from the reports: `govqa ingest --reindex <files>` after moving {path} aside."
        )


def _json_writer(data: dict[str, Any]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    return write


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # e.g. Windows: directories cannot be opened
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
