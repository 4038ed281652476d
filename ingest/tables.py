"""Tables kept whole: cells → a Markdown table in the document text, and the rules that find one again.

Loaders (.docx via python-docx, .pdf via pdfplumber) render each table with ``to_markdown``: one line
per row, ``| a | b |``, the first row the header, then the ``| --- |`` separator line. A one-line
caption (``表1 2025年主要预期目标``) is the line just above it when the source has one.

``ingest.clean`` keeps every table row a line of its own (``is_table_row``); ``ingest.chunking`` finds
the tables in a section (``find_tables``) and chunks a long one by rows, repeating caption and header on
every chunk (``Chunk.lead``), so a row is never separated from its header.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_SEPARATOR = re.compile(r"^\|(?:\s*:?-{3,}:?\s*\|)+$")
_CAPTION = re.compile(r"^(?:附?表\s*[0-9一二三四五六七八九十]*|.{0,30}(?:目标|指标|情况|统计|一览)表?$)")
_CAPTION_MAX = 40


def to_markdown(rows: Sequence[Sequence[str | None]]) -> str:
    """Rows of cells (the first is the header) as a Markdown table; empty rows and columns dropped."""
    cells = [[_cell(c) for c in row] for row in rows]
    cells = [row for row in cells if any(row)]
    if not cells:
        return ""
    width = max(len(row) for row in cells)
    cells = [row + [""] * (width - len(row)) for row in cells]
    keep = [j for j in range(width) if any(row[j] for row in cells)]
    cells = [[row[j] for j in keep] for row in cells]
    lines = ["| " + " | ".join(row) + " |" for row in cells]
    lines.insert(1, "| " + " | ".join("---" for _ in keep) + " |")
    return "\n".join(lines)


def _cell(value: str | None) -> str:
    """One cell on one line: inner line breaks (wrapped cell text) joined, pipes escaped."""
    text = "" if value is None else str(value)
    parts = [p.strip() for p in text.splitlines() if p.strip()]
    joined = ""
    for p in parts:  # CJK wraps join without a space, Latin words with one
        joined += (" " if joined and joined[-1].isascii() and p[0].isascii() else "") + p
    return joined.replace("|", "\\|")


def is_table_row(line: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= 2 and stripped.startswith("|") and stripped.endswith("|")


def split_row(line: str) -> list[str]:
    """The cells of a Markdown row (escaped pipes kept inside their cell)."""
    inner = line.strip()[1:-1]
    return [c.strip() for c in re.split(r"(?<!\\)\|", inner)]


def format_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def is_separator(line: str) -> bool:
    return bool(_SEPARATOR.match(line.strip().replace(" ", "")))


def is_caption(line: str) -> bool:
    """A short title line naming the table under it (``表1 …``, ``…主要预期目标``)."""
    s = line.strip()
    return 0 < len(s) <= _CAPTION_MAX and not s.endswith(("。", "；", ";")) and bool(_CAPTION.match(s))


@dataclass(frozen=True)
class TableSpan:
    """Offsets of one table in a text: ``start`` (its caption, when it has one) … ``end``; ``body_start``
    is where the data rows begin (after the header row and separator)."""

    start: int
    header_end: int  # end of the separator line: text[start:header_end] is caption + header
    end: int

    @property
    def body_start(self) -> int:
        return self.header_end + 1


def find_tables(text: str, start: int = 0, end: int | None = None) -> list[TableSpan]:
    """The Markdown tables (header row + separator + rows) in ``text[start:end]``, with their captions."""
    end = len(text) if end is None else end
    lines: list[tuple[int, int]] = []
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        line_end = end if nl == -1 else nl
        lines.append((pos, line_end))
        pos = line_end + 1
    out: list[TableSpan] = []
    i = 0
    while i + 1 < len(lines):
        a, b = lines[i]
        s, e = lines[i + 1]
        if not (is_table_row(text[a:b]) and is_separator(text[s:e])):
            i += 1
            continue
        j = i + 2
        while j < len(lines) and is_table_row(text[lines[j][0] : lines[j][1]]):
            j += 1
        first = a
        if i > 0 and is_caption(text[lines[i - 1][0] : lines[i - 1][1]]):
            first = lines[i - 1][0]
        out.append(TableSpan(start=first, header_end=e, end=lines[j - 1][1]))
        i = j
    return out
