"""Which documents a question may be answered from: its body, its years, explicit filters.

A 2019 figure may sit in the 2019 report or in the 2021 report's five-year review, so a document is in
scope for a year when its metadata reviews or plans that year. A question about a year or a body that no
document covers has an empty scope: the answer is a refusal, never a figure from another year.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from govqa.types import Chunk, DocumentMeta, Filters
from govqa.years import COUNT, count_of, years_in
from rag import aliases
from rag import glossary as g
from rag.question import QuestionInfo
from rag.report_ref import report_year

# a place the question may name that is not a body with reports: 杨柳青镇, 大寺镇, 李七庄街 ...
_PLACE_SUFFIX = re.compile(r"(?:街道|新区|自治区|省|镇|区|县|街)")
_STEM_STOP = set(
    "的是由谁代表年月日多少几哪位个些地城乡小旧楼造改建全本该各市省和与及在为了对比向从到把被将这那其所之镇区街县"
)
_NOT_PLACES = (
    "开发区",
    "示范区",
    "功能区",
    "保税区",
    "园区",
    "社区",
    "小区",
    "景区",
    "校区",
    "片区",
    "市区",
    "辖区",
    "城区",
    "街镇",
    "大街",
)


def place_mentions(question: str) -> list[str]:
    """Place names in a question: 2-4 characters (no function words) before 镇/区/街道/县/街."""
    out = []
    for m in _PLACE_SUFFIX.finditer(question):
        i = m.start()
        stem = ""
        while (
            i > 0
            and len(stem) < 4
            and "\u4e00" <= question[i - 1] <= "\u9fff"
            and question[i - 1] not in _STEM_STOP
        ):
            i -= 1
            stem = question[i] + stem
        name = stem + m.group(0)
        if len(stem) >= 2 and not any(name.endswith(n) for n in _NOT_PLACES):
            out.append(name)
    return out


_EN_SUFFIX = rf"(?:\s+(?i:{g.PLACE_SUFFIXES_EN}))"
_BARE_SUFFIX = re.compile(rf"(?:{g.PLACE_SUFFIXES_EN})s?|communit(?:y|ies)", re.IGNORECASE)


@lru_cache(maxsize=64)
def _not_other(known: tuple[str, ...]) -> re.Pattern[str]:
    """The known bodies' English names and the glossary's phrases (University Town): masked before
    looking for a name before a place suffix; a bare suffix word of the glossary (villages) is kept."""
    phrases = (*aliases.english_patterns(known), *(phrase for phrase, _ in g.EN_GLOSSARY))
    return re.compile("|".join(rf"(?<![A-Za-z])(?:{p})(?![A-Za-z])" for p in phrases), re.IGNORECASE)


def _mask(m: re.Match[str]) -> str:
    return m.group() if _BARE_SUFFIX.fullmatch(m.group()) else " " * len(m.group())


_EN_NAMED_PLACE = re.compile(rf"(?<![A-Za-z'])([A-Z][a-z]{{2,}})(?:'s)?({_EN_SUFFIX})(?![A-Za-z])")


def en_place_mentions(question: str, known_bodies: Iterable[str] = ()) -> list[str]:
    """Places named in English: a capitalised name before Town / Subdistrict / Street / District / County
    / Village (Foo Town), as written. The known bodies' own English names are not other places."""
    text = _not_other(tuple(sorted(set(known_bodies)))).sub(_mask, question)
    return [
        f"{m.group(1)} {m.group(2).strip().title()}"
        for m in _EN_NAMED_PLACE.finditer(text)
        if m.group(1) not in g.NOT_PLACE_NAMES_EN
    ]


def en_place_name(name: str) -> str:
    """How an English answer names a place: a Chinese name in pinyin (东丽区 → Dongli District)."""
    return aliases.english_name(name) if any("\u4e00" <= c <= "\u9fff" for c in name) else name


def other_places(question: str, known_bodies: Iterable[str]) -> list[str]:
    """Places named in the question, in Chinese or in English, that are not bodies the corpus has
    reports of."""
    known = set(known_bodies)
    mentions = place_mentions(question)
    if any(c.isascii() and c.isalpha() for c in question):
        mentions += en_place_mentions(question, known)
    return [
        name
        for name in dict.fromkeys(mentions)
        if name not in known and not any(k in name or name in k for k in known)
    ]


@dataclass(frozen=True)
class DocInfo:
    doc_id: str
    source: str
    meta: DocumentMeta


@dataclass
class Scope:
    """The documents a (sub-)question may be answered from, and why others were left out."""

    doc_ids: frozenset[str]
    bodies: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    # why the scope is empty, as (Chinese, English) noun phrases: ("涉及东丽镇2023年的内容", "Dongli Town in 2023")
    missing: list[tuple[str, str]] = field(default_factory=list)
    required: tuple[str, ...] = ()  # words the evidence must contain (a place named in the question)

    @property
    def empty(self) -> bool:
        return not self.doc_ids

    def allow(self) -> Callable[[Chunk], bool]:
        ids = self.doc_ids
        return lambda chunk: chunk.doc_id in ids


