"""Real files made from the sample reports with real tools, for tests, eval and bench.

- ``text_pdf``: a report typeset as a PDF with a text layer (reportlab, the WenQuanYi Zen Hei TrueType
  font from Debian ``fonts-wqy-zenhei`` embedded), with a running header, a page-number footer, one or
  two columns, and optional tables drawn with ruling lines;
- ``scanned_pdf``: any PDF rasterised (poppler's ``pdftoppm``) and wrapped back into a PDF of page
  images with no text layer (``img2pdf``), as a scanner would make it;
- ``targets_docx``: a .docx with a paragraph, a caption and a table of targets (python-docx).

``python -m eval.real_files OUT_DIR [--scanned]`` writes ``OUT_DIR/pdf/<sample>.pdf`` (and
``OUT_DIR/scanned/<sample>.pdf``) for the five samples, the sets ``govqa eval --reports`` runs on.
reportlab is a dev dependency; the Debian tools are installed by scripts/install.sh.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from govqa.errors import ConfigError

FONT_FILE = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
FONT = "WenQuanYiZenHei"
SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
_PAGE_W, _PAGE_H = 595.0, 842.0  # A4 in points
_MARGIN = 56.0
_SIZE = 11.0
_LEADING = 17.0

Table = tuple[str, Sequence[Sequence[str]]]  # (caption, rows with the header first)


def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        if not FONT_FILE.exists():
            raise ConfigError(
                f"{FONT_FILE} is missing: apt-get install fonts-wqy-zenhei (scripts/install.sh)"
            )
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_FILE), subfontIndex=0))
    return FONT


def wrap(text: str, width: float, size: float = _SIZE) -> list[str]:
    """``text`` broken into lines no wider than ``width`` points (character by character, as CJK sets)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    font = _font()
    lines: list[str] = []
    for para in text.split("\n"):
        line = ""
        for ch in para.strip():
            if line and stringWidth(line + ch, font, size) > width:
                lines.append(line)
                line = ""
            line += ch
        if line:
            lines.append(line)
    return lines


def text_pdf(
    text: str,
    out: Path,
    *,
    columns: int = 1,
    header: str = "",
    tables: Sequence[Table] = (),
) -> Path:
    """Typeset ``text`` (paragraphs on lines) as a PDF with a text layer; tables follow the text."""
    from reportlab.pdfgen.canvas import Canvas

    font = _font()
    canvas = Canvas(str(out), pagesize=(_PAGE_W, _PAGE_H))
    gutter = 24.0
    col_w = (_PAGE_W - 2 * _MARGIN - gutter * (columns - 1)) / columns
    lines = wrap(text, col_w)
    per_col = int((_PAGE_H - 2 * _MARGIN - 20) // _LEADING)
    page = 0
    y = 0.0

    def start_page() -> None:
        nonlocal page
        if page:
            canvas.showPage()
        page += 1
        canvas.setFont(font, 9)
        if header:
            canvas.drawCentredString(_PAGE_W / 2, _PAGE_H - 36, header)
        canvas.drawCentredString(_PAGE_W / 2, 30, f"- {page} -")

    i = 0
    while i < len(lines):
        start_page()
        canvas.setFont(font, _SIZE)
        for col in range(columns):
            x = _MARGIN + col * (col_w + gutter)
            y = _PAGE_H - _MARGIN - 20
            for line in lines[i : i + per_col]:
                canvas.drawString(x, y, line)
                y -= _LEADING
            i += per_col
            if i >= len(lines):
                break
    for caption, rows in tables:
        height = _LEADING * (len(rows) + 2)
        if y - height < _MARGIN or columns > 1:
            start_page()
            y = _PAGE_H - _MARGIN - 20
        y = _draw_table(canvas, caption, rows, y)
    canvas.save()
    return out


def _draw_table(canvas: object, caption: str, rows: Sequence[Sequence[str]], y: float) -> float:
    from reportlab.pdfgen.canvas import Canvas

    assert isinstance(canvas, Canvas)
    font = _font()
    canvas.setFont(font, _SIZE)
    canvas.drawString(_MARGIN, y, caption)
    y -= _LEADING * 1.5
    ncols = max(len(r) for r in rows)
    widths = [(_PAGE_W - 2 * _MARGIN) / ncols] * ncols
    row_h = _LEADING + 4
    top = y + _LEADING - 2
    for r, row in enumerate(rows):
        x = _MARGIN
        for c, cell in enumerate(row):
            canvas.drawString(x + 4, top - (r + 1) * row_h + 6, cell)
            x += widths[c]
    bottom = top - len(rows) * row_h
    for r in range(len(rows) + 1):
        canvas.line(_MARGIN, top - r * row_h, _PAGE_W - _MARGIN, top - r * row_h)
    x = _MARGIN
    for w in [*widths, 0.0]:
        canvas.line(x, top, x, bottom)
        x += w
    return bottom - _LEADING * 2


def scanned_pdf(pdf: Path, out: Path, *, dpi: int = 150) -> Path:
    """Rasterise ``pdf`` (pdftoppm, greyscale PNG at ``dpi``) and wrap the pages in a PDF (img2pdf)."""
    for tool in ("pdftoppm", "img2pdf"):
        if shutil.which(tool) is None:
            raise ConfigError(
                f"{tool} is missing: apt-get install poppler-utils img2pdf (scripts/install.sh)"
            )
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf), f"{tmp}/page"], check=True, timeout=600
        )
        pages = sorted(Path(tmp).glob("page-*.png"))
        subprocess.run(["img2pdf", *map(str, pages), "-o", str(out)], check=True, timeout=600)
    return out


def targets_docx(out: Path, caption: str, rows: Sequence[Sequence[str]], intro: str = "") -> Path:
    """A .docx with an optional paragraph, then ``caption`` and a table of ``rows`` (header first)."""
    import docx

    document = docx.Document()
    if intro:
        document.add_paragraph(intro)
    document.add_paragraph(caption)
    table = document.add_table(rows=len(rows), cols=max(len(r) for r in rows))
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            table.cell(r, c).text = cell
    document.save(str(out))
    return out


def sample_pdfs(out_dir: Path, *, scanned: bool = False, dpi: int = 150) -> list[Path]:
    """Every sample report as a text-layer PDF in ``out_dir/pdf`` (and a scan in ``out_dir/scanned``)."""
    made: list[Path] = []
    (out_dir / "pdf").mkdir(parents=True, exist_ok=True)
    if scanned:
        (out_dir / "scanned").mkdir(parents=True, exist_ok=True)
    for txt in sorted(SAMPLES.glob("*.txt")):
        text = "\n".join(line for line in txt.read_text(encoding="utf-8").splitlines() if line.strip())
        pdf = text_pdf(
            text, out_dir / "pdf" / f"{txt.stem}.pdf", header=txt.stem.split("_")[0] + " 政府工作报告"
        )
        made.append(pdf)
        if scanned:
            made.append(scanned_pdf(pdf, out_dir / "scanned" / f"{txt.stem}.pdf", dpi=dpi))
    return made


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--scanned", action="store_true", help="also rasterise each PDF into a scan")
    parser.add_argument("--dpi", type=int, default=150, help="scan resolution (default 150)")
    args = parser.parse_args(argv)
    for path in sample_pdfs(args.out_dir, scanned=args.scanned, dpi=args.dpi):
        print(path)


if __name__ == "__main__":
    main()
