"""Sections → chunks that fit a token budget and quote the document exactly.

``split_document(doc, max_tokens=…, overlap_tokens=…)`` is the one call: it parses the heading tree
(``ingest.structure``) and runs ``chunk_document`` with tiktoken's cl100k_base counter.

Rules, in order of strength:

- a chunk never spans two sections, and its ``text`` is ``doc.text[start:end]`` exactly;
- a chunk has at most ``max_tokens`` tokens (by the ``count_tokens`` given);
- a section that fits is one chunk. A longer one is cut into sentences (after 。！？；!?; — a
  half-width period only when it is not a decimal point — and at paragraph breaks); a sentence over the
  budget is cut after ，,：:、 (never a comma between digits), and only a clause still over the budget
  is cut hard, at the last position that splits no number (``36.8%``, ``1.3:43.3``, ``18亿元``);
- sentences are packed until a chunk holds an even share of what is left of the section (so there is
  no scrap at the end), or on to the end of its paragraph if that still fits; and a chunk at least
  half full ends at a paragraph break rather than take the start of a paragraph it cannot finish, so
  lead-phrase paragraphs (``产业体系加快转型升级。…``) tend to open chunks;
- when a cut falls inside a paragraph, the next chunk repeats the last whole sentences of the previous
  one, up to ``overlap_tokens``. A cut at a paragraph break has no overlap: the next paragraph starts a
  new topic.

Tables (Markdown, see ``ingest.tables``) are chunked apart from the prose around them: a table that fits
is one chunk with its caption; a longer one is cut between rows, the first chunk holding caption and
header, every later one repeating them in ``Chunk.lead`` (embedded and shown, not part of ``text``), so
a row is never separated from its header.

``chunk_id`` is the first 32 hex digits of the sha256 of doc id, heading path and text: stable across
runs, changed by any edit to what the chunk says or where it sits.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from govqa.errors import ConfigError
from govqa.models.tokens import count_tokens as tiktoken_count_tokens
from govqa.types import HEADING_SEP, Chunk, Document
from ingest.structure import Section, parse_sections
from ingest.tables import TableSpan, find_tables

log = logging.getLogger(__name__)

CountTokens = Callable[[str], int]

DEFAULT_MAX_TOKENS = 320  # = Settings.chunk_max_tokens (cl100k_base tokens)
DEFAULT_OVERLAP_TOKENS = 40  # = Settings.chunk_overlap_tokens

_SENTENCE_END = re.compile(r"(?:[。！？；!?;…]+|(?<!\d)\.|\.(?!\d))[”’」』）)》\"'】]*")
_CLAUSE_END = re.compile(r"[，：、]|(?<!\d),|,(?!\d)|(?<!\d):|:(?!\d)")
_NUMBER = re.compile(
    r"\d+(?:[.,:：/]\d+)*(?:[%‰]|(?:余|多)?[十百千万亿]*"
    r"(?:美元|元|平方米|平米|平方公里|公顷|公里|千米|米|亩|吨|微克|人次|万人|户|人|个|家|件|项|所|座|条|台|辆|株|处|天|年|月|日|倍|岁|号)?)"
)
_CHUNK_ID_LEN = 32


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    opens_paragraph: bool


def split_document(
    doc: Document,
    *,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    overlap_tokens: int = DEFAULT_OVERLAP_TOKENS,
    count_tokens: CountTokens | None = None,
) -> list[Chunk]:
    """Parse ``doc``'s heading tree and chunk it; tokens are cl100k_base (offline tiktoken) by default."""
    return chunk_document(
        doc,
        parse_sections(doc.text),
        max_tokens=max_tokens,
        overlap_tokens=overlap_tokens,
        count_tokens=count_tokens or tiktoken_count_tokens,
    )


def chunk_document(
    doc: Document,
    sections: list[Section],
    *,
    max_tokens: int,
    overlap_tokens: int,
    count_tokens: CountTokens,
) -> list[Chunk]:
    """Cut each non-empty section of ``doc`` into chunks of at most ``max_tokens`` tokens."""
    _check_budget(max_tokens, overlap_tokens)
    chunks: list[Chunk] = []
    for section in sections:
        if not 0 <= section.start <= section.end <= len(doc.text):
            raise ValueError(
                f"section {section.heading_path!r} spans [{section.start}, {section.end}) outside the "
                f"document text of length {len(doc.text)}: parse sections from doc.text"
            )
        for start, end, lead in _section_spans(doc.text, section, max_tokens, overlap_tokens, count_tokens):
            text = doc.text[start:end]
            chunks.append(
                Chunk(
                    chunk_id=chunk_id(
                        doc.doc_id, section.heading_path, f"{lead}\x1f{text}" if lead else text
                    ),
                    doc_id=doc.doc_id,
                    source=doc.source,
                    text=text,
                    heading_path=section.heading_path,
                    start=start,
                    end=end,
                    meta=doc.meta,
                    ordinal=len(chunks),
                    lead=lead,
                )
            )
    log.debug("%s: %d sections -> %d chunks", doc.source, len(sections), len(chunks))
    return chunks