def resolve_scope(
    info: QuestionInfo,
    docs: Iterable[DocInfo],
    filters: Filters | None = None,
    *,
    places: Iterable[str] = (),
    corpus_has: Callable[[str], bool] = lambda _: True,
) -> Scope:
    """The documents matching the question's bodies and years and the explicit filters.

    ``places`` are other place names the question mentions (see ``other_places``): one the corpus never
    mentions empties the scope; one it mentions must appear in the evidence (``Scope.required``).
    """
    filters = filters or Filters()
    docs = list(docs)
    bodies = (filters.body,) if filters.body else info.bodies
    years = (filters.year,) if filters.year else info.years
    places = tuple(places)
    missing = [(f"关于{name}的内容", en_place_name(name)) for name in places if not corpus_has(name)]
    if missing:
        return Scope(frozenset(), bodies, years, missing)
    chosen = docs
    if filters.document:
        chosen = [d for d in chosen if filters.document in (d.doc_id, d.source)]
        if not chosen:
            return Scope(
                frozenset(), bodies, years, [(f"文档{filters.document}", f"document {filters.document}")]
            )
    if bodies:
        chosen = [d for d in chosen if d.meta.body in bodies]
        if not chosen:
            names = "、".join(bodies)
            return Scope(frozenset(), bodies, years, [(f"{names}的报告", f"reports of {_en_names(bodies)}")])
    if info.report_years and not filters.document:
        named = [d for d in chosen if report_year(d.meta) in info.report_years]
        if named:  # 2021年政府工作报告中…: that report, whatever years its facts are about
            chosen = named
        elif not filters.year:  # no report of that year: the year is the fact's, as if no report was named
            years = tuple(dict.fromkeys((*years, *info.report_years)))
    if years:
        # a year the report reviews or plans, or one it states figures for ("由2018年的1520亿元增加到…")
        by_year = [d for d in chosen if all(y in d.meta.years or y in d.meta.years_stated for y in years)]
        if not by_year:
            # a comparison across years is decomposed before this; here every year must be covered
            where = "、".join(bodies)
            ys = "、".join(f"{y}年" for y in years)
            en = f"{_en_names(bodies) or 'any body'} in {', '.join(str(y) for y in years)}"
            return Scope(frozenset(), bodies, years, [(f"涉及{where}{ys}的内容", en)])
        chosen = by_year
    return Scope(frozenset(d.doc_id for d in chosen), bodies, years, required=places)


def _en_names(bodies: Iterable[str]) -> str:
    """Body names for the English refusal, in pinyin with the level's English name (X镇 → X Town)."""
    return ", ".join(aliases.english_name(b) for b in bodies)


_REVIEW = re.compile(r"回顾|过去|总结")
PLAN_HEADING = re.compile(r"安排|目标|任务|今后|计划|展望|打算")


def chunk_years(chunk: Chunk) -> set[int]:
    """The years a chunk speaks about: those in its heading path; else, in a review part, the years the
    report reviews, in a plan part the years it plans; else every year of its report."""
    heading = " ".join(chunk.heading_path)
    heading_years = years_in(heading)
    if heading_years:
        return heading_years
    if _REVIEW.search(heading) and chunk.meta.years_reviewed:
        return set(chunk.meta.years_reviewed)
    if PLAN_HEADING.search(heading) and chunk.meta.years_planned:
        return set(chunk.meta.years_planned)
    return set(chunk.meta.years)


# A paragraph's time frame, set by a phrase before the clause: "2021年，我们…" (that year), "五年来，…",
# "过去五年…", "这是…的五年" (the whole period the report reviews). The last phrase before a clause wins.
_FRAME = re.compile(
    r"(?P<year>(?:19|20)\d{2})\s*年\s*(?:[，,]|以来|是|我们)"
    rf"|(?P<n1>{COUNT})\s*年(?:来|以来|间|中)(?!\d)"
    rf"|过去(?:的)?(?P<n2>{COUNT})\s*年"
    rf"|这是[^。；\n]{{0,40}}的(?P<n3>{COUNT})\s*年"
)


@lru_cache(maxsize=4096)
def _frames(text: str) -> tuple[tuple[int, int, str, int], ...]:
    """Every time phrase of a chunk's text once: (start, end, "year" | "since" | "span", value)."""
    out = []
    for m in _FRAME.finditer(text):
        if m.group("year"):
            kind = "since" if m.group().rstrip().endswith("以来") else "year"
            out.append((m.start(), m.end(), kind, int(m.group("year"))))
        else:
            out.append(
                (m.start(), m.end(), "span", count_of(m.group("n1") or m.group("n2") or m.group("n3")))
            )
    return tuple(out)


def frame_years(chunk: Chunk, point: int) -> set[int]:
    """The years the paragraph holding ``chunk.text[point]`` speaks about there, from the last time
    phrase before that point (a clause's end: the phrase may open the clause); empty when it sets none.

    "五年来，…新增就业近5000人" is a five-year figure and "2021年，…新增就业750人" that year's, though
    neither clause names a year.
    """
    text = chunk.text
    para = text.rfind("\n", 0, point) + 1
    # the phrases are found once per chunk text (every clause of a passage asks): the last in range
    found = next((f for f in reversed(_frames(text)) if para <= f[0] and f[1] <= point), None)
    if found is None:
        return set()
    _, _, kind, value = found
    if kind == "year":
        return {value}
    if kind == "since":  # 2019年以来: that year on to the last one reviewed
        end = max(chunk.meta.years_reviewed or (value,))
        return set(range(value, max(value, end) + 1))
    last = max(chunk.meta.years_reviewed or chunk.meta.years or (0,))
    if value <= 0 or not last:
        return set()
    return set(range(last - value + 1, last + 1))
