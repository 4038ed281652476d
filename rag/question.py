"""Question understanding without a model: language, bodies, years, content terms and intent flags.

``analyze_question`` turns a standalone question into a ``QuestionInfo`` that retrieval, scoping and
answering share. Everything is rule-based and pure (no segmenter, no model), so it costs well under a
millisecond for a typical question:

* text is folded one character for one (NFKC per character: ２０１９年 → 2019年, ？ → ?), so every span
  found in the folded text is also a span of the question as asked;
* bodies are the ``known_bodies`` (from the ingested documents) under the aliases ``rag.aliases``
  derives (X镇 also as X, pinyin with the English level name); a district written right before a town
  (X区Y镇, "Y Town, X District") only qualifies the town and is not a body of its own;
* years are four-digit years (not followed by a unit: 2000万元 is no year), ``19年`` when it reads as a
  calendar year (not 近10年 / 10年来), 二〇一九年, and both ends of a range (2019-2024, 2019到24年,
  from 2019 to 2024) but not the years in between. Relative years (今年, 去年) and 十四五 are not years:
  十四五 is kept as a term;
* terms are the glossary's Chinese words found by forward maximum matching over the lexicon and the stop
  words, plus leftover runs of two to four characters (a longer run gives its character bigrams);
  English phrases map to Chinese through the glossary.

``scan_question`` exposes the spans behind all this for ``rag.decompose`` and ``rag.condense``.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from govqa.errors import BadQuestionError
from rag import aliases
from rag import glossary as g
from rag.report_ref import report_name_spans, report_year_spans

logger = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000
_LONG_RUN = 4  # unknown runs longer than this contribute bigrams instead of themselves


@dataclass(frozen=True)
class QuestionInfo:
    text: str  # the question as asked (standalone)
    lang: str  # "zh" or "en" (more Latin letters than CJK characters → "en")
    bodies: tuple[str, ...]  # canonical body names, in order of mention
    years: tuple[int, ...]  # years mentioned; a range gives its two ends
    terms: tuple[str, ...]  # Chinese content terms for lexical matching
    wants_number: bool
    is_comparison: bool
    search_text: str  # what retrievers see: the question, plus Chinese terms for English questions
    report_years: tuple[int, ...] = ()  # years written as the name of a report (2021年政府工作报告中)
    # Chinese words the glossary gives as alternatives for an English phrase (partner regions →
    # 东西部协作|对口支援|...): a text that holds one of them covers the phrase
    alternatives: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Mention:
    """One thing found in the question: a year, a body or a term, with its span in ``Scan.text``."""

    kind: str  # "year" | "body" | "term"
    start: int
    end: int
    surface: str
    body: str = ""  # canonical body name
    year: int = 0
    terms: tuple[str, ...] = ()  # Chinese terms a term mention stands for
    en: bool = False  # matched as English (a glossary phrase or an English body name)
    known: bool = True  # False for a term that is a leftover run, not a glossary or lexicon word


@dataclass(frozen=True)
class Group:
    """Mentions of one kind written together: 2019年和2024年, from 2019 to 2024, 东丽镇、河西镇."""

    mentions: tuple[Mention, ...]
    start: int  # includes a leading 从 / from / between / in
    end: int
    joiner: str  # "" (one mention), "list" (和/and/、), "range" (2017-2021, 至), "span" (从…到, from…to)
    prefix: str = ""  # the leading preposition included in the span, if any


@dataclass(frozen=True)
class Scan:
    text: str  # the question, stripped
    norm: str  # folded, same length as text
    lang: str
    years: tuple[Mention, ...]
    bodies: tuple[Mention, ...]
    terms: tuple[Mention, ...]
    cue_terms: tuple[str, ...]

    def groups(self, kind: str) -> list[Group]:
        mentions = {"year": self.years, "body": self.bodies, "term": self.terms}[kind]
        return _group(self.norm, mentions, kind)

    def term_list(self) -> tuple[str, ...]:
        out = [t for m in self.terms for t in m.terms] + list(self.cue_terms)
        return tuple(dict.fromkeys(out))


# ---------------------------------------------------------------------------------------- folding


def fold(text: str) -> str:
    """NFKC one character at a time (full-width digits, letters and punctuation to ASCII); same length."""
    if text.isascii():
        return text
    out = []
    for ch in text:
        n = unicodedata.normalize("NFKC", ch) if ord(ch) > 127 else ch
        out.append(n if len(n) == 1 else ch)
    return "".join(out)


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or ch == "〇"


def detect_lang(text: str) -> str:
    latin = sum(1 for c in text if c.isascii() and c.isalpha())
    cjk = sum(1 for c in text if _is_cjk(c))
    return "en" if latin > cjk else "zh"


# ------------------------------------------------------------------------------------------ years

_UNIT_AFTER = set("万亿元个家人吨亩米平%千百台辆件所项条座名户套处期号届多余次")
_RANGE_SHORT = re.compile(r"((?:19|20)\d{2})(\s*年)?\s*([-—–~至到])\s*(\d{2})(?![\d\-/.月日号])(\s*年度?)?")
_YEAR4 = re.compile(r"(?<![\d.])((?:19|20)\d{2})(?!\d)(\s*年度?)?")
_YEAR2 = re.compile(r"(?<![\d.近去这第头前后])(\d{2})\s*年(?![来间里内多前后半代级])(?:度)?")
_YEAR_CN = re.compile(r"([零〇○一二三四五六七八九]{4})\s*年")
_CN_DIGITS = {c: str(i) for i, c in enumerate("零一二三四五六七八九")} | {"〇": "0", "○": "0"}


def _two_digit(n: int) -> int:
    return 1900 + n if n >= 50 else 2000 + n


def _find_years(norm: str) -> list[Mention]:
    found: list[Mention] = []
    taken = [False] * len(norm)

    def add(start: int, end: int, year: int) -> None:
        if any(taken[start:end]):
            return
        found.append(Mention("year", start, end, norm[start:end], year=year))
        for i in range(start, end):
            taken[i] = True

    for m in _RANGE_SHORT.finditer(norm):
        first_end = m.end(2) if m.group(2) else m.end(1)
        add(m.start(1), first_end, int(m.group(1)))
        add(m.start(4), m.end(5) if m.group(5) else m.end(4), int(m.group(1)[:2] + m.group(4)))
    for m in _YEAR4.finditer(norm):
        if not m.group(2):
            rest = norm[m.end(1) :].lstrip()
            if rest[:1] in _UNIT_AFTER or norm[max(0, m.start(1) - 1) : m.start(1)] == "第":
                continue
        add(m.start(1), m.end(2) if m.group(2) else m.end(1), int(m.group(1)))
    for m in _YEAR2.finditer(norm):
        add(m.start(), m.end(), _two_digit(int(m.group(1))))
    for m in _YEAR_CN.finditer(norm):
        add(m.start(), m.end(), int("".join(_CN_DIGITS[c] for c in m.group(1))))
    return sorted(found, key=lambda x: x.start)


# ----------------------------------------------------------------------------------------- bodies


def _is_district(body: str) -> bool:
    return body.endswith("区")


_QUALIFIES_NEXT = re.compile(r"^(?:\s*|的|'s\s*)$", re.IGNORECASE)  # 北辰区东丽镇, Beichen's Dongli
_QUALIFIES_PREV = re.compile(
    r"^(?:\s*[,，]\s*|\s+(?:in|of)\s+)$", re.IGNORECASE
)  # Dongli Town, Beichen District


def _qualifies(norm: str, district: Mention, town: Mention) -> bool:
    if town.start >= district.end:
        return bool(_QUALIFIES_NEXT.match(norm[district.end : town.start]))
    return bool(_QUALIFIES_PREV.match(norm[town.end : district.start]))


def _find_bodies(norm: str, known: tuple[str, ...]) -> tuple[list[Mention], list[Mention]]:
    """(bodies, qualifiers): a district written next to a town only qualifies it (北辰区东丽镇)."""
    found = [
        Mention("body", h.start, h.end, norm[h.start : h.end], body=h.body, en=h.en)
        for h in aliases.find_bodies(norm, known)
    ]
    bodies, qualifiers = [], []
    for i, m in enumerate(found):
        neighbours = [found[j] for j in (i - 1, i + 1) if 0 <= j < len(found)]
        if _is_district(m.body) and any(
            not _is_district(n.body) and _qualifies(norm, m, n) for n in neighbours
        ):
            qualifiers.append(m)
        else:
            bodies.append(m)
    return bodies, qualifiers


# ------------------------------------------------------------------------------------------ terms


@lru_cache(maxsize=1)
def _glossary_patterns() -> tuple[re.Pattern[str], tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]]:
    """One regex that finds where any glossary phrase starts, and each phrase's own regex."""
    bounded = [rf"(?<![A-Za-z])(?:{p})(?![A-Za-z])" for p, _ in g.EN_GLOSSARY]
    each = tuple((re.compile(b, re.IGNORECASE), t) for b, (_, t) in zip(bounded, g.EN_GLOSSARY, strict=True))
    return re.compile("|".join(bounded), re.IGNORECASE), each


