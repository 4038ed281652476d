"""Raw extracted text → the canonical cleaned text that chunks and citations quote.

PDF extraction leaves lines broken inside sentences, spaces around every half-width run ("18 亿元",
"2024年 12月", "政 府 工 作 报 告"), markdown ``**`` bold, LaTeX-ish subscripts (``PM_{2.5}``),
running headers, link junk and page numbers. ``clean_text`` repairs these and returns one paragraph per
line: **paragraphs are separated by exactly one "\\n"**, there are no blank lines, and no line starts or
ends with a space. The heading parser (``ingest.structure``) relies on a heading being a line of its own
(or a line that opens with it).

Blank lines carry no information in extracted reports (in the samples *every* line is followed by
one), so paragraph breaks are decided from the shape of each line alone. A line ends its paragraph when:

- it ends a sentence: 。！？!?… (optionally followed by closing quotes or brackets), or ： / :, or
  ； / ; unless the line is a full-width wrapped line (then the sentence list continues);
- it is a heading (``一、…``, ``（一）…``/``(一)…`` without a sentence inside it); a full-width heading
  line whose next line is a short fragment ("双突破") is joined with it;
- it is a short label (narrower than 30 CJK characters, no sentence punctuation): title, signature,
  date, ``（此件主动公开）``, the speaker line ``东丽镇镇长 刘芳`` — unless it is a full-width line;
- or the next line is a heading or a ``——`` line.

"Full-width" is measured against the wrap width: when most lines share one display width (the PDF
wrapped the text at it, as in 001/002), a line within a few cells of it is a wrapped line. Without a
common width (one paragraph per line, as in 000/003/004) no line is full-width.

Every other line ends mid-sentence and is joined with the next one. Two layout repairs join label lines
that the PDF set on two lines: the delivery line (``——2024年12月30日在东丽镇第十九届`` + ``人民代表大会第十次
会议上``) and a notice title ending in ``关于印发``. Lines that are only a page number, or only a URL,
are dropped, as is a trailing repeat of the delivery line (a running header).

Spaces: a run of spaces next to a CJK character or CJK punctuation is dropped, and after half-width
punctuation used in CJK text ("是: 2020年"); inside a number ("36.8 %") too. Spaces between two ASCII
words or numbers are kept (one space), so English text survives. Text the source set with a space
between a heading and its paragraph ("(二)…新动能 持续优化…") is split into two lines. Punctuation is
never converted between half- and full-width.

Markdown table rows (``| 指标 | 2025年目标 |``, written by the loaders from .docx and PDF tables, see
``ingest.tables``) are lines of their own, never joined; only the spaces inside each cell are repaired.
A Markdown heading (``## 一、2023年工作回顾``, from a .md report) loses its ``#`` marks and is a
paragraph of its own, never joined to the lines around it.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Collection

from ingest.tables import format_row, is_table_row, split_row

log = logging.getLogger(__name__)

# CJK ideographs, kana, CJK punctuation, full-width forms, and the general punctuation Chinese text
# uses (—, “”, ‘’, …, ·).
_CJK = (
    r"\u00b7\u2010-\u2027\u2030-\u205e\u2e80-\u2fff\u3000-\u30ff\u3100-\u31ff\u3400-\u4dbf"
    r"\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
)
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{_CJK}]) +| +(?=[{_CJK}])|(?<=[{_CJK}][,.;:!?]) +")
_SPACE_IN_NUMBER = re.compile(r"(?<=\d) +(?=%|‰|\.\d)")
# thousands written with a space: "2 186亿元", "46 820元" (the left group of 1–3 digits, then groups of 3)
_SPACED_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?: \d{3})+(?![\d.,]*\d)(?=[^\d\s]|$)")
_MULTI_SPACE = re.compile(r" {2,}")
_ODD_SPACES = re.compile(r"[\t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_ZERO_WIDTH = re.compile(r"[\u200b-\u200d\u2060\ufeff]")
_LINE_BREAKS = re.compile(r"\r\n|[\r\f\v\x1c-\x1e\x85\u2028\u2029]")
_SUBSCRIPT = re.compile(r"[_^]\{([^{}\n]{1,12})\}")  # PM_{2.5} -> PM2.5

_PAGE_NUMBER = re.compile(
    r"[-—–－\s]*(?:第\s*)?\d{1,3}(?:\s*页)?(?:\s*[/／]\s*\d{1,3}|\s*共\s*\d{1,3}\s*页)?[-—–－\s]*"
)
_URL_LINE = re.compile(r"(?:https?://|www\.)[\x21-\x7e]+")  # link junk; ASCII only

_NUMERALS = "一二三四五六七八九十"
HEADING_START = re.compile(rf"[{_NUMERALS}]{{1,3}}、|[（(][{_NUMERALS}]{{1,3}}[)）]")
_SENTENCE_END = re.compile(r"(?:[。！？!?…]|(?<!\d)\.)[”’」』）)》\"'】]*$")
_CLAUSE_END = re.compile(r"[；;]$")
_COLON_END = re.compile(r"[：:]$")
_PROSE_PUNCT = re.compile(r"[，,、。；;：:！？!?…]")
_SENTENCE_INSIDE = re.compile(r"[。！？!?]")
_HEADING_SPACE_RUN_IN = re.compile(  # "(二)全力以赴抓创新,持续引育发展新动能 持续优化创新生态。…"
    rf"^((?:[{_NUMERALS}]{{1,3}}、|[（(][{_NUMERALS}]{{1,3}}[)）])[^。！？!?；;\s]{{0,39}}[{_CJK}]) +"
    rf"([{_CJK}].*[。！？!?].*)$"
)
_DELIVERY = re.compile(r"^——.*\d{4}\s*年")
_ATX_HEADING = re.compile(r"^#{1,6}(?:\s+|(?=[^#\s]))(.*?)(?:\s+#+)?\s*$")  # "## 一、工作回顾 ##"

_LABEL_MAX_WIDTH = 60  # a label line (title, date, signature) is narrower than 30 CJK characters
_FULL_SLACK = 8  # a wrapped line is at most this many half-widths narrower than the wrap width
_HEADING_TAIL_MAX = 10  # "双突破": the wrapped end of a full-width heading line


def clean_text(raw: str) -> str:
    """Repair PDF-extraction damage; return paragraphs separated by single newlines (idempotent)."""
    lines, alone = _prepare_lines(raw)
    if not lines:
        return ""
    wrap = _wrap_width(lines)
    paragraphs = [p if is_table_row(p) else normalize_spaces(p) for p in _join_lines(lines, wrap, alone)]
    paragraphs = _drop_trailing_running_header(paragraphs)
    return "\n".join(paragraphs)


def normalize_spaces(line: str) -> str:
    """Drop spaces next to CJK text and inside numbers; keep single spaces between ASCII words."""
    line = _MULTI_SPACE.sub(" ", _ODD_SPACES.sub(" ", line))
    while True:  # dropping one space can bring CJK next to another ("中 , 2" -> "中, 2" -> "中,2")
        shorter = _SPACE_IN_NUMBER.sub("", _SPACE_NEAR_CJK.sub("", line))
        shorter = _SPACED_THOUSANDS.sub(lambda m: m.group().replace(" ", ""), shorter)
        if shorter == line:
            return line.strip()
        line = shorter


def display_width(text: str) -> int:
    """Width in half-width cells: CJK and other wide or ambiguous characters count two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WFA" else 1 for c in text)


