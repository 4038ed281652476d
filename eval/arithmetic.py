"""Derived figures: an answer that shows its arithmetic on cited figures is checked step by step.

"减少7.2亿元（10.8 − 18 = -7.2），下降40%（-7.2 ÷ 18）": each subtraction and division must hold, and its
operands must be figures stated in the passages the claim cites.
"""

from __future__ import annotations

import re
from decimal import Decimal

_NUM = r"-?\d+(?:\.\d+)?"
_SUBTRACTION = re.compile(
    rf"(?<![\d.])(\d+(?:\.\d+)?)[^\d(（]{{0,12}}[(（]({_NUM})\s*[−-]\s*({_NUM})\s*=\s*({_NUM})[)）]"
)
_DIVISION = re.compile(rf"(?<![\d.])(\d+(?:\.\d+)?)\s*%\s*[(（]({_NUM})\s*÷\s*({_NUM})[)）]")


def _stated(number: str, evidence: str) -> bool:
    return re.search(rf"(?<![\d.]){re.escape(number.lstrip('-'))}(?![\d])", evidence) is not None


def check_arithmetic(claim: str, evidence: str) -> tuple[str, ...] | None:
    """None when ``claim`` shows no arithmetic; else its problems (empty when every step holds and its
    operands are cited figures)."""
    subs, divs = list(_SUBTRACTION.finditer(claim)), list(_DIVISION.finditer(claim))
    if not subs and not divs:
        return None
    problems: list[str] = []
    found: set[str] = set()
    for m in subs:
        said, x, y, z = m.group(1), Decimal(m.group(2)), Decimal(m.group(3)), Decimal(m.group(4))
        if abs((x - y) - z) > Decimal("0.01") or abs(abs(z) - Decimal(said)) > Decimal("0.01"):
            problems.append(f"{m.group(0)} does not hold")
        for operand in (m.group(2), m.group(3)):
            if not _stated(operand, evidence):
                problems.append(f"{operand} is not stated in the cited passages")
        found.add(m.group(4).lstrip("-"))
    for m in divs:
        pct, d, x = Decimal(m.group(1)), Decimal(m.group(2)), Decimal(m.group(3))
        if x == 0 or abs(abs(d / x * 100) - pct) > Decimal("0.01"):
            problems.append(f"{m.group(0)} does not hold")
        after = format((x + d).normalize(), "f")  # d is the change from x to a cited figure
        if m.group(2).lstrip("-") not in found and not _stated(after, evidence):
            problems.append(f"{m.group(2)} is not the change from {m.group(3)} to a cited figure")
        if not _stated(m.group(3), evidence):
            problems.append(f"{m.group(3)} is not stated in the cited passages")
    return tuple(problems)
