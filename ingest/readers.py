"""The readers: bytes of one format → raw text, or ``InputFileError`` saying why not.

``read_file`` dispatches on the suffix: .txt/.md, .pdf (``ingest.pdf_layout``: text layer in reading
order, tables as Markdown, scanned pages through OCR), .docx (paragraphs and tables in document order)
and page images .png/.jpg (``ingest.ocr``). Pure functions of (file name, bytes): ``ingest.loaders``
calls them directly for plain text and, for the formats parsed by third-party code, through
``ingest.sandbox``'s limited child process.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from govqa.errors import InputFileError
from ingest.ocr import OcrEngine, OcrUnavailable, open_image
from ingest.pdf_layout import PageProgress, read_pdf
from ingest.tables import to_markdown

log = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
SUPPORTED_SUFFIXES = (*TEXT_SUFFIXES, ".pdf", ".docx", *IMAGE_SUFFIXES)
MIN_CHARS = 20  # less than this is not a report


@dataclass(frozen=True)
class Read:
    """What a reader got from a file: its text, the pages OCR read and by which engine, page warnings."""

    text: str
    ocr_pages: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()
    ocr_engine: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "ocr_pages": list(self.ocr_pages),
            "warnings": list(self.warnings),
            "ocr_engine": self.ocr_engine,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Read:
        return cls(
            str(d["text"]),
            tuple(int(p) for p in d.get("ocr_pages", ())),
            tuple(str(w) for w in d.get("warnings", ())),
            str(d.get("ocr_engine", "")),
        )


def read_file(
    source: str,
    suffix: str,
    data: bytes,
    *,
    ocr: OcrEngine | None = None,
    progress: PageProgress | None = None,
) -> Read:
    """The text of one file by its suffix; ``ocr`` reads scanned pages and images (default: Tesseract
    in Simplified Chinese and English); ``progress(done, total)`` is called per page of a PDF."""
    engine = ocr or OcrEngine()
    try:
        if suffix == ".pdf":
            read = _read_pdf(source, data, engine, progress)
        elif suffix in IMAGE_SUFFIXES:
            read = _read_image(source, data, engine)
        else:
            read = Read(_TEXT_READERS[suffix](source, data))
    except OcrUnavailable as e:
        raise InputFileError(source, f"the file needs OCR, but {e}") from None
    if read.ocr_pages:
        read = Read(read.text, read.ocr_pages, read.warnings, engine.label)
    return read


def _read_text(source: str, data: bytes) -> str:
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputFileError(source, "the file looks binary (it contains NUL bytes), not text")
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(enc)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:  # GB18030 is a superset of GBK and GB2312: the usual encoding of Chinese government text
        text = data.decode("gb18030")
        if _mostly_printable(text):
            return text
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None and _mostly_printable(str(best)):
        log.info("%s: decoded as %s", source, best.encoding)
        return str(best)
    raise InputFileError(
        source, "cannot decode the text (not UTF-8 or GB18030/GBK); save it as UTF-8 and try again"
    )


def _mostly_printable(text: str) -> bool:
    if not text:
        return False
    bad = sum(1 for c in text if (ord(c) < 32 and c not in "\n\r\t\f") or c == "\ufffd")
    return bad / len(text) < 0.01


def _read_pdf(source: str, data: bytes, ocr: OcrEngine, progress: PageProgress | None) -> Read:
    from pdfminer.pdfdocument import PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfplumber.utils.exceptions import PdfminerException

    try:
        pdf = read_pdf(data, ocr=ocr, progress=progress)
    except OcrUnavailable:
        raise
    except (PDFPasswordIncorrect, PdfminerException) as e:
        if "password" in repr(e).lower() or isinstance(e, PDFPasswordIncorrect):
            raise InputFileError(source, "the PDF is encrypted; decrypt it and try again") from None
        raise InputFileError(source, f"cannot read the PDF ({e})") from None
    except (PDFSyntaxError, ValueError, KeyError, TypeError, OSError) as e:
        raise InputFileError(source, f"cannot read the PDF ({e})") from None
    text = pdf.text
    if len(text.strip()) < MIN_CHARS:
        if pdf.failed:
            raise InputFileError(source, "no page could be read: " + "; ".join(pdf.failed))
        raise InputFileError(
            source,
            f"the PDF holds no text: no text layer, and OCR of {len(pdf.ocr_pages)} page(s) found none "
            "(a blank or very faint scan?)",
        )
    return Read(text, tuple(pdf.ocr_pages), tuple(pdf.failed))


def _read_image(source: str, data: bytes, ocr: OcrEngine) -> Read:
    try:
        image = open_image(data)
    except (OSError, ValueError) as e:
        raise InputFileError(source, f"cannot read the image ({e})") from None
    try:
        text = ocr.read(image)
    except (RuntimeError, OSError) as e:
        raise InputFileError(source, f"OCR failed ({e})") from None
    return Read(text, (1,))


def _read_docx(source: str, data: bytes) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise InputFileError(source, "not a valid .docx file (it is not a zip package)")
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as e:
        raise InputFileError(source, f"cannot read the .docx ({e})") from None
    from docx.table import Table

    lines: list[str] = []
    for block in document.iter_inner_content():  # paragraphs and tables in document order
        if isinstance(block, Table):
            lines.append(to_markdown([_docx_row(row) for row in block.rows]))
        else:
            lines.append(block.text)
    return "\n".join(lines)


def _docx_row(row: Any) -> list[str]:
    """A row's cells; a merged cell repeats in every grid column it spans, so columns stay aligned."""
    return [cell.text for cell in row.cells]


_TEXT_READERS: dict[str, Callable[[str, bytes], str]] = {
    ".txt": _read_text,
    ".md": _read_text,
    ".markdown": _read_text,
    ".docx": _read_docx,
}
