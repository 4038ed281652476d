from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from govqa.errors import ConfigError
from govqa.models.tokens import count_tokens
from govqa.types import Chunk, DocumentMeta, Passage
from rag.context import TokenCounter, pack_context
from rag.prompts import ANSWER_PROMPT, format_passages, passage_block

DOC = (Path(__file__).resolve().parents[2] / "data" / "samples" / "003_7659820794adfa4e.txt").read_text(
    "utf-8"
)
META = DocumentMeta(body="精武镇", title="2019年精武镇政府工作报告")
QUESTION = "2019年精武镇新增了多少家市级高新技术企业？"


def passage(opening: str, chunk_id: str, score: float) -> Passage:
    start = DOC.index(opening)
    end = DOC.index("\n", start)
    chunk = Chunk(chunk_id, "003", "003.txt", DOC[start:end], ("一、2019年工作回顾",), start, end, META)
    return Passage(chunk=chunk, score=score)


RANKED = [
    passage("创新能力快速提升", "innov", 0.9),
    passage("2019年全镇预计实现税收收入", "tax", 0.8),
    passage("营商环境不断优化", "business", 0.7),  # four sentences, ~250 tokens
]


@pytest.fixture(scope="module")
def counter(tmp_path_factory: pytest.TempPathFactory) -> TokenCounter:
    return partial(count_tokens, cache_dir=tmp_path_factory.mktemp("tiktoken"))


def test_everything_fits(counter: TokenCounter) -> None:
    packed = pack_context(RANKED, QUESTION, 5000, counter)
    assert packed.passages == RANKED
    assert packed.dropped == [] and not packed.trimmed and packed.warnings == []
    assert packed.context == format_passages(RANKED)
    assert packed.context_tokens == counter(packed.context)
    assert packed.system_tokens == counter(ANSWER_PROMPT.system)
    assert packed.question_tokens == counter(QUESTION)
    counts = packed.token_counts()
    assert counts["prompt"] > counts["system"] + counts["context"] + counts["question"] - 1
    assert set(counts) == {"system", "context", "question", "prompt"}


def test_last_passage_is_trimmed_at_a_sentence_end(counter: TokenCounter) -> None:
    two = format_passages(RANKED[:2])
    third = RANKED[2].chunk.text
    cut = third.index("。", third.index("借助")) + 1  # two sentences of the third passage
    budget = counter(two + "\n" + passage_block(3, RANKED[2], third[:cut])) + 3
    packed = pack_context(RANKED, QUESTION, budget, counter)
    assert [p.chunk.chunk_id for p in packed.passages] == ["innov", "tax", "business"]
    assert packed.trimmed and packed.dropped == []
    last = packed.passages[2].chunk
    assert last.text == third[:cut]
    assert DOC[last.start : last.end] == last.text  # still a real slice of the document
    assert packed.context_tokens <= budget


def test_a_stub_is_not_worth_keeping(counter: TokenCounter) -> None:
    budget = counter(format_passages(RANKED[:2])) + 40  # room for only a sliver of the third
    packed = pack_context(RANKED, QUESTION, budget, counter)
    assert [p.chunk.chunk_id for p in packed.passages] == ["innov", "tax"]
    assert not packed.trimmed
    assert packed.dropped == RANKED[2:]


def test_rank_order_is_kept_and_later_passages_are_dropped(counter: TokenCounter) -> None:
    budget = counter(format_passages(RANKED[:1])) + 5
    packed = pack_context(RANKED, QUESTION, budget, counter, min_trimmed_tokens=10_000)
    assert packed.passages == RANKED[:1]
    assert packed.dropped == RANKED[1:]


def test_the_only_passage_is_trimmed_rather_than_lost(counter: TokenCounter) -> None:
    packed = pack_context(RANKED[2:], QUESTION, 120, counter)
    assert len(packed.passages) == 1 and packed.trimmed
    assert packed.passages[0].chunk.text.endswith("。")
    assert packed.context_tokens <= 120


def test_a_budget_too_small_for_one_sentence(counter: TokenCounter) -> None:
    packed = pack_context(RANKED, QUESTION, 10, counter)
    assert packed.passages == [] and packed.context == ""
    assert packed.dropped == RANKED
    assert "GOVQA_CONTEXT_MAX_TOKENS" in packed.warnings[0]


def test_no_passages_and_bad_budget(counter: TokenCounter) -> None:
    packed = pack_context([], QUESTION, 100, counter)
    assert packed.passages == [] and packed.warnings == [] and packed.context_tokens == 0
    with pytest.raises(ConfigError, match="context_max_tokens must be > 0, got 0"):
        pack_context(RANKED, QUESTION, 0, counter)
