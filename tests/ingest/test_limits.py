"""Bounds on the work one file may cause: checked from the container before any parser runs."""

from __future__ import annotations

import io
import time
import zipfile

import pytest

from govqa.errors import InputFileError, InputTooLargeError
from ingest.limits import Deadline, Limits, check_file, check_text
from ingest.loaders import load_bytes


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out.getvalue()


def test_zip_limits_refuse_size_xml_entries_and_ratio() -> None:
    small = Limits(max_unzipped=1_000_000, max_xml=500_000, max_entries=3, max_ratio=50)
    with pytest.raises(InputTooLargeError, match="unpacks to"):
        check_file("a.docx", ".docx", _zip({"x.bin": b"\0" * 2_000_000}), small)
    with pytest.raises(InputTooLargeError, match="MB of XML"):
        check_file("a.docx", ".docx", _zip({"word/document.xml": b"<a/>" * 200_000}), small)
    with pytest.raises(InputTooLargeError, match="holds 4 files"):
        check_file("a.docx", ".docx", _zip({f"{i}.xml": b"<a/>" for i in range(4)}), small)
    loose = Limits(max_ratio=50)
    with pytest.raises(InputTooLargeError, match="fold when unpacked"):
        check_file("a.docx", ".docx", _zip({"media/x.bin": b"\0" * 3_000_000}), loose)
    check_file("a.docx", ".docx", _zip({"word/document.xml": b"<w:t>2025</w:t>"}), small)  # fine


def test_the_limits_apply_through_the_loader_with_413_semantics() -> None:
    bomb = _zip({"word/document.xml": b"<w:p/>" * 4_000_000})
    with pytest.raises(InputTooLargeError) as e:
        load_bytes("bomb.docx", bomb, max_bytes=10_000_000)
    assert e.value.http_status == 413 and isinstance(e.value, InputFileError)


def test_pdf_page_cap() -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(4):
        writer.add_blank_page(width=100, height=100)
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(InputTooLargeError, match="4 pages"):
        check_file("a.pdf", ".pdf", out.getvalue(), Limits(max_pages=3))
    check_file("a.pdf", ".pdf", out.getvalue(), Limits(max_pages=4))


def test_text_cap_and_deadline() -> None:
    with pytest.raises(InputTooLargeError, match="characters of text"):
        check_text("a.txt", "字" * 11, Limits(max_chars=10))
    deadline = Deadline("a.txt", 0.01)
    deadline.check()
    time.sleep(0.02)
    with pytest.raises(InputFileError, match="budget"):
        deadline.check()