def _section_spans(
    text: str, section: Section, max_tokens: int, overlap_tokens: int, count_tokens: CountTokens
) -> list[tuple[int, int, str]]:
    """``(start, end, lead)`` of the chunks of one section: prose by ``split_span``, tables by rows."""
    out: list[tuple[int, int, str]] = []
    pos = section.start
    for table in find_tables(text, section.start, section.end):
        out.extend(
            (a, b, "")
            for a, b in split_span(text, pos, table.start, max_tokens, overlap_tokens, count_tokens)
        )
        out.extend(table_spans(text, table, max_tokens, count_tokens))
        pos = table.end
    out.extend(
        (a, b, "") for a, b in split_span(text, pos, section.end, max_tokens, overlap_tokens, count_tokens)
    )
    return out


def table_spans(
    text: str, table: TableSpan, max_tokens: int, count_tokens: CountTokens
) -> list[tuple[int, int, str]]:
    """A table whole if it fits; else runs of whole rows, caption and header first or as the lead."""
    if count_tokens(text[table.start : table.end]) <= max_tokens:
        return [(table.start, table.end, "")]
    header = text[table.start : table.header_end]
    rows: list[tuple[int, int]] = []
    pos = table.body_start
    while pos < table.end:
        nl = text.find("\n", pos, table.end)
        rows.append((pos, table.end if nl == -1 else nl))
        pos = table.end + 1 if nl == -1 else nl + 1
    budget = max(1, max_tokens - count_tokens(header) - 1)  # rows under a repeated header
    out: list[tuple[int, int, str]] = []
    start, lead = table.start, ""  # the first chunk holds caption and header in its own text
    i = 0
    while i < len(rows):
        j = i
        limit = max_tokens if not lead else budget
        while j + 1 < len(rows) and count_tokens(text[start : rows[j + 1][1]]) <= limit:
            j += 1
        if count_tokens(text[start : rows[j][1]]) > limit and start != rows[j][0]:
            out.append((start, table.header_end, ""))  # the header alone: even the first row does not fit
            start, lead = rows[i][0], header
            continue
        if count_tokens(text[start : rows[j][1]]) > limit:  # one row over the budget: cut it, header repeated
            out.extend(
                (a, b, header) for a, b in split_span(text, rows[j][0], rows[j][1], budget, 0, count_tokens)
            )
        else:
            out.append((start, rows[j][1], lead))
        i = j + 1
        if i < len(rows):
            start, lead = rows[i][0], header
    return out


def chunk_id(doc_id: str, heading_path: tuple[str, ...], text: str) -> str:
    payload = "\x1f".join((doc_id, HEADING_SEP.join(heading_path), text))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:_CHUNK_ID_LEN]


def split_span(
    text: str, start: int, end: int, max_tokens: int, overlap_tokens: int, count_tokens: CountTokens
) -> list[tuple[int, int]]:
    """Offsets of the chunks of ``text[start:end]`` (whitespace trimmed, empty spans dropped)."""
    start, end = _trim(text, start, end)
    if start >= end:
        return []
    if count_tokens(text[start:end]) <= max_tokens:
        return [(start, end)]
    splitter = _Splitter(text, max_tokens, overlap_tokens, count_tokens)
    return splitter.pack(splitter.units(start, end))


def _check_budget(max_tokens: int, overlap_tokens: int) -> None:
    if max_tokens <= 0:
        raise ConfigError(f"max_tokens must be > 0, got {max_tokens}")
    if not 0 <= overlap_tokens < max_tokens:
        raise ConfigError(
            f"overlap_tokens must be >= 0 and smaller than max_tokens ({max_tokens}), got {overlap_tokens}"
        )