def is_heading_line(line: str) -> bool:
    """A ``一、`` / ``（一）`` line that is a heading only, not a heading run into its paragraph."""
    if not HEADING_START.match(line):
        return False
    return not _SENTENCE_INSIDE.search(line[:-1])


# --- line preparation -----------------------------------------------------------------------------


def _prepare_lines(raw: str) -> tuple[list[str], set[int]]:
    """The non-empty lines, repaired, and the indexes of those that are paragraphs of their own."""
    text = _ZERO_WIDTH.sub("", raw)
    text = _LINE_BREAKS.sub("\n", text)
    text = text.replace("**", "")
    text = _SUBSCRIPT.sub(r"\1", text)
    lines: list[str] = []
    alone: set[int] = set()
    for line in text.split("\n"):
        line = _ODD_SPACES.sub(" ", line).strip()
        if not line or _PAGE_NUMBER.fullmatch(line) or _URL_LINE.fullmatch(line):
            continue
        if heading := _ATX_HEADING.match(line):
            if title := normalize_spaces(heading.group(1)):
                alone.add(len(lines))
                lines.append(title)
            continue
        if is_table_row(line):
            lines.append(format_row([normalize_spaces(c) for c in split_row(line)]))
            continue
        run_in = _HEADING_SPACE_RUN_IN.match(line)
        parts = [run_in.group(1), run_in.group(2)] if run_in else [line]
        lines.extend(p for p in (normalize_spaces(p) for p in parts) if p)
    return lines, alone


