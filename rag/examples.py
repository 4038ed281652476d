"""Example questions for the empty chat, taken from the ingested reports themselves.

Nothing here knows a place: for each report (the newest first, one per body) it finds the first figure the
report states for a year it reviews — "全镇实现税收收入18亿元" — and asks for it the way people do
("2019年X镇税收收入是多少？" for a town X's report reviewing 2019). A report with no such figure
gives a question about who delivered it. Pure functions of the document records and their text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from govqa.types import DocumentMeta

# a measure named just before a figure with a money/people/percent unit: "…实现税收收入18亿元"
_FIGURE = re.compile(
    r"(?P<term>[\u4e00-\u9fff]{2,12}?)(?:达到|达|为|实现|完成|突破)?\s*"
    r"(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>亿元|万元|万人|万吨|万平方米|公里|个百分点)"
)
# words that start a clause but are not part of the measure's name
_LEAD = re.compile(
    r"^(?:全年|全镇|全区|全县|全市|全省|全国|我国|累计|共|实现|完成|预计|其中|年均|同比|比上年|新增)+"
)
# a measure's name ends like one (收入, 总值, 投资, 总额, 产值, 人数, 面积 …)
_MEASURE_END = re.compile(r"(?:收入|总值|总额|投资|产值|人数|面积|总量|销售额|额|量|率|规模|里程)$")
MAX_EXAMPLES = 4


def figure_question(meta: DocumentMeta, text: str) -> str | None:
    """A question about the first figure the report states, for the last year it reviews."""
    if not meta.body or not meta.years_reviewed:
        return None
    year = max(meta.years_reviewed)
    for m in _FIGURE.finditer(text):
        term = _LEAD.sub("", m.group("term"))
        for _ in range(3):  # drop leading verbs the lazy match left ("实现税收收入" → "税收收入")
            term = _LEAD.sub("", term)
        if 2 <= len(term) <= 8 and _MEASURE_END.search(term):
            return f"{year}年{meta.body}{term}是多少？"
    return None


def speaker_question(meta: DocumentMeta) -> str | None:
    if not meta.title:
        return None
    return f"{meta.title}是谁作的？"


def example_questions(
    records: Sequence[object], text_of: Callable[[str], str], k: int = MAX_EXAMPLES
) -> list[str]:
    """Up to ``k`` questions: one per body first (newest report first), then more from other reports."""

    def newest(r: object) -> tuple[int, str]:
        meta: DocumentMeta = getattr(r, "meta")  # noqa: B009 (records of any backend)
        return (max(meta.years_reviewed or meta.years_planned or (0,)), getattr(r, "doc_id", ""))

    ordered = sorted(records, key=newest, reverse=True)
    seen_bodies: set[str] = set()
    first: list[object] = []
    rest: list[object] = []
    for record in ordered:
        meta = getattr(record, "meta")  # noqa: B009
        (rest if meta.body in seen_bodies else first).append(record)
        seen_bodies.add(meta.body)
    questions: list[str] = []
    for record in [*first, *rest]:
        if len(questions) >= k:
            break
        meta = getattr(record, "meta")  # noqa: B009
        try:
            text = text_of(getattr(record, "doc_id"))  # noqa: B009
        except Exception:  # a document deleted meanwhile: no example from it
            continue
        q = figure_question(meta, text) or speaker_question(meta)
        if q and q not in questions:
            questions.append(q)
    return questions
