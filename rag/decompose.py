"""Split a comparison or a "分别" question into standalone sub-questions, one per (body, year).

"2019年和2024年东丽镇税收收入分别是多少？" becomes "2019年东丽镇税收收入是多少？" and
"2024年东丽镇税收收入是多少？"; "2019年东丽镇税收收入和固定资产投资分别是多少" becomes one sub-question
per metric. Each sub-question names one body and one compared year, so scoping can pick the right report
for each part and the answer can say which figure belongs to which year or town.

What is split: the bodies; the years of the first list of years (2019年和2024年, from 2019 to 2024), or
every year when none are listed together; with 分别 / respectively, a list of two different terms.
Bodies and years written in pairs (东丽镇2024年与河西镇2023年) are split as pairs, not crossed. A year
that is context, not compared (the 2025 of "2021年和2024年的报告对2025年的目标分别是多少"), stays in every
sub-question, which then has that year too.

How a sub-question is written, in the question's own language:

* a question that compares or asks about change (比较, 变化, 相比, 哪个更高, compare, change ...) is written
  from a template: "{year}年{body}{topic}是多少？" / "What was {Body}'s {topic} in {year}?" (a topic
  that is no figure: "{year}年{body}{topic}的情况如何？" / "What about {topic} in {Body} in {year}?");
* otherwise the question itself is rewritten: the list of years or bodies is replaced by the one year or
  body (2019年和2024年 → 2019年; Dongli and Hexi → Dongli Town), parallel phrases are cut to one
  (北辰区政府工作报告和河西镇政府工作报告 → 河西镇政府工作报告), pairs give "{year}年{body}" plus the rest
  of the question, and 分别 / respectively is dropped.

English sub-questions name bodies in English (Dongli Town) and keep the English wording of the terms.
A question that is not a comparison, or has only one part, is returned as ``[info]``.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import re

from rag import aliases
from rag import glossary as g
from rag.question import Group, Mention, QuestionInfo, Scan, is_metric, scan_question, search_text_for

logger = logging.getLogger(__name__)

MAX_SUBQUESTIONS = 12

_EACH_ZH = re.compile(r"分别|各自")
_EACH_EN = re.compile(r"\s*,?\s*\b(?:respectively|each|both)\b", re.IGNORECASE)
_COMPARE = re.compile(g.COMPARE_CUES, re.IGNORECASE)
_WH_EN = re.compile(
    r"^\s*(?:how|what|which|who|when|where|did|does|do|is|are|was|were|has|have|can|will)\b", re.I
)
_CONNECTOR_END = re.compile(r"(?:和|与|及|以及|、|跟|,?\s*and|,?\s*or)\s*$", re.IGNORECASE)
_PAIR_GAP = re.compile(
    r"^[\s(（]*(?:的|['’]s|in)?[\s)）]*$", re.IGNORECASE
)  # 的; Dongli's 2024, X Town in 2023
_SENTENCE_END = re.compile(r"[？?。；;]")
_ASCII_TOKEN = re.compile(r"^[A-Za-z0-9.]+$")  # GDP, PM2.5: written as is in a Chinese sub-question

Combo = tuple[Mention | None, str | None, int | None]  # (topic, body, year)


def body_name(body: str, lang: str) -> str:
    """How a sub-question names a body: the Chinese name, or the English one for English questions."""
    return aliases.english_name(body) if lang == "en" else body


def _split_topics(scan: Scan) -> tuple[list[Mention], tuple[int, int] | None]:
    """The different terms of a 分别 / respectively question's term list (one sub-question each), and
    the span of that list."""
    if not (_EACH_ZH.search(scan.norm) or re.search(r"\brespectively\b", scan.norm, re.I)):
        return [], None
    for group in scan.groups("term"):
        by_term: dict[str, Mention] = {}
        for m in group.mentions:
            by_term.setdefault(m.terms[0], m)
        if len(by_term) > 1:
            return list(by_term.values()), (group.start, group.end)
    return [], None


def _split_years(scan: Scan) -> list[int]:
    for group in scan.groups("year"):
        years = list(dict.fromkeys(m.year for m in group.mentions))
        if len(years) > 1 and group.joiner in ("list", "span"):
            return years
    return list(dict.fromkeys(m.year for m in scan.years))


def _pairs(scan: Scan, years: list[int]) -> list[tuple[str, int]]:
    """(body, year) pairs when each body is written right next to its own year."""
    bodies = list(scan.bodies)
    ys = [m for m in scan.years if m.year in years]
    if len(bodies) < 2 or len(bodies) != len(ys) or len({m.body for m in bodies}) != len(bodies):
        return []
    pairs = []
    for b, y in zip(bodies, ys, strict=True):
        gap = scan.norm[b.end : y.start] if b.end <= y.start else scan.norm[y.end : b.start]
        if not _PAIR_GAP.match(gap):
            return []
        pairs.append((b.body, y.year))
    return pairs


def _phrases(scan: Scan, mentions: list[Mention], lang: str) -> list[str]:
    """Topic mentions as written, adjacent ones joined (PM2.5浓度), in a Chinese question's terms."""
    out: list[str] = []
    last_end = -1
    for m in mentions:
        word = m.terms[0] if lang == "zh" and m.en and not _ASCII_TOKEN.match(m.surface) else m.surface
        gap = scan.norm[last_end : m.start] if last_end >= 0 else None
        if out and gap is not None and gap.strip() in ("", "的") and not (m.en or lang == "en"):
            out[-1] += scan.text[last_end : m.start].replace("的", "") + word
        else:
            out.append(word)
        last_end = m.end
    return list(dict.fromkeys(out))


