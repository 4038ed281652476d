"""The answer chain: history → standalone question → sub-questions → retrieval → a cited ``Answer``.

``AnswerChain`` is a LangChain ``Runnable``: ``invoke`` returns the ``Answer``; ``stream`` yields
``{"type": "delta", "text": ...}`` events as the text is produced, then ``{"type": "answer", "answer":
Answer}``. The chain holds an ``Answerer`` (``rag.answerer``): the ``ExtractiveAnswerer`` (no LLM, the
default) or an ``LLMAnswerer`` over any LangChain chat model, which the chain only asks when the
extractive answerer finds evidence (the evidence gate).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable, RunnableConfig

from govqa.errors import BadQuestionError
from govqa.types import Answer, Filters
from rag import extractive
from rag.answerer import Answerer, Part, Turn
from rag.condense import condense, condense_with_llm
from rag.decompose import decompose
from rag.extractive_answerer import ExtractiveAnswerer
from rag.question import QuestionInfo
from rag.retrieval import HybridRetriever

log = logging.getLogger(__name__)

Event = dict[str, Any]


@dataclass
class AskInput:
    question: str
    history: Sequence[tuple[str, str]] = ()
    filters: Filters | None = None


class AnswerChain(Runnable[Any, Answer]):
    def __init__(
        self,
        retriever: HybridRetriever,
        *,
        chat_model: BaseChatModel | None = None,
        answerer: Answerer | None = None,
        weights: extractive.Weights | None = None,
        count_tokens: Callable[[str], int] | None = None,
        evidence_gate: bool = True,
    ) -> None:
        self.retriever = retriever
        self.chat_model = chat_model
        self.extractive = ExtractiveAnswerer(retriever, weights, count_tokens)
        self.answerer: Answerer = answerer or self.extractive
        # with an LLM: refuse without calling it when no retrieved sentence answers any sub-question
        self.evidence_gate = evidence_gate

    @property
    def mode(self) -> str:
        return self.answerer.mode

    # --- Runnable ------------------------------------------------------------------------------
    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Answer:
        answer = None
        for event in self.stream(input, config, **kwargs):
            if event["type"] == "answer":
                answer = event["answer"]
        assert answer is not None
        return answer

    def stream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[Event]:  # type: ignore[override]
        ask = _coerce(input)
        t0 = time.perf_counter()
        standalone = self._condense(ask)
        t_condense = time.perf_counter()
        info = self.retriever.analyze(standalone)
        subs = [filtered(sub, ask.filters) for sub in decompose(info)]
        parts = [Part(sub, self.retriever.retrieve(sub, ask.filters)) for sub in subs]
        t_retrieve = time.perf_counter()
        timings = {
            "condense": (t_condense - t0) * 1000,
            "retrieve": (t_retrieve - t_condense) * 1000,
        }
        answerer = self.answerer
        if answerer is not self.extractive and not self._worth_asking(parts):
            answerer = self.extractive  # abstained before the model: the refusal is this mode's answer
        # a model's answer time starts once the gate let it through; the extractive one's includes its search
        t_answer = t_retrieve if answerer is self.extractive else time.perf_counter()
        final: Answer | None = None
        for item in answerer.answer(Turn(ask.question, standalone, info, parts)):
            if isinstance(item, str):
                yield {"type": "delta", "text": item}
            else:
                final = item
        assert final is not None
        final.mode = self.answerer.mode
        final.timings_ms = {
            **timings,
            **final.timings_ms,
            "answer": (time.perf_counter() - t_answer) * 1000,
            "total": (time.perf_counter() - t0) * 1000,
        }
        yield {"type": "answer", "answer": final}

    # --- steps ---------------------------------------------------------------------------------
    def _condense(self, ask: AskInput) -> str:
        if not ask.history:
            return ask.question
        known = self.retriever.known_bodies()
        if self.chat_model is not None:
            return condense_with_llm(ask.question, ask.history, self.chat_model)
        return condense(ask.question, ask.history, known_bodies=known)

    def _worth_asking(self, parts: list[Part]) -> bool:
        """Whether to call the LLM: some sub-question is in scope and, with the evidence gate on, some
        retrieved sentence answers it (the extractive answerer's test), so the model is never asked to
        answer from passages that only share words with the question."""
        in_scope = [p for p in parts if not p.retrieval.scope.empty]
        if not self.evidence_gate:
            return bool(in_scope)
        return any(self.extractive.evidence(p) for p in in_scope)


def filtered(info: QuestionInfo, filters: Filters | None) -> QuestionInfo:
    """The question as retrieval and the answerer must read it: a year filter (--year 2024, the UI's
    year) is the asked year, so passages about it rank first and a clause about another year is no
    answer, as if the question had named the year."""
    if filters is None or filters.year is None or info.years == (filters.year,):
        return info
    return dataclasses.replace(info, years=(filters.year,))


def _coerce(input: Any) -> AskInput:
    if isinstance(input, AskInput):
        ask = input
    elif isinstance(input, str):
        ask = AskInput(input)
    elif isinstance(input, dict):
        ask = AskInput(
            str(input.get("question", "")), tuple(input.get("history") or ()), input.get("filters")
        )
    else:
        raise BadQuestionError(
            f"expected a question string or {{'question': ...}}, got {type(input).__name__}"
        )
    if not ask.question or not ask.question.strip():
        raise BadQuestionError("the question is empty: ask something about the reports")
    return ask
