"""Questions that name a report: "2021年政府工作报告中…", "根据东丽区2021年的报告", "according to the 2025
Government Work Report".

The year written with the report names the document, not the fact: the 2021 report's five-year review
answers "2021年政府工作报告中，2019年…" and also "2021年政府工作报告中…多少" about any year it covers.
A report's year is the year in its title (2024年X政府工作报告, delivered in January 2024, reviewing 2023),
else the year it was delivered. Pure functions.
"""

from __future__ import annotations

import re

from govqa.types import DocumentMeta

# 2021年政府工作报告 / 2025年国务院政府工作报告 / 2021年的报告 / 2024年度工作报告 (a body name may sit between)
_ZH = re.compile(
    r"((?:19|20)\d{2})\s*年度?\s*(?:的)?\s*(?:[两几]份)?[\u4e00-\u9fff]{0,8}?(?:政府工作报告|工作报告|的报告)"
    r"|((?:19|20)\d{2})\s*年度?\s*报告(?:中|里|提出|指出|说|称)"  # （2021年报告提出）
)
# the 2025 Government Work Report / China's 2025 government work report / the 2021 report
_EN = re.compile(
    r"(?<![\d.])((?:19|20)\d{2})\s+(?:government\s+work\s+report|work\s+report|report)\b", re.IGNORECASE
)
_TITLE_YEAR = re.compile(r"^((?:19|20)\d{2})\s*年")


def report_year_spans(norm: str) -> list[tuple[int, int, int]]:
    """(year, start, end) of each year written as the name of a report; the span is the year's own."""
    out = []
    for pattern in (_ZH, _EN):
        for m in pattern.finditer(norm):
            g = 1 if m.group(1) else 2
            out.append((int(m.group(g)), m.start(g), m.end(g)))
    return sorted(set(out), key=lambda x: x[1])


def report_name_spans(norm: str) -> list[tuple[int, int]]:
    """(start, end) of each whole report name (2025年国务院政府工作报告, the 2025 Government Work Report):
    words inside one name the document, they are not what the answer must contain."""
    return sorted({m.span() for pattern in (_ZH, _EN) for m in pattern.finditer(norm)})


def report_year(meta: DocumentMeta) -> int:
    """The year a report is named by: its title's year, else its delivery year; 0 when unknown."""
    if m := _TITLE_YEAR.match(meta.title):
        return int(m.group(1))
    return int(meta.date[:4]) if meta.date[:4].isdigit() else 0
