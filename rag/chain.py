"""The answer chain: history → standalone question → sub-questions → retrieval → a cited ``Answer``.

``AnswerChain`` is a LangChain ``Runnable``: ``invoke`` returns the ``Answer``; ``stream`` yields
``{"type": "delta", "text": ...}`` events as the text is produced, then ``{"type": "answer", "answer":
Answer}``. The answerer is extractive (no LLM, the default) or any LangChain chat model.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable, RunnableConfig

from govqa.errors import BadQuestionError
from govqa.types import Answer, Citation, Passage
from rag import compare, english, extractive, front_matter, listing, overview, precedence, smalltalk
from rag.citations import make_citation
from rag.condense import condense, condense_with_llm, named_places
from rag.decompose import body_name, decompose
from rag.llm_answer import LLMAnswerer
from rag.question import QuestionInfo, detect_lang, scan_question
from rag.retrieval import HybridRetriever, Retrieval
from rag.scope import Filters, base_years, other_places

log = logging.getLogger(__name__)

Event = dict[str, Any]
REFUSAL_ZH = "报告中没有找到相关内容"
REFUSAL_EN = "The reports do not say"
EN_LEAD = "The reports answer this in Chinese; the evidence is quoted as written:"
EN_QUOTE = "In the report's words:"


@dataclass
class AskInput:
    question: str
    history: Sequence[tuple[str, str]] = ()
    filters: Filters | None = None


@dataclass
class _Part:
    info: QuestionInfo
    retrieval: Retrieval
    pick: extractive.Scored | None = None
    citations: list[Citation] = field(default_factory=list)


class AnswerChain(Runnable[Any, Answer]):
    def __init__(
        self,
        retriever: HybridRetriever,
        *,
        chat_model: BaseChatModel | None = None,
        llm_answerer: LLMAnswerer | None = None,
        weights: extractive.Weights | None = None,
        count_tokens: Any = None,
        evidence_gate: bool = True,
        examples: Callable[[], Sequence[str]] | None = None,
    ) -> None:
        self.retriever = retriever
        self.chat_model = chat_model
        self.llm_answerer = llm_answerer
        # with an LLM: refuse without calling it when no retrieved sentence answers any sub-question
        self.evidence_gate = evidence_gate
        self.weights = weights or extractive.Weights()
        self.count_tokens = count_tokens or (lambda s: len(s))
        self.examples = examples  # example questions from the corpus, for the help answer

    @property
    def mode(self) -> str:
        return self.llm_answerer.mode if self.llm_answerer is not None else "extractive"

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
            answer = self._help(ask, talk, t0)
            yield {"type": "delta", "text": answer.text}
            yield {"type": "answer", "answer": answer}
            return
        standalone = self._condense(ask)
        t_condense = time.perf_counter()
        info = self.retriever.analyze(standalone)
        filters, notes = self._precedence(info, ask.filters)
        absent = self._absent_places(info)
        if absent:  # 北京市, Beijing: a place no report mentions is no question the reports answer
            answer = _noted(self._unknown_place(ask, standalone, info, absent, t0), notes)
            yield {"type": "delta", "text": answer.text}
            yield {"type": "answer", "answer": answer}
            return
        subs = [filtered(sub, filters) for sub in decompose(info)]
        parts = [_Part(sub, self.retriever.retrieve(sub, filters)) for sub in subs]
        t_retrieve = time.perf_counter()
        timings = {
            "condense": (t_condense - t0) * 1000,
            "retrieve": (t_retrieve - t_condense) * 1000,
        }
        outlined = (
            self._overview(ask, standalone, info, filters, parts) if self.llm_answerer is None else None
        )
        if outlined is not None:  # 主要工作有哪些, 总结一下: an outline from the report's heading tree
            answer = _noted(outlined, notes)
            answer.timings_ms = {**timings, "total": (time.perf_counter() - t0) * 1000}
            yield {"type": "delta", "text": answer.text}
            yield {"type": "answer", "answer": answer}
            return
        if self.llm_answerer is not None and self._worth_asking(parts):
            if notes:
                yield {"type": "delta", "text": " ".join(notes) + "\n"}
            for event in self._llm(ask, standalone, info, parts, timings, t0):
                if event["type"] == "answer":
                    _noted(event["answer"], notes)
                yield event
            return
        answer = _noted(self._extractive(ask, standalone, info, parts), notes)
        if self.llm_answerer is not None:  # abstained before the model: the refusal is this mode's answer
            answer.mode = self.llm_answerer.mode
        answer.timings_ms = {
            **timings,
            "answer": (time.perf_counter() - t_retrieve) * 1000,
            "total": (time.perf_counter() - t0) * 1000,
        }
        yield {"type": "delta", "text": answer.text}
        yield {"type": "answer", "answer": answer}

    # --- steps ---------------------------------------------------------------------------------
    def _help(self, ask: AskInput, talk: str, t0: float) -> Answer:
        lang = detect_lang(ask.question)
        reports = [d.meta for d in self.retriever.docs()]
        examples = list(self.examples()) if self.examples is not None else []
        text = smalltalk.help_answer(
            talk, lang, reports, examples or smalltalk.fallback_examples(reports, lang)
        )
        return Answer(
            question=ask.question,
            text=text,
            refused=False,
            standalone_question=ask.question,
            lang=lang,
            mode=self.mode,
            timings_ms={"total": (time.perf_counter() - t0) * 1000},
            tokens=self._tokens([], text),
        )

    def _condense(self, ask: AskInput) -> str:
        if not ask.history:
            return ask.question
        known = self.retriever.known_bodies()
        if self.chat_model is not None:
            return condense_with_llm(ask.question, ask.history, self.chat_model)
        return condense(ask.question, ask.history, known_bodies=known)

    def _overview(
        self, ask: AskInput, standalone: str, info: QuestionInfo, filters: Filters | None, parts: list[_Part]
    ) -> Answer | None:
        """An outline of one report for a question asking for several things; None when it asks for
        none, or no report in scope has a heading tree to outline."""
        if not overview.asks_overview(info.text) or info.is_comparison or len(parts) != 1:
            return None
        scope = parts[0].retrieval.scope
        docs = [d for d in self.retriever.docs() if d.doc_id in scope.doc_ids]
        if not docs:
            return None
        year = info.years[0] if info.years else None
        ranked = [p.chunk.doc_id for p in parts[0].retrieval.passages]

        def fit(d: Any) -> tuple[int, int, int, int]:
            covers = year is not None and year in d.meta.years
            rank = ranked.index(d.doc_id) if d.doc_id in ranked else len(ranked)
            span = len(d.meta.years) if covers else 0  # the report about that year alone first
            return (0 if covers or year is None else 1, span, rank, -max(d.meta.years_reviewed or (0,)))

        doc = min(docs, key=fit)
        part = overview.wanted_part(info.text, year, doc.meta.years_reviewed, doc.meta.years_planned)
        chunks = sorted(self.retriever.index.chunks_of(doc.doc_id), key=lambda c: c.ordinal)
        topics = overview.topic_terms(info.terms, info.text)
        points, more = overview.outline(chunks, part, topics, year if part else None)
        if not points:
            return None
        cited: list[Citation] = []
        lines = []
        for i, pt in enumerate(points, 1):
            c = make_citation(i, Passage(pt.chunk, 1.0, {"outline": 1.0}), pt.start, pt.end)
            cited.append(c)
            quote = c.quote if info.lang == "zh" else f"“{c.quote}”"
            top = f"{pt.chunk.heading_path[0]} › " if not part else ""
            lines.append(f"{i}. {top}{pt.heading}：{quote}[{c.n}]" + ("；" if info.lang == "zh" else ""))
        section = points[0].chunk.heading_path[0] if part else ""
        title = doc.meta.title or doc.source
        if info.lang == "zh":
            where = f"《{title}》" + (f"“{section}”部分" if section else "")
            head = f"{where}的要点（按报告的标题层级）："
            tail = f"另有{more}项未列出，可追问某一方面。" if more else ""
            lines[-1] = lines[-1].rstrip("；") + "。"
        else:
            where = f"“{title}”" + (f", section “{section}”" if section else "")
            head = f"The main points of {where}, following the report's headings (quoted in Chinese):"
            tail = f"{more} more not listed; ask about one area for detail." if more else ""
        text = "\n".join([head, *lines] + ([tail] if tail else []))
        retrieved = parts[0].retrieval.passages
        return Answer(
            question=ask.question,
            text=text,
            refused=False,
            citations=cited,
            retrieved=retrieved,
            standalone_question=standalone,
            lang=info.lang,
            mode=self.mode,
            tokens=self._tokens(retrieved, text),
        )

    def _absent_places(self, info: QuestionInfo) -> list[str]:
        """Places the question names that are no body and that no report mentions."""
        known = self.retriever.known_bodies()
        named = named_places(scan_question(info.text, known))
        seen = other_places(info.text, known)  # these the scope refuses itself, with related passages
        return [p for p in named if p not in known and p not in seen and not self.retriever.corpus_has(p)]

    def _unknown_place(
        self, ask: AskInput, standalone: str, info: QuestionInfo, places: list[str], t0: float
    ) -> Answer:
        missing = "、".join(places) if info.lang == "zh" else ", ".join(places)
        text = _refusal(info, [f"关于{missing}的内容" if info.lang == "zh" else f"anything about {missing}"])
        return Answer(
            question=ask.question,
            text=text,
            refused=True,
            standalone_question=standalone,
            lang=info.lang,
            mode=self.mode,
            timings_ms={"total": (time.perf_counter() - t0) * 1000},
            tokens=self._tokens([], text),
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

    def _worth_asking(self, parts: list[_Part]) -> bool:
        """Whether to call the LLM: some sub-question is in scope and, with the evidence gate on, some
        retrieved sentence answers it (the extractive answerer's test), so the model is never asked to
        answer from passages that only share words with the question."""
        in_scope = [p for p in parts if not p.retrieval.scope.empty]
        if not self.evidence_gate:
            return bool(in_scope)
        return any(self._evidence(p) for p in in_scope)

    def _evidence(self, part: _Part) -> list[tuple[Passage, int, int]]:
        """The (passage, start, end) spans that answer one sub-question; empty when none does."""
        r = part.retrieval
        if r.scope.empty:
            return []
        wanted = front_matter.intents(part.info)
        if wanted:
            docs = [d for d in self.retriever.docs() if d.doc_id in r.scope.doc_ids]
            doc = front_matter.pick_document(part.info, docs)
            found = front_matter.find(wanted, self.retriever.index.chunks_of(doc.doc_id)) if doc else None
            if found is not None:
                chunk, spans = found
                passage = Passage(chunk, 1.0, {"front_matter": 1.0})
                r.passages = [passage, *[p for p in r.passages if p.chunk.chunk_id != chunk.chunk_id]]
                return [(passage, s, e) for s, e in spans]
        part.pick = extractive.select(part.info, r.passages, self.weights, required=r.scope.required)
        if part.pick is None:
            return []
        picks = [part.pick]
        if listing.asks_count(part.info) and not r.scope.required:  # 几所学校: every clause naming one
            picks = listing.more_items(part.info, r.passages, part.pick, self.weights)
        return [(r.passages[s.unit.passage_index], s.unit.start, s.unit.end) for s in picks]

    def _extractive(self, ask: AskInput, standalone: str, info: QuestionInfo, parts: list[_Part]) -> Answer:
        cited: dict[tuple[str, int, int], Citation] = {}
        pieces: list[str] = []
        missing: list[str] = []
        found = [(part, self._evidence(part)) for part in parts]
        quoted = "".join(p.chunk.text[s:e] for _, spans in found for p, s, e in spans)
        found = [(part, spans) for part, spans in found if spans or not _base_quoted(part, info, quoted)]
        figures: list[tuple[_Part, compare.Figure]] = []
        for part, spans in found:
            if not spans:
                missing.append(_missing_text(part, info.lang))
                continue
            p, start, end = spans[0]
            figure = compare.figure_of(
                p.chunk.text[start:end],
                part.info.terms,
                p.chunk.heading_path[0] if p.chunk.heading_path else "",
                rate=_ASKS_RATE.search(info.text) is not None,
            )
            if figure is not None:
                figures.append((part, figure))
            quotes = []
            for p, start, end in spans:
                key = (p.chunk.chunk_id, start, end)
                if key not in cited:
                    cited[key] = make_citation(len(cited) + 1, p, start, end)
                c = cited[key]
                quotes.append((f"“{c.quote}”" if info.lang == "en" else c.quote) + f"[{c.n}]")
            pieces.append(_label(part, info, len(found)) + ("，" if info.lang == "zh" else ", ").join(quotes))
        retrieved = _merge([p.retrieval.passages for p in parts])
        related = _merge([p.retrieval.related or p.retrieval.passages for p in parts])
        if not pieces:
            return Answer(
                question=ask.question,
                text=_refusal(info, missing),
                refused=True,
                related=related[:5],
                retrieved=retrieved,
                standalone_question=standalone,
                lang=info.lang,
                mode="extractive",
                tokens=self._tokens(retrieved, ""),
            )
        # one sentence per part, so each [n] closes the sentence whose claims it supports
        sep = "。" if info.lang == "zh" else ". "
        body = sep.join(pieces)
        conclusion = _conclusion(info, figures, len(found))
        if conclusion:  # computed from both quotes: cite both
            marks = "".join(f"[{c.n}]" for c in cited.values())
            conclusion = conclusion[:-1] + marks + conclusion[-1]
        if info.lang == "zh":
            text = body + "。" + conclusion
            if missing:
                text += "报告中没有找到" + "；".join(missing) + "。"
        else:
            lead = _english_lead(info, figures, cited, len(found))
            text = f"{lead or EN_LEAD} {body}." + (f" {conclusion}" if conclusion else "")
            if missing:
                text += f" {REFUSAL_EN} " + "; ".join(missing) + "."
        return Answer(
            question=ask.question,
            text=text,
            refused=False,
            citations=list(cited.values()),
            related=[p for p in related if p.chunk.chunk_id not in {c.chunk_id for c in cited.values()}][:3],
            retrieved=retrieved,
            standalone_question=standalone,
            lang=info.lang,
            mode="extractive",
            tokens=self._tokens(retrieved, text),
        )

    def _llm(
        self,
        ask: AskInput,
        standalone: str,
        info: QuestionInfo,
        parts: list[_Part],
        timings: dict[str, float],
        t0: float,
    ) -> Iterator[Event]:
        assert self.llm_answerer is not None
        passages = _merge([p.retrieval.passages for p in parts if not p.retrieval.scope.empty])
        t1 = time.perf_counter()
        final: Answer | None = None
        for item in self.llm_answerer.stream(standalone, info.lang, passages):
            if isinstance(item, str):
                yield {"type": "delta", "text": item}
            else:
                final = item
        assert final is not None
        final.question = ask.question
        final.standalone_question = standalone
        final.retrieved = _merge([p.retrieval.passages for p in parts])
        final.mode = self.llm_answerer.mode  # "local" or "openai"
        final.timings_ms = {
            **timings,
            **final.timings_ms,
            "answer": (time.perf_counter() - t1) * 1000,
            "total": (time.perf_counter() - t0) * 1000,
        }
        yield {"type": "answer", "answer": final}

    def _tokens(self, passages: list[Passage], text: str) -> dict[str, int]:
        return {
            "context": sum(self.count_tokens(p.chunk.text) for p in passages),
            "answer": self.count_tokens(text) if text else 0,
        }


def filtered(info: QuestionInfo, filters: Filters | None) -> QuestionInfo:
    """The question as retrieval and the answerer must read it: a year filter (--year 2024, the UI's
    year) is the asked year, so passages about it rank first and a clause about another year is no
    answer, as if the question had named the year."""
    if filters is None or filters.year is None or info.years == (filters.year,):
        return info
    return dataclasses.replace(info, years=(filters.year,))


def _noted(answer: Answer, notes: list[str]) -> Answer:
    """Show the filters the question overrode, before the answer."""
    if notes:
        answer.notes = [*notes, *answer.notes]
        answer.text = " ".join(notes) + "\n" + answer.text
    return answer


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


def _merge(lists: Sequence[Sequence[Passage]]) -> list[Passage]:
    """Interleave ranked lists (one per sub-question), dropping duplicates."""
    out: list[Passage] = []
    seen: set[str] = set()
    for rank in range(max((len(x) for x in lists), default=0)):
        for lst in lists:
            if rank < len(lst) and lst[rank].chunk.chunk_id not in seen:
                seen.add(lst[rank].chunk.chunk_id)
                out.append(lst[rank])
    return out


def _label(part: _Part, whole: QuestionInfo, n_parts: int) -> str:
    """For a multi-part answer, say which part each quote answers (e.g. ``2019年：``)."""
    if n_parts == 1:
        return ""
    bits = []
    if len(whole.bodies) > 1 and part.info.bodies:
        bits.append(part.info.bodies[0])
    if len(whole.years) > 1 and part.info.years:
        bits.append(f"{part.info.years[0]}年" if whole.lang == "zh" else str(part.info.years[0]))
    if not bits:
        return ""
    return ("".join(bits) + "：") if whole.lang == "zh" else (" ".join(bits) + ": ")


def _english_lead(
    info: QuestionInfo,
    figures: list[tuple[_Part, compare.Figure]],
    cited: dict[tuple[str, int, int], Citation],
    n_parts: int,
) -> str:
    """For an English question answered by one quoted figure: an English sentence stating it."""
    if n_parts != 1 or len(figures) != 1 or len(cited) != 1:
        return ""
    part, figure = figures[0]
    (citation,) = cited.values()
    what = _english_term(info.text)
    who = body_name(part.info.bodies[0], "en") if part.info.bodies else ""
    year = part.info.years[0] if part.info.years else None
    sentence = english.lead(what, who, year, figure, citation.quote, f"[{citation.n}]")
    return f"{sentence} {EN_QUOTE}"


_ASKS_RATE = re.compile(
    r"增速|增幅|增长率|[A-Za-z]+\s+growth\b(?!\s+(?:did|does|do|was|is))|\bgrowth\s+rate|\brate\b|\bshare\b",
    re.IGNORECASE,
)


def _english_term(text: str) -> str:
    """The question's own English words for the measure: its longest run of adjacent glossary phrases."""
    mentions = [m for m in scan_question(text).terms if m.en]
    runs: list[list[Any]] = []
    for m in mentions:
        if runs and not text[runs[-1][-1].end : m.start].strip():
            runs[-1].append(m)
        else:
            runs.append([m])
    if not runs:
        return "the figure"
    best = max(runs, key=lambda r: r[-1].end - r[0].start)
    return text[best[0].start : best[-1].end]


def _conclusion(whole: QuestionInfo, figures: list[tuple[_Part, compare.Figure]], n_parts: int) -> str:
    """For a comparison of two parts that both quote a figure, the computed direction and difference."""
    if n_parts != 2 or len(figures) != 2:  # two parts (years or bodies), each quoting a figure
        return ""
    (pa, a), (pb, b) = figures
    ya, yb = pa.info.years[:1], pb.info.years[:1]
    same_body = pa.info.bodies[:1] == pb.info.bodies[:1]
    over_time = bool(ya and yb and ya != yb and same_body)
    if over_time and yb < ya:
        (pa, a), (pb, b) = (pb, b), (pa, a)

    def label(part: _Part) -> str:
        bits = [] if same_body or not part.info.bodies else [body_name(part.info.bodies[0], whole.lang)]
        if part.info.years and not (len(set(ya + yb)) == 1 and not over_time):
            bits.append(f"{part.info.years[0]}年" if whole.lang == "zh" else str(part.info.years[0]))
        return ("" if whole.lang == "zh" else " ").join(bits) or part.info.text

    return compare.conclude((label(pa), a), (label(pb), b), over_time, whole.lang)


def _base_quoted(part: _Part, whole: QuestionInfo, quoted: str) -> bool:
    """A part about a year the question names only as a comparison base (the 2016 of 比2016年增长多少),
    which no report covers, is answered by another part's quote that names that year (比2016年增长32%):
    no "nothing about 2016" note for it."""
    years = set(part.info.years)
    return (
        bool(years)
        and part.retrieval.scope.empty
        and years <= base_years(whole.text)
        and all(str(y) in quoted for y in years)
    )


def _missing_text(part: _Part, lang: str) -> str:
    """What was not found, as a phrase to follow "报告中没有找到" / "The reports do not say"."""
    if part.retrieval.scope.missing:
        zh = "、".join(m[0] for m in part.retrieval.scope.missing)
        en = ", ".join(m[1] for m in part.retrieval.scope.missing)
        return zh if lang == "zh" else f"anything about {en}"
    subject = part.info.text.rstrip("？?。 ")
    return f"“{subject}”的答案" if lang == "zh" else f"the answer to “{subject}”"


def _refusal(info: QuestionInfo, missing: list[str]) -> str:
    detail = "；".join(dict.fromkeys(missing))
    if info.lang == "zh":
        return f"报告中没有找到{detail}。" if detail else f"{REFUSAL_ZH}。"
    return f"{REFUSAL_EN} {detail}." if detail else f"{REFUSAL_EN}."
