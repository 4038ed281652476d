"""A LangChain ``VectorStore`` on Milvus (a cluster, or embedded milvus-lite for tests), via pymilvus.

Same behaviour as ``FaissVectorStore`` (it passes the same contract suite): ids are the caller's or the
sha256 of the text, adding an id again rewrites it only if its text or metadata changed, scores are
cosine similarities (inner product of L2-normalised vectors), ``filter`` is a dict (every key equal;
scalar values become a Milvus expression on the JSON ``metadata`` field, so the server filters) or a
callable on the metadata (applied here, over-fetching).

One collection: ``id`` (VARCHAR primary key), ``text`` (VARCHAR, the page content), ``metadata``
(JSON), ``vector`` (FLOAT_VECTOR, HNSW/IP on a cluster, FLAT on milvus-lite) and, with ``bm25=True``,
``index_text`` (VARCHAR with the jieba analyser: what BM25 sees, NFKC-normalised; the text itself unless
``upsert_embedded`` is given another, e.g. a chunk's title › headings + body) and ``sparse``: Milvus's own
BM25 function over ``index_text`` (Milvus >= 2.5; milvus-lite 3.x has it), searched by ``bm25_search``. The embedding model's name is a collection property;
opening it with another model is refused. The collection is created on the first add (the dimension
comes from the first vectors). pymilvus is imported only when a store is built (extra ``milvus``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore
from langchain_core.vectorstores.utils import maximal_marginal_relevance

from govqa.errors import IndexMismatchError
from vectorstore.base import embedding_identity, normalise_rows, passage_vectors, query_vector
from vectorstore.bm25 import normalise

log = logging.getLogger(__name__)

Filter = dict[str, Any] | Callable[[dict[str, Any]], bool]
MODEL_PROPERTY = "govqa.embedding_model"
MAX_TOPK = 16_384  # Milvus's limit on one search
_FIELDS = ["id", "text", "metadata"]


def _text_id(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def filter_expression(filter: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(Milvus expression for the scalar equalities, the rest to check here)."""
    parts, rest = [], {}
    for key, value in filter.items():
        if isinstance(value, bool):
            parts.append(f"metadata[{json.dumps(key)}] == {'true' if value else 'false'}")
        elif isinstance(value, int | float | str):
            parts.append(f"metadata[{json.dumps(key)}] == {json.dumps(value, ensure_ascii=False)}")
        else:
            rest[key] = value
    return " and ".join(parts), rest


