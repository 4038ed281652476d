"""Files → raw text.

One loader per format: .txt/.md, .pdf (``ingest.pdf_layout``: text layer in reading order, tables as
Markdown, scanned pages through OCR), .docx (paragraphs and tables in document order), and page images
.png/.jpg (``ingest.ocr``). Anything we cannot read as a report raises ``InputFileError`` naming the file
and the reason, so a batch can report it and go on.
"""

from __future__ import annotations

import hashlib
import io
import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govqa.errors import InputFileError
from ingest.ocr import OcrEngine, OcrUnavailable, open_image
from ingest.pdf_layout import PageProgress, read_pdf
from ingest.tables import to_markdown

log = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
SUPPORTED_SUFFIXES = (*TEXT_SUFFIXES, ".pdf", ".docx", *IMAGE_SUFFIXES)
_MIN_CHARS = 20  # less than this is not a report


@dataclass(frozen=True)
class LoadedFile:
    source: str  # file name only; never a path
    text: str
    sha256: str
    ocr_engine: str = ""  # the engine that read some pages (``OcrEngine.label``), "" when none did
    ocr_pages: tuple[int, ...] = ()  # 1-based pages read by OCR (an image is page 1)
    warnings: tuple[str, ...] = ()  # pages that could not be read while the rest could


@dataclass(frozen=True)
class _Read:
    text: str
    ocr_pages: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()


def load_bytes(
    name: str,
    data: bytes,
    *,
    max_bytes: int,
    progress: PageProgress | None = None,
    ocr: OcrEngine | None = None,
) -> LoadedFile:
    """Decode one file's bytes by its suffix. ``name`` is used for the error messages and the source.

    ``progress(done, total)`` is called per page of a PDF; ``ocr`` reads scanned pages and images
    (default: Tesseract in Simplified Chinese and English).
    """
    source = Path(name).name
    suffix = Path(source).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InputFileError(
            source,
            f"unsupported file type {suffix or '(none)'!r}; supported: {', '.join(SUPPORTED_SUFFIXES)}",
        )
    if len(data) == 0:
        raise InputFileError(source, "the file is empty")
    if len(data) > max_bytes:
        raise InputFileError(
            source,
            f"the file is {len(data) / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit "
            "(raise GOVQA_MAX_FILE_MB to allow it)",
        )
    engine = ocr or OcrEngine()
    try:
        if suffix == ".pdf":
            read = _read_pdf(source, data, engine, progress)
        elif suffix in IMAGE_SUFFIXES:
            read = _read_image(source, data, engine)
        else:
            read = _Read(_READERS[suffix](source, data))
        label = engine.label if read.ocr_pages else ""
    except OcrUnavailable as e:
        raise InputFileError(source, f"the file needs OCR, but {e}") from None
    text = read.text
    if len(text.strip()) < _MIN_CHARS:
        raise InputFileError(source, f"the file holds almost no text ({len(text.strip())} characters)")
    return LoadedFile(
        source=source,
        text=text,
        sha256=hashlib.sha256(data).hexdigest(),
        ocr_engine=label,
        ocr_pages=read.ocr_pages,
        warnings=read.warnings,
    )


def load_file(
    path: Path, *, max_bytes: int, progress: PageProgress | None = None, ocr: OcrEngine | None = None
) -> LoadedFile:
    if not path.is_file():
        raise InputFileError(str(path), "not a file (or it does not exist)")
    size = path.stat().st_size
    if size > max_bytes:  # refuse before reading a huge file into memory
        raise InputFileError(
            path.name,
            f"the file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit "
            "(raise GOVQA_MAX_FILE_MB to allow it)",
        )
    return load_bytes(path.name, path.read_bytes(), max_bytes=max_bytes, progress=progress, ocr=ocr)


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


def _read_pdf(source: str, data: bytes, ocr: OcrEngine, progress: PageProgress | None) -> _Read:
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
    if len(text.strip()) < _MIN_CHARS:
        if pdf.failed:
            raise InputFileError(source, "no page could be read: " + "; ".join(pdf.failed))
        raise InputFileError(
            source,
            f"the PDF holds no text: no text layer, and OCR of {len(pdf.ocr_pages)} page(s) found none "
            "(a blank or very faint scan?)",
        )
    return _Read(text, tuple(pdf.ocr_pages), tuple(pdf.failed))


def _read_image(source: str, data: bytes, ocr: OcrEngine) -> _Read:
    try:
        image = open_image(data)
    except (OSError, ValueError) as e:
        raise InputFileError(source, f"cannot read the image ({e})") from None
    try:
        text = ocr.read(image)
    except (RuntimeError, OSError) as e:
        raise InputFileError(source, f"OCR failed ({e})") from None
    return _Read(text, (1,))


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


_READERS: dict[str, Callable[[str, bytes], str]] = {
    ".txt": _read_text,
    ".md": _read_text,
    ".markdown": _read_text,
    ".docx": _read_docx,
}


def expand_paths(paths: list[Path]) -> tuple[list[Path], list[InputFileError]]:
    """Files named directly, plus the supported files inside named folders (recursively, sorted)."""
    files: list[Path] = []
    errors: list[InputFileError] = []
    for p in paths:
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUPPORTED_SUFFIXES)
            if not found:
                errors.append(
                    InputFileError(str(p), "the folder holds no .txt/.md/.pdf/.docx/.png/.jpg files")
                )
            files.extend(found)
        elif p.exists():
            files.append(p)
        else:
            errors.append(InputFileError(str(p), "no such file or folder"))
    return files, errors
