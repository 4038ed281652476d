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
from rag import extractive, precedence, smalltalk
from rag.answerer import Answerer, Part, Turn
from rag.condense import condense, condense_with_llm, named_places
from rag.decompose import decompose
from rag.extractive_answerer import ExtractiveAnswerer, refusal_text
from rag.outline_answer import outline_answer
from rag.question import QuestionInfo, detect_lang, scan_question
from rag.retrieval import HybridRetriever
from rag.scope import other_places

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
        examples: Callable[[], Sequence[str]] | None = None,
    ) -> None:
        self.retriever = retriever
        self.chat_model = chat_model
        self.extractive = ExtractiveAnswerer(retriever, weights, count_tokens)
        self.answerer: Answerer = answerer or self.extractive
        # with an LLM: refuse without calling it when no retrieved sentence answers any sub-question
        self.evidence_gate = evidence_gate
        self.examples = examples  # example questions from the corpus, for the help answer

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
        talk = smalltalk.kind(ask.question)
        if talk is not None:  # a greeting, "what can you do", "which reports": help, not retrieval
            yield from self._done(self._help(ask, talk), {}, t0)
            return
        standalone = self._condense(ask)
        t_condense = time.perf_counter()
        info = self.retriever.analyze(standalone)
        filters, notes = self._precedence(info, ask.filters)
        if notes:  # the question names a body, year or report the filters contradict: it wins, said first
            yield {"type": "delta", "text": " ".join(notes) + "\n"}
        absent = self._absent_places(info)
        if absent:  # 北京市, Beijing: a place no report mentions is no question the reports answer
            yield from self._done(self._unknown_place(ask, standalone, info, absent), {}, t0, notes)
            return
        subs = [filtered(sub, filters) for sub in decompose(info)]
        parts = [Part(sub, self.retriever.retrieve(sub, filters)) for sub in subs]
        t_retrieve = time.perf_counter()
        timings = {
            "condense": (t_condense - t0) * 1000,
            "retrieve": (t_retrieve - t_condense) * 1000,
        }
        if self.answerer is self.extractive:  # 主要工作有哪些, 总结一下: an outline of the heading tree
            outlined = outline_answer(self.retriever, ask.question, standalone, info, parts)
            if outlined is not None:
                yield from self._done(outlined, timings, t0, notes)
                return
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
        timings["answer"] = (time.perf_counter() - t_answer) * 1000
        yield {"type": "answer", "answer": self._finish(final, timings, t0, notes)}

    def _done(
        self, answer: Answer, timings: dict[str, float], t0: float, notes: Sequence[str] = ()
    ) -> Iterator[Event]:
        """An answer the chain wrote itself (help, an unknown place, an outline): its text, then it."""
        yield {"type": "delta", "text": answer.text}
        yield {"type": "answer", "answer": self._finish(answer, timings, t0, notes)}

    def _finish(self, answer: Answer, timings: dict[str, float], t0: float, notes: Sequence[str]) -> Answer:
        answer.mode = self.answerer.mode
        answer.timings_ms = {**timings, **answer.timings_ms, "total": (time.perf_counter() - t0) * 1000}
        if not answer.tokens:
            answer.tokens = self.extractive.tokens(answer.retrieved, answer.text)
        if notes:  # the filters the question overrode, before the answer (already streamed)
            answer.notes = [*notes, *answer.notes]
            answer.text = " ".join(notes) + "\n" + answer.text
        return answer

    # --- steps ---------------------------------------------------------------------------------
    def _condense(self, ask: AskInput) -> str:
        if not ask.history:
            return ask.question
        known = self.retriever.known_bodies()
        if self.chat_model is not None:
            return condense_with_llm(ask.question, ask.history, self.chat_model)
        return condense(ask.question, ask.history, known_bodies=known)

    def _help(self, ask: AskInput, talk: str) -> Answer:
        lang = detect_lang(ask.question)
        reports = [d.meta for d in self.retriever.docs()]
        examples = list(self.examples()) if self.examples is not None else []
        text = smalltalk.help_answer(
            talk, lang, reports, examples or smalltalk.fallback_examples(reports, lang)
        )
        return Answer(
            question=ask.question, text=text, refused=False, standalone_question=ask.question, lang=lang
        )

    def _absent_places(self, info: QuestionInfo) -> list[str]:
        """Places the question names that are no body and that no report mentions."""
        known = self.retriever.known_bodies()
        named = named_places(scan_question(info.text, known))
        seen = other_places(info.text, known)  # these the scope refuses itself, with related passages
        return [p for p in named if p not in known and p not in seen and not self.retriever.corpus_has(p)]

    def _unknown_place(self, ask: AskInput, standalone: str, info: QuestionInfo, places: list[str]) -> Answer:
        missing = "、".join(places) if info.lang == "zh" else ", ".join(places)
        text = refusal_text(
            info, [f"关于{missing}的内容" if info.lang == "zh" else f"anything about {missing}"]
        )
        return Answer(
            question=ask.question, text=text, refused=True, standalone_question=standalone, lang=info.lang
        )

    def _precedence(self, info: QuestionInfo, filters: Filters | None) -> tuple[Filters | None, list[str]]:
        """The filters the question does not contradict, and a note for each one it does."""
        if filters is None:
            return None, []
        known = self.retriever.known_bodies()
        places = [*other_places(info.text, known), *named_places(scan_question(info.text, known))]
        places = list(dict.fromkeys(p for p in places if p not in known))
        meta = None
        if filters.document:
            docs = self.retriever.docs()
            meta = next((d.meta for d in docs if filters.document in (d.doc_id, d.source)), None)
        found = precedence.conflicts(info, filters, places=places, document_meta=meta)
        if found:
            log.info("the question overrides filters: %s", found)
        return precedence.without(filters, found), [c.note(info.lang) for c in found]

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
