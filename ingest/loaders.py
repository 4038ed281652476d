"""Files → raw text.

``ingest.readers`` has one reader per format (.txt/.md, .pdf with its text layer or OCR, .docx, page
images). The binary formats are parsed in ``ingest.sandbox``'s limited child process. Anything we cannot
read as a report raises ``InputFileError`` naming the file and the reason, so a batch can report it and
go on.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from govqa.errors import InputFileError
from ingest.limits import Limits, check_file, check_text
from ingest.ocr import OcrEngine
from ingest.pdf_layout import PageProgress
from ingest.readers import IMAGE_SUFFIXES, MIN_CHARS, SUPPORTED_SUFFIXES, TEXT_SUFFIXES, read_file
from ingest.sandbox import read_isolated

log = logging.getLogger(__name__)

__all__ = ["IMAGE_SUFFIXES", "SUPPORTED_SUFFIXES", "TEXT_SUFFIXES", "LoadedFile", "load_bytes", "load_file"]
ISOLATED_SUFFIXES = (".pdf", ".docx", *IMAGE_SUFFIXES)  # parsed by third-party code: in a child process


@dataclass(frozen=True)
class LoadedFile:
    source: str  # file name only; never a path
    text: str
    sha256: str
    ocr_engine: str = ""  # the engine that read some pages (``OcrEngine.label``), "" when none did
    ocr_pages: tuple[int, ...] = ()  # 1-based pages read by OCR (an image is page 1)
    warnings: tuple[str, ...] = ()  # pages that could not be read while the rest could


def load_bytes(
    name: str,
    data: bytes,
    *,
    max_bytes: int,
    limits: Limits | None = None,
    progress: PageProgress | None = None,
    ocr: OcrEngine | None = None,
) -> LoadedFile:
    """Decode one file's bytes by its suffix. ``name`` is used for the error messages and the source.

    ``limits`` bound the work the file may cause (zip bombs, page counts, text size, and the parse in a
    child process): the defaults unless given. ``progress(done, total)`` is called per page of a PDF;
    ``ocr`` reads scanned pages and images (default: Tesseract; an engine given here, such as a test's
    fake, runs in this process).
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
    if limits.isolate and ocr is None and suffix in ISOLATED_SUFFIXES:  # untrusted binary formats
        read = read_isolated(
            suffix,
            source,
            data,
            seconds=limits.parse_seconds,
            memory_mb=limits.parse_memory_mb,
            progress=progress,
        )
    else:
        read = read_file(source, suffix, data, ocr=ocr, progress=progress)
    text = read.text
    check_text(source, text, limits)
    if len(text.strip()) < MIN_CHARS:
        raise InputFileError(source, f"the file holds almost no text ({len(text.strip())} characters)")
    return LoadedFile(
        source=source,
        text=text,
        sha256=hashlib.sha256(data).hexdigest(),
        ocr_engine=read.ocr_engine,
        ocr_pages=read.ocr_pages,
        warnings=read.warnings,
    )


def load_file(
    path: Path,
    *,
    max_bytes: int,
    limits: Limits | None = None,
    progress: PageProgress | None = None,
    ocr: OcrEngine | None = None,
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
    return load_bytes(
        path.name, path.read_bytes(), max_bytes=max_bytes, limits=limits, progress=progress, ocr=ocr
    )


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
