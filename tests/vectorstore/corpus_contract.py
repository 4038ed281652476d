"""The contract every corpus backend passes (``CorpusIndex`` on FAISS, ``MilvusCorpus`` on milvus-lite).

Subclass ``CorpusContract`` in a ``test_*.py`` file and implement ``open_corpus(path, embedder)``: the
corpus kept under ``path`` (empty the first time, what was stored before when opened again);
``check_consistent`` may add backend invariants checked after every change.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from govqa.errors import IndexMismatchError, NotFoundError
from govqa.models.embedders import HashingEmbedder
from govqa.types import Chunk, Document, DocumentMeta
from vectorstore.base import Corpus
from vectorstore.convert import document_to_chunk

EMBEDDER = HashingEmbedder(64)

REPORT_A = "精武镇全年实现税收收入18亿元，同比增长36.8%。\n\n新建精武镇中学，改善农村人居环境。\n\n2020年计划固定资产投资120亿元。"
REPORT_A2 = "精武镇全年实现税收收入20亿元，同比增长11%。\n\n建成智慧社区三个。"
REPORT_B = "西青区地区生产总值年均增长6%。\n\n张家窝镇引进高新技术企业15家。"


def make_doc(doc_id: str, text: str, body: str, version: str = "") -> tuple[Document, list[Chunk]]:
    meta = DocumentMeta(body=body, title=f"{body}政府工作报告", years_reviewed=(2019,))
    doc = Document(doc_id, f"{doc_id}.txt", text, meta, hashlib.sha256(text.encode()).hexdigest())
    chunks, start = [], 0
    for n, para in enumerate(text.split("\n\n")):
        start = text.index(para, start)
        cid = hashlib.sha256(f"{doc_id}|{para}{version}".encode()).hexdigest()[:16]
        chunks.append(
            Chunk(cid, doc_id, doc.source, para, ("一、工作回顾",), start, start + len(para), meta, n)
        )
        start += len(para)
    return doc, chunks


def store(index: Corpus, doc_id: str, text: str, body: str) -> list[Chunk]:
    doc, chunks = make_doc(doc_id, text, body)
    index.replace_document(doc, chunks, EMBEDDER.encode_passages([c.embed_text for c in chunks]))
    return chunks


class CorpusContract:
    """Behaviour shared by every corpus backend. ``index`` is empty at the start of every test."""

    def open_corpus(self, path: Path, embedder: HashingEmbedder = EMBEDDER) -> Any:
        raise NotImplementedError

    def check_consistent(self, index: Any) -> None:
        assert {r.doc_id: r.chunk_count for r in index.documents()} == _counts(index.all_chunks())

    @pytest.fixture
    def index(self, tmp_path: Path) -> Iterator[Any]:
        with self.open_corpus(tmp_path / "idx") as idx:
            yield idx

    def test_empty_index(self, index: Corpus) -> None:
        assert index.documents() == [] and index.all_chunks() == []
        assert index.dense_search(EMBEDDER.encode_queries(["税收"])[0], 5) == []
        assert index.bm25_search("税收", 5) == []
        assert index.stats()["chunks"] == 0

    def test_replace_document_stores_everything(self, index: Corpus) -> None:
        chunks = store(index, "a", REPORT_A, "精武镇")
        (record,) = index.documents()
        assert (record.doc_id, record.source, record.chunk_count, record.meta.body) == (
            "a",
            "a.txt",
            3,
            "精武镇",
        )
        assert record.ingested_at.endswith("+00:00")
        assert index.get_document("a") == record == index.find_by_source("a.txt")
        assert index.get_document("zz") is None and index.find_by_source("zz.txt") is None
        assert index.document_text("a") == REPORT_A
        assert index.chunks_of("a") == chunks == index.all_chunks()
        assert index.get_chunks([chunks[2].chunk_id, "nope", chunks[0].chunk_id]) == [chunks[2], chunks[0]]
        vectors = index.existing_vectors([c.chunk_id for c in chunks] + ["nope"])
        assert set(vectors) == {c.chunk_id for c in chunks}
        expected = EMBEDDER.encode_passages([chunks[1].embed_text])[0]
        assert np.allclose(vectors[chunks[1].chunk_id], expected, atol=1e-6)
        self.check_consistent(index)

    def test_dense_and_bm25_search(self, index: Corpus) -> None:
        a = store(index, "a", REPORT_A, "精武镇")
        store(index, "b", REPORT_B, "西青区")
        dense = index.dense_search(EMBEDDER.encode_queries(["新建精武镇中学"])[0], 2)
        assert dense[0].chunk == a[1] and set(dense[0].scores) == {"dense"}
        assert dense[0].score == dense[0].scores["dense"] >= dense[1].score
        sparse = index.bm25_search("税收收入是多少", 3)
        assert sparse[0].chunk == a[0] and set(sparse[0].scores) == {"bm25"}
        assert [p.score for p in sparse] == sorted((p.score for p in sparse), reverse=True)
        assert index.bm25_search("１８亿元", 1)[0].chunk == a[0]  # full-width digits match

    def test_search_filters(self, index: Corpus) -> None:
        store(index, "a", REPORT_A, "精武镇")
        store(index, "b", REPORT_B, "西青区")
        only_b = lambda c: c.meta.body == "西青区"  # noqa: E731
        dense = index.dense_search(EMBEDDER.encode_queries(["精武镇税收收入"])[0], 5, allow=only_b)
        sparse = index.bm25_search("精武镇税收收入 年均增长", 5, allow=only_b)
        assert dense and sparse
        assert {p.chunk.doc_id for p in dense} == {p.chunk.doc_id for p in sparse} == {"b"}

    def test_replacing_a_document_keeps_both_indexes_in_step(self, index: Corpus) -> None:
        old = store(index, "a", REPORT_A, "精武镇")
        store(index, "b", REPORT_B, "西青区")
        new = store(index, "a", REPORT_A2, "精武镇")
        assert index.chunks_of("a") == new and index.get_chunks([c.chunk_id for c in old[1:]]) == []
        assert all(p.chunk.doc_id != "a" for p in index.bm25_search("中学 固定资产投资", 5))
        assert index.bm25_search("智慧社区", 1)[0].chunk == new[1]
        assert index.document_text("a") == REPORT_A2
        assert index.get_document("a").chunk_count == 2  # type: ignore[union-attr]
        assert index.stats()["vectors"] == index.stats()["chunks"] == 4
        self.check_consistent(index)

    def test_delete_document(self, index: Corpus) -> None:
        store(index, "a", REPORT_A, "精武镇")
        b = store(index, "b", REPORT_B, "西青区")
        index.delete_document("a")
        assert [r.doc_id for r in index.documents()] == ["b"]
        assert {p.chunk.doc_id for p in index.bm25_search("税收收入 精武镇", 5)} <= {"b"}
        found = index.dense_search(EMBEDDER.encode_queries([REPORT_A])[0], 5)
        assert sorted(p.chunk.chunk_id for p in found) == sorted(c.chunk_id for c in b)
        with pytest.raises(NotFoundError, match="govqa docs list"):
            index.delete_document("a")
        with pytest.raises(NotFoundError):
            index.document_text("a")
        self.check_consistent(index)

    def test_bad_input_changes_nothing(self, index: Corpus) -> None:
        a = store(index, "a", REPORT_A, "精武镇")
        doc, chunks = make_doc("b", REPORT_B, "西青区")
        vectors = EMBEDDER.encode_passages([c.embed_text for c in chunks])
        clash = [chunks[0], dataclasses.replace(chunks[1], chunk_id=a[0].chunk_id)]
        with pytest.raises(ValueError, match="already stored"):
            index.replace_document(doc, clash, vectors)
        with pytest.raises(ValueError, match="2 chunks"):
            index.replace_document(doc, chunks, vectors[:1])
        with pytest.raises(IndexMismatchError):
            index.replace_document(doc, chunks, np.ones((2, 32), dtype=np.float32))
        assert [r.doc_id for r in index.documents()] == ["a"] and index.all_chunks() == a
        self.check_consistent(index)

    def test_corpus_as_langchain_retriever(self, index: Corpus) -> None:
        a = store(index, "a", REPORT_A, "精武镇")
        (doc,) = index.vectorstore.as_retriever(search_kwargs={"k": 1}).invoke("新建精武镇中学")
        assert document_to_chunk(doc) == a[1]

    def test_reopen_gives_the_same_answers(self, tmp_path: Path) -> None:
        path = tmp_path / "idx"
        q = EMBEDDER.encode_queries(["税收收入"])[0]

        def view(index: Corpus) -> tuple[Any, ...]:
            return (
                index.documents(),
                index.all_chunks(),
                index.dense_search(q, 3),
                index.bm25_search("税收", 3),
            )

        with self.open_corpus(path) as index:
            store(index, "a", REPORT_A, "精武镇")
            store(index, "b", REPORT_B, "西青区")
            index.delete_document("b")
            before = view(index)
        with self.open_corpus(path) as index:
            assert view(index) == before
            self.check_consistent(index)

    def test_unknown_dimension_is_learnt_from_the_first_vectors(self, tmp_path: Path) -> None:
        lazy = HashingEmbedder(64)
        lazy.dim = 0  # like a sentence-transformers model not loaded yet
        with self.open_corpus(tmp_path / "idx", lazy) as index:
            store(index, "a", REPORT_A, "精武镇")
            assert index.stats()["dim"] == 64
        with self.open_corpus(tmp_path / "idx") as index:
            assert len(index.all_chunks()) == 3

    def test_other_embedding_model_never_mixes_vectors(self, tmp_path: Path) -> None:
        """Opened with another embedder, an index either re-embeds every chunk with it
        (``REEMBEDS``) or refuses, naming both models; never holds vectors of two models."""
        path = tmp_path / "idx"
        with self.open_corpus(path) as index:
            stored = store(index, "a", REPORT_A, "精武镇") + store(index, "b", REPORT_B, "西青区")
        other = HashingEmbedder(64)
        other.name = "other-model"
        for embedder, names in (
            (HashingEmbedder(32), ("fake-64", "fake-32")),
            (other, ("fake-64", "other-model")),
            (EMBEDDER, ("other-model", "fake-64")),
        ):
            if not self.REEMBEDS:
                if embedder is EMBEDDER:
                    continue
                with pytest.raises(IndexMismatchError) as e:
                    self.open_corpus(path, embedder)
                assert all(n in str(e.value) for n in names), str(e.value)
                self.check_mismatch_message(str(e.value), path)
                continue
            with self.open_corpus(path, embedder) as index:
                assert index.stats()["dim"] == embedder.dim
                assert index.all_chunks() == stored
                for chunk in stored:  # each chunk is found by its own text in the new space
                    (hit,) = index.dense_search(embedder.encode_passages([chunk.embed_text])[0], 1)
                    assert hit.chunk.chunk_id == chunk.chunk_id and hit.scores["dense"] > 0.999
                self.check_consistent(index)

    REEMBEDS = False  # whether the backend re-embeds an index opened with another embedder

    def check_mismatch_message(self, message: str, path: Path) -> None:
        """Backend-specific advice in the "other embedding model" error (none by default)."""


def _counts(chunks: list[Chunk]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in chunks:
        out[c.doc_id] = out.get(c.doc_id, 0) + 1
    return out
