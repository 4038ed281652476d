"""Overview and list answers from a report's own heading tree.

A work report's headings are its summary: 一、2024年工作回顾 › （一）… （二）…; 二、2025年工作安排 › ….
``asks_overview`` recognises a question asking for several things (主要工作有哪些, 总结一下, what were
the main…); ``outline`` picks the part of one report that answers it — the review or the plan part, or
both for a whole-report summary, narrowed to the sections about the question's topic — and returns the
points: each second-level section's heading with the lead sentence of its text (inside a topic
section, the lead sentence of each paragraph), as verbatim spans to cite. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from govqa.types import Chunk
from rag.citations import sentence_spans
from rag.scope import PLAN_HEADING

MAX_POINTS = 8
_WHAT = r"(?:工作|成绩|成效|成就|任务|举措|措施|亮点|进展|内容|方面|做法|部署|安排|目标任务)"
_OVERVIEW = re.compile(
    rf"(?:主要|重点|哪些|哪几|几个)(?:方面)?的?{_WHAT}|{_WHAT}(?:有|包括|是)?(?:哪些|哪几)|总结|概括|概述|梳理|归纳"
    r"|\bsummar(?:y|ise|ize)\b|\boverview\b|\boutline\b"
    r"|\b(?:main|key|major|principal)\s+(?:achievements?|tasks?|work|points?|priorities|areas|measures|plans?)\b",
    re.IGNORECASE,
)
_WHOLE = re.compile(
    r"(?:总结|概括|概述|梳理|归纳)(?:一下)?.{0,20}报告|报告.{0,6}(?:总结|概括|概述)|\bsummar\w*\b.{0,40}\breport\b",
    re.I,
)
_PLAN_ASK = re.compile(
    r"安排|计划|打算|部署|目标|任务|将要|今后|明年|下一步|\bplans?\b|\bwill\b|\bnext\b|\btargets?\b", re.I
)
_REVIEW_ASK = re.compile(
    r"成绩|成效|成就|回顾|做了|完成|取得|亮点|进展|\bachiev\w*|\bdid\b|\bdone\b|\bresults?\b", re.I
)
_REVIEW_HEADING = re.compile(r"回顾|过去|总结")
_PLAN_TOP = re.compile(rf"{PLAN_HEADING.pattern}|重点工作|工作重点|奋斗目标")
# a paragraph that closes a review (各位代表…, the problems and shortcomings), not one of its points
_NOT_POINT = re.compile(r"^(?:各位代表|同志们)|不足|短板|差距|清醒(?:地)?(?:看到|认识)")
MAX_WHOLE = 14
_OVERVIEW_WORDS = re.compile(
    rf"{_OVERVIEW.pattern}|报告|政府|工作|有哪些|哪些|什么|是|的|了|一下|请|主要|重点|回顾|安排|计划|年度",
    re.I,
)


@dataclass(frozen=True)
class Point:
    """One point of the outline: the section heading it stands for and a verbatim span of a chunk."""

    heading: str
    chunk: Chunk
    start: int  # local offsets in chunk.text
    end: int


def asks_overview(text: str) -> bool:
    return _OVERVIEW.search(text) is not None


def asks_whole_report(text: str) -> bool:
    return _WHOLE.search(text) is not None


def part_of(chunk: Chunk) -> str:
    """ "review", "plan" or "" for a chunk, from its top-level heading."""
    top = chunk.heading_path[0] if chunk.heading_path else ""
    if _REVIEW_HEADING.search(top):
        return "review"
    if _PLAN_TOP.search(top):
        return "plan"
    return ""


def wanted_part(text: str, year: int | None, reviewed: Sequence[int], planned: Sequence[int]) -> str:
    """Which part of a report the question asks about: "review", "plan" or "" (both)."""
    if asks_whole_report(text):
        return ""
    if year is not None and year in planned and year not in reviewed:
        return "plan"
    if year is not None and year in reviewed and year not in planned:
        return "review" if not _PLAN_ASK.search(text) else "plan"
    if _PLAN_ASK.search(text) and not _REVIEW_ASK.search(text):
        return "plan"
    return "review"


_GENERIC = re.compile(
    rf"{_WHAT}|成绩|报告|政府|主要|重点|哪些|方面|一下|总结|概括|全年|今年|去年|明年|过去|今后|回顾|年来"
    r"|[一二三四五六七八九十两]+年"
)


def topic_terms(terms: Sequence[str], text: str) -> list[str]:
    """The question's terms that name a topic (民生, 生态), not the overview words themselves."""
    out = []
    for t in terms:
        rest = _GENERIC.sub("", t)
        if len(rest) >= 2 and not _OVERVIEW_WORDS.fullmatch(rest):
            out.append(rest)
    return out


def _lead(chunk: Chunk) -> tuple[int, int] | None:
    for s, e in sentence_spans(chunk.text):
        while s < e and chunk.text[s] in " \n\t":
            s += 1
        end = e
        while end > s and chunk.text[end - 1] in "。；;，, \n":
            end -= 1
        if end - s >= 4:
            return s, min(end, s + 120)
    return None


def outline(
    chunks: Sequence[Chunk], part: str, topics: Sequence[str] = (), year: int | None = None
) -> tuple[list[Point], int]:
    """The points answering an overview of one report (chunks in document order), and how many more
    there are beyond the cap. A year named by one of the part's top-level headings picks that one."""
    body = [c for c in chunks if part_of(c) and (not part or part_of(c) == part)]
    if year is not None and any(str(year) in c.heading_path[0] for c in body):
        body = [c for c in body if str(year) in c.heading_path[0]]
    sections: dict[tuple[str, ...], list[Chunk]] = {}
    for c in body:
        if len(c.heading_path) >= 2:
            sections.setdefault(c.heading_path[:2], []).append(c)
    if not sections:
        return [], 0
    points: list[Point] = []
    if topics:
        scored = []
        for key, cs in sections.items():
            head = sum(3 for t in topics if t in key[1])
            text = sum(c.text.count(t) for c in cs for t in topics)
            scored.append((head, text, key))
        best = [k for h, t, k in scored if h] or [
            k for h, t, k in sorted(scored, key=lambda x: -x[1])[:2] if t
        ]
        for key in best:
            for c in sections[key]:
                span = _lead(c)
                if span and not _NOT_POINT.search(c.text[span[0] : span[1]]):
                    points.append(Point(key[1], c, *span))
    if not points:
        for key, cs in sections.items():
            span = _lead(cs[0])
            if span:
                points.append(Point(key[1], cs[0], *span))
    cap = MAX_POINTS if part else MAX_WHOLE
    return points[:cap], max(0, len(points) - cap)
