"""PDF text layers from the wild: running headers/footers, page numbers, two columns, tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.real_files import text_pdf
from ingest.clean import clean_text
from ingest.loaders import load_file
from ingest.pdf_layout import column_split, drop_running_lines
from ingest.tables import to_markdown

pytest.importorskip("reportlab")
MB = 1024 * 1024
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "003_7659820794adfa4e.txt"
PARAS = [line for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]


def _squash(text: str) -> str:
    return "".join(text.split())


def test_drop_running_lines_keeps_body_and_ignores_page_digits() -> None:
    pages = [f"2024年精武镇政府工作报告\n正文第{i}页的内容。\n更多内容{i}。\n第 {i} 页" for i in range(1, 6)]
    out = drop_running_lines(pages)
    assert out == [f"正文第{i}页的内容。\n更多内容{i}。" for i in range(1, 6)]
    assert drop_running_lines(pages[:2]) == pages[:2]  # too few pages to tell


def _word(x0: float, x1: float, top: float) -> dict[str, float]:
    return {"x0": x0, "x1": x1, "top": top}


def test_column_split_finds_the_gutter_only_on_two_column_pages() -> None:
    two = [_word(50, 280, t) for t in range(0, 400, 20)] + [_word(310, 545, t) for t in range(0, 400, 20)]
    gutter = column_split(two, 595)
    assert gutter is not None and 280 <= gutter <= 310
    one = [_word(50, 545, t) for t in range(0, 400, 20)]
    assert column_split(one, 595) is None


def test_text_pdf_reads_like_the_text(tmp_path: Path) -> None:
    text = "\n".join(PARAS)  # 6 pages
    pdf = text_pdf(text, tmp_path / "r.pdf", header="2024年精武镇政府工作报告")
    loaded = load_file(pdf, max_bytes=10 * MB)
    assert loaded.ocr_pages == ()
    cleaned = clean_text(loaded.text)
    # header, page numbers and wraps gone, CJK joined without spaces: the text as typeset, to the
    # character (paragraph breaks may differ where a wrapped line happened to end a sentence)
    assert _squash(cleaned) == _squash(clean_text(text))
    assert "精武镇政府工作报告\n" not in cleaned[200:] and "- 2 -" not in cleaned


def test_two_column_pdf_is_read_in_column_order(tmp_path: Path) -> None:
    text = "\n".join(PARAS[:60])  # 3 pages of two columns
    pdf = text_pdf(text, tmp_path / "two.pdf", columns=2, header="2024年精武镇政府工作报告")
    cleaned = clean_text(load_file(pdf, max_bytes=10 * MB).text)
    assert _squash(cleaned) == _squash(clean_text(text))


def test_pdf_table_becomes_a_markdown_table(tmp_path: Path) -> None:
    rows = [
        ["指标", "2024年完成", "2025年目标"],
        ["地区生产总值增速", "5.2%", "6%左右"],
        ["城镇新增就业", "1200人", "1300人"],
    ]
    pdf = text_pdf(PARAS[5], tmp_path / "t.pdf", tables=[("表1 2025年主要预期目标", rows)])
    lines = clean_text(load_file(pdf, max_bytes=MB).text).split("\n")
    i = lines.index("表1 2025年主要预期目标")
    assert lines[i + 1 : i + 5] == to_markdown(rows).split("\n")