@lru_cache(maxsize=1)
def _cue_patterns() -> tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]:
    return tuple((re.compile(p, re.IGNORECASE), t) for p, t in g.CUES)


_WORD_START = re.compile(r"(?<![A-Za-z])[A-Za-z]")


def _find_en_terms(norm: str, taken: list[bool]) -> list[Mention]:
    """Glossary phrases, leftmost-longest, not overlapping years or bodies."""
    any_phrase, each = _glossary_patterns()
    chosen: list[Mention] = []
    pos = 0
    for word in _WORD_START.finditer(norm):
        start = word.start()
        if start < pos or taken[start] or not any_phrase.match(norm, start):
            continue
        best: tuple[int, tuple[str, ...]] | None = None
        for pattern, terms in each:
            m = pattern.match(norm, start)
            if m and (best is None or m.end() > best[0]) and not any(taken[start : m.end()]):
                best = (m.end(), terms)
        if best is not None:
            chosen.append(Mention("term", start, best[0], norm[start : best[0]], terms=best[1], en=True))
            for i in range(start, best[0]):
                taken[i] = True
            pos = best[0]
    return chosen


def _unknown(norm: str, start: int, end: int) -> Mention | None:
    run = norm[start:end]
    if len(run) < 2:
        return None
    terms = (
        (run,) if len(run) <= _LONG_RUN else tuple(dict.fromkeys(run[i : i + 2] for i in range(len(run) - 1)))
    )
    return Mention("term", start, end, run, terms=terms, known=False)


