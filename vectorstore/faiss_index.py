"""Which faiss index holds the vectors, and how each kind adds, deletes, searches and rebuilds.

Three kinds, all inner product over L2-normalised vectors (cosine), all keyed by the SQLite fid:

- ``flat``: ``IndexIDMap2(IndexFlatIP)``, exact. The default below ``hnsw_min`` vectors.
- ``hnsw``: ``IndexIDMap2(IndexHNSWFlat(d, M, METRIC_INNER_PRODUCT))``. HNSW cannot remove a vector, so a
  delete is a tombstone: the fid stays in the graph, searches over-fetch by the number of tombstones and
  drop them, and the index is rebuilt from SQLite once tombstones exceed ``rebuild_fraction`` of it.
  Tombstones are not stored anywhere: they are the fids in the index that SQLite no longer has.
- ``ivf``: ``IndexIVFFlat(IndexFlatIP quantizer, d, nlist, METRIC_INNER_PRODUCT)`` with its own ids,
  trained (k-means) on the stored vectors when built; ``remove_ids`` deletes for real. Rebuilt (and
  retrained) when the corpus has grown ``retrain_growth`` times past what it was trained on.

``auto`` picks flat below ``hnsw_min``, HNSW below ``ivf_min`` and IVF above; crossing a threshold
rebuilds the index from SQLite at the next write. Everything here is derived data: ``index.faiss`` is
a cache of it.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, Literal

import faiss
import numpy as np

log = logging.getLogger(__name__)

Kind = Literal["flat", "hnsw", "ivf"]
KINDS: tuple[str, ...] = ("auto", "flat", "hnsw", "ivf")


@dataclass(frozen=True)
class IndexSpec:
    """How to choose and tune the faiss index (from ``Settings.faiss_*``)."""

    kind: str = "auto"  # auto | flat | hnsw | ivf
    hnsw_min: int = 100_000
    ivf_min: int = 1_000_000
    hnsw_m: int = 32
    ef_construction: int = 80
    ef_search: int = 64
    nprobe: int = 16
    rebuild_fraction: float = 0.2  # HNSW: rebuild when tombstones exceed this share of the index
    retrain_growth: float = 4.0  # IVF: retrain when the corpus grew this many times since training

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"faiss_index must be one of {', '.join(KINDS)}, got {self.kind!r}")
        for name in ("hnsw_m", "ef_construction", "ef_search", "nprobe"):
            if getattr(self, name) <= 0:
                raise ValueError(f"faiss_{name} must be > 0, got {getattr(self, name)}")

    @classmethod
    def from_settings(cls, settings: Any) -> IndexSpec:
        return cls(
            kind=settings.faiss_index,
            hnsw_min=settings.faiss_hnsw_min,
            ivf_min=settings.faiss_ivf_min,
            hnsw_m=settings.faiss_hnsw_m,
            ef_search=settings.faiss_ef_search,
            nprobe=settings.faiss_nprobe,
        )

    def kind_for(self, n: int) -> Kind:
        if self.kind != "auto":
            return self.kind  # type: ignore[return-value]
        if n >= self.ivf_min:
            return "ivf"
        if n >= self.hnsw_min:
            return "hnsw"
        return "flat"


def nlist_for(n: int) -> int:
    """IVF cells: about sqrt(n) (1,000 at 10^6), with at least 39 training points per cell (faiss's floor)."""
    return max(1, min(int(math.sqrt(max(n, 1))), n // 39))


class AnnIndex:
    """One faiss index of a given kind plus its tombstones; ``build`` makes one from vectors."""

    def __init__(self, kind: Kind, index: Any, spec: IndexSpec, dead: set[int] | None = None) -> None:
        self.kind = kind
        self.index = index
        self.spec = spec
        self.dead: set[int] = dead or set()
        self.trained_on = int(index.ntotal)
        self._tune()

    # --- making one ------------------------------------------------------------------------------------
    @classmethod
    def empty(cls, kind: Kind, dim: int, spec: IndexSpec, training: np.ndarray | None = None) -> AnnIndex:
        if kind == "flat":
            index: Any = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        elif kind == "hnsw":
            inner = faiss.IndexHNSWFlat(dim, spec.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = spec.ef_construction
            index = faiss.IndexIDMap2(inner)
        else:
            n = 0 if training is None else len(training)
            quantizer: Any = faiss.IndexFlatIP(dim)
            index = faiss.IndexIVFFlat(quantizer, dim, nlist_for(n), faiss.METRIC_INNER_PRODUCT)
            index.own_fields = True
            quantizer.this.disown()  # the IVF index frees it
            if training is not None and len(training):
                index.train(_training_sample(training, index.nlist))
        return cls(kind, index, spec)

    @classmethod
    def build(cls, kind: Kind, dim: int, spec: IndexSpec, fids: np.ndarray, vectors: np.ndarray) -> AnnIndex:
        ann = cls.empty(kind, dim, spec, training=vectors if kind == "ivf" else None)
        if len(fids):
            ann.index.add_with_ids(vectors, fids)
        ann.trained_on = len(fids)
        return ann

    @classmethod
    def adopt(cls, index: Any, spec: IndexSpec, live: np.ndarray) -> AnnIndex | None:
        """Wrap an index read from disk if it holds every live fid; None if it must be rebuilt."""
        kind = kind_of(index)
        if kind is None:
            return None
        ids = stored_ids(index)
        if len(ids) != len(np.unique(ids)) or not np.isin(live, ids).all():
            return None
        dead = np.setdiff1d(ids, live)
        if len(dead) and kind != "hnsw":
            return None
        return cls(kind, index, spec, {int(f) for f in dead})

    def _tune(self) -> None:
        if self.kind == "hnsw":
            _hnsw(self.index).efSearch = self.spec.ef_search
        elif self.kind == "ivf":
            self.index.nprobe = min(self.spec.nprobe, self.index.nlist)

    # --- using it --------------------------------------------------------------------------------------
    @property
    def live(self) -> int:
        return int(self.index.ntotal) - len(self.dead)

    def add(self, fids: np.ndarray, vectors: np.ndarray) -> None:
        if self.kind == "ivf" and not self.index.is_trained:
            self.index.train(_training_sample(vectors, self.index.nlist))
        self.index.add_with_ids(vectors, fids)

    def remove(self, fids: np.ndarray) -> None:
        if self.kind == "hnsw":
            self.dead.update(int(f) for f in fids)
        else:
            self.index.remove_ids(fids)

    def needs_rebuild(self) -> bool:
        """Tombstones past the limit, the corpus grown past what IVF learnt, or another kind is due."""
        if self.spec.kind_for(self.live) != self.kind:
            return True
        if self.kind == "hnsw":
            return len(self.dead) > self.spec.rebuild_fraction * max(int(self.index.ntotal), 1)
        if self.kind == "ivf":
            return self.live > self.spec.retrain_growth * max(self.trained_on, 39 * self.index.nlist)
        return False

    def search(self, query: np.ndarray, n: int) -> list[tuple[int, float]]:
        """The ``n`` nearest live (fid, inner product), best first. ``n >= live`` asks for all of them."""
        total = int(self.index.ntotal)
        if total == 0 or n <= 0:
            return []
        everything = n >= self.live
        fetch = min(n + len(self.dead), total)
        q = query.reshape(1, -1)
        if self.kind == "hnsw" and everything:  # a graph walk may miss nodes: scan its flat storage
            storage = _down(_down(self.index.index).storage)
            scores, internal = storage.search(q, fetch)
            id_map = faiss.vector_to_array(self.index.id_map)
            fids = np.where(internal >= 0, id_map[np.maximum(internal, 0)], -1)
        elif self.kind == "ivf" and everything:  # every cell: exact
            params: Any = faiss.SearchParametersIVF()
            params.nprobe = self.index.nlist
            scores, fids = self.index.search(q, fetch, params=params)
        else:
            scores, fids = self.index.search(q, fetch)
        out = [
            (int(f), float(s))
            for f, s in zip(fids[0], scores[0], strict=True)
            if f != -1 and int(f) not in self.dead
        ]
        return out[:n]

    def describe(self) -> dict[str, Any]:
        if self.kind == "flat":
            return {"faiss_index": "IDMap2,Flat,IP", "faiss_params": {}}
        if self.kind == "hnsw":
            hnsw = _hnsw(self.index)
            return {
                "faiss_index": f"IDMap2,HNSW{self.spec.hnsw_m},Flat,IP",
                "faiss_params": {
                    "M": self.spec.hnsw_m,
                    "efConstruction": int(hnsw.efConstruction),
                    "efSearch": int(hnsw.efSearch),
                    "tombstones": len(self.dead),
                },
            }
        return {
            "faiss_index": f"IVF{self.index.nlist},Flat,IP",
            "faiss_params": {"nlist": int(self.index.nlist), "nprobe": int(self.index.nprobe)},
        }


def kind_of(index: Any) -> Kind | None:
    if isinstance(index, faiss.IndexIVFFlat):
        return "ivf"
    if isinstance(index, faiss.IndexIDMap2):
        inner = faiss.downcast_index(index.index)
        if isinstance(inner, faiss.IndexHNSWFlat):
            return "hnsw"
        if isinstance(inner, faiss.IndexFlatIP):
            return "flat"
    return None


def stored_ids(index: Any) -> np.ndarray:
    """Every id the index holds (tombstoned ones included)."""
    if isinstance(index, faiss.IndexIDMap2):
        return np.asarray(faiss.vector_to_array(index.id_map), dtype=np.int64)
    invlists = index.invlists
    parts = [
        faiss.rev_swig_ptr(invlists.get_ids(i), invlists.list_size(i)).copy()
        for i in range(invlists.nlist)
        if invlists.list_size(i)
    ]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)


def _down(index: Any) -> Any:
    return faiss.downcast_index(index)


def _hnsw(index: Any) -> Any:
    return _down(index.index).hnsw


def _training_sample(vectors: np.ndarray, nlist: int) -> np.ndarray:
    cap = 64 * nlist  # k-means on 64 points per cell: minutes less at 10^6, same recall here
    if len(vectors) <= cap:
        return np.ascontiguousarray(vectors, dtype=np.float32)
    pick = np.random.default_rng(0).choice(len(vectors), cap, replace=False)
    return np.ascontiguousarray(vectors[np.sort(pick)], dtype=np.float32)