def _wrap_width(lines: list[str]) -> int | None:
    """The width the PDF wrapped prose at, if most lines share it (None for one-paragraph-per-line)."""
    if len(lines) < 20:
        return None
    widths = Counter(display_width(line) for line in lines)
    mode = widths.most_common(1)[0][0]
    near = sum(n for w, n in widths.items() if abs(w - mode) <= 2)
    return mode if mode >= 30 and near >= 0.3 * len(lines) else None


# --- paragraph decisions --------------------------------------------------------------------------


def _join_lines(lines: list[str], wrap: int | None, alone: Collection[int] = ()) -> list[str]:
    paragraphs: list[str] = []
    current = physical = lines[0]
    for i, nxt in enumerate(lines[1:], start=1):
        if i not in alone and i - 1 not in alone and _continues(current, physical, nxt, wrap):
            current = _glue(current, nxt)
        else:
            paragraphs.append(current)
            current = nxt
        physical = nxt
    paragraphs.append(current)
    return paragraphs


def _continues(line: str, physical: str, nxt: str, wrap: int | None) -> bool:
    """Does ``nxt`` continue ``line``, the paragraph so far, whose last physical line is ``physical``?"""
    if is_table_row(physical) or is_table_row(nxt):
        return False
    full = wrap is not None and display_width(physical) >= wrap - _FULL_SLACK
    if is_heading_line(line):
        return full and _is_label(nxt) and len(nxt) <= _HEADING_TAIL_MAX and not _starts_block(nxt)
    if _starts_block(nxt):
        return False
    if line == physical and not full and numbered_title(line):
        return False  # "2.聚焦城市更新，提升城区品质": a numbered heading on a line of its own
    if _DELIVERY.match(line):
        return not line.endswith("上") and _is_label(nxt)
    if line.endswith("关于印发"):
        return True
    if _SENTENCE_END.search(line) or _COLON_END.search(line):
        return False
    if _CLAUSE_END.search(line):
        return full
    return full or not _is_label(line)


_NUMBERED = re.compile(r"^(\d{1,2})[.．、](?!\d)\s*\S")


def numbered_title(line: str) -> int:
    """The number of ``1.经济发展稳中向好`` / ``2.聚焦城市更新，提升城区品质``, a numbered heading: short,
    with no sentence in it (not ``1.完成税收4.36亿元。``); 0 when the line is none."""
    m = _NUMBERED.match(line)
    if (
        m is None
        or display_width(line) >= _LABEL_MAX_WIDTH
        or _SENTENCE_INSIDE.search(line)
        or _CLAUSE_END.search(line)
        or _COLON_END.search(line)
    ):
        return 0
    return int(m.group(1))


def _starts_block(line: str) -> bool:
    return bool(HEADING_START.match(line)) or line.startswith("——")


def _is_label(line: str) -> bool:
    """A short line with no sentence punctuation: a title, date, signature or notice, not prose."""
    return display_width(line) < _LABEL_MAX_WIDTH and not _PROSE_PUNCT.search(line)


def _glue(left: str, right: str) -> str:
    if left[-1:].isascii() and left[-1:].isalpha() and right[:1].isascii() and right[:1].isalpha():
        return f"{left} {right}"
    return left + right


def _drop_trailing_running_header(paragraphs: list[str]) -> list[str]:
    """A lone ``——date在…`` fragment at the end repeats the delivery line: a page-header artefact."""
    if len(paragraphs) < 2:
        return paragraphs
    last = paragraphs[-1]
    if last.startswith("——") and len(last) <= 40 and any(p.startswith(last) for p in paragraphs[:-1]):
        log.debug("dropping trailing running header %r", last)
        return paragraphs[:-1]
    return paragraphs
