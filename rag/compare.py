"""Comparisons that conclude: the direction and size of a change, computed from the quoted figures.

A comparison question is answered part by part (one quote per year or body, each cited). When two parts
quote a figure of the same measure in the same unit, ``conclude`` writes one more sentence: which is
higher (or, across years, whether it rose or fell), by how much and by what percent, with the
arithmetic written out so a reader can check it. It never computes across different units, and says
so when one figure is a target and the other an actual figure. Pure.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from rag.quantity import measures_in
from rag.scope import PLAN_HEADING

_MAGNITUDE = {"亿": Decimal(100_000_000), "万": Decimal(10_000), "千": Decimal(1000), "": Decimal(1)}
_UNITS = r"微克/立方米|个百分点|平方米|平方公里|公里|千米|平米|人次|美元|元|人|家|户|个|所|项|亩|吨|米|辆|台|套|座|处|条|件|栋|天|%|％"
FIGURE = re.compile(rf"(?<![\d.])(\d+(?:\.\d+)?)\s*(亿|万|千)?\s*({_UNITS})")
_NEAR = 24  # characters between the measure's name and its figure
_PLANNED = re.compile(r"目标|力争|计划|预期|争取|确保|将达到|要达到")
_EXPECTED = re.compile(r"预计")


@dataclass(frozen=True)
class Figure:
    """A number as quoted (18亿元), its value in base units, the unit, and what kind of figure it is."""

    text: str
    number: Decimal  # as written (18)
    magnitude: str  # 亿, 万, 千 or ""
    unit: str  # 元, 人, %, 微克/立方米 ...
    status: str  # "actual" | "expected" | "planned"

    @property
    def value(self) -> Decimal:
        return self.number * _MAGNITUDE[self.magnitude]

    @property
    def is_rate(self) -> bool:
        return self.unit in ("%", "％", "个百分点")


def status_of(quote: str, heading: str) -> str:
    """Whether a quoted figure is a target (a plan section or 目标/力争), an estimate (预计) or actual."""
    if _PLANNED.search(quote) or PLAN_HEADING.search(heading):
        return "planned"
    if _EXPECTED.search(quote):
        return "expected"
    return "actual"


_YEAR_AT = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年")


def year_segment(quote: str, year: int) -> tuple[int, int]:
    """Where a quote that runs through several years speaks of ``year``: from its "2021年" to the next
    other year ("2019年…3.52亿元，2020年…3.99亿元，2021年达到4.36亿元"); the whole quote otherwise."""
    marks = [(m.start(), int(m.group(1))) for m in _YEAR_AT.finditer(quote)]
    if len({y for _, y in marks}) < 2:
        return 0, len(quote)
    for i, (at, y) in enumerate(marks):
        if y == year:
            end = next((a for a, other in marks[i + 1 :] if other != year), len(quote))
            return at, end
    return 0, len(quote)


def figure_of(
    quote: str, terms: tuple[str, ...], heading: str = "", *, rate: bool = False, year: int | None = None
) -> Figure | None:
    """The figure the quote states for the measure (the first number within a few characters after one
    of ``terms``, not inside a longer measure word: no 出口 in 进出口; without a term, the quote's only
    figure). None when there is none or it is ambiguous. With ``rate`` (the question asks for growth or
    a rate) only percentages count. With ``year``, a quote that runs through several years is read
    only where it speaks of that year (``year_segment``)."""
    if year is not None:
        start, end = year_segment(quote, year)
        if (start, end) != (0, len(quote)):
            part = figure_of(quote[start:end], terms, heading, rate=rate)
            if part is None:
                return None
            before = status_of(quote[:start], "")  # what led up to this year's part counts too
            status = next((k for k in ("planned", "expected") if k in (before, part.status)), part.status)
            return dataclasses.replace(part, status=status)
    found = [m for m in FIGURE.finditer(quote) if not rate or m.group(3) in ("%", "％", "个百分点")]
    if not found:
        return None
    pick = None
    words = [(m.start(), m.end()) for m in measures_in(quote)]  # 进出口: no 出口 inside it
    for term in sorted(terms, key=len, reverse=True):
        for t in re.finditer(re.escape(term), quote):
            if any(s <= t.start() and t.end() <= e and e - s > len(term) for s, e in words):
                continue
            pick = next((m for m in found if 0 <= m.start() - t.end() <= _NEAR), None)
            if pick:
                break
        if pick:
            break
    if pick is None:
        if len(found) != 1:
            return None
        pick = found[0]
    return Figure(
        pick.group(0),
        Decimal(pick.group(1)),
        pick.group(2) or "",
        pick.group(3).replace("％", "%"),
        status_of(quote[: pick.end()], heading),  # what leads up to the figure, not later clauses
    )


def _fmt(d: Decimal) -> str:
    q = d.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
    return format(q, "f")


def _in(a: Figure, b: Figure) -> Decimal:
    """``a``'s number expressed in ``b``'s magnitude (so 1.8亿 and 5000万 are compared as 亿)."""
    return a.value / _MAGNITUDE[b.magnitude]


_STATUS_ZH = {"actual": "实际", "expected": "预计", "planned": "目标"}
_STATUS_EN = {"actual": "actual", "expected": "expected", "planned": "target"}


def conclude(first: tuple[str, Figure], second: tuple[str, Figure], over_time: bool, lang: str) -> str:
    """One sentence comparing two labelled figures (label: 2019年, 东丽镇…), ``first`` the earlier or the
    first named. Empty when they cannot be compared (different units)."""
    (la, a), (lb, b) = first, second
    if a.unit != b.unit:
        if lang == "zh":
            return f"两个数字单位不同（{a.text}、{b.text}），不能直接相减比较。"
        return f"The two figures are in different units ({a.text}, {b.text}), so they are not compared."
    unit = b.magnitude + b.unit
    x, y = _in(a, b), b.number  # both in b's magnitude
    diff = y - x
    caveat = ""
    if {a.status, b.status} == {"planned", "actual"} or {a.status, b.status} == {"planned", "expected"}:
        caveat = (
            f"（注意：{la}是{_STATUS_ZH[a.status]}数，{lb}是{_STATUS_ZH[b.status]}数，性质不同）"
            if lang == "zh"
            else f" (note: {la} is a {_STATUS_EN[a.status]} figure, {lb} a {_STATUS_EN[b.status]} one)"
        )
    arithmetic = f"{_fmt(y)} − {_fmt(x)} = {_fmt(diff)}"
    pct = ""
    if not a.is_rate and x != 0:
        share = _fmt(abs(diff / x * 100))
        shown = f"{_fmt(diff)} ÷ {_fmt(x)}"
        if lang == "zh":
            word = ("增长" if diff > 0 else "下降") if over_time else ("高" if diff > 0 else "低")
            pct = f"，{word}{share}%（{shown}）"
        else:
            word = ("up" if diff > 0 else "down") if over_time else ("higher" if diff > 0 else "lower")
            pct = f", {word} {share}% ({shown})" if over_time else f", {share}% {word} ({shown})"
    if lang == "zh":
        if diff == 0:
            return f"比较：{lb}与{la}相同，均为{_fmt(y)}{unit}{caveat}。"
        if over_time:
            verb = "增加" if diff > 0 else "减少"
            if a.is_rate:
                verb = "提高" if diff > 0 else "降低"
            return (
                f"比较：从{la}的{_fmt(x)}{unit}到{lb}的{_fmt(y)}{unit}，{verb}{_fmt(abs(diff))}{unit}"
                f"（{arithmetic}）{pct}{caveat}。"
            )
        more = "高" if diff > 0 else "低"
        return f"比较：{lb}比{la}{more}{_fmt(abs(diff))}{unit}（{arithmetic}）{pct}{caveat}。"
    if diff == 0:
        return f"Comparison: {lb} and {la} are the same, {_fmt(y)}{unit}{caveat}."
    if over_time:
        verb = "rose" if diff > 0 else "fell"
        return (
            f"Comparison: from {_fmt(x)}{unit} in {la} to {_fmt(y)}{unit} in {lb}, it {verb} by "
            f"{_fmt(abs(diff))}{unit} ({arithmetic}){pct}{caveat}."
        )
    word = "higher" if diff > 0 else "lower"
    return f"Comparison: {lb} is {_fmt(abs(diff))}{unit} {word} than {la} ({arithmetic}){pct}{caveat}."
