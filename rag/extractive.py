"""The default answerer: no LLM. Pick the clauses of the retrieved passages that answer the question and
compose a short answer in the reports' own words, each clause followed by its [n] citation.

Pure core: ``units`` (clause spans of a passage), ``score_unit`` (features of a clause for a question),
``select`` (the best clause per sub-question, or none when the evidence is too weak). The composed text
quotes the reports verbatim, so every claim is a quote.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from govqa.types import Passage
from govqa.years import stated_years
from rag.citations import sentence_spans
from rag.quantity import has_asked_number, missing_kinds, rival_measure
from rag.question import QuestionInfo
from rag.rerank import term_coverage, term_found
from rag.scope import PLAN_HEADING, chunk_years, frame_years

_CLAUSE_END = re.compile(r"[；;]")
_MAX_UNIT = 160  # characters: a longer clause is narrowed to the best window of its comma-parts
_QUESTION_NOISE = re.compile(
    r"是多少|多少|是什么|什么|哪些|哪个|哪里|怎么样|如何|有几|几个|几所|几家|几|吗|呢|请问|分别|计划|预计|的|了|[？?！!。，,、\s]"
)


@dataclass(frozen=True)
class Unit:
    passage_index: int  # into the passages list
    start: int  # local offsets in passage.chunk.text
    end: int
    text: str
    # the sentence's introduction when this clause is a later item of its list: "主要预期目标是：" for
    # "粮食产量1.4万亿斤左右" in "主要预期目标是：国内生产总值增长5%左右；…；粮食产量1.4万亿斤左右"
    lead: str = ""


@dataclass(frozen=True)
class Scored:
    unit: Unit
    score: float
    features: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Weights:
    terms: float = 1.0
    bigrams: float = 0.8
    number: float = 0.35
    year: float = 0.35
    year_conflict: float = 0.5
    prior: float = 0.3
    list: float = 0.15  # a clause introducing a list, for a question asking for several things
    threshold: float = 0.55  # below this the evidence does not answer the question (calibrated on eval)
    min_topic: float = 0.5  # the clause must be about the question's topic: max(terms, bigrams) share


FRONT_MATTER = ("印发通知", "政府工作报告")  # cover notice and speech header: answered by rag.front_matter


def units(passage: Passage, passage_index: int) -> list[Unit]:
    """Clauses of a passage: sentences, split again at ；, long ones narrowed later."""
    text = passage.chunk.text
    out = []
    lead = ""  # the items after a list's first one share what introduced the list
    for s, e in sentence_spans(text):
        start = s
        for m in _CLAUSE_END.finditer(text, s, e):
            if m.start() > start:
                out.append(_unit(text, passage_index, start, m.start(), lead))
            lead = lead or _list_lead(text[s : m.start()])
            start = m.end()
        if e > start:
            out.append(_unit(text, passage_index, start, e, lead))
        if text[s:e].rstrip()[-1:] not in ("；", ";"):  # the list ends with its sentence
            lead = ""
    return [u for u in out if u.text]


_LEAD = re.compile(r"^[^；;。]{2,40}?[：:]")


def _list_lead(first_item: str) -> str:
    """The "…目标是：" that opens a list's first item, which the later items are items of."""
    m = _LEAD.match(first_item.strip())
    return m.group() if m else ""


_ASKS_LIST = re.compile(
    r"有哪些|哪些|哪几|主要.{0,8}(?:是什么|有什么)|\bwhat (?:are|were)\b|\bmain\b|\blist\b", re.I
)


@functools.lru_cache(maxsize=1024)
def _asks_list(question: str) -> bool:
    """The question asks for several things (read once per question, not per clause)."""
    return _ASKS_LIST.search(question) is not None


def _colon_after(text: str, end: int) -> int:
    """Where the "：" that closes the clause ending at ``end`` stands ("…目标是："), -1 when none does."""
    at = end
    while at < len(text) and text[at] in " \t":
        at += 1
    return at if at < len(text) and text[at] in "：:" else -1


def _unit(text: str, idx: int, start: int, end: int, lead: str = "") -> Unit:
    while start < end and text[start] in " \n\t，,。；;：:":
        start += 1
    while end > start and text[end - 1] in " \n\t，,。；;：:":
        end -= 1
    return Unit(idx, start, end, text[start:end], lead)


def _bigrams(text: str) -> set[str]:
    chars = [c for c in text if not c.isspace()]
    return {a + b for a, b in itertools.pairwise(chars)}


def covered_bigrams(info: QuestionInfo, text: str) -> set[str]:
    """The text's bigrams, plus those of each question term the text holds under the reports' own word
    (学校 in "建成第一小学"): the bigram feature counts what the term feature counts as found."""
    found = _bigrams(text)
    for t in info.terms:
        if t not in text and term_found(t, text):
            found |= _bigrams(t)
    return found


