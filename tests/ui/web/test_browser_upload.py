"""A scanned report uploaded in the browser: its pages are reported as Tesseract reads them, then it
answers (issue 14). Real Chromium, real server, real OCR; the embedder is the fake one."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.ui.http.helpers import LiveServer
from tests.ui.web import test_browser as base
from tests.ui.web.conftest import ui_settings
from tests.ui.web.test_browser import _open_page, ask
from ui.http import create_app, mount_ui
from ui.service import GovQA

pytestmark = [pytest.mark.browser, pytest.mark.ocr, pytest.mark.slow]

browser = base.browser  # the same Chromium fixture (each module gets its own)

# two pages of a made-up town's report: the figure asked for is on the second page
FILLER = "全镇坚持稳中求进工作总基调，统筹推进各项工作，经济社会发展保持良好态势，人民群众获得感不断增强。"
REPORT = "\n".join(
    [
        "2025年测试镇政府工作报告",
        "——2025年1月10日在测试镇第一届人民代表大会第三次会议上",
        "测试镇镇长 张三",
        "各位代表：",
        "一、2024年工作回顾",
        *[FILLER] * 34,
        "2024年全镇实现税收收入3.6亿元，同比增长8%。",
        "二、2025年工作安排",
        "2025年全镇税收收入力争达到4亿元。",
    ]
)


def test_a_scanned_upload_shows_its_pages_then_answers(
    browser: Any, ui_index_template: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    from eval.real_files import scanned_pdf, text_pdf

    pytest.importorskip("reportlab")
    scan = scanned_pdf(text_pdf(REPORT, tmp_path / "t.pdf"), tmp_path / "测试镇扫描件.pdf", dpi=150)
    data = tmp_path / "data"
    shutil.copytree(ui_index_template, data)
    settings = ui_settings(data)
    service = GovQA(settings)
    app = create_app(settings, service)
    assert mount_ui(app, service)
    requests: list[str] = []
    try:
        with LiveServer(app) as server:
            pages = _open_page(browser, requests)
            page = next(pages)
            page.goto(f"{server.url}/ui/")
            page.get_by_role("tab", name="文档 · Documents").click()
            page.locator("#gq-upload input[type=file]").set_input_files(str(scan))
            page.locator("#gq-ingest").click()
            # the progress line names the pages read while Tesseract works through them
            expect(page.get_by_text(re.compile(r"已读 [1-9]/[2-9] 页")).first).to_be_visible(timeout=120_000)
            result = page.locator("#gq-upload-result")
            expect(result).to_contain_text("测试镇扫描件.pdf", timeout=180_000)
            expect(result).to_contain_text("added")
            expect(result).to_contain_text("read by OCR")
            page.get_by_role("tab", name="问答 · Ask").click()
            answer = ask(page, "测试镇2024年税收收入是多少？")
            assert "3.6亿元" in answer.locator(".gq-text").inner_text()
            next(pages, None)  # closes the context and checks no request left the machine
    finally:
        service.close()
