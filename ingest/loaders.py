"""Files → raw text.

One loader per format (.txt/.md, .pdf with a text layer, .docx). Anything we cannot read as a report
raises ``InputFileError`` naming the file and the reason, so a batch can report it and go on.
"""

from __future__ import annotations

import hashlib
import io
import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from govqa.errors import InputFileError
from ingest.limits import Limits, check_file, check_text
from ingest.sandbox import read_isolated

log = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
SUPPORTED_SUFFIXES = (*TEXT_SUFFIXES, ".pdf", ".docx")
ISOLATED_SUFFIXES = (".pdf", ".docx")  # parsed by third-party code in a limited child process
_MIN_CHARS = 20  # less than this is not a report


@dataclass(frozen=True)
class LoadedFile:
    source: str  # file name only; never a path
    text: str
    sha256: str


def load_bytes(name: str, data: bytes, *, max_bytes: int, limits: Limits | None = None) -> LoadedFile:
    """Decode one file's bytes by its suffix. ``name`` is used for the error messages and the source.

    ``limits`` bound the work the file may cause (zip bombs, page counts, text size): the defaults
    unless given.
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
    limits = limits or Limits()
    check_file(source, suffix, data, limits)
    if limits.isolate and suffix in ISOLATED_SUFFIXES:  # untrusted binary formats: parsed in a sandbox
        text = read_isolated(
            suffix, source, data, seconds=limits.parse_seconds, memory_mb=limits.parse_memory_mb
        )
    else:
        text = _READERS[suffix](source, data)
    check_text(source, text, limits)
    if len(text.strip()) < _MIN_CHARS:
        raise InputFileError(source, f"the file holds almost no text ({len(text.strip())} characters)")
    return LoadedFile(source=source, text=text, sha256=hashlib.sha256(data).hexdigest())


def load_file(path: Path, *, max_bytes: int, limits: Limits | None = None) -> LoadedFile:
    if not path.is_file():
        raise InputFileError(str(path), "not a file (or it does not exist)")
    size = path.stat().st_size
    if size > max_bytes:  # refuse before reading a huge file into memory
        raise InputFileError(
            path.name,
            f"the file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit "
            "(raise GOVQA_MAX_FILE_MB to allow it)",
        )
    return load_bytes(path.name, path.read_bytes(), max_bytes=max_bytes, limits=limits)


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
    if len(text.strip()) < _MIN_CHARS:
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


_READERS: dict[str, Callable[[str, bytes], str]] = {
    ".txt": _read_text,
    ".md": _read_text,
    ".markdown": _read_text,
    ".pdf": _read_pdf,
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
                errors.append(InputFileError(str(p), "the folder holds no .txt/.md/.pdf/.docx files"))
            files.extend(found)
        elif p.exists():
            files.append(p)
        else:
            errors.append(InputFileError(str(p), "no such file or folder"))
    return files, errors
