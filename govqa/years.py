"""Years written in report text: which a text names, and which only as a comparison base.

Shared ground: ingest records the years a report states figures for, rag decides which years a clause
is about, with the same rules. Pure functions.
"""

from __future__ import annotations

import re

_YEAR_IN_TEXT = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


def years_in(text: str) -> set[int]:
    return {int(y) for y in _YEAR_IN_TEXT.findall(text)}


# 比2016年增长, 较2018年末, 与2016年相比, than 2016, compared with 2016: the year a figure is measured
# against, not the year it is about
_BASE_YEAR = re.compile(
    r"(?:比|较|相比|相较于?|比起)\s*((?:19|20)\d{2})(?!\d)"
    r"|(?:与|同|和)\s*((?:19|20)\d{2})\s*年?(?:末|底|同期)?\s*(?:相比|相较|比较)"
    r"|(?<![A-Za-z])(?:than|compared\s+(?:with|to)|relative\s+to)\s+(?:the\s+end\s+of\s+)?((?:19|20)\d{2})(?!\d)",
    re.IGNORECASE,
)


def stated_years(text: str) -> set[int]:
    """The years a text is about: those it names, except a comparison base (the 2016 of 比2016年增长32%)."""
    return years_in(_BASE_YEAR.sub(lambda m: " " * len(m.group()), text))


def base_years(text: str) -> set[int]:
    """The years a text names only as a comparison base (比2016年, compared with 2016)."""
    bases = {int(y) for m in _BASE_YEAR.finditer(text) for y in m.groups() if y}
    return bases - stated_years(text)


# a figure's year written as a year of the text: "2018年的1520亿元", "2019年街道税收收入" (not 2018年以来)
_FIGURE_YEAR = re.compile(r"(?<![\d\-—–~－])((?:19|20)\d{2})\s*年(?!以来|以前|之前|起|底前|前)")


def figure_years(text: str) -> set[int]:
    """The years a report states something for: "2018年…" anywhere in it, except comparison bases
    (比2016年), starting points (2018年以来) and the end of a span (2024-2026年)."""
    blanked = _BASE_YEAR.sub(lambda m: " " * len(m.group()), text)
    return {int(y) for y in _FIGURE_YEAR.findall(blanked)}


# a count of years written out: 三 (过去三年), 两, 十, or 1–2 digits (not a year like 2022)
COUNT = r"[一二两三四五六七八九十]|(?<!\d)\d{1,2}(?!\d)"
_COUNTS = {c: i for i, c in enumerate("一二三四五六七八九十", start=1)} | {"两": 2}


def count_of(token: str) -> int:
    """三 → 3, 两 → 2, 12 → 12; 0 for anything else."""
    return int(token) if token.isdigit() else _COUNTS.get(token, 0)


# a date as reports write it: 2023年2月10日 (groups: year, month, day)
DATE = r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
