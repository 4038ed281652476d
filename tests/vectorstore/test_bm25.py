"""Chinese tokenizers and the incremental BM25 index (checked against a plain re-implementation)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from govqa.errors import ConfigError
from vectorstore.bm25 import BM25Index, bigram_tokens, both_tokens, get_tokenizer, jieba_tokens, normalise

REPO = Path(__file__).resolve().parents[2]


def test_normalise_folds_width_and_case() -> None:
    assert normalise("ＧＤＰ增长１０．８％（预计）") == "gdp增长10.8%(预计)"


def test_bigrams_keep_numbers_and_ascii_whole() -> None:
    assert bigram_tokens("税收收入18 亿元，增长１０．８%") == [
        "税收",
        "收收",
        "收入",
        "18",
        "亿元",
        "增长",
        "10.8",
    ]
    assert bigram_tokens("镇 GDP 5G网络") == ["镇", "gdp", "5g", "网络"]
    assert bigram_tokens("，。 ") == []


def test_jieba_words_in_search_mode() -> None:
    tokens = jieba_tokens("精武镇税收收入10.8亿元")
    assert "税收收入" in tokens and "税收" in tokens and "10.8" in tokens
    assert all(t.strip() and "%" not in t for t in tokens)


def test_both_is_the_union() -> None:
    text = "固定资产投资118亿元"
    assert Counter(both_tokens(text)) == Counter(bigram_tokens(text)) + Counter(jieba_tokens(text))


def test_unknown_tokenizer() -> None:
    assert get_tokenizer("none") is None
    with pytest.raises(ConfigError, match="bigram, jieba, both"):
        get_tokenizer("whitespace")


@pytest.mark.slow  # a fresh interpreter loads jieba's dictionary (~2-5 s)
def test_jieba_writes_no_cache_file(tmp_path: Path) -> None:
    code = "from vectorstore.bm25 import jieba_tokens; assert jieba_tokens('精武镇')"
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert list(tmp_path.iterdir()) == []
    assert b"Building prefix dict" not in done.stderr  # quiet


DOCS = {
    1: bigram_tokens("精武镇税收收入18亿元同比增长36.8%"),
    2: bigram_tokens("西青区地区生产总值增长6%"),
    3: bigram_tokens("张家窝镇税收收入完成5亿元"),
    7: bigram_tokens("精武镇新建学校两所"),
    9: bigram_tokens("税收"),
}


def reference_scores(
    docs: dict[int, list[str]], query: list[str], k1: float = 1.2, b: float = 0.75
) -> dict[int, float]:
    n = len(docs)
    avg = sum(len(t) for t in docs.values()) / n
    scores: dict[int, float] = {}
    for term in set(query):
        df = sum(1 for t in docs.values() if term in t)
        if not df:
            continue
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        for d, tokens in docs.items():
            tf = tokens.count(term)
            if tf:
                scores[d] = scores.get(d, 0.0) + idf * tf * (k1 + 1) / (
                    tf + k1 * (1 - b + b * len(tokens) / avg)
                )
    return scores


def _as_dict(index: BM25Index, query: list[str]) -> dict[int, float]:
    ids, scores = index.search(query)
    return dict(zip(ids.tolist(), scores.tolist(), strict=True))


def test_scores_match_the_formula() -> None:
    index = BM25Index()
    index.add_many(DOCS.items())
    query = bigram_tokens("精武镇税收收入")
    got, expected = _as_dict(index, query), reference_scores(DOCS, query)
    assert got.keys() == expected.keys()
    for d in expected:
        assert got[d] == pytest.approx(expected[d], rel=1e-5)
    ids, scores = index.search(query, limit=2)
    assert ids.tolist() == [1, 3] and np.all(np.diff(scores) <= 0)


def test_incremental_updates_equal_a_rebuild() -> None:
    index = BM25Index()
    index.add_many(DOCS.items())
    index.remove([3, 9, 42])
    index.add(7, bigram_tokens("精武镇税收稳步增长"))  # replaces 7
    index.add(11, bigram_tokens("西青区税收"))
    fresh_docs = {
        1: DOCS[1],
        2: DOCS[2],
        7: bigram_tokens("精武镇税收稳步增长"),
        11: bigram_tokens("西青区税收"),
    }
    fresh = BM25Index()
    fresh.add_many(fresh_docs.items())
    query = bigram_tokens("税收增长")
    assert _as_dict(index, query) == pytest.approx(_as_dict(fresh, query))
    assert _as_dict(index, query) == pytest.approx(reference_scores(fresh_docs, query))
    assert len(index) == 4


def test_empty_and_unknown_queries() -> None:
    index = BM25Index()
    assert index.search(["税收"])[0].size == 0
    index.add(1, ["税收"])
    assert index.search(["没有"])[0].size == 0
    index.remove([1])
    assert index.search(["税收"])[0].size == 0


class ReferenceBM25:
    """BM25 the plain way: a dict of token lists, every query scored from scratch in float64.

    Terms are taken in first-occurrence order of the query (duplicates once) and each document's
    contributions are summed in that order; scores are compared as float32, ties by lower id.
    """

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.docs: dict[int, list[str]] = {}

    def search(self, query: list[str]) -> tuple[list[int], list[float]]:
        n = len(self.docs)
        if not n:
            return [], []
        avg = sum(len(t) for t in self.docs.values()) / n or 1.0
        counts = {d: Counter(t) for d, t in self.docs.items()}
        scores: dict[int, float] = {}
        for term in dict.fromkeys(query):
            df = sum(1 for c in counts.values() if term in c)
            if not df:
                continue
            idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
            for d, c in counts.items():
                tf = c[term]
                if tf:
                    norm = self.k1 * (1 - self.b + self.b * len(self.docs[d]) / avg)
                    scores[d] = scores.get(d, 0.0) + tf * (idf * (self.k1 + 1)) / (tf + norm)
        ranked = sorted(((-np.float32(s), d) for d, s in scores.items()))
        return [d for _, d in ranked], [float(-s) for s, _ in ranked]


def _check_same(index: BM25Index, ref: ReferenceBM25, query: list[str], rng: np.random.Generator) -> None:
    want_ids, want_scores = ref.search(query)
    ids, scores = index.search(query)
    assert ids.dtype == np.int64 and scores.dtype == np.float32
    assert ids.tolist() == want_ids
    np.testing.assert_allclose(scores, np.asarray(want_scores, dtype=np.float32), rtol=1e-6, atol=1e-6)
    limit = int(rng.integers(0, len(want_ids) + 3))
    top_ids, top_scores = index.search(query, limit=limit)
    assert top_ids.tolist() == want_ids[:limit]
    np.testing.assert_allclose(
        top_scores, np.asarray(want_scores[:limit], dtype=np.float32), rtol=1e-6, atol=1e-6
    )
    assert [d for d, _ in index.ranked(query)] == want_ids
    head = list(zip(range(int(rng.integers(0, 5))), index.ranked(query), strict=False))  # partly consumed
    assert [d for _, (d, _) in head] == want_ids[: len(head)]


@pytest.mark.parametrize("seed", range(6))
def test_matches_a_reference_through_adds_and_removes(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Random corpus, small Zipf vocabulary (so tied scores and terms in every document happen), adds,
    replacements and removes interleaved with queries; buffered batches and compaction kick in often."""
    import vectorstore.bm25 as bm25

    monkeypatch.setattr(bm25, "_FLUSH_TOKENS", 50)
    monkeypatch.setattr(bm25, "_COMPACT_MIN", 5)
    monkeypatch.setattr(bm25, "_FIRST", 3)
    rng = np.random.default_rng(seed)
    vocab = [f"t{i}" for i in range(40)]
    weights = 1.0 / np.arange(1, len(vocab) + 1)
    weights /= weights.sum()

    def draw(size: int) -> list[str]:
        return [vocab[i] for i in rng.choice(len(vocab), size=size, p=weights)]

    index, ref = BM25Index(), ReferenceBM25()
    next_id = 0
    for _ in range(400):
        op = rng.random()
        if op < 0.45 or not ref.docs:
            if ref.docs and rng.random() < 0.3:  # an exact copy of a document: tied scores
                tokens = list(ref.docs[int(rng.choice(list(ref.docs)))])
            else:
                tokens = draw(int(rng.integers(0, 25)))
            doc = int(rng.choice(list(ref.docs))) if ref.docs and rng.random() < 0.15 else next_id
            next_id += doc == next_id
            index.add(doc, tokens)
            ref.docs[doc] = tokens
        elif op < 0.65:
            gone = [int(d) for d in rng.choice(list(ref.docs), size=min(len(ref.docs), 3))] + [10_000]
            index.remove(gone)
            for d in gone:
                ref.docs.pop(d, None)
        else:
            query = draw(int(rng.integers(0, 6))) + (["unknown"] if rng.random() < 0.2 else [])
            _check_same(index, ref, query, rng)
        assert len(index) == len(ref.docs)
    for query in ([], ["unknown"], vocab[:1], vocab[:3] * 2, vocab[-5:], vocab):
        _check_same(index, ref, query, rng)