def _find_zh_terms(norm: str, taken: list[bool]) -> list[Mention]:
    """Forward maximum matching over lexicon ∪ stop words in every run of free CJK characters."""
    out: list[Mention] = []
    i, n = 0, len(norm)
    while i < n:
        if taken[i] or not _is_cjk(norm[i]):
            i += 1
            continue
        run_end = i
        while run_end < n and not taken[run_end] and _is_cjk(norm[run_end]):
            run_end += 1
        unknown_start = -1
        while i < run_end:
            step, word = 0, ""
            for length in range(min(g.ZH_MAX_WORD, run_end - i), 0, -1):
                w = norm[i : i + length]
                if w in g.ZH_LEXICON or w in g.ZH_STOP:
                    step, word = length, w
                    break
            if not step:
                if unknown_start < 0:
                    unknown_start = i
                i += 1
                continue
            if unknown_start >= 0:
                u = _unknown(norm, unknown_start, i)
                if u:
                    out.append(u)
                unknown_start = -1
            if word in g.ZH_LEXICON:
                out.append(Mention("term", i, i + step, word, terms=(word, *g.ZH_VARIANTS.get(word, ()))))
            i += step
        if unknown_start >= 0:
            u = _unknown(norm, unknown_start, run_end)
            if u:
                out.append(u)
    return out


# ----------------------------------------------------------------------------------------- groups

_LIST_GAP = re.compile(
    r"^\s*(?:(?:和|与|及|以及|、|,|，|跟|同|或|或者|还是|and|or|vs\.?|versus|&)\s*(?:in\s+|在)?)?\s*$",
    re.IGNORECASE,
)
_RANGE_GAP = re.compile(r"^\s*(?:-|—|–|~|至|—+)\s*$")
_SPAN_GAP = re.compile(r"^\s*(?:到|to|through|until|till|and)\s*$", re.IGNORECASE)
_ZH_PREFIX = re.compile(r"(?:从|由|自)\s*$")
_EN_PREFIX = re.compile(r"(?<![A-Za-z])(from|between|in|for|during)\s+$", re.IGNORECASE)


def _group(norm: str, mentions: Iterable[Mention], kind: str) -> list[Group]:
    groups: list[list[Mention]] = []
    gaps: list[list[str]] = []
    for m in mentions:
        if groups:
            gap = norm[groups[-1][-1].end : m.start]
            listed = bool(_LIST_GAP.match(gap)) and bool(gap.strip())
            if listed or (kind == "year" and (_RANGE_GAP.match(gap) or _SPAN_GAP.match(gap))):
                groups[-1].append(m)
                gaps[-1].append(gap.strip().lower())
                continue
        groups.append([m])
        gaps.append([])
    out = []
    for ms, gs in zip(groups, gaps, strict=True):
        start, prefix = ms[0].start, ""
        if kind == "year":
            before = norm[:start]
            p = _ZH_PREFIX.search(before) or _EN_PREFIX.search(before)
            if p:
                start, prefix = p.start(), p.group().strip().lower()
        joiner = ""
        if len(ms) > 1:
            if any(_RANGE_GAP.match(x) for x in gs):
                joiner = "range"
            elif prefix in ("从", "由", "自", "from", "between") or any(
                x in ("到", "to", "through", "until", "till") for x in gs
            ):
                joiner = "span"
            else:
                joiner = "list"
        out.append(Group(tuple(ms), start, ms[-1].end, joiner, prefix))
    return out


# --------------------------------------------------------------------------------------- analysis


