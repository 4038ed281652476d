from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest

from govqa.errors import InputFileError
from ingest.loaders import expand_paths, load_bytes, load_file

MB = 1024 * 1024
REPORT_ZH = (
    "2019年精武镇政府工作报告\n一、2019年工作回顾\n2019年全镇预计实现税收收入18亿元，同比增长36.8%。\n"
)


def _pdf(text_ops: str) -> bytes:
    """A minimal one-page PDF; ``text_ops`` is the page's content stream (empty = no text layer)."""
    stream = text_ops.encode("latin-1")
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref))
    return out.getvalue()


def test_utf8_text_is_decoded() -> None:
    f = load_bytes("report.txt", REPORT_ZH.encode("utf-8"), max_bytes=MB)
    assert f.text == REPORT_ZH
    assert f.source == "report.txt"
    assert len(f.sha256) == 64


def test_utf8_bom_is_stripped() -> None:
    f = load_bytes("r.md", b"\xef\xbb\xbf" + REPORT_ZH.encode("utf-8"), max_bytes=MB)
    assert f.text == REPORT_ZH


@pytest.mark.parametrize("encoding", ["gb18030", "gbk"])
def test_gbk_family_is_detected(encoding: str) -> None:
    f = load_bytes("gbk.txt", REPORT_ZH.encode(encoding), max_bytes=MB)
    assert f.text == REPORT_ZH


def test_source_never_keeps_directories() -> None:
    f = load_bytes("../../etc/report.txt", REPORT_ZH.encode(), max_bytes=MB)
    assert f.source == "report.txt"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("tiny.txt", b"hi", "almost no text"),
        ("bin.txt", b"\x00\x01\x02binary\x00" * 10, "binary"),
        ("report.exe", b"MZ" + b"\x00" * 100, "unsupported file type '.exe'"),
        ("noext", REPORT_ZH.encode(), "unsupported file type '(none)'"),
        ("big.txt", b"x" * (MB + 1), "over the 1.0 MB limit"),
        ("fake.docx", REPORT_ZH.encode(), "not a valid .docx"),
        ("fake.pdf", b"not a pdf at all, just words and more words", "cannot read the PDF"),
    ],
)
def test_bad_inputs_name_the_file_and_reason(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(InputFileError) as ei:
        load_bytes(name, data, max_bytes=MB)
    assert ei.value.path == Path(name).name
    assert reason in ei.value.reason
    assert Path(name).name in str(ei.value)


def test_pdf_with_text_layer() -> None:
    pdf = _pdf("BT /F1 12 Tf 72 720 Td (Jingwu town 2019 tax revenue 1.8 billion yuan) Tj ET")
    f = load_bytes("report.pdf", pdf, max_bytes=MB)
    assert "Jingwu town 2019 tax revenue 1.8 billion yuan" in f.text


@pytest.mark.ocr
def test_blank_pdf_page_is_ocrd_and_found_empty() -> None:
    with pytest.raises(InputFileError) as ei:
        load_bytes("scan.pdf", _pdf(""), max_bytes=MB)
    assert "no text layer, and OCR of 1 page(s) found none" in ei.value.reason


def test_docx_paragraphs_and_tables() -> None:
    d = docx.Document()
    for line in REPORT_ZH.strip().split("\n"):
        d.add_paragraph(line)
    table = d.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "税收收入"
    table.rows[0].cells[1].text = "18亿元"
    buf = io.BytesIO()
    d.save(buf)
    f = load_bytes("report.docx", buf.getvalue(), max_bytes=MB)
    assert "2019年全镇预计实现税收收入18亿元" in f.text
    assert "| 税收收入 | 18亿元 |" in f.text


def test_load_file_refuses_oversize_before_reading(tmp_path: Path) -> None:
    p = tmp_path / "big.txt"
    p.write_bytes(b"a" * 2000)
    with pytest.raises(InputFileError, match="over the"):
        load_file(p, max_bytes=1000)


def test_load_file_missing(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="does not exist"):
        load_file(tmp_path / "nope.txt", max_bytes=MB)


def test_expand_paths_recurses_and_reports_missing(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "r1.txt").write_text(REPORT_ZH)
    (tmp_path / "a" / "notes.bin").write_bytes(b"\x00")
    (tmp_path / "r2.md").write_text(REPORT_ZH)
    (tmp_path / "empty").mkdir()
    files, errors = expand_paths(
        [tmp_path / "a", tmp_path / "r2.md", tmp_path / "missing.txt", tmp_path / "empty"]
    )
    assert [f.name for f in files] == ["r1.txt", "r2.md"]
    assert sorted(e.reason for e in errors) == [
        "no such file or folder",
        "the folder holds no .txt/.md/.pdf/.docx/.png/.jpg files",
    ]