def _template(info: QuestionInfo, scan: Scan, combo: Combo) -> str:
    topic, body, year = combo
    lang = info.lang
    terms = [m for m in scan.terms if m.known]
    mentions = (
        [topic]
        if topic is not None
        else ([m for m in terms if is_metric(m)] or [m for m in terms if m.terms[0] not in g.PREDICATE_TERMS])
    )
    numeric = info.wants_number or any(is_metric(m) for m in mentions)
    what = ("和" if lang == "zh" else " and ").join(_phrases(scan, mentions, lang))
    if lang == "zh":
        head = f"{year}年" if year else ""
        return f"{head}{body or ''}{what}是多少？" if numeric else f"{head}{body or ''}{what}的情况如何？"
    name = body_name(body, "en") if body else ""
    when = f" in {year}" if year else ""
    if numeric:
        return f"What was {name}'s {what}{when}?" if name else f"What was the {what}{when}?"
    return f"What about {what}{' in ' + name if name else ''}{when}?"


def _parallel(text: str, first: Mention, second: Mention) -> tuple[int, int, str] | None:
    """For "A报告和B报告": the span of both phrases and the phrase that follows each name (报告)."""
    mid = text[first.end : second.start]
    conn = _CONNECTOR_END.search(mid)
    if conn is None:
        return None
    tail = mid[: conn.start()]
    if tail and text[second.end : second.end + len(tail)] == tail:
        return first.start, second.end + len(tail), tail
    return None


def _dimension_edits(text: str, groups: list[Group], new: str) -> list[tuple[int, int, str]] | None:
    """Edits putting ``new`` in place of one list of bodies or years; None when they are scattered."""
    if len(groups) == 1:
        return [(groups[0].start, groups[0].end, new)]
    if len(groups) == 2 and len(groups[0].mentions) == len(groups[1].mentions) == 1:
        para = _parallel(text, groups[0].mentions[0], groups[1].mentions[0])
        if para is not None:
            return [(groups[0].start, para[1], new + para[2])]
    return None


def _substitute(
    scan: Scan, combo: Combo, split_years: list[int], split: tuple[int, int] | None
) -> str | None:
    """The question with its lists of bodies, years (and 分别 terms) replaced by the one item."""
    topic, body, year = combo
    lang = scan.lang
    edits: list[tuple[int, int, str]] = []
    if body is not None:
        found = _dimension_edits(scan.text, scan.groups("body"), body_name(body, lang))
        if found is None:
            return None
        edits += found
    if year is not None:
        groups = [gr for gr in scan.groups("year") if any(m.year in split_years for m in gr.mentions)]
        new = (f"in {year}" if groups and groups[0].prefix else str(year)) if lang == "en" else f"{year}年"
        found = _dimension_edits(scan.text, groups, new)
        if found is None:
            return None
        edits += found
    if topic is not None and split is not None:
        edits.append((split[0], split[1], topic.surface))
    text = scan.text
    for start, end, new_text in sorted(edits, reverse=True):
        text = text[:start] + new_text + text[end:]
    if lang == "zh":
        text = _EACH_ZH.sub("", text)
    else:
        text = _EACH_EN.sub("", text)
        if topic is not None:  # "What were A and B" asked about one of them
            text = re.sub(r"^(\s*\w+\s+)were\b", r"\1was", text)
    return re.sub(r"\s{2,}", " ", text).strip()


