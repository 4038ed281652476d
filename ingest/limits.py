"""Bounds on the work one uploaded file may cause, checked before a file is parsed.

A small file can stand for a huge amount of work: a 190 KB .docx can unzip to 57 MB of XML, a PDF can
hold thousands of pages. ``check_file`` refuses such a file from its container's own directory (the zip
entries' declared sizes, which ``zipfile`` also holds the reading to; the PDF's page count) before any
parser sees it. ``Deadline`` bounds the time the rest of the ingest may take.
"""

from __future__ import annotations

import io
import time
import zipfile
from dataclasses import dataclass

from govqa.errors import InputFileError, InputTooLargeError

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_unzipped: int = 100 * MB  # every entry of a zip package, decompressed
    max_xml: int = 16 * MB  # the XML parts of a zip package, decompressed (what the parser reads)
    max_entries: int = 2000
    max_ratio: float = 200.0  # decompressed / compressed, per entry (text XML is ~5-30)
    max_pages: int = 500
    max_chars: int = 2_000_000  # extracted text
    isolate: bool = True  # parse PDFs and .docx in a child process with the limits below
    parse_seconds: float = 600.0  # wall and CPU time for parsing one file
    parse_memory_mb: int = 1024  # address space of the parsing process

    @classmethod
    def from_settings(cls, settings: object) -> Limits:
        unzipped = int(float(getattr(settings, "max_unzipped_mb", 100.0)) * MB)
        return cls(
            max_unzipped=unzipped,
            max_xml=min(cls.max_xml, unzipped),
            max_entries=int(getattr(settings, "max_zip_entries", cls.max_entries)),
            max_pages=int(getattr(settings, "max_pdf_pages", cls.max_pages)),
            parse_seconds=float(getattr(settings, "ingest_budget_s", cls.parse_seconds)),
            parse_memory_mb=int(getattr(settings, "parse_memory_mb", cls.parse_memory_mb)),
        )


ZIP_SUFFIXES = (".docx",)
# parts a zip package may hold that no parser reads as markup (pictures); everything else counts as XML,
# whatever its name says: a part's type comes from [Content_Types].xml, not from its name
_PICTURES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".emf", ".wmf", ".webp")


def check_file(source: str, suffix: str, data: bytes, limits: Limits) -> None:
    """Raise ``InputFileError`` when ``data`` would take more work than ``limits`` allow."""
    if suffix in ZIP_SUFFIXES and zipfile.is_zipfile(io.BytesIO(data)):
        check_zip(source, data, limits)
    elif suffix == ".pdf":
        check_pdf(source, data, limits)


def check_zip(source: str, data: bytes, limits: Limits) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise InputFileError(source, f"not a readable zip package ({e})") from None
    if len(entries) > limits.max_entries:
        raise InputTooLargeError(
            source, f"the package holds {len(entries):,} files, over the limit of {limits.max_entries:,}"
        )
    total = sum(x.file_size for x in entries)
    if total > limits.max_unzipped:
        raise InputTooLargeError(
            source,
            f"the package unpacks to {total / MB:.0f} MB, over the {limits.max_unzipped / MB:.0f} MB "
            "limit (GOVQA_MAX_UNZIPPED_MB)",
        )
    xml = sum(x.file_size for x in entries if not x.filename.lower().endswith(_PICTURES))
    if xml > limits.max_xml:
        raise InputTooLargeError(
            source, f"the package holds {xml / MB:.0f} MB of XML, over the {limits.max_xml / MB:.0f} MB limit"
        )
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > 256 * 1024 and ratio > limits.max_ratio:
            raise InputTooLargeError(
                source, f"{entry.filename!r} expands {ratio:.0f}-fold when unpacked (a zip bomb?); refused"
            )


def check_pdf(source: str, data: bytes, limits: Limits) -> None:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        pages = len(PdfReader(io.BytesIO(data)).pages)
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError):
        return  # unreadable: the PDF loader says why
    if pages > limits.max_pages:
        raise InputTooLargeError(
            source,
            f"the PDF has {pages:,} pages, over the limit of {limits.max_pages:,} (GOVQA_MAX_PDF_PAGES)",
        )


def check_text(source: str, text: str, limits: Limits) -> None:
    if len(text) > limits.max_chars:
        raise InputTooLargeError(
            source, f"the file holds {len(text):,} characters of text, over the limit of {limits.max_chars:,}"
        )


class Deadline:
    """A time budget for one document: ``check()`` raises once it is spent."""

    def __init__(self, source: str, seconds: float) -> None:
        self.source = source
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.end:
            raise InputFileError(
                self.source,
                f"ingesting took longer than the {self.seconds:.0f} s budget (GOVQA_INGEST_BUDGET_S); "
                "split the file or raise the budget",
            )
