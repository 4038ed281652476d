"""The approximate faiss indexes (HNSW, IVF): the store contract for each kind, auto choice, delete
(IVF removes, HNSW tombstones then rebuilds), persistence and rebuild from SQLite."""

from __future__ import annotations

import json
from pathlib import Path

import faiss
import numpy as np
import pytest

from govqa.models.embedders import HashingEmbedder
from tests.vectorstore.contract import VectorStoreContract
from vectorstore.faiss_index import AnnIndex, IndexSpec, kind_of, nlist_for
from vectorstore.faiss_store import FaissVectorStore

TEXTS = [f"第{i}项工作：精武镇{i % 7}号项目投资{i * 3}亿元" for i in range(300)]


def _manifest(path: Path) -> dict[str, object]:
    return json.loads((path / "manifest.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
class TestEachKindContract(VectorStoreContract):
    @pytest.fixture(autouse=True)
    def _kind(self, kind: str) -> None:
        self.kind = kind

    def open_store(self, path: Path) -> FaissVectorStore:
        return FaissVectorStore(HashingEmbedder(64), path, index_spec=IndexSpec(kind=self.kind))

    def test_uses_that_kind(self, store: FaissVectorStore, store_path: Path) -> None:
        store.add_texts(["精武镇", "西青区"])
        assert store._vectors.kind == self.kind
        assert kind_of(faiss.read_index(str(store_path / "index.faiss"))) == self.kind


def test_auto_picks_by_size(tmp_path: Path) -> None:
    spec = IndexSpec(hnsw_min=50, ivf_min=200)
    assert [spec.kind_for(n) for n in (0, 49, 50, 199, 200)] == ["flat", "flat", "hnsw", "hnsw", "ivf"]
    with FaissVectorStore(HashingEmbedder(64), tmp_path, index_spec=spec) as store:
        store.add_texts(TEXTS[:40])
        assert store._vectors.kind == "flat"
        store.add_texts(TEXTS[40:120])  # crosses hnsw_min: rebuilt from SQLite after the write
        assert store._vectors.kind == "hnsw" and len(store) == 120
        assert _manifest(tmp_path)["faiss_index"] == "IDMap2,HNSW32,Flat,IP"
        store.add_texts(TEXTS[120:])
        assert store._vectors.kind == "ivf" and len(store) == 300
        found = store.similarity_search(TEXTS[7], k=1)
    assert found[0].page_content == TEXTS[7]
    manifest = _manifest(tmp_path)
    assert str(manifest["faiss_index"]).startswith("IVF") and manifest["faiss_params"]["nprobe"] >= 1  # type: ignore[index]


def test_default_keeps_small_corpora_exact() -> None:
    assert IndexSpec().kind_for(10_000) == "flat"
    with pytest.raises(ValueError, match="faiss_index"):
        IndexSpec(kind="annoy")


def test_hnsw_delete_is_a_tombstone_then_a_rebuild(tmp_path: Path) -> None:
    spec = IndexSpec(kind="hnsw", rebuild_fraction=0.2)
    ids = [str(i) for i in range(100)]
    with FaissVectorStore(HashingEmbedder(64), tmp_path, index_spec=spec) as store:
        store.add_texts(TEXTS[:100], ids=ids)
        store.delete(ids[:10])  # 10 % of the graph: kept as tombstones
        ann = store._vectors._ann
        assert ann is not None and ann.dead and ann.index.ntotal == 100 and len(store) == 90
        assert _manifest(tmp_path)["faiss_params"]["tombstones"] == 10  # type: ignore[index]
        hits = {d.id for d in store.similarity_search(TEXTS[3], k=100)}
        assert len(hits) == 90 and not hits & set(ids[:10])
        store.delete(ids[10:30])  # 30 % now: rebuilt without them
        ann = store._vectors._ann
        assert ann is not None and not ann.dead and ann.index.ntotal == 70
    with FaissVectorStore(HashingEmbedder(64), tmp_path, index_spec=spec) as reopened:
        assert len(reopened) == 70 and reopened.similarity_search(TEXTS[50], k=1)[0].id == "50"


def test_hnsw_tombstones_survive_reopen_without_a_file_of_their_own(tmp_path: Path) -> None:
    spec = IndexSpec(kind="hnsw")
    with FaissVectorStore(HashingEmbedder(64), tmp_path, index_spec=spec) as store:
        store.add_texts(TEXTS[:50], ids=[str(i) for i in range(50)])
        store.delete(["3"])
    with FaissVectorStore(HashingEmbedder(64), tmp_path, index_spec=spec) as store:
        ann = store._vectors._ann
        assert (
            ann is not None and len(ann.dead) == 1 and store._vectors._saved is not None
        )  # loaded, not rebuilt
        assert "3" not in {d.id for d in store.similarity_search(TEXTS[3], k=50)}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.faiss", "index.sqlite", "manifest.json"]


def test_ivf_delete_removes_and_retrains_as_it_grows(tmp_path: Path) -> None:
    spec = IndexSpec(kind="ivf", retrain_growth=2.0)
    with FaissVectorStore(HashingEmbedder(64), tmp_path, index_spec=spec) as store:
        store.add_texts(TEXTS[:100], ids=[str(i) for i in range(100)])
        store.delete(["5", "6"])
        ann = store._vectors._ann
        assert ann is not None and ann.index.ntotal == 98 and not ann.dead
        store.add_texts(TEXTS[100:], ids=[str(i) for i in range(100, 300)])  # 3x: retrained from SQLite
        ann = store._vectors._ann
        assert ann is not None and ann.trained_on == 298 and ann.index.nlist == nlist_for(298)
        assert store.similarity_search(TEXTS[250], k=1)[0].id == "250"
        assert store.similarity_search(TEXTS[5], k=300, filter=lambda m: True)  # exhaustive path
    with FaissVectorStore(HashingEmbedder(64), tmp_path, index_spec=spec) as reopened:
        ann = reopened._vectors._ann
        assert ann is not None and reopened._vectors._saved is not None and ann.trained_on == 298


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_another_kind_on_disk_is_rebuilt(tmp_path: Path, kind: str) -> None:
    with FaissVectorStore(HashingEmbedder(64), tmp_path) as store:
        store.add_texts(TEXTS[:80])
    with FaissVectorStore(HashingEmbedder(64), tmp_path, index_spec=IndexSpec(kind=kind)) as store:
        assert store._vectors.kind == kind and len(store) == 80
    assert kind_of(faiss.read_index(str(tmp_path / "index.faiss"))) == kind


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_recall_against_exact_on_clustered_vectors(kind: str) -> None:
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(20, 32)).astype(np.float32)
    x = centres[rng.integers(0, 20, 3000)] + 0.3 * rng.normal(size=(3000, 32)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    fids = np.arange(3000, dtype=np.int64)
    exact = AnnIndex.build("flat", 32, IndexSpec(), fids, x)
    ann = AnnIndex.build(kind, 32, IndexSpec(kind=kind, nprobe=8), fids, x)  # type: ignore[arg-type]
    hits = 0
    for q in x[:50]:
        truth = {f for f, _ in exact.search(q, 10)}
        hits += len(truth & {f for f, _ in ann.search(q, 10)})
    assert hits / 500 >= 0.9
