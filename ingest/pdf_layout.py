"""A PDF's pages → text in reading order, with tables as Markdown and scanned pages through OCR.

Per page (pdfplumber):

- tables found by their ruling lines (``page.find_tables``) become Markdown tables
  (``ingest.tables.to_markdown``) at their place in the page; the text inside them is not repeated;
- a two-column page (``column_split``: almost no words cross a gutter near the middle, and both
  halves hold text) is read left column then right column; lines spanning both (a title) come first;
- a page with no text layer is rendered and read by OCR (``ingest.ocr``) when an engine is given; a page
  that fails is named in ``PdfText.failed`` and the rest goes on.

Across pages, running headers and footers — a first or last line repeated on most pages, digits ignored
(``第3页``, ``2024年政府工作报告``) — are dropped (``drop_running_lines``). Line joining, spaces and page
numbers are left to ``ingest.clean``.
"""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ingest.ocr import OcrEngine, render_pdf_page
from ingest.tables import to_markdown

log = logging.getLogger(__name__)

PageProgress = Callable[[int, int], None]  # (pages done, pages in all)

_MIN_PAGE_CHARS = 10  # a page with less text than this is a scan (or blank): OCR it
_GUTTER_SHARE = 0.04  # at most this share of a page's words may cross the gutter of a two-column page
_RUNNING_MIN_PAGES = 3
_RUNNING_SHARE = 0.5  # a first/last line repeated on at least half of the pages is a running header
_EDGE_LINES = 2  # how many lines at the top and at the bottom of a page may be running lines
_DIGITS = re.compile(r"\d+")


@dataclass
class PdfText:
    pages: list[str] = field(default_factory=list)  # text per page, in order
    ocr_pages: list[int] = field(default_factory=list)  # 1-based
    failed: list[str] = field(default_factory=list)  # "page 3: <reason>"

    @property
    def text(self) -> str:
        return "\n".join(p for p in self.pages if p)


def read_pdf(data: bytes, *, ocr: OcrEngine | None, progress: PageProgress | None = None) -> PdfText:
    """Text of every page of the PDF ``data`` (see the module doc). Raises pdfplumber/pdfminer errors."""
    import pdfplumber

    out = PdfText()
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        total = len(pdf.pages)
        for i, page in enumerate(pdf.pages):
            text = page_text(page)
            if len(text.strip()) < _MIN_PAGE_CHARS and ocr is not None:
                text = _ocr_page(data, i, ocr, out)
            out.pages.append(text)
            if progress is not None:
                progress(i + 1, total)
    out.pages = drop_running_lines(out.pages)
    return out


def _ocr_page(data: bytes, index: int, ocr: OcrEngine, out: PdfText) -> str:
    try:
        text = ocr.read(render_pdf_page(data, index))
    except (OSError, RuntimeError, ValueError) as e:  # pytesseract raises TesseractError(RuntimeError)
        log.warning("page %d: OCR failed: %s", index + 1, e)
        out.failed.append(f"page {index + 1}: OCR failed ({e})")
        return ""
    out.ocr_pages.append(index + 1)
    log.info("page %d: OCR read %d characters", index + 1, len(text.strip()))
    return text


def page_text(page: Any) -> str:
    """One pdfplumber page's text layer in reading order, tables as Markdown (module doc)."""
    tables = [t for t in page.find_tables() if t.bbox[3] - t.bbox[1] > 5]
    if not tables:
        split = column_split(page.extract_words(), page.width)
        if split is None:
            return str(page.extract_text() or "")
        return _columns_text(page, split)
    blocks: list[str] = []
    top = page.bbox[1]
    for t in sorted(tables, key=lambda t: t.bbox[1]):
        blocks.append(_region_text(page, top, t.bbox[1]))
        blocks.append(to_markdown(t.extract()))
        top = t.bbox[3]
    blocks.append(_region_text(page, top, page.bbox[3]))
    return "\n".join(b for b in blocks if b.strip())


def _region_text(page: Any, top: float, bottom: float) -> str:
    if bottom - top < 1:
        return ""
    x0, _, x1, _ = page.bbox
    return str(page.within_bbox((x0, top, x1, bottom)).extract_text() or "")


