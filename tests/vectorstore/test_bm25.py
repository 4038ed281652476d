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
