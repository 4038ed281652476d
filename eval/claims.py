"""An answer cut into atomic claims that keep their ``[n]`` citation markers (``split_claims``): what the
faithfulness judges give a verdict on, one claim at a time."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from eval.facts import entities, marker_numbers, quantities, strip_markers, years_in
from eval.metrics import squash

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    text: str
    markers: tuple[int, ...] = ()  # the [n] citation markers that apply to the claim
    sentence: int = 0  # index of the sentence the claim came from


# ---------------------------------------------------------------- splitting

_SENTENCE = re.compile(r"[^。！？!?]*?(?:[。！？!?]+|\.(?=\s|$)|$)(?:\s*\[\d+(?:\s*[,，、]\s*\d+)*\])*")
_SEMI = re.compile(r"[；;]")
_COLON = re.compile(r"((?<!\d)[：:]|[：:](?!\d))")  # not a ratio or a time such as 1.3:43.3
_COMMA = re.compile(r"(，|(?<!\d),|,(?!\d))")  # not a thousands separator
_BULLET = re.compile(r"^\s*(?:[-*•·]\s|\d{1,2}(?:[.)]\s|、)|[（(]?[一二三四五六七八九十]+[）)、])\s*")
_LEADIN_END = re.compile(r"[：:]\s*$")
_BOILERPLATE = re.compile(
    r"^(?:根据|据|综上|以下|参考|来源|出处|引用|sources?|references?|citations?|according to|in summary|here)",
    re.IGNORECASE,
)
_REFUSAL = re.compile(
    r"没有找到|未找到|未提及|没有提及|未涉及|没有涉及|无法回答|无法确定|没有相关|未包含|不包含|没有给出|未给出|"
    r"not (?:mention|contain|say|state|include|provide|cover)|no (?:information|mention|data)|cannot (?:find|answer)|"
    r"could not find|don't (?:mention|say|contain)|do not (?:mention|say|contain)",
    re.IGNORECASE,
)


def _sentences(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """(body, markers at the end of the sentence) for each sentence of each line."""
    out = []
    for line in text.replace("**", "").splitlines():
        line = _BULLET.sub("", line)
        for m in _SENTENCE.finditer(line):
            s = m.group(0).strip()
            if not strip_markers(s):
                continue
            tail = re.search(r"(?:\[\d+(?:\s*[,，、]\s*\d+)*\]|[\s。！？!?.])*$", s)
            out.append((s, marker_numbers(tail.group(0) if tail else "")))
    return out


def _qualifies(clause: str, piece: str) -> bool:
    """Split a comma when both sides carry a quantity, or both carry a named place or person."""
    if quantities(clause) and quantities(piece):
        return True
    big = len(squash(strip_markers(clause))) >= 6 and len(squash(strip_markers(piece))) >= 6
    return big and bool(entities(clause)) and bool(entities(piece))


def _clauses(sentence: str) -> list[str]:
    clauses: list[str] = []
    for segment in _SEMI.split(sentence):
        pieces = _COMMA.split(segment)  # [text, comma, text, comma, ...]
        current = ""
        for i in range(0, len(pieces), 2):
            piece, comma = pieces[i], pieces[i - 1] if i else ""
            if not strip_markers(piece):
                continue
            if current and _qualifies(current, piece):
                clauses.append(current)
                current = piece
            else:
                current = f"{current}{comma}{piece}" if current else piece
        if current:
            clauses.append(current)
    return clauses


def _is_boilerplate(clause: str) -> bool:
    body = strip_markers(clause)
    if not squash(body) or not re.search(r"\w", body):
        return True  # punctuation or a bare list of markers
    if _LEADIN_END.search(clause.strip()) and not (quantities(body) or years_in(body) or entities(body)):
        return True  # "根据报告：", "The reports quote the evidence in Chinese:"
    if _REFUSAL.search(body) and not quantities(body):
        return True
    return bool(_BOILERPLATE.match(body)) and not quantities(body) and not years_in(body)


def split_claims(answer_text: str) -> list[Claim]:
    """Atomic claims: sentences, then clauses at ；/; and at commas between distinct facts.

    A clause keeps its own markers; a clause without any takes the markers ending its sentence.
    A lead-in ending in a colon is cut off its sentence; lead-ins, refusals and marker lists are dropped.
    """
    claims: list[Claim] = []
    for index, (sentence, end_markers) in enumerate(_sentences(answer_text)):
        parts = _COLON.split(sentence, maxsplit=1)
        if len(parts) == 3 and strip_markers(parts[2]) and _is_boilerplate(parts[0] + parts[1]):
            sentence = parts[2]  # a lead-in such as "根据报告：" before the claim itself
        for clause in _clauses(sentence):
            if _is_boilerplate(clause):
                continue
            own = marker_numbers(clause)
            claims.append(Claim(text=strip_markers(clause), markers=own or end_markers, sentence=index))
    return claims
