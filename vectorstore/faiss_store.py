"""A LangChain ``VectorStore`` on FAISS that persists without pickle.

Cosine search on L2-normalised vectors, keyed by the SQLite fid of each item: exact (``IndexIDMap2``
over ``IndexFlatIP``) by default, HNSW or IVF for large corpora (see ``faiss_index``). The vectors, texts and JSON metadata live in SQLite (see ``storage``); the
faiss index is rebuilt from them whenever ``index.faiss`` is missing or behind. Ids are the caller's or
the sha256 of the text; adding an id again replaces its row only if something changed.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, Self, TypeVar

import faiss
import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore
from langchain_core.vectorstores.utils import maximal_marginal_relevance

from govqa.errors import IndexMismatchError
from vectorstore.base import embedding_identity, normalise_rows, passage_vectors, query_vector
from vectorstore.faiss_index import AnnIndex, IndexSpec, stored_ids
from vectorstore.rows import Item, Row, decode_vector, rows_by, select_rows, take_ranked
from vectorstore.storage import IndexFolder

log = logging.getLogger(__name__)
T = TypeVar("T")

FAISS_FILE = "index.faiss"
SEARCH_THREADS = 1  # one query at a time: a single OpenMP thread was faster than two here
Filter = dict[str, Any] | Callable[[dict[str, Any]], bool]

_threads_set = False
_threads_lock = threading.Lock()


def _configure_faiss() -> None:
    global _threads_set
    with _threads_lock:
        if not _threads_set:
            faiss.omp_set_num_threads(SEARCH_THREADS)
            _threads_set = True


class VectorView:
    """The faiss index over every item's vector (see ``faiss_index``); ``index.faiss`` is its cache."""

    def __init__(self, folder: IndexFolder, spec: IndexSpec | None = None) -> None:
        _configure_faiss()
        self._folder = folder
        self._spec = spec or IndexSpec()
        self._ann: AnnIndex | None = None
        self._saved: int | None = None  # generation of index.faiss on disk, if known to be current
        self.needs_reset = False  # asks IndexFolder to rebuild this view from SQLite after a write

    @property
    def ntotal(self) -> int:
        """Live vectors (HNSW tombstones not counted)."""
        return 0 if self._ann is None else self._ann.live

    @property
    def kind(self) -> str:
        return self._spec.kind_for(0) if self._ann is None else self._ann.kind

    def live_ids(self) -> set[int]:
        """The fids a search can return (for checks: HNSW tombstones left out)."""
        if self._ann is None:
            return set()
        return {int(f) for f in stored_ids(self._ann.index)} - self._ann.dead

    def reset(self, conn: sqlite3.Connection, generation: int) -> None:
        dim = self._folder.dim
        fids = np.array([f for (f,) in conn.execute("SELECT fid FROM items ORDER BY fid")], dtype=np.int64)
        self._ann, self._saved, self.needs_reset = None, None, False
        if dim == 0:
            return
        cached = self._load_cache(dim, fids, generation)
        if cached is not None:
            self._ann, self._saved = cached, generation
            return
        vectors = np.zeros((len(fids), dim), dtype=np.float32)
        rows = conn.execute("SELECT id, vector FROM items ORDER BY fid")
        at = 0
        while batch := rows.fetchmany(4096):
            for item_id, blob in batch:
                vectors[at] = decode_vector(blob, dim, item_id)
                at += 1
        kind = self._spec.kind_for(len(fids))
        self._ann = AnnIndex.build(kind, dim, self._spec, fids, vectors)
        log.info("built the %s faiss index of %s from SQLite: %d vectors", kind, self._folder.path, len(fids))

    def _load_cache(self, dim: int, fids: np.ndarray, generation: int) -> AnnIndex | None:
        path = self._folder.path / FAISS_FILE
        manifest = self._folder.manifest()
        if not path.exists() or manifest.get("faiss_generation") != generation:
            if path.exists():
                log.info("%s is behind the database (crash or another writer): rebuilding it", path)
            return None
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as e:
            log.warning(
                "%s is unreadable (%s): rebuilding it from the database", path, str(e).splitlines()[0]
            )
            return None
        ann = AnnIndex.adopt(index, self._spec, fids) if index.d == dim else None
        if ann is None:
            log.warning("%s does not match the database: rebuilding it", path)
            return None
        ann.trained_on = int(manifest.get("faiss_params", {}).get("trained_on", ann.trained_on))
        if ann.needs_rebuild():
            log.info("%s: a %s index is due (or too many tombstones): rebuilding", path, ann.kind)
            return None
        return ann

    def apply(self, removed: Sequence[int], added: Sequence[tuple[int, Item]]) -> None:
        if removed and self._ann is not None:
            self._ann.remove(np.asarray(removed, dtype=np.int64))
        if added:
            vectors = np.stack([np.asarray(item.vector, dtype=np.float32) for _, item in added])
            if self._ann is None:
                self._ann = AnnIndex.empty(self._spec.kind_for(len(added)), self._folder.dim, self._spec)
            self._ann.add(np.array([fid for fid, _ in added], dtype=np.int64), vectors)
        self.needs_reset = self._ann is not None and self._ann.needs_rebuild()

    def stale(self, generation: int) -> bool:
        return self._ann is not None and self._saved != generation

    def persist(self, generation: int) -> None:
        assert self._ann is not None
        index = self._ann.index
        self._folder.replace_file(FAISS_FILE, lambda p: faiss.write_index(index, str(p)))
        self._saved = generation

    def manifest_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"faiss_file": FAISS_FILE, "faiss_generation": self._saved}
        if self._ann is None:
            return fields | {"faiss_index": None, "faiss_params": {}}
        described = self._ann.describe()
        described["faiss_params"]["trained_on"] = self._ann.trained_on
        return fields | described

    def search(self, query: np.ndarray, n: int) -> list[tuple[int, float]]:
        """The ``n`` nearest (fid, cosine), best first (approximate for HNSW and IVF)."""
        if self._ann is None or n <= 0:
            return []
        return self._ann.search(query, min(n, self._ann.live))