def question_core(info: QuestionInfo) -> str:
    """The question minus years, bodies and question words: what a clause must talk about."""
    core = info.text
    for b in info.bodies:
        core = core.replace(b, "").replace(b[:-1], "")
    core = re.sub(r"(?:19|20)\d{2}\s*年?", "", core)
    return _QUESTION_NOISE.sub("", core)


_ASKS_ACTUAL = re.compile(r"实际|实现了|完成了|\bactual(?:ly)?\b|\bachieved\b", re.IGNORECASE)
_PLAN_WORDS = re.compile(r"目标|力争|计划|将要|争取")
_QUESTION_NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?![\d.])")


def question_numbers(info: QuestionInfo) -> list[str]:
    """Numbers named in the question other than years ("12号线", "5G"): the evidence must name them."""
    years = {str(y) for y in info.years}
    return [
        n
        for n in _QUESTION_NUMBER.findall(info.text)
        if n not in years and not (len(n) == 4 and n[:2] in ("19", "20"))
    ]


def asked_years(info: QuestionInfo) -> set[int]:
    """The years a clause must be about: those asked, or every year of a span ("2017—2021年累计")."""
    years = set(info.years)
    if len(info.years) == 2 and not info.is_comparison and 0 < info.years[1] - info.years[0] <= 10:
        years = set(range(info.years[0], info.years[1] + 1))
    return years


def score_unit(info: QuestionInfo, unit: Unit, passage: Passage, prior: float, w: Weights) -> Scored:
    text = unit.text
    core = _bigrams(question_core(info)) if info.lang == "zh" else set()
    f = {
        "terms": _with_lead(unit, lambda t: term_coverage(info.terms, t, info.alternatives)),
        "bigrams": _with_lead(unit, lambda t: len(core & covered_bigrams(info, t)) / len(core))
        if core
        else 0.0,
        "number": 1.0 if info.wants_number and has_asked_number(info, text) else 0.0,
        "year": 0.0,
        "year_conflict": 0.0,
        "prior": prior,
    }
    asked = asked_years(info)
    if asked:
        mentioned = stated_years(text) or stated_years(unit.lead)  # not the 2016 of 比2016年增长32%
        if mentioned & asked:
            f["year"] = 1.0
        elif mentioned:
            f["year_conflict"] = 1.0  # the clause is about another year
        elif frame := frame_years(passage.chunk, unit.end):
            # the paragraph set the time: 2021年，… (that year) or 五年来，… (a figure for the period)
            if frame <= asked:
                f["year"] = 1.0
            else:
                f["year_conflict"] = 1.0  # another year, or a period total for a one-year question
        else:
            scope = chunk_years(passage.chunk)
            if scope and scope <= asked:
                f["year"] = 0.6  # a section about exactly the asked year(s)
            elif scope & asked:
                f["year_conflict"] = 0.4  # a section about several years, the asked one among them
            else:
                f["year_conflict"] = 1.0  # a section about other years
    f["topic"] = max(f["terms"], f["bigrams"])
    if _ASKS_ACTUAL.search(info.text) and (
        PLAN_HEADING.search(passage.chunk.heading) or _PLAN_WORDS.search(text)
    ):
        f["plan_conflict"] = 1.0  # asked what was achieved; this clause states a target
    missing_numbers = [n for n in question_numbers(info) if n not in text]
    if missing_numbers:
        f["number_missing"] = 1.0  # the question names a number (12号线) the clause does not
    if missing_kinds(info, text):
        f["kind_missing"] = 1.0  # asked for a price or a per-capita figure; the clause states none
    if rival_measure(info, text):
        f["measure_conflict"] = 1.0  # asked for exports; the clause's figure is production
    if _asks_list(info.text) and _colon_after(passage.chunk.text, unit.end) >= 0:
        f["list"] = 1.0  # "主要预期目标是：" for "what are the main targets": the list comes with it
    score = (
        w.list * f.get("list", 0.0)
        + w.terms * f["terms"]
        + w.bigrams * f["bigrams"]
        + w.number * f["number"]
        + w.year * f["year"]
        - w.year_conflict * f["year_conflict"]
        + w.prior * f["prior"]
    )
    return Scored(unit, score, f)


LEAD_SHARE = 0.5  # what only the list's introduction says counts half: the clause's own words decide


def _with_lead(unit: Unit, coverage: Callable[[str], float]) -> float:
    """A coverage of the clause, raised by half of what its list's introduction adds ("…目标是：")."""
    own = coverage(unit.text)
    if not unit.lead:
        return own
    return own + LEAD_SHARE * max(0.0, coverage(unit.lead + unit.text) - own)


