"""Cleaned text → the heading tree of a report, as a flat list of sections in document order.

A report has three levels we use:

- level 0, the front matter: the cover notice that publishes the report (``印发通知``: title, addressees,
  the 印发 paragraph, date, ``（此件主动公开）``) and the speech header (``政府工作报告`` then the
  ``——2019年12月28日在…会议上`` line, the speaker line, ``各位代表：`` and the opening sentence);
- level 1, parts: ``一、2019年工作回顾``;
- level 2, sections: ``（一）…`` or ``(一)…``. In some reports (000) a section heading runs straight into
  its paragraph on one line; the heading is then the line up to its first sentence end, and the body
  starts after it. A sentence end closing a heading is never part of the heading text.

Numbered items (``1.``, ``（1）``, ``一是``) and lead phrases opening a paragraph
(``产业体系加快转型升级。``) stay in the body: they would make tiny sections, and the chunker keeps whole
paragraphs together where it can. The one exception: in a report divided into 第一部分/第二部分 with no
``一、`` inside a part, ``1.经济发展稳中向好`` lines (headings on their own line, in sequence from 1 in each
part) are its sections.

Headings must be numbered in sequence (一, 二, 三 … for parts; sections restart at （一） in every
part), so a numbered list inside a body is not mistaken for headings. Every character of the text is
either in a heading line or in exactly one section body; ``start``/``end`` are offsets of the body in
the text given (the cleaned text), stripped of surrounding whitespace, so a body may be empty.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from ingest.clean import is_heading_line, numbered_title

log = logging.getLogger(__name__)

COVER_HEADING = "印发通知"
SPEECH_HEADING = "政府工作报告"  # used when the speech header has no title line of its own

LEVEL_FRONT, LEVEL_PART, LEVEL_SECTION = 0, 1, 2

_NUMERALS = "一二三四五六七八九十"
_PART = re.compile(rf"([{_NUMERALS}]{{1,3}})、")
_CHAPTER = re.compile(rf"第([{_NUMERALS}]{{1,3}})部分")  # 第一部分 2022年工作回顾: above 一、 in city reports
_SECTION = re.compile(rf"[（(]([{_NUMERALS}]{{1,3}})[)）]")
_SENTENCE_END = re.compile(r"[。！？!?]")
_DELIVERY = re.compile(
    r"(?:——|[(（]\s*(?=\d{4}\s*年)).{0,30}\d{4}年.*(?:会议|大会)"
)  # ——… or （2023年…会议上）
_RUN_IN_MAX = 80  # a run-in heading longer than this is a paragraph that happens to start with （一）
_HEADING_MAX = 60
_SPEECH_TITLE_MAX = 20


@dataclass(frozen=True)
class Section:
    """One node of the heading tree: its path from the top and the offsets of its body text."""

    heading_path: tuple[str, ...]
    start: int
    end: int
    level: int

    @property
    def heading(self) -> str:
        return self.heading_path[-1] if self.heading_path else ""

    @property
    def is_empty(self) -> bool:
        return self.end <= self.start


@dataclass(frozen=True)
class _Line:
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class _Heading:
    text: str
    level: int
    line: int  # index of the line it sits on
    body_start: int  # offset where its body starts (after the line, or after a run-in heading)


def parse_sections(text: str) -> list[Section]:
    """The sections of ``text`` in document order (front matter, parts, sections)."""
    lines = _lines(text)
    if not lines:
        return []
    headings = _find_headings(lines)
    first = headings[0].line if headings else len(lines)
    sections = _front_matter(text, lines[:first])
    part: str | None = None
    for i, h in enumerate(headings):
        end = lines[headings[i + 1].line].start if i + 1 < len(headings) else len(text)
        if h.level == LEVEL_PART:
            part = h.text
            path: tuple[str, ...] = (h.text,)
        else:
            path = (part, h.text) if part else (h.text,)
        sections.append(_section(text, path, h.body_start, end, h.level))
    log.debug("parsed %d sections (%d headings)", len(sections), len(headings))
    return sections


def _lines(text: str) -> list[_Line]:
    out: list[_Line] = []
    pos = 0
    for raw in text.split("\n"):
        stripped = raw.strip()
        if stripped:
            lead = len(raw) - len(raw.lstrip())
            out.append(_Line(stripped, pos + lead, pos + lead + len(stripped)))
        pos += len(raw) + 1
    return out


def _find_headings(lines: list[_Line]) -> list[_Heading]:
    """Parts (一、) and their sections (（一）). In a report divided into 第一部分/第二部分, those are the
    parts and each 一、 within one is a section (its numbering restarts in every 部分)."""
    headings: list[_Heading] = []
    last_chapter = last_part = last_section = 0
    for i, line in enumerate(lines):
        if (m := _CHAPTER.match(line.text)) and _numeral(m.group(1)) == last_chapter + 1:
            short = len(line.text) <= _HEADING_MAX and not _SENTENCE_END.search(line.text)
            heading = (line.text, line.end) if short else _heading_text(line)
            if heading:
                last_chapter, last_part, last_section = _numeral(m.group(1)), 0, 0
                headings.append(_Heading(heading[0], LEVEL_PART, i, heading[1]))
        elif last_chapter and (m := _PART.match(line.text)):
            n = _numeral(m.group(1))
            heading = _heading_text(line)
            if heading and n == last_part + 1:
                last_part = n
                headings.append(_Heading(heading[0], LEVEL_SECTION, i, heading[1]))
        elif last_chapter and last_part <= 0 and (k := numbered_title(line.text)) == -last_part + 1:
            # 1.经济发展稳中向好 in a 第一部分 with no 一、: the numbered headings stand in for 一、
            last_part = -k  # (negative: never mixed with 一、 numbering)
            headings.append(_Heading(line.text, LEVEL_SECTION, i, line.end))
        elif m := _PART.match(line.text):
            n = _numeral(m.group(1))
            heading = _heading_text(line)
            if heading and n == last_part + 1:
                last_part, last_section = n, 0
                headings.append(_Heading(heading[0], LEVEL_PART, i, heading[1]))
        elif m := _SECTION.match(line.text):
            n = _numeral(m.group(1))
            heading = _heading_text(line)
            if heading and n == last_section + 1:
                last_section = n
                headings.append(_Heading(heading[0], LEVEL_SECTION, i, heading[1]))
    return headings


def _heading_text(line: _Line) -> tuple[str, int] | None:
    """(heading, body start) for a heading line or a heading run into its paragraph; else None."""
    if is_heading_line(line.text):
        if len(line.text) > _HEADING_MAX:
            return None
        return line.text.rstrip("。！？!?"), line.end
    m = _SENTENCE_END.search(line.text)
    if m is None or m.start() > _RUN_IN_MAX:
        return None
    return line.text[: m.start()], line.start + m.end()


def _numeral(s: str) -> int:
    """一 … 九十九 as an int (0 when malformed)."""
    digits = {c: i for i, c in enumerate(_NUMERALS[:9], start=1)}
    if s == "十":
        return 10
    if "十" in s:
        tens, _, ones = s.partition("十")
        return digits.get(tens, 1 if not tens else 0) * 10 + (digits.get(ones, 0) if ones else 0)
    return digits.get(s, 0) if len(s) == 1 else 0


def _front_matter(text: str, lines: list[_Line]) -> list[Section]:
    """Split what precedes the first heading into the cover notice and the speech header."""
    if not lines:
        return []
    end = lines[-1].end
    delivery = next((i for i, ln in enumerate(lines) if _DELIVERY.match(ln.text)), None)
    if delivery is None:
        return [_section(text, (), lines[0].start, end, LEVEL_FRONT)]
    sections: list[Section] = []
    title_line = delivery - 1
    has_title = (
        title_line >= 0
        and len(lines[title_line].text) <= _SPEECH_TITLE_MAX
        and "报告" in lines[title_line].text
        and not _SENTENCE_END.search(lines[title_line].text)
    )
    header_start = title_line if has_title else delivery
    cover = lines[:header_start]
    if cover:
        cover_end = cover[-1].end
        if any("印发" in ln.text for ln in cover):
            sections.append(_section(text, (COVER_HEADING,), cover[0].start, cover_end, LEVEL_FRONT))
        else:
            sections.append(_section(text, (cover[0].text,), cover[0].end, cover_end, LEVEL_FRONT))
    if has_title:
        heading, body_start = lines[title_line].text, lines[title_line].end
    else:
        heading, body_start = SPEECH_HEADING, lines[delivery].start
    sections.append(_section(text, (heading,), body_start, end, LEVEL_FRONT))
    return sections


def _section(text: str, path: tuple[str, ...], start: int, end: int, level: int) -> Section:
    """A section whose body offsets are trimmed of surrounding whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Section(heading_path=path, start=start, end=end, level=level)