def column_split(words: Sequence[dict[str, Any]], width: float) -> float | None:
    """The x of the gutter between two columns, or None for a one-column page.

    Candidate gutters are tried in the middle fifth of the page; one qualifies when at most
    ``_GUTTER_SHARE`` of the words cross it and each side holds at least a quarter of the words.
    """
    if len(words) < 20:
        return None
    best: tuple[int, float] | None = None
    for k in range(40, 61):
        x = width * k / 100
        crossing = sum(1 for w in words if w["x0"] < x < w["x1"])
        left = sum(1 for w in words if w["x1"] <= x)
        if crossing > _GUTTER_SHARE * len(words) or min(left, len(words) - left - crossing) < len(words) / 4:
            continue
        if best is None or crossing < best[0]:
            best = (crossing, x)
    if best is None:
        return None
    # a real gutter is empty on most lines: most lines have words on both sides of it
    lines: dict[int, list[dict[str, Any]]] = {}
    for w in words:
        lines.setdefault(round(w["top"]), []).append(w)
    both = sum(
        1
        for ws in lines.values()
        if any(w["x1"] <= best[1] for w in ws) and any(w["x0"] >= best[1] for w in ws)
    )
    return best[1] if both >= 0.5 * len(lines) else None


def _columns_text(page: Any, gutter: float) -> str:
    x0, top, x1, bottom = page.bbox
    words = page.extract_words()
    crossing = [w for w in words if w["x0"] < gutter < w["x1"]]
    # lines spanning the gutter above the columns (a title) come first
    first_col = min((w["top"] for w in words if w not in crossing), default=top)
    head_bottom = max((w["bottom"] + 1 for w in crossing if w["top"] < first_col + 1), default=top)
    parts = [
        _crop_text(page, (x0, top, x1, head_bottom)),
        _crop_text(page, (x0, head_bottom, gutter, bottom)),
        _crop_text(page, (gutter, head_bottom, x1, bottom)),
    ]
    return "\n".join(p for p in parts if p.strip())


def _crop_text(page: Any, bbox: tuple[float, float, float, float]) -> str:
    if bbox[2] - bbox[0] < 1 or bbox[3] - bbox[1] < 1:
        return ""
    return str(page.crop(bbox).extract_text() or "")


def drop_running_lines(pages: list[str]) -> list[str]:
    """Drop first/last lines that repeat (digits ignored) on most pages: running headers and footers."""
    if len(pages) < _RUNNING_MIN_PAGES:
        return pages
    counts: Counter[str] = Counter()
    for page in pages:
        counts.update({_key(line) for line in _edge_lines(page)})
    need = max(2, int(_RUNNING_SHARE * len(pages) + 0.999))
    running = {k for k, n in counts.items() if n >= need and k}
    if not running:
        return pages
    log.debug("running headers/footers dropped: %s", sorted(running))
    return [_drop_edges(page, running) for page in pages]


def _drop_edges(page: str, running: set[str]) -> str:
    """Drop each running line once at the top and once at the bottom of the page: a title that reads
    like the running header (``2019年…政府工作报告`` under ``2024年…政府工作报告``) stays."""
    lines = page.split("\n")
    k = _EDGE_LINES if len(lines) > 2 * _EDGE_LINES else 1
    drop: set[int] = set()
    for edge in (range(min(k, len(lines))), range(len(lines) - 1, max(-1, len(lines) - 1 - k), -1)):
        seen: set[str] = set()
        for i in edge:
            key = _key(lines[i])
            if key in running and key not in seen and i not in drop:
                drop.add(i)
                seen.add(key)
    return "\n".join(line for i, line in enumerate(lines) if i not in drop)


def _edge_indexes(n: int) -> set[int]:
    """Indexes of the lines that may be running lines: the first and last two (one on a short page)."""
    k = _EDGE_LINES if n > 2 * _EDGE_LINES else 1
    return set(range(min(k, n))) | set(range(max(0, n - k), n))


def _edge_lines(page: str) -> list[str]:
    lines = page.split("\n")
    return [lines[i] for i in sorted(_edge_indexes(len(lines)))]


def _key(line: str) -> str:
    return _DIGITS.sub("#", "".join(line.split()))
