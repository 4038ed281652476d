"""The readers: bytes of one format → raw text, or ``InputFileError`` saying why not.

Pure functions of (file name, bytes). ``ingest.loaders`` calls them directly for plain text and, for
the binary formats parsed by third-party code, through ``ingest.sandbox``'s limited child process.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Callable

from govqa.errors import InputFileError

log = logging.getLogger(__name__)

MIN_CHARS = 20  # less than this is not a report


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


def _read_pdf(source: str, data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise InputFileError(source, "the PDF is encrypted; decrypt it and try again")
        pages = [page.extract_text() or "" for page in reader.pages]
    except InputFileError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as e:
        raise InputFileError(source, f"cannot read the PDF ({e})") from None
    text = "\n".join(pages)
    if len(text.strip()) < MIN_CHARS:
        raise InputFileError(
            source,
            "the PDF has no text layer (a scan?). OCR is not supported: convert it to text first",
        )
    return text


def _read_docx(source: str, data: bytes) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise InputFileError(source, "not a valid .docx file (it is not a zip package)")
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as e:
        raise InputFileError(source, f"cannot read the .docx ({e})") from None
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append("\t".join(cell.text for cell in row.cells))
    return "\n".join(lines)


READERS: dict[str, Callable[[str, bytes], str]] = {
    ".txt": _read_text,
    ".md": _read_text,
    ".markdown": _read_text,
    ".pdf": _read_pdf,
    ".docx": _read_docx,
}
