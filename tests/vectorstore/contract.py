"""The contract every store backend passes (after langchain's ``VectorStoreIntegrationTests``).

Subclass ``VectorStoreContract`` in a ``test_*.py`` file and implement ``open_store(path)``: it returns
the store kept in ``path`` (empty the first time, what was stored before when opened again).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.vectorstores import VectorStore

TEXTS = [
    "2019年精武镇全年实现税收收入18亿元",
    "西青区地区生产总值年均增长百分之六",
    "张家窝镇固定资产投资完成四十亿元",
    "精武镇新建学校两所，改善农村人居环境",
]
METAS: list[dict[str, Any]] = [
    {"body": "精武镇", "year": 2019, "tags": ["税收", "财政"]},
    {"body": "西青区", "year": 2021, "tags": []},
    {"body": "张家窝镇", "year": 2023, "nested": {"page": 3, "ok": True, "none": None}},
    {"body": "精武镇", "year": 2024, "ratio": 0.5},
]
IDS = ["a", "b", "c", "d"]


class VectorStoreContract:
    """Behaviour shared by all store backends. ``store`` is empty at the start of every test."""

    def open_store(self, path: Path) -> VectorStore:
        raise NotImplementedError

    def close_store(self, store: VectorStore) -> None:
        close = getattr(store, "close", None)
        if callable(close):
            close()

    @pytest.fixture
    def store_path(self, tmp_path: Path) -> Path:
        return tmp_path / "store"

    @pytest.fixture
    def store(self, store_path: Path) -> Iterator[VectorStore]:
        store = self.open_store(store_path)
        try:
            yield store
        finally:
            self.close_store(store)

    def _fill(self, store: VectorStore) -> list[str]:
        return store.add_texts(TEXTS, METAS, ids=IDS)

    # --- tests -----------------------------------------------------------------------------------------
    def test_empty_at_start(self, store: VectorStore) -> None:
        assert store.similarity_search("税收收入", k=3) == []
        assert store.similarity_search_with_score("税收收入", k=3) == []
        assert store.get_by_ids(["a"]) == []

    def test_add_then_get_by_id(self, store: VectorStore) -> None:
        assert self._fill(store) == IDS
        got = store.get_by_ids(["c", "missing", "a"])
        assert {d.id: (d.page_content, d.metadata) for d in got} == {
            "a": (TEXTS[0], METAS[0]),
            "c": (TEXTS[2], METAS[2]),
        }

    def test_add_documents_uses_document_ids(self, store: VectorStore) -> None:
        ids = store.add_documents([Document(page_content=TEXTS[0], id="x1"), Document(page_content=TEXTS[1])])
        assert ids[0] == "x1" and ids[1]
        assert {d.id for d in store.get_by_ids(ids)} == set(ids)

    def test_add_by_id_is_idempotent(self, store: VectorStore) -> None:
        self._fill(store)
        self._fill(store)
        assert len(store.similarity_search("精武镇", k=10)) == len(TEXTS)

    def test_add_without_ids_is_idempotent(self, store: VectorStore) -> None:
        first = store.add_texts(TEXTS[:2])
        second = store.add_texts(TEXTS[:2])
        assert first == second
        assert len(store.similarity_search("精武镇", k=10)) == 2

    def test_add_by_id_replaces_changed_content(self, store: VectorStore) -> None:
        self._fill(store)
        store.add_texts(["精武镇税收收入更新为20亿元"], [{"body": "精武镇", "v": 2}], ids=["a"])
        (doc,) = store.get_by_ids(["a"])
        assert doc.page_content == "精武镇税收收入更新为20亿元" and doc.metadata == {"body": "精武镇", "v": 2}
        assert len(store.similarity_search("税收", k=10)) == len(TEXTS)

    def test_delete_missing_is_fine(self, store: VectorStore) -> None:
        store.delete(["nope"])
        self._fill(store)
        store.delete(["nope", "a"])
        assert [d.id for d in store.get_by_ids(IDS)] == ["b", "c", "d"]

    def test_delete_removes_from_search(self, store: VectorStore) -> None:
        self._fill(store)
        store.delete(["a", "c"])
        found = store.similarity_search(TEXTS[0], k=10)
        assert {d.id for d in found} == {"b", "d"}
        assert store.get_by_ids(["a", "c"]) == []

    def test_inputs_not_mutated(self, store: VectorStore) -> None:
        texts, metas, ids = list(TEXTS), copy.deepcopy(METAS), list(IDS)
        store.add_texts(texts, metas, ids=ids)
        assert (texts, metas, ids) == (TEXTS, METAS, IDS)
        docs = [
            Document(page_content=t, metadata=copy.deepcopy(m)) for t, m in zip(TEXTS, METAS, strict=True)
        ]
        before = copy.deepcopy(docs)
        store.add_documents(docs)
        assert docs == before and all(d.id is None for d in docs)
        returned = store.get_by_ids(["a"])[0]
        returned.metadata["body"] = "changed"
        assert store.get_by_ids(["a"])[0].metadata == METAS[0]

    def test_scores_descending_best_first(self, store: VectorStore) -> None:
        self._fill(store)
        results = store.similarity_search_with_score(TEXTS[2], k=4)
        scores = [s for _, s in results]
        assert results[0][0].id == "c"
        assert scores == sorted(scores, reverse=True)
        assert len(store.similarity_search(TEXTS[2], k=2)) == 2

    def test_metadata_round_trips(self, store: VectorStore) -> None:
        self._fill(store)
        assert {d.id: d.metadata for d in store.get_by_ids(IDS)} == dict(zip(IDS, METAS, strict=True))
        assert {d.id: d.metadata for d in store.similarity_search("镇", k=4)} == dict(
            zip(IDS, METAS, strict=True)
        )

    def test_persists_across_reopen(self, store: VectorStore, store_path: Path) -> None:
        self._fill(store)
        store.delete(["d"])
        before = store.similarity_search_with_score(TEXTS[1], k=3)
        self.close_store(store)
        reopened = self.open_store(store_path)
        try:
            assert [d.id for d in reopened.get_by_ids(IDS)] == ["a", "b", "c"]
            assert reopened.similarity_search_with_score(TEXTS[1], k=3) == before
        finally:
            self.close_store(reopened)

    def test_filter_by_dict(self, store: VectorStore) -> None:
        self._fill(store)
        found = store.similarity_search(TEXTS[1], k=3, filter={"body": "精武镇"})
        assert {d.id for d in found} == {"a", "d"}
        assert store.similarity_search(TEXTS[1], k=3, filter={"body": "nowhere"}) == []

    def test_filter_by_callable(self, store: VectorStore) -> None:
        self._fill(store)
        found = store.similarity_search(TEXTS[0], k=2, filter=lambda m: m["year"] >= 2021)
        assert len(found) == 2 and all(d.metadata["year"] >= 2021 for d in found)

    def test_as_retriever(self, store: VectorStore) -> None:
        self._fill(store)
        docs = store.as_retriever(search_kwargs={"k": 1}).invoke(TEXTS[3])
        assert [d.id for d in docs] == ["d"]