def _after_pairs(scan: Scan, combo: Combo) -> str:
    """For pairs: "{year}年{body}" and what the question says after its last body or year."""
    _topic, body, year = combo
    end = max(m.end for m in (*scan.bodies, *scan.years))
    tail = _EACH_ZH.sub("", scan.text[end:]).lstrip("的）)、，, ")
    stop = _SENTENCE_END.search(tail)
    tail = tail[: stop.end()] if stop else tail
    return f"{year}年{body}{tail}" if tail.strip("？?。 ") else ""


def _rewrite(
    info: QuestionInfo,
    scan: Scan,
    combo: Combo,
    split_years: list[int],
    split: tuple[int, int] | None,
    paired: bool,
) -> str:
    without_each = _EACH_EN.sub("", _EACH_ZH.sub("", scan.norm))
    if _COMPARE.search(without_each) or (info.lang == "en" and not _WH_EN.match(scan.norm)):
        return _template(info, scan, combo)
    if paired:
        return (_after_pairs(scan, combo) if info.lang == "zh" else "") or _template(info, scan, combo)
    return _substitute(scan, combo, split_years, split) or _template(info, scan, combo)


def _split_terms(info: QuestionInfo, topics: list[Mention], topic: Mention | None) -> tuple[str, ...]:
    """The sub-question's terms: all of them, minus the other items of a 分别 list."""
    if topic is None:
        return info.terms
    others = {t for m in topics if m is not topic for t in m.terms} - set(topic.terms)
    return tuple(t for t in info.terms if t not in others)


def decompose(info: QuestionInfo) -> list[QuestionInfo]:
    """Sub-questions of a comparison / 分别 question, one per (topic, body, year); else ``[info]``."""
    if not info.is_comparison:
        return [info]
    scan = scan_question(info.text, known_bodies=info.bodies)
    topics, split = _split_topics(scan)
    split_years = _split_years(scan)
    pairs = _pairs(scan, split_years)
    body_axis: list[str | None] = [*info.bodies] or [None]
    year_axis: list[int | None] = [*split_years] or [None]
    topic_axis: list[Mention | None] = [*topics] or [None]
    cells: list[tuple[str | None, int | None]] = [*pairs] or list(itertools.product(body_axis, year_axis))
    combos: list[Combo] = [(t, b, y) for t in topic_axis for b, y in cells]
    if len(combos) <= 1:
        return [info]
    if len(combos) > MAX_SUBQUESTIONS:
        logger.warning(
            "question %r has %d parts; answering the first %d", info.text, len(combos), MAX_SUBQUESTIONS
        )
        combos = combos[:MAX_SUBQUESTIONS]
    context_years = tuple(y for y in info.years if y not in split_years)
    subs = []
    for combo in combos:
        topic, body, year = combo
        text = _rewrite(info, scan, combo, split_years, split, bool(pairs))
        terms = _split_terms(info, topics, topic)
        bodies = (body,) if body else ()
        years = tuple(dict.fromkeys(([year] if year else []) + [y for y in context_years if str(y) in text]))
        report_years = info.report_years
        if year and year in report_years:  # 2021年和2024年两份报告: one report each, not a fact year
            report_years, years = (year,), tuple(y for y in years if y != year)
        subs.append(
            dataclasses.replace(
                info,
                text=text,
                bodies=bodies,
                years=years,
                report_years=report_years,
                terms=terms,
                is_comparison=False,
                search_text=search_text_for(text, info.lang, terms, bodies),
            )
        )
    logger.debug("decomposed %r into %s", info.text, [s.text for s in subs])
    return subs
