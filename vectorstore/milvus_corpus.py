"""``MilvusCorpus``: the ``Corpus`` interface (documents, chunks, dense + BM25 search) on Milvus.

Selected with ``GOVQA_VECTOR_BACKEND=milvus``; everything above the store (ingest pipeline, hybrid
retriever, answer chain, API, UI) is unchanged. Two collections:

- ``<collection>``: one row per chunk through ``MilvusVectorStore`` — ``text`` is the chunk body (what
  citations quote), ``metadata`` the rest of ``Chunk.to_dict()``, ``vector`` its embedding and
  ``index_text`` the title › headings + body that Milvus's own BM25 (jieba analyser) indexes, so the
  sparse side runs inside Milvus, not beside it;
- ``<collection>_docs``: per document one ``record`` row (source, sha256, meta, chunk count, time) and
  its canonical text in ``text`` rows of at most ``TEXT_PART`` characters (a VARCHAR holds 65,535 bytes).
  Milvus wants a vector field in every collection: these rows carry a constant 2-d placeholder.

Milvus has no multi-row transactions, so a replacement is ordered to be safe to repeat: new chunks are
upserted, the document's stale chunks deleted, its text written and its record written last. A crash
part-way leaves the old record (or none) with some new chunks; running the same ingest again completes it.
Reads during a replacement may see a mix for a moment (SQLite-backed ``CorpusIndex`` never does).
Write-path reads use Strong consistency; searches use the store's level (``GOVQA_MILVUS_CONSISTENCY``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Self

import numpy as np

from govqa.errors import IndexMismatchError
from govqa.models.embedders import Embedder
from govqa.types import Chunk, Document, DocumentMeta, DocumentRecord, Passage
from vectorstore.base import Allow, check_chunks, chunk_order, embedding_identity, normalise_rows, not_found
from vectorstore.convert import chunk_metadata, document_to_chunk
from vectorstore.milvus_store import MilvusVectorStore, query_all, quiet_lite_server

log = logging.getLogger(__name__)

# milvus-lite does not return an iterator session timestamp; pymilvus warns on every paged query and
# falls back to a client-side one, which is what we want.
logging.getLogger("pymilvus.client.iterator.query_iterator").setLevel(logging.ERROR)

LIST_TTL = 2.0  # seconds a document listing is reused (question analysis reads it several times)
TEXT_PART = 16_000  # characters per text row: ≤ 64,000 bytes of UTF-8 even at 4 bytes a character
_PLACEHOLDER = [0.0, 0.0]


def _q(value: str) -> str:
    """A string literal for a Milvus filter expression."""
    return json.dumps(value, ensure_ascii=False)


def _chunk(hit: dict[str, Any]) -> Chunk:
    return Chunk.from_dict({**(hit.get("metadata") or {}), "chunk_id": hit["id"], "text": hit["text"]})


class MilvusCorpus:
    """Documents + chunks + dense and BM25 search in a Milvus deployment (or milvus-lite)."""

    def __init__(self, store: MilvusVectorStore, embedder: Embedder) -> None:
        self._store = store
        self._embedder = embedder
        self._client = store._client
        self._docs = f"{store.collection}_docs"
        self.model, self._dim = embedding_identity(embedder)
        self._listed: tuple[float, list[DocumentRecord]] | None = None
        if self._client.has_collection(self._docs):
            self._client.load_collection(self._docs)  # released when its server restarted (milvus-lite)
        else:
            self._create_docs()

    @classmethod
    def open(
        cls,
        uri: str,
        embedder: Embedder,
        *,
        token: str = "",
        collection: str = "govqa_chunks",
        consistency_level: str = "Bounded",
    ) -> Self:
        """Open (creating on first write) the corpus in ``collection`` at ``uri``.

        Raises IndexMismatchError if the collection holds vectors of another embedding model."""
        store = MilvusVectorStore(
            embedder, uri, token=token, collection=collection, consistency_level=consistency_level
        )
        return cls._with_bm25(store, embedder)

    @classmethod
    def from_settings(cls, embedder: Embedder, settings: Any) -> Self:
        """From ``GOVQA_MILVUS_URI`` (unset: milvus-lite under the data folder), ``_COLLECTION``,
        ``_CONSISTENCY`` and the token variable ``GOVQA_MILVUS_TOKEN_ENV`` names."""
        return cls._with_bm25(MilvusVectorStore.from_settings(embedder, settings), embedder)

    @classmethod
    def _with_bm25(cls, store: MilvusVectorStore, embedder: Embedder) -> Self:
        """The corpus over ``store``, refused (IndexMismatchError) when its collection has no BM25 field."""
        if not store.bm25:
            store.close()
            raise IndexMismatchError(
                f"Milvus collection {store.collection!r} was created without BM25: drop it and ingest again, "
                "or set GOVQA_MILVUS_COLLECTION to a new collection"
            )
        return cls(store, embedder)

    def _create_docs(self) -> None:
        from pymilvus import DataType

        client = self._client
        schema = client.create_schema(auto_id=False, description="govqa documents")
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=600)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=512)
        schema.add_field("kind", DataType.VARCHAR, max_length=16)
        schema.add_field("source", DataType.VARCHAR, max_length=1024)
        schema.add_field("part", DataType.INT64)
        schema.add_field("body", DataType.VARCHAR, max_length=65_535)
        schema.add_field("placeholder", DataType.FLOAT_VECTOR, dim=len(_PLACEHOLDER))
        params = client.prepare_index_params()
        params.add_index("placeholder", index_type="FLAT", metric_type="L2")
        with quiet_lite_server(self._store.lite):
            client.create_collection(
                self._docs,
                schema=schema,
                index_params=params,
                consistency_level=self._store.consistency_level,
            )

    @property
    def location(self) -> str:
        return f"{self._store.uri}#{self._store.collection}"

    @property
    def vectorstore(self) -> MilvusVectorStore:
        """The LangChain view of the chunks (``as_retriever()``); write through this class, not it."""
        return self._store

    # --- documents -----------------------------------------------------------------------------------
    def _doc_rows(self, filter: str, *, strong: bool = False) -> list[dict[str, Any]]:
        fields = ["id", "doc_id", "kind", "source", "part", "body"]
        return query_all(self._client, self._docs, filter, fields, strong=strong)

    def documents(self) -> list[DocumentRecord]:
        """Every document, by source; a listing is reused for ``LIST_TTL`` seconds unless this handle
        writes (other hosts' changes show within that, like a ``Bounded`` read)."""
        listed = self._listed
        if listed is not None and time.monotonic() - listed[0] < LIST_TTL:
            return list(listed[1])
        rows = self._doc_rows('kind == "record"')
        records = sorted((_record(r) for r in rows), key=lambda r: (r.source, r.doc_id))
        self._listed = (time.monotonic(), records)
        return list(records)

    def get_document(self, doc_id: str) -> DocumentRecord | None:
        got = self._client.get(
            self._docs, ids=[f"{doc_id}#record"], output_fields=["doc_id", "source", "body"]
        )
        return _record(got[0]) if got else None

    def find_by_source(self, source: str) -> DocumentRecord | None:
        rows = self._doc_rows(f'kind == "record" and source == {_q(source)}', strong=True)
        records = sorted((_record(r) for r in rows), key=lambda r: r.ingested_at, reverse=True)
        return records[0] if records else None

    def document_text(self, doc_id: str) -> str:
        """The cleaned canonical text citations quote."""
        if self.get_document(doc_id) is None:
            raise not_found(doc_id)
        parts = self._doc_rows(f'kind == "text" and doc_id == {_q(doc_id)}')
        return "".join(r["body"] for r in sorted(parts, key=lambda r: int(r["part"])))

    def existing_vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors of the chunk ids that exist, so unchanged chunks are not embedded again."""
        return self._store.vectors_of(list(chunk_ids))

    def replace_document(self, doc: Document, chunks: list[Chunk], vectors: np.ndarray) -> None:
        """Store ``doc`` with exactly these chunks (see the module note on ordering)."""
        vectors = np.asarray(vectors, dtype=np.float32)
        check_chunks(doc, chunks, vectors)
        if chunks:
            vectors = normalise_rows(vectors)
            want = self._store.dim or self._dim  # 0: a lazily loaded model, learnt from the first write
            if want and vectors.shape[1] != want:
                raise IndexMismatchError(
                    f"{doc.source}: got {vectors.shape[1]}-dimensional vectors, the corpus holds {want} "
                    f"({self.model})"
                )
        ids = [c.chunk_id for c in chunks]
        for hit in self._store.get_by_ids(ids):
            owner = hit.metadata.get("doc_id")
            if owner != doc.doc_id:
                raise ValueError(
                    f"chunk id {hit.id!r} of {doc.source} is already stored for document {owner!r}: "
                    "chunk ids must be unique across documents"
                )
        old = {r["id"] for r in self._store.rows(f'metadata["doc_id"] == {_q(doc.doc_id)}', strong=True)}
        self._store.upsert_embedded(
            ids,
            [c.text for c in chunks],
            [chunk_metadata(c) for c in chunks],
            vectors,
            index_texts=[c.embed_text for c in chunks],
        )
        stale = sorted(old - set(ids))
        if stale:
            self._store.delete(stale)
        self._write_doc(doc, len(chunks))
        self._listed = None
        log.info("stored %s (%s): %d chunks in Milvus", doc.doc_id, doc.source, len(chunks))

    def _write_doc(self, doc: Document, chunk_count: int) -> None:
        parts = [doc.text[i : i + TEXT_PART] for i in range(0, len(doc.text), TEXT_PART)] or [""]
        base = {"doc_id": doc.doc_id, "source": doc.source, "placeholder": _PLACEHOLDER}
        rows = [
            {**base, "id": f"{doc.doc_id}#text#{n:06d}", "kind": "text", "part": n, "body": part}
            for n, part in enumerate(parts)
        ]
        self._client.upsert(self._docs, rows)
        self._client.delete(
            self._docs, filter=f'kind == "text" and doc_id == {_q(doc.doc_id)} and part >= {len(parts)}'
        )
        record = {
            "sha256": doc.sha256,
            "meta": doc.meta.to_dict(),
            "chunk_count": chunk_count,
            "ingested_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        body = json.dumps(record, ensure_ascii=False)
        self._client.upsert(
            self._docs, [{**base, "id": f"{doc.doc_id}#record", "kind": "record", "part": 0, "body": body}]
        )

    def delete_document(self, doc_id: str) -> None:
        if self.get_document(doc_id) is None:
            raise not_found(doc_id)
        chunk_ids = [r["id"] for r in self._store.rows(f'metadata["doc_id"] == {_q(doc_id)}', strong=True)]
        if chunk_ids:
            self._store.delete(chunk_ids)
        self._client.delete(self._docs, filter=f'kind == "text" and doc_id == {_q(doc_id)}')
        self._client.delete(self._docs, ids=[f"{doc_id}#record"])
        self._listed = None
        log.info("deleted document %s from Milvus", doc_id)

    # --- chunks --------------------------------------------------------------------------------------
    def get_chunks(self, chunk_ids: Sequence[str]) -> list[Chunk]:
        """The chunks that exist, in the order asked."""
        return [document_to_chunk(d) for d in self._store.get_by_ids(list(chunk_ids))]

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        return _sorted(self._store.rows(f'metadata["doc_id"] == {_q(doc_id)}'))

    def all_chunks(self) -> list[Chunk]:
        return _sorted(self._store.rows('id != ""'))

    # --- search --------------------------------------------------------------------------------------
    def dense_search(self, query_vector: np.ndarray, k: int, *, allow: Allow | None = None) -> list[Passage]:
        """The ``k`` chunks nearest ``query_vector`` by cosine, ``scores={"dense": cosine}``."""
        return self._passages(self._store.search_hits(query_vector, k, keep_hit=_keep(allow)), "dense")

    def bm25_search(self, query: str, k: int, *, allow: Allow | None = None) -> list[Passage]:
        """The ``k`` best chunks by Milvus's BM25 (jieba analyser), ``scores={"bm25": score}``."""
        if k <= 0 or not query.strip():
            return []
        from vectorstore.bm25 import normalise

        return self._passages(self._store.search_hits(normalise(query), k, keep_hit=_keep(allow)), "bm25")

    @staticmethod
    def _passages(hits: list[tuple[dict[str, Any], float]], kind: str) -> list[Passage]:
        return [Passage(chunk=_chunk(h), score=s, scores={kind: s}) for h, s in hits]

    # --- housekeeping --------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        chunks = self._store.count()
        return {
            "backend": "milvus",
            "path": self.location,
            "documents": len(self.documents()),
            "chunks": chunks,
            "vectors": chunks,
            "embedding_model": self.model,
            "dim": self._store.dim or self._dim or None,
            "bm25_tokenizer": "milvus-jieba",
            "consistency_level": self._store.consistency_level,
        }

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _record(row: dict[str, Any]) -> DocumentRecord:
    body = json.loads(row["body"])
    return DocumentRecord(
        row["doc_id"],
        row["source"],
        body["sha256"],
        DocumentMeta.from_dict(body["meta"]),
        int(body["chunk_count"]),
        body["ingested_at"],
    )


def _sorted(rows: list[dict[str, Any]]) -> list[Chunk]:
    return sorted((_chunk(r) for r in rows), key=chunk_order)


def _keep(allow: Allow | None) -> Any:
    if allow is None:
        return None
    return lambda hit: allow(_chunk(hit))
