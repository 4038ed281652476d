"""The extractive answerer (the default, no model): for each part of the question, quote the report
sentence that answers it, cited; say what was not found; refuse when nothing was.

``evidence`` (the spans that answer one part) is also the chain's evidence gate before an LLM is asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from govqa.types import Answer, Citation, Passage
from govqa.years import base_years
from rag import compare, english, extractive, front_matter, listing
from rag.answerer import Part, Turn, merge_ranked
from rag.citations import make_citation
from rag.decompose import body_name
from rag.question import QuestionInfo, scan_question
from rag.retrieval import HybridRetriever

REFUSAL_ZH = "报告中没有找到相关内容"
REFUSAL_EN = "The reports do not say"
EN_LEAD = "The reports answer this in Chinese; the evidence is quoted as written:"
EN_QUOTE = "In the report's words:"


class ExtractiveAnswerer:
    """Answers by quoting: the best sentence of the retrieved passages for each part, with its citation."""

    mode = "extractive"

    def __init__(
        self,
        retriever: HybridRetriever,
        weights: extractive.Weights | None = None,
        count_tokens: Callable[[str], int] | None = None,
    ) -> None:
        self.retriever = retriever
        self.weights = weights or extractive.Weights()
        self.count_tokens = count_tokens or (lambda s: len(s))

    def evidence(self, part: Part) -> list[tuple[Passage, int, int]]:
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
        out = []
        for s in picks:
            passage = r.passages[s.unit.passage_index]
            text = passage.chunk.text
            out.append((passage, s.unit.start, extractive.with_its_list(text, s.unit.start, s.unit.end)))
            if extractive.ends_with_lead(text, s.unit.end):  # "…主要预期目标是：" and the table is next
                out += self._table_after(passage)
        return out

    def _table_after(self, passage: Passage) -> list[tuple[Passage, int, int]]:
        """The table that opens the chunk after ``passage``'s, when a lead ended that chunk."""
        chunk = passage.chunk
        after = [c for c in self.retriever.index.chunks_of(chunk.doc_id) if c.ordinal == chunk.ordinal + 1]
        table = extractive.opening_table(after[0].text) if after else None
        if table is None:
            return []
        return [(Passage(after[0], passage.score, {"list": 1.0}), *table)]

    def answer(self, turn: Turn) -> Iterator[str | Answer]:
        answer = self._answer(turn.question, turn.standalone, turn.info, turn.parts)
        yield answer.text
        yield answer

    def _answer(self, question: str, standalone: str, info: QuestionInfo, parts: list[Part]) -> Answer:
        cited: dict[tuple[str, int, int], Citation] = {}
        pieces: list[str] = []
        missing: list[str] = []
        found = [(part, self.evidence(part)) for part in parts]
        quoted = "".join(p.chunk.text[s:e] for _, spans in found for p, s, e in spans)
        found = [(part, spans) for part, spans in found if spans or not _base_quoted(part, info, quoted)]
        figures: list[tuple[Part, compare.Figure]] = []
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
                year=part.info.years[0] if len(part.info.years) == 1 else None,
            )
            if figure is not None:
                figures.append((part, figure))
            quotes = []
            for p, start, end in spans:
                key = (p.chunk.chunk_id, start, end)
                if key not in cited:
                    cited[key] = make_citation(len(cited) + 1, p, start, end)
                c = cited[key]
                if c.quote.startswith("|"):  # a table: on lines of its own, the marker under it
                    quotes.append(f"\n{c.quote}\n[{c.n}]")
                else:
                    quotes.append((f"“{c.quote}”" if info.lang == "en" else c.quote) + f"[{c.n}]")
            joined = ""
            for q in quotes:
                if joined and not q.startswith("\n"):
                    joined += "，" if info.lang == "zh" else ", "
                joined += q
            pieces.append(_label(part, info, len(found)) + joined)
        retrieved = merge_ranked([p.retrieval.passages for p in parts])
        related = merge_ranked([p.retrieval.related or p.retrieval.passages for p in parts])
        if not pieces:
            return Answer(
                question=question,
                text=refusal_text(info, missing),
                refused=True,
                related=related[:5],
                retrieved=retrieved,
                standalone_question=standalone,
                lang=info.lang,
                mode="extractive",
                tokens=self.tokens(retrieved, ""),
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
            question=question,
            text=text,
            refused=False,
            citations=list(cited.values()),
            related=[p for p in related if p.chunk.chunk_id not in {c.chunk_id for c in cited.values()}][:3],
            retrieved=retrieved,
            standalone_question=standalone,
            lang=info.lang,
            mode="extractive",
            tokens=self.tokens(retrieved, text),
        )

    def tokens(self, passages: list[Passage], text: str) -> dict[str, int]:
        return {
            "context": sum(self.count_tokens(p.chunk.text) for p in passages),
            "answer": self.count_tokens(text) if text else 0,
        }


def _label(part: Part, whole: QuestionInfo, n_parts: int) -> str:
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
    figures: list[tuple[Part, compare.Figure]],
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


def _conclusion(whole: QuestionInfo, figures: list[tuple[Part, compare.Figure]], n_parts: int) -> str:
    """For a comparison of two parts that both quote a figure, the computed direction and difference."""
    if n_parts != 2 or len(figures) != 2:  # two parts (years or bodies), each quoting a figure
        return ""
    (pa, a), (pb, b) = figures
    ya, yb = pa.info.years[:1], pb.info.years[:1]
    same_body = pa.info.bodies[:1] == pb.info.bodies[:1]
    over_time = bool(ya and yb and ya != yb and same_body)
    if over_time and yb < ya:
        (pa, a), (pb, b) = (pb, b), (pa, a)

    def label(part: Part) -> str:
        bits = [] if same_body or not part.info.bodies else [body_name(part.info.bodies[0], whole.lang)]
        if part.info.years and not (len(set(ya + yb)) == 1 and not over_time):
            bits.append(f"{part.info.years[0]}年" if whole.lang == "zh" else str(part.info.years[0]))
        return ("" if whole.lang == "zh" else " ").join(bits) or part.info.text

    return compare.conclude((label(pa), a), (label(pb), b), over_time, whole.lang)


def _base_quoted(part: Part, whole: QuestionInfo, quoted: str) -> bool:
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


def _missing_text(part: Part, lang: str) -> str:
    """What was not found, as a phrase to follow "报告中没有找到" / "The reports do not say"."""
    if part.retrieval.scope.missing:
        zh = "、".join(m[0] for m in part.retrieval.scope.missing)
        en = ", ".join(m[1] for m in part.retrieval.scope.missing)
        return zh if lang == "zh" else f"anything about {en}"
    subject = part.info.text.rstrip("？?。 ")
    return f"“{subject}”的答案" if lang == "zh" else f"the answer to “{subject}”"


def refusal_text(info: QuestionInfo, missing: list[str]) -> str:
    detail = "；".join(dict.fromkeys(missing))
    if info.lang == "zh":
        return f"报告中没有找到{detail}。" if detail else f"{REFUSAL_ZH}。"
    return f"{REFUSAL_EN} {detail}." if detail else f"{REFUSAL_EN}."
