"""MilvusVectorStore on embedded milvus-lite against the store contract, plus native BM25 (jieba).

Skipped unless the ``milvus`` extra (pymilvus, milvus-lite) is installed; the dev extra installs it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pymilvus", reason="the milvus extra is not installed: pip install -e '.[milvus]'")
pytest.importorskip("milvus_lite", reason="the milvus extra is not installed: pip install -e '.[milvus]'")

from govqa.errors import IndexMismatchError
from govqa.models.embedders import HashingEmbedder
from tests.vectorstore.contract import IDS, METAS, TEXTS, VectorStoreContract
from vectorstore.milvus_store import MilvusVectorStore, filter_expression

pytestmark = pytest.mark.slow  # each store starts a milvus-lite server process (~1 s)


def _open(path: Path, dim: int = 64) -> MilvusVectorStore:
    return MilvusVectorStore(HashingEmbedder(dim), path / "milvus.db", consistency_level="Strong")


class TestMilvusLiteContract(VectorStoreContract):
    def open_store(self, path: Path) -> MilvusVectorStore:
        return _open(path)


def test_native_bm25_with_jieba(tmp_path: Path) -> None:
    with _open(tmp_path) as store:
        store.add_texts(TEXTS, METAS, ids=IDS)
        found = store.bm25_search("固定资产投资", k=2)
        assert found[0][0].id == "c"
        assert [d.id for d, _ in store.bm25_search("精武镇", k=4, filter={"year": 2024})] == ["d"]


def test_other_model_is_refused(tmp_path: Path) -> None:
    with _open(tmp_path) as store:
        store.add_texts(TEXTS)
    with pytest.raises(IndexMismatchError, match=r"fake-64.*fake-32"):
        _open(tmp_path, dim=32)


def test_filter_expression_sends_scalars_to_the_server() -> None:
    expr, rest = filter_expression({"body": "精武镇", "year": 2019, "ok": True, "tags": ["x"]})
    assert expr == 'metadata["body"] == "精武镇" and metadata["year"] == 2019 and metadata["ok"] == true'
    assert rest == {"tags": ["x"]}


def test_from_settings_reads_uri_collection_and_token_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from govqa.settings import Settings

    monkeypatch.setenv("GOVQA_MILVUS_TOKEN", "")
    settings = Settings(  # type: ignore[call-arg]
        data_dir=tmp_path, milvus_collection="reports_2024", milvus_consistency="Strong", _env_file=None
    )
    with MilvusVectorStore.from_settings(HashingEmbedder(64), settings) as store:
        store.add_texts(TEXTS[:1], ids=["a"])
        assert store.collection == "reports_2024" and store.uri.endswith("govqa.db") and store.lite
        assert [d.id for d in store.similarity_search(TEXTS[0], k=1)] == ["a"]
