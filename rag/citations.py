"""Citations: sentence spans, verbatim quotes, ``[n]`` markers, and the check that an answer's figures
are in the passages it cites.

Pure functions, shared by the extractive answerer and the LLM answerer:

- ``sentence_spans`` splits Chinese/English text into sentences (offsets, never inside ``36.8%``);
- ``best_quote`` picks the sentence (or two adjacent ones) of a passage that best supports a claim;
- ``make_citation`` turns a span of a passage into a ``Citation`` with document offsets;
- ``parse_markers`` finds ``[1]``, ``[1,2]``, ``[1][2]``, ``【1】`` and the sentence each belongs to;
- ``check_answer`` maps markers to passages, drops and renumbers them, and flags every sentence whose
  figures (number + unit) are not found in a passage it cites.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from govqa.types import Citation, Passage

log = logging.getLogger(__name__)

# ------------------------------------------------------------------------------------------ sentences

_ENDS = frozenset("。！？；!?;")
_CLOSERS = frozenset("”’」』）)]】》〉〕")
_ASCII_QUOTES = frozenset("\"'")


def _is_period(text: str, i: int, start: int) -> bool:
    """An ASCII '.' ends a sentence when followed by space/end/closer and not part of ``36.8`` or ``1.``."""
    nxt = text[i + 1] if i + 1 < len(text) else " "
    if nxt.isdigit() or not (nxt.isspace() or nxt in _CLOSERS or nxt in _ASCII_QUOTES or nxt in "[【"):
        return False
    return not text[start:i].strip().isdigit()  # "1. " opening a list item


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence, trimmed of surrounding whitespace, empty ones dropped.

    A sentence ends at 。！？；!?; (a run of them), at a newline, or at an English '.' followed by a
    space. Closing quotes and brackets right after the end stay with the sentence; an ASCII quote does
    when the sentence has an unclosed one.
    """
    spans: list[tuple[int, int]] = []
    n = len(text)
    start = 0
    i = 0
    while i < n:
        c = text[i]
        if c == "\n":
            spans.append((start, i))
            start = i = i + 1
            continue
        if c in _ENDS or (c == "." and _is_period(text, i, start)):
            j = i + 1
            while j < n and (text[j] in _ENDS or text[j] == "."):
                j += 1
            while j < n:
                ch = text[j]
                if ch in _CLOSERS or (ch in _ASCII_QUOTES and text[start:j].count(ch) % 2 == 1):
                    j += 1
                else:
                    break
            spans.append((start, j))
            start = i = j
            continue
        i += 1
    spans.append((start, n))
    return [t for t in (_trim(text, s, e) for s, e in spans) if t[1] > t[0]]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


# -------------------------------------------------------------------------------------------- numbers

# Full-width digits and marks, ideographic space. Not NFKC: that would also turn "，" into "," and make
# "分别为5，180家" read as 5180.
_WIDTH = str.maketrans({**{chr(0xFF10 + d): str(d) for d in range(10)}, "．": ".", "％": "%", "\u3000": " "})
_MULTIPLIERS = {"万亿": 10**12, "亿": 10**8, "万": 10**4}
# fmt: off
_UNITS = (
    "个百分点", "平方公里", "平方米", "平米", "公顷", "公里", "千米", "千瓦", "美元", "元", "人次", "人", "户", "家", "个", "所",
    "项", "件", "次", "条", "座", "处", "套", "辆", "台", "间", "张", "名", "位", "场", "批", "栋",
    "亩", "吨", "米", "年", "月", "日", "天", "倍", "岁", "周年", "届", "%", "‰", "percent",
)
# fmt: on
_SYNONYMS = {"平米": "平方米", "千米": "公里", "percent": "%", "个百分点": "百分点"}
_NUMBER = re.compile(
    r"(?<![\d.])(\d{1,3}(?:(?:,| )\d{3})+(?![\d])|\d+)(\.\d+)?"
    r"\s*(万亿|亿|万)?\s*(" + "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True)) + ")?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Figure:
    """A number as written (``18 亿元``) and what it means (value, multiplier, base unit)."""

    text: str
    value: Decimal  # as written, without the multiplier
    multiplier: int  # 1, 10**4 (万), 10**8 (亿), 10**12
    unit: str  # base unit, "" when none: 元, %, 家, 平方米 ...

    @property
    def amount(self) -> Decimal:
        return self.value * self.multiplier

    def found_in(self, figures: Sequence[Figure]) -> bool:
        """Written in ``figures``: the same amount in the same unit; a bare number matches its digits."""
        for f in figures:
            if self.multiplier == 1 and not self.unit:
                if f.value == self.value:
                    return True
            elif f.amount == self.amount and (not self.unit or f.unit == self.unit):
                return True
        return False


