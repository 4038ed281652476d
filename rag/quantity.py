"""The kind of quantity a question asks for, and whether a clause states one of that kind.

Pure and rule-based, used by ``rag.extractive`` to score clauses: a count with its measure word (几所学校
→ 所, 多少家企业 → 家) earns a clause the number feature only with a number of that measure (2所, 1.2万人),
not with any figure (10栋, 1006万元). 个 names no kind.
"""

from __future__ import annotations

import re

from rag.question import QuestionInfo

NUMBER_UNIT = re.compile(
    r"\d+(?:\.\d+)?\s*(?:%|％|亿|万|千|百|个|家|所|人|户|名|项|条|公里|千米|米|亩|平方|元|座|处|套|辆|台|倍|次|场|批|件|栋|间|张|周年)"
)
_ASKED_MEASURE = re.compile(
    r"(?:几|多少)\s*(所|家|座|条|项|名|人|户|亩|栋|场|次|件|套|辆|台|处|宗|株|吨|批|期)"
)
_COUNT_ASK = re.compile(r"几|多少")


def asked_measures(info: QuestionInfo) -> frozenset[str]:
    """The measure words of the counts a question asks for, when every count it asks names one (几所学校
    → 所); empty when it asks for any figure (多少, 几个, 总投资多少, 第几)."""
    measures = [m.group(1) for m in _ASKED_MEASURE.finditer(info.text)]
    if not measures or len(measures) < len(_COUNT_ASK.findall(info.text)):
        return frozenset()
    return frozenset(measures)


def has_asked_number(info: QuestionInfo, text: str) -> bool:
    """The text states a figure the question can use: any number with a unit or, when the question names
    its measure (几所), a number of that measure."""
    measures = asked_measures(info)
    if not measures:
        return NUMBER_UNIT.search(text) is not None
    alternatives = "|".join(sorted(measures))
    return re.search(rf"\d+(?:\.\d+)?\s*(?:万|亿|千|百)?\s*(?:{alternatives})", text) is not None