def test_remove_everything_then_add_again() -> None:
    index, ref = BM25Index(), ReferenceBM25()
    rng = np.random.default_rng(0)
    for d in range(50):
        ref.docs[d] = ["a", "b"] if d % 2 else ["a"]
        index.add(d, ref.docs[d])
    _check_same(index, ref, ["b"], rng)  # indexes the buffered adds
    index.remove(range(50))
    ref.docs.clear()
    _check_same(index, ref, ["a"], rng)
    assert len(index) == 0
    index.add(7, ["b", "b", "c"])
    ref.docs[7] = ["b", "b", "c"]
    _check_same(index, ref, ["a", "b", "c"], rng)
    assert index.vocabulary_size == 3  # terms once indexed stay in the vocabulary


def test_large_term_frequency_and_numpy_ids() -> None:
    index, ref = BM25Index(), ReferenceBM25()
    docs = {np.int64(3): ["x"] * 70_000 + ["y"], np.int64(4): ["x", "y"], np.int64(5): ["y"] * 3}
    for d, tokens in docs.items():
        index.add(d, tokens)  # type: ignore[arg-type]  # numpy ids, as callers may pass
        ref.docs[int(d)] = tokens
    _check_same(index, ref, ["x", "y"], np.random.default_rng(0))
    assert all(type(d) is int for d, _ in index.ranked(["x"]))


def test_concurrent_readers_see_the_whole_index() -> None:
    from concurrent.futures import ThreadPoolExecutor

    index, ref = BM25Index(), ReferenceBM25()
    for d in range(300):
        tokens = [f"w{(d * 7 + i) % 50}" for i in range(d % 13)]
        ref.docs[d] = tokens
        index.add(d, tokens)  # buffered: the first queries index the batch, racing each other
    query = ["w1", "w2", "w3", "w40"]
    want = ref.search(query)[0]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda _: index.search(query)[0].tolist(), range(16)))
    assert all(g == want for g in got)
