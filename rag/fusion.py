"""Rank fusion: combine the dense and BM25 rankings into one (pure functions)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

RRF_K = 60


def rrf(
    rankings: Mapping[str, Sequence[str]], *, k: int = RRF_K, weights: Mapping[str, float] | None = None
) -> dict[str, float]:
    """Reciprocal rank fusion: ``score(id) = sum_r w_r / (k + rank_r(id))`` with ranks from 1.

    ``rankings`` maps a retriever name to its ranked ids (best first). Ids missing from a ranking get
    nothing from it. Returns scores for every id seen, unsorted.
    """
    if k <= 0:
        raise ValueError(f"k must be > 0, got {k}")
    scores: dict[str, float] = {}
    for name, ids in rankings.items():
        w = 1.0 if weights is None else float(weights.get(name, 1.0))
        seen: set[str] = set()
        for rank, id_ in enumerate(ids, start=1):
            if id_ in seen:  # a duplicate counts once, at its best rank
                continue
            seen.add(id_)
            scores[id_] = scores.get(id_, 0.0) + w / (k + rank)
    return scores


def minmax(scores: Mapping[str, float]) -> dict[str, float]:
    """Scale scores to [0, 1]; all-equal scores become 1.0."""
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi - lo < 1e-12:
        return {k: 1.0 for k in scores}
    return {k: (v - lo) / (hi - lo) for k, v in scores.items()}


def weighted(
    scores_by_name: Mapping[str, Mapping[str, float]], weights: Mapping[str, float]
) -> dict[str, float]:
    """Weighted sum of min-max normalised scores (an alternative to RRF; ids missing from one get 0)."""
    out: dict[str, float] = {}
    for name, scores in scores_by_name.items():
        w = float(weights.get(name, 1.0))
        for id_, s in minmax(scores).items():
            out[id_] = out.get(id_, 0.0) + w * s
    return out


def ranked(scores: Mapping[str, float]) -> list[str]:
    """Ids by descending score, ties broken by id for determinism."""
    return sorted(scores, key=lambda i: (-scores[i], i))