def text_id(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _keep(filter: Filter | None) -> Callable[[Row], bool] | None:
    if filter is None:
        return None
    if callable(filter):
        predicate = filter
        return lambda row: bool(predicate(row.metadata))
    wanted = dict(filter)
    return lambda row: all(k in row.metadata and row.metadata[k] == v for k, v in wanted.items())


def _to_document(row: Row) -> Document:
    return Document(id=row.id, page_content=row.text, metadata=row.metadata)


def open_folder(
    path: Path, embedding: Embeddings, *, bm25_tokenizer: str | None, create: bool
) -> IndexFolder:
    """The index folder at ``path`` for ``embedding``: its vectors re-embedded with it if another
    embedder built them (``schema.setup``)."""
    name, dim = embedding_identity(embedding)
    return IndexFolder.open(
        path,
        model=name,
        dim=dim,
        bm25_tokenizer=bm25_tokenizer,
        create=create,
        reembed=partial(passage_vectors, embedding),
    )


class FaissVectorStore(VectorStore):
    """Cosine search over FAISS, stored in one folder (SQLite + index.faiss + manifest.json).

    ``index_spec`` chooses flat, HNSW or IVF (default: exact flat below 100,000 vectors; see
    ``faiss_index``). ``path=None`` keeps the folder in a temporary directory removed on ``close()``. ``filter`` in the
    search methods is a dict (every key equal) or a callable on the metadata dict.
    """

    def __init__(
        self,
        embedding: Embeddings,
        path: str | Path | None = None,
        *,
        create: bool = True,
        bm25_tokenizer: str | None = None,
        folder: IndexFolder | None = None,
        index_spec: IndexSpec | None = None,
    ) -> None:
        self._embedding = embedding
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if folder is None:
            if path is None:
                self._tmp = tempfile.TemporaryDirectory(prefix="govqa-faiss-")
                path = self._tmp.name
            folder = open_folder(Path(path), embedding, bm25_tokenizer=bm25_tokenizer, create=create)
        self._folder = folder
        self._vectors = VectorView(folder, index_spec)
        try:
            folder.attach(self._vectors)
        except BaseException:
            self.close()
            raise

    # --- LangChain API -------------------------------------------------------------------------------
    @property
    def embeddings(self) -> Embeddings:
        return self._embedding

    @property
    def folder(self) -> IndexFolder:
        return self._folder

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: Sequence[str | None] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        texts = list(texts)
        if metadatas is not None and len(metadatas) != len(texts):
            raise ValueError(f"got {len(metadatas)} metadatas for {len(texts)} texts")
        if ids is not None and len(ids) != len(texts):
            raise ValueError(f"got {len(ids)} ids for {len(texts)} texts")
        out_ids = [(ids[i] if ids is not None else None) or text_id(t) for i, t in enumerate(texts)]
        wanted: dict[str, tuple[str, dict[str, Any]]] = {}  # last one wins for an id given twice
        for i, (item_id, text) in enumerate(zip(out_ids, texts, strict=True)):
            wanted[item_id] = (text, dict(metadatas[i]) if metadatas else {})
        with self._folder.read() as conn:
            stored = rows_by(conn, "id", list(wanted))
        todo = [
            (item_id, text, meta)
            for item_id, (text, meta) in wanted.items()
            if item_id not in stored or stored[item_id].text != text or stored[item_id].metadata != meta
        ]
        if todo:
            texts_todo = [t for _, t, _ in todo]
            vectors = self._embed_passages(texts_todo)
            tokens = self._folder.tokenize(texts_todo)
            items = [
                Item(id=i, text=t, index_text=t, metadata=m, vector=v, tokens=tk)
                for (i, t, m), v, tk in zip(todo, vectors, tokens, strict=True)
            ]
            with self._folder.write() as tx:
                tx.delete_ids([i.id for i in items])
                tx.insert(items)
        return out_ids

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool:
        """Delete by id (missing ids are fine); ``ids=None`` deletes everything."""
        with self._folder.write() as tx:
            if ids is None:
                tx.delete_all()
            else:
                tx.delete_ids(ids)
        return True

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        with self._folder.read() as conn:
            rows = rows_by(conn, "id", list(ids))
        return [_to_document(rows[i]) for i in dict.fromkeys(ids) if i in rows]

    def similarity_search(
        self, query: str, k: int = 4, filter: Filter | None = None, **kwargs: Any
    ) -> list[Document]:
        return [doc for doc, _ in self.similarity_search_with_score(query, k, filter=filter)]

    def similarity_search_with_score(
        self, query: str, k: int = 4, filter: Filter | None = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """(document, cosine similarity), best first."""
        return self.similarity_search_with_score_by_vector(self._embed_query(query), k, filter=filter)

    def similarity_search_by_vector(
        self, embedding: list[float], k: int = 4, filter: Filter | None = None, **kwargs: Any
    ) -> list[Document]:
        return [doc for doc, _ in self.similarity_search_with_score_by_vector(embedding, k, filter=filter)]

    def similarity_search_with_score_by_vector(
        self, embedding: Sequence[float] | np.ndarray, k: int = 4, filter: Filter | None = None
    ) -> list[tuple[Document, float]]:
        return [(_to_document(row), s) for row, s in self.search_rows(embedding, k, _keep(filter))]

    def max_marginal_relevance_search(
        self,
        query: str,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: Filter | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        return self.max_marginal_relevance_search_by_vector(
            self._embed_query(query), k, fetch_k, lambda_mult, filter=filter
        )

    def max_marginal_relevance_search_by_vector(
        self,
        embedding: Sequence[float] | np.ndarray,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: Filter | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        query = normalise_rows(embedding)[0]
        with self._folder.read() as conn:  # one snapshot for the candidates and their vectors
            candidates = self.search_rows(query, fetch_k, _keep(filter))
            rows = rows_by(conn, "fid", [r.fid for r, _ in candidates], vectors=True, dim=self._folder.dim)
        if not candidates:
            return []
        matrix = np.stack([v for r, _ in candidates if (v := rows[r.fid].vector) is not None])
        chosen = maximal_marginal_relevance(query, matrix.tolist(), lambda_mult=lambda_mult, k=k)
        return [_to_document(candidates[i][0]) for i in chosen]

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        return lambda cosine: max(0.0, min(1.0, cosine))

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        path: str | Path | None = None,
        **kwargs: Any,
    ) -> Self:
        store = cls(embedding, path, **kwargs)
        store.add_texts(texts, metadatas, ids=list(ids) if ids is not None else None)
        return store

    # --- used by CorpusIndex -------------------------------------------------------------------------
    def search_rows(
        self,
        embedding: Sequence[float] | np.ndarray,
        k: int,
        keep: Callable[[T], bool] | None = None,
        fetch: Callable[[sqlite3.Connection, list[int]], Mapping[int, T]] | None = None,
    ) -> list[tuple[T, float]]:
        """The ``k`` best rows by cosine that ``keep`` accepts (exact: over-fetch, then everything); items
        are rows, or what ``fetch`` gives for their fids (see ``take_ranked``)."""
        query = normalise_rows(embedding)[0]
        with self._folder.read() as conn:
            if self._folder.dim and query.shape[0] != self._folder.dim:
                raise IndexMismatchError(
                    f"the query vector has {query.shape[0]} dimensions but the index at {self._folder.path} "
                    f"holds {self._folder.dim}-dimensional vectors from {self._folder.model!r}"
                )
            n = self._vectors.ntotal
            first = k if keep is None else max(8 * k, 64)
            found = take_ranked(conn, self._vectors.search(query, first), k, keep, fetch)
            if len(found) < k and first < n:
                found = take_ranked(conn, self._vectors.search(query, n), k, keep, fetch)
            return found

    def all_rows(self, where: str = "", params: Sequence[Any] = ()) -> list[Row]:
        with self._folder.read() as conn:
            return select_rows(conn, where, params)

    def _embed_passages(self, texts: list[str]) -> np.ndarray:
        return passage_vectors(self._embedding, texts)

    def _embed_query(self, text: str) -> np.ndarray:
        return query_vector(self._embedding, text)

    def __len__(self) -> int:
        return self._vectors.ntotal

    def close(self) -> None:
        self._folder.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
