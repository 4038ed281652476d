"""FaissVectorStore against the store contract, plus what is particular to it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from govqa.errors import IndexMismatchError
from govqa.models.embedders import HashingEmbedder
from tests.vectorstore.contract import IDS, METAS, TEXTS, VectorStoreContract
from vectorstore.faiss_store import FaissVectorStore


class TestFaissContract(VectorStoreContract):
    def open_store(self, path: Path) -> FaissVectorStore:
        return FaissVectorStore(HashingEmbedder(64), path)


def test_default_id_is_sha256_of_text(tmp_path: Path) -> None:
    with FaissVectorStore(HashingEmbedder(64), tmp_path) as store:
        (item_id,) = store.add_texts([TEXTS[0]])
    assert item_id == hashlib.sha256(TEXTS[0].encode("utf-8")).hexdigest()


def test_scores_are_cosine_similarities() -> None:
    embedder = HashingEmbedder(64)
    with FaissVectorStore.from_texts(TEXTS, embedder, ids=IDS) as store:
        results = store.similarity_search_with_score(TEXTS[0], k=4)
        relevance = store.similarity_search_with_relevance_scores(TEXTS[0], k=4)
    q = embedder.encode_queries([TEXTS[0]])[0]
    expected = {i: float(embedder.encode_passages([t])[0] @ q) for i, t in zip(IDS, TEXTS, strict=True)}
    assert results[0][1] == pytest.approx(1.0, abs=1e-5)
    for doc, score in results:
        assert score == pytest.approx(expected[doc.id], abs=1e-5)
    assert all(0.0 <= s <= 1.0 for _, s in relevance)


def test_any_langchain_embeddings_are_normalised(tmp_path: Path) -> None:
    with FaissVectorStore(DeterministicFakeEmbedding(size=8), tmp_path) as store:
        store.add_texts(["foo", "bar"])
        (doc, score), _ = store.similarity_search_with_score("foo", k=2)
    assert doc.page_content == "foo" and score == pytest.approx(1.0, abs=1e-5)
    assert json.loads((tmp_path / "manifest.json").read_text())["dim"] == 8


def test_delete_none_deletes_everything() -> None:
    with FaissVectorStore.from_texts(TEXTS, HashingEmbedder(64)) as store:
        store.delete()
        assert len(store) == 0 and store.similarity_search("镇", k=3) == []


def test_max_marginal_relevance_prefers_diverse_results() -> None:
    texts = ["精武镇税收收入18亿元", "精武镇税收收入18亿元。", "张家窝镇固定资产投资"]
    with FaissVectorStore.from_texts(texts, HashingEmbedder(64), ids=["a", "a2", "c"]) as store:
        plain = store.similarity_search(texts[0], k=2)
        diverse = store.max_marginal_relevance_search(texts[0], k=2, fetch_k=3, lambda_mult=0.3)
    assert [d.id for d in plain] == ["a", "a2"]
    assert [d.id for d in diverse] == ["a", "c"]


def test_filter_over_fetches_past_many_non_matches() -> None:
    texts = [f"精武镇第{i}项工作" for i in range(200)] + ["西青区的工作"]
    metas = [{"body": "精武镇"}] * 200 + [{"body": "西青区"}]
    with FaissVectorStore.from_texts(texts, HashingEmbedder(64), metadatas=metas) as store:
        found = store.similarity_search("精武镇第1项工作", k=3, filter={"body": "西青区"})
    assert [d.page_content for d in found] == ["西青区的工作"]


def test_bad_metadata_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    with FaissVectorStore(HashingEmbedder(64), tmp_path) as store:
        with pytest.raises(TypeError, match="JSON"):
            store.add_texts(["a", "b"], [{"ok": 1}, {"bad": object()}])
        assert len(store) == 0 and store.get_by_ids([hashlib.sha256(b"a").hexdigest()]) == []


def test_another_model_re_embeds_the_stored_texts(tmp_path: Path) -> None:
    with FaissVectorStore(HashingEmbedder(64), tmp_path) as store:
        store.add_texts(TEXTS)
    other = HashingEmbedder(32)
    with FaissVectorStore(other, tmp_path) as store:
        assert store.folder.model == "fake-32" and store.folder.dim == 32
        for text in TEXTS:
            ((doc, score),) = store.similarity_search_with_score(text, k=1)
            assert doc.page_content == text and score > 0.999
    assert (
        json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))["embedding_model"] == "fake-32"
    )


def test_pickled_langchain_index_is_refused(tmp_path: Path) -> None:
    (tmp_path / "index.pkl").write_bytes(b"\x80\x04N.")
    with pytest.raises(IndexMismatchError, match="pickle"):
        FaissVectorStore(HashingEmbedder(64), tmp_path)


def test_vector_search_checks_the_dimension() -> None:
    with (
        FaissVectorStore.from_texts(TEXTS, HashingEmbedder(64)) as store,
        pytest.raises(IndexMismatchError, match="64"),
    ):
        store.similarity_search_by_vector(list(np.ones(32)), k=1)


def test_folder_holds_no_pickle(tmp_path: Path) -> None:
    with FaissVectorStore(HashingEmbedder(64), tmp_path) as store:
        store.add_texts(TEXTS, METAS, ids=IDS)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["index.faiss", "index.sqlite", "manifest.json"]
    for p in tmp_path.iterdir():
        assert not p.read_bytes().startswith(b"\x80"), p
