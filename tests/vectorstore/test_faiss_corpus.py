"""CorpusIndex: the corpus contract, plus FAISS/SQLite/BM25 kept in step, corruption, tokenizer changes,
several handles on one folder."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
import pytest

from govqa.errors import ConfigError, IndexCorruptError, NotFoundError
from govqa.models.embedders import HashingEmbedder
from tests.vectorstore.corpus_contract import (
    EMBEDDER,
    REPORT_A,
    REPORT_A2,
    REPORT_B,
    CorpusContract,
    make_doc,
    store,
)
from vectorstore.faiss_corpus import CorpusIndex


def assert_in_step(index: CorpusIndex) -> None:
    """SQLite items, the faiss ids and the BM25 postings name exactly the same rows."""
    with index._folder.read() as conn:
        fids = {f for (f,) in conn.execute("SELECT fid FROM items")}
        counted = {d: n for d, n in conn.execute("SELECT doc_id, count(*) FROM items GROUP BY doc_id")}
    assert index._store._vectors.live_ids() == fids
    assert set(index._bm25.index._doc_terms) == fids
    assert {r.doc_id: r.chunk_count for r in index.documents()} == counted


class TestFaissCorpus(CorpusContract):
    REEMBEDS = True

    def open_corpus(self, path: Path, embedder: HashingEmbedder = EMBEDDER) -> CorpusIndex:
        return CorpusIndex.open(path, embedder, bm25_tokenizer="bigram")

    def check_consistent(self, index: CorpusIndex) -> None:
        super().check_consistent(index)
        assert_in_step(index)

    def check_mismatch_message(self, message: str, path: Path) -> None:
        assert "govqa ingest --reindex" in message and str(path) in message


def test_a_reembedding_that_fails_part_way_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "idx"
    with CorpusIndex.open(path, EMBEDDER, bm25_tokenizer="bigram") as index:
        store(index, "a", REPORT_A, "精武镇")
        before = (_stats(index), index.dense_search(EMBEDDER.encode_queries(["税收"])[0], 3))

    class Broken(HashingEmbedder):
        def __init__(self) -> None:
            super().__init__(64)
            self.name = "broken-model"

        def _encode(self, texts, *, is_query):  # type: ignore[no-untyped-def]
            raise RuntimeError("model crashed")

    with pytest.raises(RuntimeError, match="model crashed"):
        CorpusIndex.open(path, Broken(), bm25_tokenizer="bigram")
    with CorpusIndex.open(path, EMBEDDER, bm25_tokenizer="bigram") as index:
        assert (_stats(index), index.dense_search(EMBEDDER.encode_queries(["税收"])[0], 3)) == before


def _stats(index: CorpusIndex) -> dict[str, object]:
    return {k: v for k, v in index.stats().items() if k != "disk_bytes"}  # the WAL file comes and goes


@pytest.fixture
def index(tmp_path: Path):
    with CorpusIndex.open(tmp_path / "idx", EMBEDDER, bm25_tokenizer="bigram") as idx:
        yield idx


def test_missing_index_without_create(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="govqa ingest"):
        CorpusIndex.open(tmp_path / "none", EMBEDDER, create=False)
    with pytest.raises(ConfigError, match="bm25_tokenizer"):
        CorpusIndex.open(tmp_path / "x", EMBEDDER, bm25_tokenizer="words")


def test_empty_index_adopts_a_new_model(tmp_path: Path) -> None:
    CorpusIndex.open(tmp_path / "idx", HashingEmbedder(32)).close()
    with CorpusIndex.open(tmp_path / "idx", EMBEDDER) as index:
        store(index, "a", REPORT_A, "精武镇")
        assert index.stats()["embedding_model"] == "fake-64" and index.stats()["dim"] == 64


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


def test_searches_decode_each_row_once(tmp_path: Path) -> None:
    with CorpusIndex.open(tmp_path / "idx", EMBEDDER) as index:
        store(index, "a", REPORT_A, "精武镇")
        q = EMBEDDER.encode_queries(["税收收入"])[0]
        first = (index.dense_search(q, 3), index.bm25_search("税收 投资", 3))
        reads = index._chunks.reads
        assert 0 < reads <= 3
        assert (index.dense_search(q, 3), index.bm25_search("税收 投资", 3)) == first
        assert index._chunks.reads == reads  # the second time every chunk came from the cache


def test_a_replaced_document_is_found_with_its_new_text_after_cached_searches(tmp_path: Path) -> None:
    with CorpusIndex.open(tmp_path / "idx", EMBEDDER) as index:
        store(index, "a", REPORT_A, "精武镇")
        assert "18亿元" in index.bm25_search("税收收入", 1)[0].chunk.text
        store(index, "a", REPORT_A2, "精武镇")  # new rows, new fids; the cached old ones are never ranked
        found = [p.chunk.text for p in index.bm25_search("税收收入", 5)]
        assert any("20亿元" in t for t in found) and not any("18亿元" in t for t in found)


def test_items_added_through_langchain_are_not_returned_as_chunks(tmp_path: Path) -> None:
    with CorpusIndex.open(tmp_path / "idx", EMBEDDER) as index:
        chunks = store(index, "a", REPORT_A, "精武镇")
        index.vectorstore.add_texts(["精武镇全年实现税收收入18亿元"])  # an item of no document
        q = EMBEDDER.encode_queries(["精武镇全年实现税收收入18亿元"])[0]
        for _ in range(2):  # uncached, then cached
            assert {p.chunk.chunk_id for p in index.dense_search(q, 5)} <= {c.chunk_id for c in chunks}
            assert {p.chunk.chunk_id for p in index.bm25_search("税收收入", 5)} <= {
                c.chunk_id for c in chunks
            }


def test_the_chunk_cache_keeps_at_most_its_capacity(tmp_path: Path) -> None:
    from vectorstore.chunk_cache import ChunkCache

    with CorpusIndex.open(tmp_path / "idx", EMBEDDER) as index:
        store(index, "a", REPORT_A, "精武镇")
        cache = ChunkCache(capacity=2)
        with index._folder.read() as conn:
            fids = [f for (f,) in conn.execute("SELECT fid FROM items ORDER BY fid")]
            assert len(fids) == 3
            got = cache.fetch(conn, fids)
            assert set(got) == set(fids) and len(cache) == 2 and cache.reads == 3
            cache.fetch(conn, fids[1:])
            assert cache.reads == 3  # the newest two stayed
            cache.fetch(conn, [*fids[:1], 10**9])  # the oldest was dropped; an absent fid is left out
            assert cache.reads == 4 and 10**9 not in cache.fetch(conn, [10**9])