@dataclass(frozen=True)
class _Splitter:
    """Cuts one over-long section of ``text`` into units, then packs units into chunk spans."""

    text: str
    max_tokens: int
    overlap_tokens: int
    count_tokens: CountTokens

    def tokens(self, start: int, end: int) -> int:
        return self.count_tokens(self.text[start:end])

    def fits(self, start: int, end: int) -> bool:
        return self.tokens(start, end) <= self.max_tokens

    # --- cutting into units -------------------------------------------------------------------

    def units(self, start: int, end: int) -> list[_Unit]:
        """Sentences of the span, each within budget (long ones cut at clauses, then hard)."""
        units: list[_Unit] = []
        para = start
        while para < end:
            nl = self.text.find("\n", para, end)
            para_end = end if nl == -1 else nl
            first = True
            for a, b in _pieces(self.text, para, para_end, _SENTENCE_END):
                for c, d in self._fit(a, b):
                    units.append(_Unit(c, d, first))
                    first = False
            para = para_end + 1
        return units

    def _fit(self, start: int, end: int) -> list[tuple[int, int]]:
        """``[start, end)`` if it fits, else its clauses packed to fit, else hard cuts."""
        if self.fits(start, end):
            return [(start, end)]
        out: list[tuple[int, int]] = []
        clauses = _pieces(self.text, start, end, _CLAUSE_END)
        i = 0
        while i < len(clauses):
            a, b = clauses[i]
            if not self.fits(a, b):
                out.extend(self._hard_cut(a, b))
                i += 1
                continue
            j = i
            while j + 1 < len(clauses) and self.fits(a, clauses[j + 1][1]):
                j += 1
            out.append((a, clauses[j][1]))
            i = j + 1
        return out

    def _hard_cut(self, start: int, end: int) -> list[tuple[int, int]]:
        """Cut a run with no usable punctuation at the last position in budget that splits no number."""
        out: list[tuple[int, int]] = []
        while start < end:
            if self.fits(start, end):
                out.append((start, end))
                break
            lo, hi = start + 1, end - 1  # the longest prefix text[start:lo] within budget
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if self.fits(start, mid):
                    lo = mid
                else:
                    hi = mid - 1
            cut = _safe_cut(self.text, start, lo)
            out.append((start, cut))
            start = cut
        return out

    # --- packing units into chunks ------------------------------------------------------------

    def pack(self, units: list[_Unit]) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        i = 0
        while i < len(units):
            target = self._target(units, i)
            j = i
            while j + 1 < len(units) and self.fits(units[i].start, units[j + 1].end):
                if self.tokens(units[i].start, units[j].end) >= target and not self._finishes_paragraph(
                    units, i, j
                ):
                    break
                if units[j + 1].opens_paragraph and self._should_close(units, i, j):
                    break
                j += 1
            spans.append((units[i].start, units[j].end))
            if j + 1 >= len(units):
                break
            i = self._next_start(units, i, j)
        return spans

    def _target(self, units: list[_Unit], i: int) -> int:
        """An even share of what is left of the section, so the last chunk is not a scrap."""
        rest = self.tokens(units[i].start, units[-1].end)
        if rest <= self.max_tokens:
            return self.max_tokens
        step = max(1, self.max_tokens - self.overlap_tokens)  # what each further chunk adds
        n = 1 + -(-(rest - self.max_tokens) // step)
        return -(-rest // n)

    def _paragraph_end(self, units: list[_Unit], k: int) -> int:
        """Index of the last unit of the paragraph that ``units[k]`` belongs to."""
        while k + 1 < len(units) and not units[k + 1].opens_paragraph:
            k += 1
        return k

    def _finishes_paragraph(self, units: list[_Unit], i: int, j: int) -> bool:
        """Past the target, still take the rest of the current paragraph if it fits: no scraps."""
        nxt = j + 1
        return not units[nxt].opens_paragraph and self.fits(
            units[i].start, units[self._paragraph_end(units, nxt)].end
        )

    def _should_close(self, units: list[_Unit], i: int, j: int) -> bool:
        """At a paragraph break: close a chunk at least half full if the next paragraph will not fit."""
        if self.tokens(units[i].start, units[j].end) * 2 < self.max_tokens:
            return False
        return not self.fits(units[i].start, units[self._paragraph_end(units, j + 1)].end)

    def _next_start(self, units: list[_Unit], i: int, j: int) -> int:
        """First unit after chunk ``units[i..j]``: ``j + 1``, or earlier to overlap inside a paragraph."""
        nxt = j + 1
        if self.overlap_tokens == 0 or units[nxt].opens_paragraph:
            return nxt
        k = j + 1  # units[k..j] will be the longest run of whole sentences within the overlap budget
        while k > i + 1 and self.tokens(units[k - 1].start, units[j].end) <= self.overlap_tokens:
            k -= 1
            if units[k].opens_paragraph:
                break
        while k <= j and not self.fits(units[k].start, units[nxt].end):
            k += 1
        return k


def _pieces(text: str, start: int, end: int, boundary: re.Pattern[str]) -> list[tuple[int, int]]:
    """``text[start:end]`` cut after each ``boundary`` match, each piece trimmed of whitespace."""
    out: list[tuple[int, int]] = []
    pos = start
    for m in boundary.finditer(text, start, end):
        out.append((pos, m.end()))
        pos = m.end()
    out.append((pos, end))
    trimmed = (_trim(text, a, b) for a, b in out)
    return [(a, b) for a, b in trimmed if a < b]


def _safe_cut(text: str, start: int, cut: int) -> int:
    """The last position in ``(start, cut]`` that is not inside a number; ``cut`` if there is none."""
    inside: set[int] = set()
    for m in _NUMBER.finditer(text, max(start, cut - 64), min(len(text), cut + 64)):
        inside.update(range(m.start() + 1, m.end()))
    for pos in range(cut, start, -1):
        if pos not in inside:
            return pos
    return cut


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
