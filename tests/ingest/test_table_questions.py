"""A question about a table cell is answered from that cell, with the table header in the citation."""

from __future__ import annotations

from pathlib import Path

from eval.real_files import targets_docx
from govqa.settings import Settings
from ingest.loaders import load_file
from ui.service import GovQA

ROWS = [
    ["指标", "2024年完成", "2025年目标"],
    ["地区生产总值增速", "5.2%", "6%左右"],
    ["一般公共预算收入", "12.3亿元", "13亿元"],
    ["城镇新增就业", "1200人", "1300人"],
    ["粮食播种面积", "3.1万亩", "3.2万亩"],
]
INTRO = (
    "2025年测试镇政府工作报告\n——2025年1月10日在测试镇第一届人民代表大会第三次会议上\n测试镇镇长 张三\n"
    "各位代表：\n一、2024年工作回顾\n2024年全镇经济平稳增长。\n二、2025年工作安排\n"
    "今年经济社会发展的主要预期目标如下。"
)


def test_cell_question_cites_the_row_under_its_header(fake_settings: Settings, tmp_path: Path) -> None:
    docx_path = targets_docx(tmp_path / "targets.docx", "表1 2025年主要预期目标", ROWS, intro=INTRO)
    service = GovQA(fake_settings)
    outcome = service.ingest_loaded(load_file(docx_path, max_bytes=1 << 20))
    assert outcome.status == "added", outcome.reason
    answer = service.ask("测试镇2025年一般公共预算收入目标是多少？")
    assert not answer.refused, answer.text
    assert "13亿元" in answer.text
    cited = answer.citations[0]
    assert "| 一般公共预算收入 | 12.3亿元 | 13亿元 |" in cited.passage
    assert "| 指标 | 2024年完成 | 2025年目标 |" in (cited.lead + cited.passage)


def test_citation_card_shows_the_table_lead_and_the_ocr_note() -> None:
    from govqa.types import Citation
    from ui.web.render import citation_card

    c = Citation(
        n=1,
        chunk_id="c",
        doc_id="d",
        source="scan.pdf",
        title="t",
        heading_path=(),
        quote="| 城镇新增就业 | 1200人 | 1300人 |",
        start=100,
        end=128,
        passage="| 城镇新增就业 | 1200人 | 1300人 |",
        passage_start=100,
        lead="| 指标 | 2024年完成 | 2025年目标 |\n| --- | --- | --- |",
        ocr_note="text of page(s) 1-3 read by OCR (tesseract 5.3.0 (chi_sim+eng)); check figures",
    )
    html = citation_card(c)
    assert "| 指标 | 2024年完成 | 2025年目标 |" in html
    assert html.index("2025年目标") < html.index("<mark>")
    assert "read by OCR (tesseract" in html
