"""English answers in English: a lead sentence stating the quoted figure in English words.

For an English question answered from a Chinese quote, ``lead`` writes what the figure is (the
question's own English words for the measure), whose and for which year, the figure with its unit
converted (18亿元 → 1.8 billion yuan, 1.2万人 → 12,000 people, 36.8% → 36.8%), and whether the report
gives it as an actual, an expected (预计) or a planned figure. A figure measured over another period
(比2016年增长32%, 五年累计) is said to be so, never presented as the asked year's. Pure.
"""

from __future__ import annotations

import re
from decimal import Decimal

from rag.compare import Figure

_UNITS_EN = {
    "元": "yuan", "美元": "US dollars", "人": "people", "人次": "person-times", "户": "households",
    "家": "", "个": "", "所": "", "项": "", "座": "", "处": "", "条": "", "件": "", "套": "", "栋": "",
    "台": "", "辆": "vehicles", "亩": "mu", "吨": "tonnes", "公里": "km", "千米": "km", "米": "metres",
    "平方米": "square metres", "平米": "square metres", "平方公里": "square km",
    "微克/立方米": "μg/m³", "%": "%", "个百分点": "percentage points", "天": "days",
}  # fmt: skip
_STATUS = {"actual": "actual", "expected": "expected (预计)", "planned": "a target"}
_OVER = re.compile(r"(?:比|较|与)\s*((?:19|20)\d{2})\s*年?(?:末|底)?")
_SPAN = re.compile(r"(?<![0-9])([一二三四五六七八九十两]+年(?:来|累计|间)?|[0-9]{1,2}年(?:来|累计|间)|年均)")


def _plain(d: Decimal) -> str:
    d = d.quantize(Decimal("0.001")).normalize()
    whole, _, frac = format(d, "f").partition(".")
    whole = f"{int(whole):,}" if whole.lstrip("-").isdigit() else whole
    return f"{whole}.{frac}" if frac else whole


def in_english(f: Figure) -> str:
    """18亿元 → "1.8 billion yuan"; 92.4万元 → "924,000 yuan"; 1468人 → "1,468 people"; 6.6% → "6.6%"."""
    unit = _UNITS_EN.get(f.unit, f.unit)
    if f.unit in ("%", "个百分点"):
        return f"{_plain(f.number)}{unit}" if f.unit == "%" else f"{_plain(f.number)} {unit}"
    v = f.value
    if v >= Decimal(1_000_000_000):
        number = f"{_plain(v / Decimal(1_000_000_000))} billion"
    elif v >= Decimal(1_000_000):
        number = f"{_plain(v / Decimal(1_000_000))} million"
    else:
        number = _plain(v)
    return f"{number} {unit}".strip()


def period_note(quote: str, figure: Figure, asked_years: tuple[int, ...]) -> str:
    """When the figure is measured over another period than the asked year: how, in English."""
    at = quote.find(figure.text)
    before = quote[max(0, at - 24) : at] if at >= 0 else ""
    m = _OVER.search(before)
    if m and int(m.group(1)) not in asked_years:
        return f"this figure is measured against {m.group(1)}, not for the asked year alone"
    span = _SPAN.search(before)
    if span:
        return f"this figure covers several years ({span.group(1)}), not the asked year alone"
    return ""


def lead(what: str, who: str, year: int | None, figure: Figure, quote: str, marks: str) -> str:
    """One English sentence stating the figure, e.g. "Dongli Town's tax revenue in 2019: 1.8 billion
    yuan (18亿元), expected (预计)[1]."."""
    subject = f"{who}'s {what}" if who else what
    subject = subject[:1].upper() + subject[1:]
    when = f" in {year}" if year else ""
    status = _STATUS[figure.status]
    note = period_note(quote, figure, (year,) if year else ())
    tail = f"; note: {note}" if note else ""
    said = in_english(figure)
    shown = said if said == figure.text else f"{said} ({figure.text})"
    return f"{subject}{when}: {shown}, {status}{tail}{marks}."
