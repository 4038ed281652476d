"""The kind of quantity a question asks for, and whether a clause states one of that kind.

Pure and rule-based, used by ``rag.extractive`` to score and gate clauses:

* a count with its measure word (几所学校 → 所, 多少家企业 → 家): a clause earns the number feature only
  with a number of that measure (2所, 1.2万人), not with any figure (10栋, 1006万元). 个 names no kind;
* a quantity kind that only a clause naming it can answer: a price (门票价格, ticket price) needs a
  price (票价, 收费, 免费, 元/人); a per-capita figure (人均, per capita) needs 人均 on the asked metric
  (人均地区生产总值, not 地区生产总值, nor 人均可支配收入 when GDP is asked); an amount or a count (总额,
  人口, 多少亿元, how many, population) needs a figure with a unit other than %, unless the question asks
  a rate or a change. A clause without it is no answer, however well it matches the rest of the
  question (the park's visitor numbers for its ticket price, total GDP for GDP per capita, R&D
  intensity 1.9% for total R&D spending).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.glossary import METRIC_TERMS, RIVAL_MEASURES
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


@dataclass(frozen=True)
class Kind:
    name: str
    asked: re.Pattern[str]  # in the question
    stated: re.Pattern[str]  # in a clause that can answer it


PRICE = Kind(
    "price",
    re.compile(
        r"价格|票价|价钱|单价|售价|收费标准|门票(?!收入|销售)|房价"
        r"|\b(?:prices?|priced|pricing|fares?|fees?)\b"
        r"|\bhow\s+much\s+(?:is|are|does|do)\s+(?:an?\s+|the\s+)?(?:\w+\s+)?(?:tickets?|admission|entry|entrance)\b",
        re.IGNORECASE,
    ),
    re.compile(r"价|收费|免费|元\s*/"),
)
PER_CAPITA = Kind(
    "per_capita",
    re.compile(r"人均|\bper[\s-]*capita\b|\bper\s+(?:person|head|resident|inhabitant)\b", re.IGNORECASE),
    re.compile(r"人均"),
)
# An amount or a count (a total, a population, 多少亿元, how many), not a rate: a clause whose only
# figures are percentages (研发经费投入强度1.9%, 参保率95%) does not state it.
_RATE_ASK = (
    r"率|比例|比重|占比|增长|增速|增幅|涨幅|下降|提高|降低|百分|几成"
    r"|\b(?:percent\w*|rates?|ratios?|shares?|proportion|growth|grow\w*|rise|rose|fall|fell|increase\w*"
    r"|decrease\w*|drop\w*|up|down|change\w*)\b"
)
AMOUNT = Kind(
    "amount",
    re.compile(
        rf"^(?!.*(?:{_RATE_ASK})).*(?:人口|多少\s*(?:亿|万|千)?\s*(?:元|人|户|吨)"
        r"|\bpopulation\b|\bhow\s+many\b|\bin\s+total\b)",
        re.IGNORECASE | re.DOTALL,
    ),
    # a number with any unit but a percentage (240小时, 7.8亿元, 685家), not a year (2022年)
    re.compile(r"(?<![\d.])(?!(?:19|20)\d{2}\s*年)\d+(?:\.\d+)?\s*(?:亿|万|千|百)?\s*[\u4e00-\u9fffA-Za-z]"),
)
KINDS: tuple[Kind, ...] = (PRICE, PER_CAPITA, AMOUNT)
_GAP = r"[^，,。；;、：:\s]{0,4}?"  # 人均 and its metric within a few characters of one phrase


def asked_kinds(info: QuestionInfo) -> tuple[Kind, ...]:
    return tuple(k for k in KINDS if k.asked.search(info.text))


def states_kind(kind: Kind, info: QuestionInfo, text: str) -> bool:
    """The clause states a quantity of this kind; a per-capita one about a metric the question names."""
    if not kind.stated.search(text):
        return False
    if kind is not PER_CAPITA:
        return True
    if any(t.startswith("人均") and len(t) > 2 and t in text for t in info.terms):
        return True  # 人均可支配收入
    metrics = [t for t in info.terms if t in METRIC_TERMS and "人均" not in t]
    return not metrics or any(re.search(f"人均{_GAP}{re.escape(t)}", text) for t in metrics)


def missing_kinds(info: QuestionInfo, text: str) -> list[str]:
    """The asked quantity kinds the clause does not state."""
    return [k.name for k in asked_kinds(info) if not states_kind(k, info, text)]


_MEASURE_WORDS = sorted({w for group in RIVAL_MEASURES for w in group}, key=lambda w: (-len(w), w))
_MEASURE_WORD = re.compile("|".join(map(re.escape, _MEASURE_WORDS))) if _MEASURE_WORDS else None
# A measure word owns the figure that follows it within one phrase (年产量突破1300万辆, 出口额增长7%).
_FIGURE_AFTER = re.compile(r"[^，,。；;、：:！!？?\d]{0,6}?\d")


def measures_in(text: str) -> list[re.Match[str]]:
    """The measure words of a text, longest first (进出口 is not 出口)."""
    return list(_MEASURE_WORD.finditer(text)) if _MEASURE_WORD else []


def named_measures(info: QuestionInfo) -> frozenset[str]:
    """The rival-measure words a question names (not the 所 of 几所: ``asked_measures``), in its text or
    among its terms (an English question's glossary terms: export → 出口)."""
    return frozenset(m.group() for t in (info.text, *info.terms) for m in measures_in(t))


def rival_measure(info: QuestionInfo, text: str) -> str:
    """The rival measure the clause's figure is stated for, when the clause lacks a measure the question
    asks (出口 asked; 年产量突破1300万辆 → 产量); "" when there is none."""
    asked = named_measures(info)
    if not asked:
        return ""
    found = measures_in(text)
    lacking = asked - {m.group() for m in found}
    for m in found:
        word = m.group()
        if word in asked or not any(word in g and a in g for g in RIVAL_MEASURES for a in lacking):
            continue
        if _FIGURE_AFTER.match(text, m.end()):
            return word
    return ""
