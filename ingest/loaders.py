"""Files → raw text.

One loader per format (.txt/.md, .pdf with a text layer, .docx). Anything we cannot read as a report
raises ``InputFileError`` naming the file and the reason, so a batch can report it and go on.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from govqa.errors import InputFileError
from ingest.limits import Limits, check_file, check_text
from ingest.readers import MIN_CHARS, READERS
from ingest.sandbox import read_isolated

log = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
SUPPORTED_SUFFIXES = (*TEXT_SUFFIXES, ".pdf", ".docx")
ISOLATED_SUFFIXES = (".pdf", ".docx")  # parsed by third-party code in a limited child process


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
        text = READERS[suffix](source, data)
    check_text(source, text, limits)
    if len(text.strip()) < MIN_CHARS:
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
