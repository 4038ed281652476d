"""Packing retrieved passages into an LLM's context budget.

Passages go in rank order while the rendered ``<passage>`` blocks fit ``budget_tokens``; the first one
that does not fit is cut at a sentence end when enough of it is left to be worth reading, and the rest
are dropped. Tokens are counted with whatever ``count_tokens`` is given — in the app that is the
offline cl100k_base counter of ``govqa.models.tokens``. A trimmed passage is a real prefix of its chunk
(``chunk.text == document.text[chunk.start:chunk.end]`` still holds), so citations into it stay exact.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from govqa.errors import ConfigError
from govqa.types import Passage
from rag.citations import sentence_spans
from rag.prompts import ANSWER_PROMPT, Prompt, passage_block, render

log = logging.getLogger(__name__)

TokenCounter = Callable[[str], int]
MIN_TRIMMED_TOKENS = 40  # a cut passage shorter than this is not worth its prefill time


@dataclass(frozen=True)
class PackedContext:
    """What the model will read: the passages that fit (numbered 1.. in this order) and token counts."""

    passages: list[Passage]  # in rank order; the last one may be trimmed
    context: str  # the rendered passage blocks
    system_tokens: int
    context_tokens: int
    question_tokens: int
    prompt_tokens: int  # every message of the rendered prompt (template text included)
    budget_tokens: int
    dropped: list[Passage] = field(default_factory=list)  # passages that did not fit, in rank order
    trimmed: bool = False  # the last passage was cut at a sentence end
    warnings: list[str] = field(default_factory=list)

    def token_counts(self) -> dict[str, int]:
        return {
            "system": self.system_tokens,
            "context": self.context_tokens,
            "question": self.question_tokens,
            "prompt": self.prompt_tokens,
        }


def _context(blocks: Sequence[str]) -> str:
    return "\n".join(blocks)


def _trimmed(
    passage: Passage, n: int, blocks: list[str], budget: int, count_tokens: TokenCounter
) -> tuple[Passage, str] | None:
    """The longest sentence-aligned prefix of ``passage`` whose block still fits, or None."""
    text = passage.chunk.text
    ends = [e for _, e in sentence_spans(text)][:-1]  # the full text already did not fit
    lo, hi, best = 0, len(ends) - 1, -1
    while lo <= hi:  # token counts grow with the prefix: binary search the last prefix that fits
        mid = (lo + hi) // 2
        block = passage_block(n, passage, text[: ends[mid]])
        if count_tokens(_context([*blocks, block])) <= budget:
            best, lo = mid, mid + 1
        else:
            hi = mid - 1
    if best < 0:
        return None
    end = ends[best]
    chunk = replace(passage.chunk, text=text[:end], end=passage.chunk.start + end)
    cut = Passage(chunk=chunk, score=passage.score, scores=dict(passage.scores))
    return cut, passage_block(n, cut)


def pack_context(
    passages: Sequence[Passage],
    question: str,
    budget_tokens: int,
    count_tokens: TokenCounter,
    *,
    prompt: Prompt = ANSWER_PROMPT,
    min_trimmed_tokens: int = MIN_TRIMMED_TOKENS,
) -> PackedContext:
    """Fit ``passages`` (ranked best first) into ``budget_tokens`` of context for ``prompt``."""
    if budget_tokens <= 0:
        raise ConfigError(f"context_max_tokens must be > 0, got {budget_tokens}")
    kept: list[Passage] = []
    blocks: list[str] = []
    dropped: list[Passage] = []
    trimmed = False
    warnings: list[str] = []
    for i, p in enumerate(passages):
        block = passage_block(len(kept) + 1, p)
        if count_tokens(_context([*blocks, block])) <= budget_tokens:
            kept.append(p)
            blocks.append(block)
            continue
        cut = _trimmed(p, len(kept) + 1, blocks, budget_tokens, count_tokens)
        # A cut passage earns its place if it is the only one, or long enough to be worth reading.
        if cut is not None and (not kept or count_tokens(cut[0].chunk.text) >= min_trimmed_tokens):
            kept.append(cut[0])
            blocks.append(cut[1])
            trimmed = True
            dropped = list(passages[i + 1 :])
        else:
            dropped = list(passages[i:])
        break
    if passages and not kept:
        warnings.append(
            f"the context budget of {budget_tokens} tokens does not hold one sentence of the best passage: "
            "raise GOVQA_CONTEXT_MAX_TOKENS"
        )
    context = _context(blocks)
    messages = render(prompt, context=context, question=question)
    packed = PackedContext(
        passages=kept,
        context=context,
        system_tokens=sum(count_tokens(str(m.content)) for m in messages if m.type == "system"),
        context_tokens=count_tokens(context),
        question_tokens=count_tokens(question),
        prompt_tokens=sum(count_tokens(str(m.content)) for m in messages),
        budget_tokens=budget_tokens,
        dropped=dropped,
        trimmed=trimmed,
        warnings=warnings,
    )
    log.debug(
        "packed %d/%d passages (trimmed=%s) into %d/%d context tokens",
        len(kept),
        len(passages),
        trimmed,
        packed.context_tokens,
        budget_tokens,
    )
    return packed