def _narrow(info: QuestionInfo, unit: Unit, passage: Passage, prior: float, w: Weights) -> Scored:
    """A very long clause: keep the best window of up to three comma-parts."""
    best = score_unit(info, unit, passage, prior, w)
    if len(unit.text) <= _MAX_UNIT:
        return best
    text = passage.chunk.text
    cuts = [unit.start] + [unit.start + m.end() for m in re.finditer(r"[，,]", unit.text)] + [unit.end]
    for i in range(len(cuts) - 1):
        for j in range(i + 1, min(i + 4, len(cuts))):
            sub = _unit(text, unit.passage_index, cuts[i], cuts[j], unit.lead)
            if not sub.text:
                continue
            cand = score_unit(info, sub, passage, prior, w)
            if cand.score > best.score + 1e-9 or (
                len(best.unit.text) > _MAX_UNIT and cand.score >= best.score - 0.05
            ):
                best = cand
    return best


def select(
    info: QuestionInfo, passages: Sequence[Passage], w: Weights | None = None, *, required: Sequence[str] = ()
) -> Scored | None:
    """The best clause for one (sub-)question, or None when nothing clears the gates and threshold.

    Gates: the clause is about the asked year (``answers_the_year``), about the question's topic
    (``min_topic``), names every ``required`` word and every number of the question, states the kind
    of quantity asked (a price, a per-capita figure: ``rag.quantity``) and no rival of its measure
    (production for exports), and is not front matter (``vetoed``).
    """
    w = w or Weights()
    if not passages:
        return None
    if required:  # the topic is what is asked about the place, not the place itself
        text = info.text
        for r in required:
            text = text.replace(r, "")
        terms = tuple(t for t in info.terms if not any(t in r or r in t for r in required))
        info = dataclasses.replace(info, text=text, terms=terms)
    top = max(p.score for p in passages) or 1.0
    best: Scored | None = None
    for i, p in enumerate(passages):
        if p.chunk.heading_path[:1] and p.chunk.heading_path[0] in FRONT_MATTER:
            continue
        prior = max(0.0, p.score / top) if top > 0 else 0.0
        for u in units(p, i):
            s = _narrow(info, u, p, prior, w)
            if not answers_the_year(s) or s.features["topic"] < w.min_topic:
                continue
            if vetoed(s):
                continue
            if any(r not in s.unit.text for r in required):
                continue
            if best is None or s.score > best.score:
                best = s
    if best is None or best.score < w.threshold:
        return None
    return best


# Features that rule a clause out whatever its score: it answers another question than the one asked.
VETOES = ("plan_conflict", "number_missing", "kind_missing", "measure_conflict")


def vetoed(s: Scored) -> bool:
    """The clause states a target for an actual, lacks the asked number, kind or measure of quantity."""
    return any(s.features.get(k) for k in VETOES)


def answers_the_year(s: Scored) -> bool:
    """A question about a year is answered only by a clause about that year, never another one."""
    return s.features.get("year_conflict", 0.0) < 1.0


def best_candidate(
    info: QuestionInfo, passages: Sequence[Passage], w: Weights | None = None
) -> Scored | None:
    """Like ``select`` but without the threshold (for calibration and debugging)."""
    return select(
        info, passages, Weights(**{**(w or Weights()).__dict__, "threshold": float("-inf"), "min_topic": 0.0})
    )


_LIST_MAX = 1200  # characters: the longest list a lead is quoted with


def with_its_list(text: str, start: int, end: int) -> int:
    """The end of a clause extended over the list it introduces: a clause ending in "：" quoted alone
    says nothing ("主要预期目标是："). What follows it is taken up to the list's end: the table right under
    it (its | rows), or its ；-separated items to the sentence end. ``end`` unchanged otherwise (and when
    the list is in the next chunk: ``opening_table``)."""
    after = _colon_after(text, end)
    if after < 0:
        return end
    table = opening_table(text[after + 1 :])
    if table is not None:
        stop = after + 1 + table[1]
    else:
        rest = text[after + 1 :]
        m = re.search(r"[。\n]", rest)
        stop = after + 1 + (m.start() if m else len(rest))
        if ";" not in text[after:stop] and "；" not in text[after:stop]:
            return end  # one clause after the colon is an ordinary sentence, already quoted as needed
    return stop if stop - start <= _LIST_MAX else end


def ends_with_lead(text: str, end: int) -> bool:
    """Whether the clause ending at ``end`` introduces what comes after the chunk ("…目标是：" last)."""
    after = _colon_after(text, end)
    return after >= 0 and not text[after + 1 :].strip()


def opening_table(text: str) -> tuple[int, int] | None:
    """(start, end) of the Markdown table a text opens with (after blank lines), within ``_LIST_MAX``."""
    start = len(text) - len(text.lstrip("\n"))
    lines = text[start:].split("\n")
    if not lines or not lines[0].startswith("|"):
        return None
    rows = list(itertools.takewhile(lambda ln: ln.startswith("|"), lines))
    end = start + len("\n".join(rows))
    return (start, end) if end - start <= _LIST_MAX else None