def figures(text: str) -> list[Figure]:
    """Every Arabic number in ``text`` with its unit (full-width digits and spaced numbers normalised)."""
    out = []
    for m in _NUMBER.finditer(text.translate(_WIDTH)):
        digits = re.sub(r"[, ]", "", m.group(1)) + (m.group(2) or "")
        unit = (m.group(4) or "").lower()
        out.append(
            Figure(
                text=m.group(0).strip(),
                value=Decimal(digits),
                multiplier=_MULTIPLIERS.get(m.group(3) or "", 1),
                unit=_SYNONYMS.get(unit, unit),
            )
        )
    return out


def _bigrams(text: str) -> set[str]:
    chars = [c for c in _MARKERS.sub("", text).translate(_WIDTH).lower() if c.isalnum()]
    return {a + b for a, b in itertools.pairwise(chars)}


# -------------------------------------------------------------------------------------------- quotes


def make_citation(n: int, passage: Passage, start: int, end: int) -> Citation:
    """Citation ``[n]`` quoting ``passage.chunk.text[start:end]`` (trimmed), with document offsets."""
    chunk = passage.chunk
    if not 0 <= start <= end <= len(chunk.text):
        raise ValueError(
            f"quote span [{start}, {end}) is outside chunk {chunk.chunk_id} of {len(chunk.text)} chars"
        )
    s, e = _trim(chunk.text, start, end)
    return Citation(
        n=n,
        chunk_id=chunk.chunk_id,
        doc_id=chunk.doc_id,
        source=chunk.source,
        title=chunk.meta.title,
        heading_path=chunk.heading_path,
        quote=chunk.text[s:e],
        start=chunk.start + s,
        end=chunk.start + e,
        passage=chunk.text,
        passage_start=chunk.start,
        lead=chunk.lead,
        ocr_note=chunk.meta.ocr_note,
    )


def best_quote(claim: str, passage: Passage) -> tuple[int, int]:
    """Local span of the sentence, or two adjacent sentences, of ``passage`` that best supports ``claim``.

    Score: 2 per figure of the claim found in the span, plus the share of the claim's character bigrams
    it covers, plus a little for precision; a two-sentence span must earn its extra length.
    """
    text = passage.chunk.text
    spans = sentence_spans(text)
    if not spans:
        return _trim(text, 0, len(text))
    claim_figs = list({(f.amount, f.unit, f.value): f for f in figures(_MARKERS.sub("", claim))}.values())
    claim_bi = _bigrams(claim)
    figs = [figures(text[s:e]) for s, e in spans]
    bis = [_bigrams(text[s:e]) for s, e in spans]
    best: tuple[float, int, int] | None = None
    for i, (s, _) in enumerate(spans):
        for width in (1, 2):
            if i + width > len(spans):
                continue
            end = spans[i + width - 1][1]
            seg_figs = [f for k in range(i, i + width) for f in figs[k]]
            seg_bi = set().union(*bis[i : i + width])
            shared = sum(1 for f in claim_figs if f.found_in(seg_figs))
            common = len(claim_bi & seg_bi)
            recall = common / len(claim_bi) if claim_bi else 0.0
            precision = common / len(seg_bi) if seg_bi else 0.0
            score = 2.0 * shared + recall + 0.3 * precision - (0.15 if width == 2 else 0.0)
            if best is None or score > best[0] + 1e-9:
                best = (score, s, end)
    assert best is not None
    return best[1], best[2]


# ------------------------------------------------------------------------------------------- markers

_ONE = r"(?:passage|id)?\s*=?\s*\d{1,3}"
_LIST = _ONE + r"(?:\s*(?:[,，、]|[-–~])\s*" + _ONE + r")*"
_MARKER = rf"(?:[\[［]\s*{_LIST}\s*[\]］]|【\s*{_LIST}\s*】)"
_MARKERS = re.compile(rf"{_MARKER}(?:[ \t]*{_MARKER})*", re.IGNORECASE)


@dataclass(frozen=True)
class Marker:
    """A run of citation markers (``[1][3]``, ``[1,3]``, ``【2】``) and the sentence it belongs to."""

    start: int
    end: int
    numbers: tuple[int, ...]  # as written, duplicates removed, in order
    sentence: int  # index into ``sentence_spans(text)``


def _marker_numbers(marker: str) -> tuple[int, ...]:
    out: list[int] = []
    for m in re.finditer(r"(\d+)(?:\s*[-–~]\s*(?:passage|id)?\s*=?\s*(\d+))?", marker, re.IGNORECASE):
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) else lo
        for x in range(lo, min(hi, lo + 20) + 1) if hi >= lo else (lo,):
            if x not in out:
                out.append(x)
    return tuple(out)