def scan_question(text: str, known_bodies: Iterable[str] = ()) -> Scan:
    """Every year, body and term of ``text`` with its span. Raises ``BadQuestionError`` on bad input."""
    if not isinstance(text, str) or not text.strip():
        raise BadQuestionError("the question is empty: ask something about the reports")
    text = text.strip()
    if len(text) > MAX_QUESTION_CHARS:
        raise BadQuestionError(
            f"the question is {len(text)} characters long; keep it to {MAX_QUESTION_CHARS} characters or fewer"
        )
    norm = fold(text)
    years = _find_years(norm)
    bodies, qualifiers = _find_bodies(norm, tuple(dict.fromkeys(known_bodies)))
    years = [y for y in years if not any(b.start < y.end and y.start < b.end for b in bodies + qualifiers)]
    taken = [False] * len(norm)
    for m in (*years, *bodies, *qualifiers):
        for i in range(m.start, m.end):
            taken[i] = True
    terms = _find_en_terms(norm, taken) if any(c.isascii() and c.isalpha() for c in norm) else []
    terms = sorted(terms + _find_zh_terms(norm, taken), key=lambda m: m.start)
    cues = tuple(t for p, ts in _cue_patterns() if p.search(norm) for t in ts)
    return Scan(text, norm, detect_lang(norm), tuple(years), tuple(bodies), tuple(terms), cues)


_NUMBER_CUE = re.compile(g.NUMBER_CUES, re.IGNORECASE)
_OPEN_CUE = re.compile(g.OPEN_CUES, re.IGNORECASE)
_COMPARE_CUE = re.compile(g.COMPARE_CUES, re.IGNORECASE)
_CUMULATIVE = re.compile(g.CUMULATIVE_CUES, re.IGNORECASE)


def is_metric(m: Mention) -> bool:
    return any(t in g.METRIC_TERMS for t in m.terms)


def search_text_for(text: str, lang: str, terms: Iterable[str], bodies: Iterable[str]) -> str:
    """Chinese questions go to the retrievers as asked; English ones carry the Chinese terms and bodies."""
    if lang == "zh":
        return text
    extra = list(dict.fromkeys([*terms, *bodies]))
    return f"{text} {' '.join(extra)}" if extra else text


def info_from_scan(scan: Scan) -> QuestionInfo:
    norm = scan.norm
    bodies = tuple(dict.fromkeys(m.body for m in scan.bodies))
    refs = report_year_spans(norm)
    naming = [m for m in scan.years if any(m.start <= s < m.end for _, s, _e in refs)]
    # 2021年和2024年两份政府工作报告: every year of a list whose last year names a report names one too
    for group in scan.groups("year"):
        if group.mentions[-1] in naming and group.joiner == "list":
            naming += [m for m in group.mentions if m not in naming]
    report_years = tuple(dict.fromkeys(m.year for m in naming))
    # a year that names the report is no year of the fact, unless the question also names it otherwise
    years = tuple(dict.fromkeys(m.year for m in scan.years if m not in naming))
    names = report_name_spans(norm)
    terms = scan.term_list()
    if names:  # the words of a report's name (政府工作报告, Government Work Report) are no content terms
        inside = {
            t for m in scan.terms if any(a <= m.start and m.end <= b for a, b in names) for t in m.terms
        }
        outside = {
            t for m in scan.terms if not any(a <= m.start and m.end <= b for a, b in names) for t in m.terms
        }
        terms = tuple(t for t in terms if t not in inside or t in outside)
    alternatives = tuple(
        group
        for m in scan.terms
        if m.en
        for group in g.ALTERNATIVES
        if set(group) <= set(m.terms) and set(group) <= set(terms)
    )
    has_metric = any(is_metric(m) for m in scan.terms)
    wants_number = bool(_NUMBER_CUE.search(norm)) or (has_metric and not _OPEN_CUE.search(norm))
    cumulative = bool(_CUMULATIVE.search(norm))
    multi_year = any(
        gr.joiner in ("list", "span") and len({m.year for m in gr.mentions}) > 1 for gr in scan.groups("year")
    )
    is_comparison = bool(_COMPARE_CUE.search(norm)) or (not cumulative and (multi_year or len(bodies) > 1))
    return QuestionInfo(
        text=scan.text,
        lang=scan.lang,
        bodies=bodies,
        years=years,
        terms=terms,
        wants_number=wants_number,
        is_comparison=is_comparison,
        search_text=search_text_for(scan.text, scan.lang, terms, bodies),
        report_years=report_years,
        alternatives=alternatives,
    )


def analyze_question(text: str, known_bodies: Iterable[str] = ()) -> QuestionInfo:
    """What a question asks: language, bodies, years, Chinese terms, and whether it wants a number or a
    comparison. Raises ``BadQuestionError`` for an empty question or one over 1,000 characters."""
    info = info_from_scan(scan_question(text, known_bodies))
    logger.debug("analyzed %r: bodies=%s years=%s terms=%s", info.text, info.bodies, info.years, info.terms)
    return info
