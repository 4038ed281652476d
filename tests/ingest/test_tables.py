"""Tables kept whole: Markdown rendering, finding tables again, clean-up and chunking by rows."""

from __future__ import annotations

import io

import docx

from govqa.types import Document, DocumentMeta
from ingest.chunking import chunk_document, table_spans
from ingest.clean import clean_text
from ingest.loaders import load_bytes
from ingest.structure import parse_sections
from ingest.tables import find_tables, is_caption, split_row, to_markdown

ROWS = [
    ["指标", "2024年完成", "2025年目标"],
    ["地区生产总值增速", "5.2%", "6%左右"],
    ["一般公共预算收入", "12.3亿元", "13亿元"],
    ["城镇新增就业", "1200人", "1300人"],
]
MB = 1024 * 1024


def test_to_markdown_header_separator_and_wrapped_cells() -> None:
    md = to_markdown([["指标", "目标"], ["地区生产\n总值", None], ["", ""], ["a|b", "6%"]])
    assert md.split("\n") == [
        "| 指标 | 目标 |",
        "| --- | --- |",
        "| 地区生产总值 |  |",
        "| a\\|b | 6% |",
    ]
    assert split_row("| a\\|b | 6% |") == ["a\\|b", "6%"]


def test_find_tables_with_caption() -> None:
    text = "前言。\n表1 2025年主要预期目标\n" + to_markdown(ROWS) + "\n后记。"
    (t,) = find_tables(text)
    assert text[t.start : t.end].startswith("表1 2025年主要预期目标\n| 指标 |")
    assert text[t.end - 1] == "|" and text[t.header_end - 5 : t.header_end] == "--- |"
    assert text[t.body_start :].startswith("| 地区生产总值增速 |")
    assert is_caption("2025年主要预期目标") and not is_caption("今年的目标是发展经济。")


def test_clean_keeps_rows_on_their_own_lines() -> None:
    raw = "主要目标如下\n表1 主要预期目标\n|  指标 | 2025年 目标 |\n| --- | --- |\n| 地区 生产总值增速 | 6 % |\n今年要继续努力，\n推动发展。"
    lines = clean_text(raw).split("\n")
    assert "| 指标 | 2025年目标 |" in lines
    assert "| 地区生产总值增速 | 6% |" in lines
    assert "今年要继续努力，推动发展。" in lines


def _doc(text: str) -> Document:
    return Document("d" * 16, "t.docx", text, DocumentMeta(title="2025年测试镇政府工作报告"), "0" * 64)


def test_long_table_is_chunked_by_rows_with_caption_and_header_repeated() -> None:
    rows = [ROWS[0]] + [[f"指标{i}", f"{i}亿元", f"{i + 1}亿元"] for i in range(40)]
    text = "一、2025年工作安排\n表2 主要指标\n" + to_markdown(rows)
    doc = _doc(text)
    chunks = chunk_document(doc, parse_sections(text), max_tokens=120, overlap_tokens=10, count_tokens=len)
    assert len(chunks) > 2
    header = "表2 主要指标\n| 指标 | 2024年完成 | 2025年目标 |\n| --- | --- | --- |"
    assert chunks[0].text.startswith(header) and chunks[0].lead == ""
    for c in chunks:
        assert c.text == text[c.start : c.end]  # offsets still point at the stored text
        assert len(c.lead) + len(c.text) <= 121
        lines = c.text.split("\n")
        assert all(line.startswith("| ") and line.endswith(" |") for line in lines[1:])  # whole rows
    for c in chunks[1:]:
        assert c.lead == header
        assert c.embed_text.split("\n")[1:4] == header.split("\n")
    body_rows = [
        line for c in chunks for line in c.text.split("\n") if line.startswith("| 指标") and line[4].isdigit()
    ]
    assert body_rows == [to_markdown([r, r]).split("\n")[0] for r in rows[1:]]  # every row once


def test_table_that_fits_is_one_chunk_apart_from_the_prose() -> None:
    text = (
        "一、2025年工作安排\n今年目标如下。\n表1 2025年主要预期目标\n"
        + to_markdown(ROWS)
        + "\n我们要努力完成。"
    )
    doc = _doc(text)
    chunks = chunk_document(doc, parse_sections(text), max_tokens=400, overlap_tokens=10, count_tokens=len)
    assert [c.text.split("\n")[0] for c in chunks] == [
        "今年目标如下。",
        "表1 2025年主要预期目标",
        "我们要努力完成。",
    ]
    (t,) = find_tables(text)
    assert table_spans(text, t, 400, len) == [(t.start, t.end, "")]


def test_docx_table_in_document_order() -> None:
    d = docx.Document()
    d.add_paragraph("今年主要预期目标如下：")
    d.add_paragraph("表1 2025年主要预期目标")
    table = d.add_table(rows=len(ROWS), cols=3)
    for r, row in enumerate(ROWS):
        for c, cell in enumerate(row):
            table.cell(r, c).text = cell
    d.add_paragraph("以上目标将努力完成。")
    buf = io.BytesIO()
    d.save(buf)
    text = load_bytes("targets.docx", buf.getvalue(), max_bytes=MB).text
    assert text.split("\n") == [
        "今年主要预期目标如下：",
        "表1 2025年主要预期目标",
        *to_markdown(ROWS).split("\n"),
        "以上目标将努力完成。",
    ]
