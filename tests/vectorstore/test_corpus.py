"""CorpusIndex: documents, FAISS and BM25 kept in step, mismatch and corruption errors, reopening."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading
from pathlib import Path

import numpy as np
import pytest

from govqa.errors import ConfigError, IndexCorruptError, IndexMismatchError, NotFoundError
from govqa.models.embedders import HashingEmbedder
from govqa.types import Chunk, Document, DocumentMeta
from vectorstore.convert import document_to_chunk
from vectorstore.corpus import CorpusIndex

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


def store(index: CorpusIndex, doc_id: str, text: str, body: str) -> list[Chunk]:
    doc, chunks = make_doc(doc_id, text, body)
    index.replace_document(doc, chunks, EMBEDDER.encode_passages([c.embed_text for c in chunks]))
    return chunks


def assert_in_step(index: CorpusIndex) -> None:
    """SQLite items, the faiss ids and the BM25 postings name exactly the same rows."""
    with index._folder.read() as conn:
        fids = {f for (f,) in conn.execute("SELECT fid FROM items")}
        counted = {d: n for d, n in conn.execute("SELECT doc_id, count(*) FROM items GROUP BY doc_id")}
    assert index._store._vectors.live_ids() == fids
    assert set(index._bm25.index._doc_terms) == fids
    assert {r.doc_id: r.chunk_count for r in index.documents()} == counted


@pytest.fixture
def index(tmp_path: Path):
    with CorpusIndex.open(tmp_path / "idx", EMBEDDER, bm25_tokenizer="bigram") as idx:
        yield idx


def test_empty_index(index: CorpusIndex) -> None:
    assert index.documents() == [] and index.all_chunks() == []
    assert index.dense_search(EMBEDDER.encode_queries(["税收"])[0], 5) == []
    assert index.bm25_search("税收", 5) == []
    assert index.stats()["chunks"] == 0


def test_replace_document_stores_everything(index: CorpusIndex) -> None:
    chunks = store(index, "a", REPORT_A, "精武镇")
    (record,) = index.documents()
    assert (record.doc_id, record.source, record.chunk_count, record.meta.body) == ("a", "a.txt", 3, "精武镇")
    assert record.ingested_at.endswith("+00:00")
    assert index.get_document("a") == record == index.find_by_source("a.txt")
    assert index.document_text("a") == REPORT_A
    assert index.chunks_of("a") == chunks == index.all_chunks()
    assert index.get_chunks([chunks[2].chunk_id, "nope", chunks[0].chunk_id]) == [chunks[2], chunks[0]]
    vectors = index.existing_vectors([c.chunk_id for c in chunks] + ["nope"])
    assert set(vectors) == {c.chunk_id for c in chunks}
    expected = EMBEDDER.encode_passages([chunks[1].embed_text])[0]
    assert np.allclose(vectors[chunks[1].chunk_id], expected, atol=1e-6)
    assert_in_step(index)


def test_dense_and_bm25_search(index: CorpusIndex) -> None:
    a = store(index, "a", REPORT_A, "精武镇")
    store(index, "b", REPORT_B, "西青区")
    dense = index.dense_search(EMBEDDER.encode_queries(["新建精武镇中学"])[0], 2)
    assert dense[0].chunk == a[1] and set(dense[0].scores) == {"dense"}
    assert dense[0].score == dense[0].scores["dense"] >= dense[1].score
    sparse = index.bm25_search("税收收入是多少", 3)
    assert sparse[0].chunk == a[0] and set(sparse[0].scores) == {"bm25"}
    assert [p.score for p in sparse] == sorted((p.score for p in sparse), reverse=True)
    assert index.bm25_search("１８亿元", 1)[0].chunk == a[0]  # full-width digits match


def test_search_filters(index: CorpusIndex) -> None:
    store(index, "a", REPORT_A, "精武镇")
    store(index, "b", REPORT_B, "西青区")
    only_b = lambda c: c.meta.body == "西青区"  # noqa: E731
    dense = index.dense_search(EMBEDDER.encode_queries(["精武镇税收收入"])[0], 5, allow=only_b)
    sparse = index.bm25_search("精武镇税收收入 年均增长", 5, allow=only_b)
    assert dense and sparse
    assert {p.chunk.doc_id for p in dense} == {p.chunk.doc_id for p in sparse} == {"b"}


def test_replacing_a_document_keeps_both_indexes_in_step(index: CorpusIndex) -> None:
    old = store(index, "a", REPORT_A, "精武镇")
    store(index, "b", REPORT_B, "西青区")
    new = store(index, "a", REPORT_A2, "精武镇")
    assert index.chunks_of("a") == new and index.get_chunks([c.chunk_id for c in old[1:]]) == []
    assert all(p.chunk.doc_id != "a" for p in index.bm25_search("中学 固定资产投资", 5))
    assert index.bm25_search("智慧社区", 1)[0].chunk == new[1]
    assert index.document_text("a") == REPORT_A2 and index.get_document("a").chunk_count == 2  # type: ignore[union-attr]
    assert index.stats()["vectors"] == index.stats()["chunks"] == 4
    assert_in_step(index)


def test_delete_document(index: CorpusIndex) -> None:
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
    assert_in_step(index)


def test_bad_input_changes_nothing(index: CorpusIndex) -> None:
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
    assert_in_step(index)


def test_corpus_as_langchain_retriever(index: CorpusIndex) -> None:
    a = store(index, "a", REPORT_A, "精武镇")
    (doc,) = index.vectorstore.as_retriever(search_kwargs={"k": 1}).invoke("新建精武镇中学")
    assert document_to_chunk(doc) == a[1]


def test_reopen_gives_the_same_answers(tmp_path: Path) -> None:
    path = tmp_path / "idx"
    with CorpusIndex.open(path, EMBEDDER) as index:
        store(index, "a", REPORT_A, "精武镇")
        store(index, "b", REPORT_B, "西青区")
        index.delete_document("b")
        q = EMBEDDER.encode_queries(["税收收入"])[0]
        before = (
            index.documents(),
            index.all_chunks(),
            index.dense_search(q, 3),
            index.bm25_search("税收", 3),
        )
    with CorpusIndex.open(path, EMBEDDER, create=False) as index:
        after = (
            index.documents(),
            index.all_chunks(),
            index.dense_search(q, 3),
            index.bm25_search("税收", 3),
        )
        assert_in_step(index)
    assert after == before


def test_missing_index_without_create(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="govqa ingest"):
        CorpusIndex.open(tmp_path / "none", EMBEDDER, create=False)
    with pytest.raises(ConfigError, match="bm25_tokenizer"):
        CorpusIndex.open(tmp_path / "x", EMBEDDER, bm25_tokenizer="words")


def test_other_embedding_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "idx"
    with CorpusIndex.open(path, EMBEDDER) as index:
        store(index, "a", REPORT_A, "精武镇")

    other = HashingEmbedder(64)
    other.name = "other-model"
    for embedder, names in (
        (HashingEmbedder(32), ("fake-64", "fake-32")),
        (other, ("fake-64", "other-model")),
    ):
        with pytest.raises(IndexMismatchError) as e:
            CorpusIndex.open(path, embedder)
        message = str(e.value)
        assert (
            all(n in message for n in names) and "govqa ingest --reindex" in message and str(path) in message
        )


def test_empty_index_adopts_a_new_model(tmp_path: Path) -> None:
    CorpusIndex.open(tmp_path / "idx", HashingEmbedder(32)).close()
    with CorpusIndex.open(tmp_path / "idx", EMBEDDER) as index:
        store(index, "a", REPORT_A, "精武镇")
        assert index.stats()["embedding_model"] == "fake-64" and index.stats()["dim"] == 64


def test_unknown_dimension_is_learnt_from_the_first_vectors(tmp_path: Path) -> None:
    lazy = HashingEmbedder(64)
    lazy.dim = 0  # like a sentence-transformers model not loaded yet
    with CorpusIndex.open(tmp_path / "idx", lazy) as index:
        store(index, "a", REPORT_A, "精武镇")
        assert index.stats()["dim"] == 64
    with CorpusIndex.open(tmp_path / "idx", EMBEDDER) as index:
        assert len(index.all_chunks()) == 3


def test_corrupt_database_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "idx"
    path.mkdir()
    (path / "index.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(IndexCorruptError) as e:
        CorpusIndex.open(path, EMBEDDER)
    assert str(path / "index.sqlite") in str(e.value)


def test_damaged_derived_files_are_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "idx"
    with CorpusIndex.open(path, EMBEDDER) as index:
        a = store(index, "a", REPORT_A, "精武镇")
    (path / "index.faiss").write_bytes(b"garbage")
    (path / "manifest.json").write_text("{not json")
    with caplog.at_level(logging.WARNING), CorpusIndex.open(path, EMBEDDER) as index:
        assert index.dense_search(EMBEDDER.encode_queries([a[2].text])[0], 1)[0].chunk == a[2]
    assert "unreadable" in caplog.text
    with CorpusIndex.open(path, EMBEDDER) as index:  # rewritten: loads cleanly
        assert index.stats()["vectors"] == 3
    assert (path / "index.faiss").read_bytes()[:4] == b"IxM2"


def test_changing_the_tokenizer_retokenises_without_reembedding(tmp_path: Path) -> None:
    path = tmp_path / "idx"
    with CorpusIndex.open(path, EMBEDDER, bm25_tokenizer="bigram") as index:
        a = store(index, "a", REPORT_A, "精武镇")
        vectors = index.existing_vectors([c.chunk_id for c in a])
    with CorpusIndex.open(path, EMBEDDER, bm25_tokenizer="jieba") as index:
        assert index.stats()["bm25_tokenizer"] == "jieba"
        assert index.bm25_search("税收收入", 1)[0].chunk == a[0]
        again = index.existing_vectors([c.chunk_id for c in a])
        assert all(np.array_equal(vectors[k], again[k]) for k in vectors)
        assert_in_step(index)


def test_no_pickle_files_in_the_folder(tmp_path: Path) -> None:
    path = tmp_path / "idx"
    with CorpusIndex.open(path, EMBEDDER) as index:
        store(index, "a", REPORT_A, "精武镇")
        store(index, "b", REPORT_B, "西青区")
    files = sorted(p.name for p in path.iterdir())
    assert files == ["index.faiss", "index.sqlite", "manifest.json"]
    for p in path.iterdir():
        assert not p.read_bytes().startswith(b"\x80"), f"{p} starts with the pickle magic"


def test_a_second_instance_sees_writes(tmp_path: Path) -> None:
    """Two handles on one folder behave like two processes: the reader reloads on the next search."""
    path = tmp_path / "idx"
    with CorpusIndex.open(path, EMBEDDER) as writer, CorpusIndex.open(path, EMBEDDER) as reader:
        assert reader.bm25_search("税收", 1) == []
        a = store(writer, "a", REPORT_A, "精武镇")
        assert reader.bm25_search("税收", 1)[0].chunk == a[0]
        assert reader.dense_search(EMBEDDER.encode_queries([a[1].text])[0], 1)[0].chunk == a[1]
        store(reader, "b", REPORT_B, "西青区")
        writer.delete_document("a")
        assert [r.doc_id for r in reader.documents()] == ["b"]
        assert_in_step(reader)
        assert_in_step(writer)


def test_concurrent_readers_see_whole_documents(index: CorpusIndex) -> None:
    """Readers racing a writer never see half of a replaced document."""
    versions = []
    for v in range(2):
        doc, chunks = make_doc("a", REPORT_A, "精武镇", version=str(v))
        versions.append((doc, chunks, EMBEDDER.encode_passages([c.embed_text for c in chunks])))
    index.replace_document(*versions[0])
    ids = [{c.chunk_id for c in chunks} for _, chunks, _ in versions]
    q = EMBEDDER.encode_queries(["精武镇"])[0]
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        try:
            while not stop.is_set():
                for found in (index.dense_search(q, 3), index.bm25_search("精武镇 税收 投资", 3)):
                    got = {p.chunk.chunk_id for p in found}
                    assert got in ids, got
        except BaseException as e:
            errors.append(e)

    readers = [threading.Thread(target=read) for _ in range(4)]
    for t in readers:
        t.start()
    for i in range(30):
        index.replace_document(*versions[(i + 1) % 2])
    stop.set()
    for t in readers:
        t.join()
    assert errors == []
    assert_in_step(index)