class MilvusVectorStore(VectorStore):
    """Milvus collection as a LangChain vector store; ``uri`` is ``http://host:19530`` or a local ``.db``."""

    def __init__(
        self,
        embedding: Embeddings,
        uri: str | Path,
        *,
        token: str = "",
        collection: str = "govqa_chunks",
        consistency_level: str = "Bounded",
        bm25: bool = True,
        index_type: str | None = None,
    ) -> None:
        from pymilvus import MilvusClient

        self._embedding = embedding
        self.uri = str(uri)
        self.collection = collection
        self.consistency_level = consistency_level
        self.bm25 = bm25
        self.lite = not self.uri.startswith(("http://", "https://", "tcp://", "unix:"))
        self.index_type = index_type or ("FLAT" if self.lite else "HNSW")
        self.model, _ = embedding_identity(embedding)
        if self.lite:
            Path(self.uri).parent.mkdir(parents=True, exist_ok=True)
        self._client = MilvusClient(self.uri, token=token)
        self._dim: int | None = None
        self._ready = self._client.has_collection(collection)
        if self._ready:
            self._check_model()
            self._client.load_collection(collection)  # released when its server restarted (milvus-lite)

    @classmethod
    def from_settings(cls, embedding: Embeddings, settings: Any) -> MilvusVectorStore:
        """From ``GOVQA_MILVUS_URI`` / ``_COLLECTION`` / ``_CONSISTENCY``; the token is read from the
        variable ``GOVQA_MILVUS_TOKEN_ENV`` names (default ``GOVQA_MILVUS_TOKEN``) only now."""
        import os

        from govqa.errors import ConfigError

        uri = settings.milvus_uri or str(settings.data_dir / "milvus" / "govqa.db")
        if not settings.milvus_uri:
            log.info("GOVQA_MILVUS_URI is not set: using embedded milvus-lite at %s", uri)
        if not settings.milvus_collection.replace("_", "").isalnum():
            raise ConfigError(
                f"GOVQA_MILVUS_COLLECTION must be letters, digits and _, got {settings.milvus_collection!r}"
            )
        return cls(
            embedding,
            uri,
            token=os.environ.get(settings.milvus_token_env, ""),
            collection=settings.milvus_collection,
            consistency_level=settings.milvus_consistency,
        )

    # --- the collection ------------------------------------------------------------------------------
    def _check_model(self) -> None:
        described = self._client.describe_collection(self.collection)
        stored = str((described.get("properties") or {}).get(MODEL_PROPERTY, ""))
        if stored and stored != self.model:
            raise IndexMismatchError(
                f"Milvus collection {self.collection!r} holds vectors of {stored!r}, not {self.model!r}: "
                "set GOVQA_MILVUS_COLLECTION to another collection, or drop it and ingest again"
            )
        self.bm25 = self.bm25 and any(f.get("name") == "sparse" for f in described.get("fields", []))

    def _create(self, dim: int) -> None:
        from pymilvus import DataType, Function, FunctionType

        client = self._client
        schema = client.create_schema(auto_id=False, description="govqa chunks")
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=512)
        schema.add_field("text", DataType.VARCHAR, max_length=65_535)
        schema.add_field("metadata", DataType.JSON)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        params = client.prepare_index_params()
        hnsw = {"M": 32, "efConstruction": 80} if self.index_type == "HNSW" else {}
        params.add_index("vector", index_type=self.index_type, metric_type="IP", params=hnsw)
        if self.bm25:
            schema.add_field(
                "index_text",
                DataType.VARCHAR,
                max_length=65_535,
                enable_analyzer=True,
                analyzer_params={"tokenizer": "jieba"},
            )
            schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
            schema.add_function(
                Function(
                    name="text_bm25",
                    function_type=FunctionType.BM25,
                    input_field_names=["index_text"],
                    output_field_names=["sparse"],
                )
            )
            params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        with quiet_lite_server(self.lite):
            client.create_collection(
                self.collection,
                schema=schema,
                index_params=params,
                consistency_level=self.consistency_level,
                properties={MODEL_PROPERTY: self.model},
            )
        self._ready = True
        log.info(
            "created Milvus collection %s (%d dims, %s) at %s",
            self.collection,
            dim,
            self.index_type,
            self.uri,
        )

    # --- LangChain API -------------------------------------------------------------------------------
    @property
    def embeddings(self) -> Embeddings:
        return self._embedding

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
        out_ids = [(ids[i] if ids is not None else None) or _text_id(t) for i, t in enumerate(texts)]
        wanted: dict[str, tuple[str, dict[str, Any]]] = {}
        for i, (item_id, text) in enumerate(zip(out_ids, texts, strict=True)):
            meta = json.loads(json.dumps(metadatas[i])) if metadatas else {}  # a copy, and JSON-only
            wanted[item_id] = (text, meta)
        stored = {d.id: d for d in self.get_by_ids(list(wanted))} if self._ready else {}
        todo = [
            (i, t, m)
            for i, (t, m) in wanted.items()
            if i not in stored or stored[i].page_content != t or stored[i].metadata != m
        ]
        if todo:
            new_texts = [t for _, t, _ in todo]
            self.upsert_embedded(
                [i for i, _, _ in todo], new_texts, [m for _, _, m in todo], self._embed_passages(new_texts)
            )
        return out_ids

    def upsert_embedded(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        metadatas: Sequence[dict[str, Any]],
        vectors: np.ndarray,
        index_texts: Sequence[str] | None = None,
    ) -> None:
        """Write rows whose vectors are already computed (normalised here); ``index_texts`` is what BM25
        indexes (default: the texts). Creates the collection on the first write."""
        vectors = normalise_rows(vectors) if len(ids) else np.asarray(vectors, dtype=np.float32)
        if not len(ids):
            return
        if not self._ready:
            self._create(int(vectors.shape[1]))
        elif self.dim is not None and vectors.shape[1] != self.dim:
            raise IndexMismatchError(
                f"Milvus collection {self.collection!r} holds {self.dim}-dimensional vectors, "
                f"got {vectors.shape[1]}"
            )
        index_texts = texts if index_texts is None else index_texts
        rows = []
        for i, t, m, v, x in zip(ids, texts, metadatas, vectors.tolist(), index_texts, strict=True):
            row: dict[str, Any] = {"id": i, "text": t, "metadata": m, "vector": v}
            if self.bm25:
                row["index_text"] = normalise(x)
            rows.append(row)
        for start in range(0, len(rows), 1000):
            self._client.upsert(self.collection, rows[start : start + 1000])

    @property
    def dim(self) -> int | None:
        """The collection's vector dimension (None before the first write)."""
        if not self._ready:
            return None
        if self._dim is None:
            described = self._client.describe_collection(self.collection)
            for f in described.get("fields", []):
                if f.get("name") == "vector":
                    self._dim = int((f.get("params") or {}).get("dim", 0)) or None
        return self._dim

    def vectors_of(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored (normalised) vectors of the ids that exist."""
        if not self._ready or not ids:
            return {}
        got = self._client.get(self.collection, ids=list(dict.fromkeys(ids)), output_fields=["id", "vector"])
        return {r["id"]: np.asarray(r["vector"], dtype=np.float32) for r in got}

    def rows(self, filter: str, *, strong: bool = False) -> list[dict[str, Any]]:
        """Every row matching the Milvus ``filter`` expression (id, text, metadata)."""
        if not self._ready:
            return []
        return query_all(self._client, self.collection, filter, _FIELDS, strong=strong)

    def count(self) -> int:
        if not self._ready:
            return 0
        got = self._client.query(self.collection, filter="", output_fields=["count(*)"])
        return int(got[0]["count(*)"]) if got else 0

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool:
        """Delete by id (missing ids are fine); ``ids=None`` deletes everything."""
        if not self._ready:
            return True
        if ids is None:
            self._client.delete(self.collection, filter='id != ""')
        elif ids:
            self._client.delete(self.collection, ids=list(ids))
        return True

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        if not self._ready or not ids:
            return []
        got = {
            r["id"]: r
            for r in self._client.get(self.collection, ids=list(dict.fromkeys(ids)), output_fields=_FIELDS)
        }
        return [_document(got[i]) for i in dict.fromkeys(ids) if i in got]

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
        return [(_document(hit), score) for hit, score in self.search_hits(embedding, k, filter)]

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
        found = self.search_hits(query, fetch_k, filter, vectors=True)
        if not found:
            return []
        matrix = np.array([hit["vector"] for hit, _ in found], dtype=np.float32)
        chosen = maximal_marginal_relevance(query, matrix.tolist(), lambda_mult=lambda_mult, k=k)
        return [_document(found[i][0]) for i in chosen]

    def bm25_search(
        self, query: str, k: int = 4, filter: Filter | None = None
    ) -> list[tuple[Document, float]]:
        """Milvus's native BM25 (jieba analyser) over ``text``: (document, BM25 score), best first."""
        if not self._ready or k <= 0 or not query.strip():
            return []
        if not self.bm25:
            raise IndexMismatchError(f"Milvus collection {self.collection!r} was created without BM25")
        return [(_document(hit), score) for hit, score in self.search_hits(normalise(query), k, filter)]

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
        uri: str | Path = "milvus.db",
        **kwargs: Any,
    ) -> Self:
        store = cls(embedding, uri, **kwargs)
        store.add_texts(texts, metadatas, ids=list(ids) if ids is not None else None)
        return store

    # --- internals -----------------------------------------------------------------------------------
    def search_hits(
        self,
        query: Sequence[float] | np.ndarray | str,
        k: int,
        filter: Filter | None = None,
        *,
        keep_hit: Callable[[dict[str, Any]], bool] | None = None,
        vectors: bool = False,
    ) -> list[tuple[dict[str, Any], float]]:
        """The ``k`` best rows (``{"id", "text", "metadata"}``, score): dense for a vector, native BM25
        for a string (already normalised). ``filter`` as in ``similarity_search``; ``keep_hit`` is checked
        here on each whole row (over-fetching until ``k`` pass or the collection is exhausted)."""
        if not self._ready or k <= 0:
            return []
        field = "sparse" if isinstance(query, str) else "vector"
        data: Any = [query] if isinstance(query, str) else normalise_rows(query).tolist()
        expr, rest = ("", {}) if filter is None or callable(filter) else filter_expression(filter)
        checks = [keep_hit] if keep_hit is not None else []
        keep_meta = _keep(filter if callable(filter) else rest or None)
        if keep_meta is not None:
            checks.append(lambda e: keep_meta(e["metadata"] or {}))
        fields = [*_FIELDS, "vector"] if vectors else _FIELDS
        limit = min(k if not checks else max(8 * k, 64), MAX_TOPK)
        while True:
            hits = self._client.search(
                self.collection, data, filter=expr, limit=limit, output_fields=fields, anns_field=field
            )[0]
            found = [(h["entity"] | {"id": h["id"]}, float(h["distance"])) for h in hits]
            if checks:
                found = [(e, s) for e, s in found if all(c(e) for c in checks)]
            if len(found) >= k or len(hits) < limit or limit >= MAX_TOPK:
                return found[:k]
            limit = min(4 * limit, MAX_TOPK)

    def _embed_passages(self, texts: list[str]) -> np.ndarray:
        return passage_vectors(self._embedding, texts)

    def _embed_query(self, text: str) -> np.ndarray:
        return query_vector(self._embedding, text)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def quiet_lite_server(lite: bool) -> Iterator[None]:
    """milvus-lite's in-process server logs a traceback for each index build pymilvus waits on
    (``AllocTimestamp`` is not implemented there; pymilvus carries on): hide that one logger meanwhile."""
    logger = logging.getLogger("grpc._server")
    level = logger.level
    if lite:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def query_all(
    client: Any, collection: str, filter: str, fields: list[str], *, strong: bool = False
) -> list[dict[str, Any]]:
    """Every row matching ``filter``: one query when they fit in Milvus's result window (16,384 rows),
    else paged with a query iterator."""
    extra = {"consistency_level": "Strong"} if strong else {}
    rows: list[dict[str, Any]] = client.query(
        collection, filter=filter, output_fields=fields, limit=MAX_TOPK, **extra
    )
    if len(rows) < MAX_TOPK:
        return rows
    it = client.query_iterator(collection, batch_size=1000, filter=filter, output_fields=fields, **extra)
    rows = []
    try:
        while batch := it.next():
            rows.extend(batch)
    finally:
        it.close()
    return rows


def _keep(filter: Filter | None) -> Callable[[dict[str, Any]], bool] | None:
    if filter is None:
        return None
    if callable(filter):
        return lambda meta: bool(filter(meta))
    wanted = dict(filter)
    return lambda meta: all(k in meta and meta[k] == v for k, v in wanted.items())


def _document(hit: dict[str, Any]) -> Document:
    return Document(id=hit["id"], page_content=hit["text"], metadata=dict(hit.get("metadata") or {}))
