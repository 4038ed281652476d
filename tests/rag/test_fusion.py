from __future__ import annotations

import pytest

from rag.fusion import minmax, ranked, rrf, weighted


def test_rrf_rewards_agreement() -> None:
    scores = rrf({"dense": ["a", "b", "c"], "bm25": ["b", "d", "a"]}, k=60)
    assert ranked(scores) == ["b", "a", "d", "c"]
    assert scores["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert scores["d"] == pytest.approx(1 / 62)


def test_rrf_weights_and_duplicates() -> None:
    scores = rrf({"dense": ["a", "a", "b"], "bm25": ["b"]}, k=1, weights={"bm25": 3.0})
    assert scores["a"] == pytest.approx(1 / 2)  # the duplicate 'a' counts once
    assert scores["b"] == pytest.approx(1 / 4 + 3 / 2)  # 'b' is rank 3 in dense (duplicates keep rank slots)


def test_rrf_rejects_bad_k() -> None:
    with pytest.raises(ValueError, match="k must be > 0, got 0"):
        rrf({"x": ["a"]}, k=0)


def test_minmax_and_weighted() -> None:
    assert minmax({}) == {}
    assert minmax({"a": 2.0, "b": 2.0}) == {"a": 1.0, "b": 1.0}
    assert minmax({"a": 1.0, "b": 3.0, "c": 2.0}) == {"a": 0.0, "b": 1.0, "c": 0.5}
    out = weighted(
        {"dense": {"a": 0.9, "b": 0.1}, "bm25": {"b": 10.0, "c": 0.0}}, {"dense": 1.0, "bm25": 0.5}
    )
    assert out == pytest.approx({"a": 1.0, "b": 0.5, "c": 0.0})


def test_ranked_is_deterministic_on_ties() -> None:
    assert ranked({"b": 1.0, "a": 1.0, "c": 2.0}) == ["c", "a", "b"]