def parse_markers(text: str) -> list[Marker]:
    """Markers in ``text``. A marker opening a sentence (``…增长36.8%。[1]``) belongs to the one before."""
    spans = sentence_spans(text)
    out = []
    for m in _MARKERS.finditer(text):
        idx = max((k for k, (s, _) in enumerate(spans) if s <= m.start()), default=0)
        if idx > 0 and not re.search(r"\w", _MARKERS.sub("", text[spans[idx][0] : m.start()])):
            idx -= 1
        out.append(Marker(m.start(), m.end(), _marker_numbers(m.group()), idx))
    return out


# ----------------------------------------------------------------------------------------- the check


_LIST_ITEM = re.compile(r"^\s*(?:\d{1,2}(?:\.\s|、|[)）])|[(（]\d{1,2}[)）]|[-*•·]\s)")  # "1. " "2、" "(3)"


@dataclass
class CheckedAnswer:
    """An answer after its markers were mapped to passages and its figures checked against them."""

    text: str  # markers rewritten as dense [1], [2] ... in order of first appearance
    citations: list[Citation]
    warnings: list[str]
    unsupported_claims: list[str]
    supported: bool  # no unsupported claims
    supported_citations: list[int] = field(default_factory=list)  # n cited by at least one supported claim


def _renumber(text: str, count: int, warnings: list[str]) -> tuple[str, dict[int, int]]:
    """Drop markers citing passages not given, number the rest densely by first appearance."""
    order: dict[int, int] = {}  # passage number as written -> new n
    dropped: list[int] = []
    pieces: list[str] = []
    last = 0
    for m in _MARKERS.finditer(text):
        keep: list[int] = []
        for x in _marker_numbers(m.group()):
            if 1 <= x <= count:
                new = order.setdefault(x, len(order) + 1)
                if new not in keep:
                    keep.append(new)
            elif x not in dropped:
                dropped.append(x)
        before = text[last : m.start()]
        pieces.append(before + "".join(f"[{n}]" for n in keep) if keep else before.rstrip(" \t"))
        last = m.end()
    pieces.append(text[last:])
    for x in dropped:
        warnings.append(f"dropped marker [{x}]: only {count} passage(s) were given")
    return "".join(pieces).strip(), order


def check_answer(text: str, passages: Sequence[Passage]) -> CheckedAnswer:
    """Map ``[n]`` to ``passages[n-1]``, renumber, and check every figure of every claim.

    A sentence carrying markers is supported when each of its figures is written in at least one of the
    passages it cites (title and heading included); a sentence with a figure and no marker is not.
    Sentences without figures cannot be checked here and count as supported.
    """
    warnings: list[str] = []
    new_text, order = _renumber(text, len(passages), warnings)
    by_n = {new: passages[old - 1] for old, new in order.items()}
    haystack = {n: figures(p.chunk.embed_text) for n, p in by_n.items()}

    cited: dict[int, list[int]] = {}
    for m in parse_markers(new_text):
        ns = cited.setdefault(m.sentence, [])
        ns.extend(x for x in m.numbers if x not in ns)

    claims_for: dict[int, list[str]] = {n: [] for n in by_n}
    supported_ns: set[int] = set()
    unsupported: list[str] = []
    for idx, (s, e) in enumerate(sentence_spans(new_text)):
        claim = _LIST_ITEM.sub("", _MARKERS.sub("", new_text[s:e])).strip()
        if not re.search(r"\w", claim):
            continue
        ns = [n for n in cited.get(idx, []) if n in by_n]
        figs = figures(claim)
        if not ns:
            if figs:
                unsupported.append(claim)
                warnings.append(f"claim without citation: {claim}")
            continue
        for n in ns:
            claims_for[n].append(claim)
        missing = [f for f in figs if not any(f.found_in(haystack[n]) for n in ns)]
        if missing:
            unsupported.append(claim)
            shown = ", ".join(f.text for f in missing)
            warnings.append(f"claim not supported by cited passage: {claim} (not found: {shown})")
        else:  # a passage supports the claim if it holds one of its figures (any, if it has none)
            supported_ns.update(n for n in ns if not figs or any(f.found_in(haystack[n]) for f in figs))

    citations = [
        make_citation(n, by_n[n], *best_quote(" ".join(claims_for[n]), by_n[n])) for n in sorted(by_n)
    ]
    if unsupported:
        log.info("%d unsupported claim(s) in answer", len(unsupported))
    return CheckedAnswer(
        text=new_text,
        citations=citations,
        warnings=warnings,
        unsupported_claims=unsupported,
        supported=not unsupported,
        supported_citations=sorted(supported_ns),
    )
