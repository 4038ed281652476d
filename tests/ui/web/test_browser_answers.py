"""Issue 12 in a real browser: an overview question is answered with a cited outline, the question's year
wins over the filters (with a visible note), an earlier body does not leak into a question about another
place, and a greeting gets the help answer. Same app, browser and fixtures as ``test_browser``."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.ui.web import test_browser as base
from tests.ui.web.test_browser import Site, ask

pytestmark = pytest.mark.browser

# the same app, browser and page fixtures (each module gets its own server and browser)
site, browser, page = base.site, base.browser, base.page

TAX_2019 = "2019年精武镇税收收入是多少？"
POINT = re.compile(r"^\s*\d+\.\s", re.MULTILINE)


def open_ui(pg: Any, site: Site) -> None:
    pg.goto(f"{site.url}/ui/")
    pg.locator("#gq-question textarea").wait_for()


def refused(answer: Any) -> bool:
    return bool(answer.evaluate("a => a.classList.contains('gq-refused')"))


def test_an_overview_question_is_answered_with_a_cited_outline(page: Any, site: Site) -> None:
    open_ui(page, site)
    answer = ask(page, "精武镇2024年的主要工作成绩有哪些？")
    text = answer.locator(".gq-text").inner_text()
    assert not refused(answer), text
    assert len(POINT.findall(text)) >= 3, text
    assert answer.locator(".gq-text sup.gq-ref").count() >= 3, text
    assert answer.locator("details.gq-card").count() >= 3
    assert "2024年精武镇政府工作报告" in text


def test_the_questions_year_wins_over_the_filters_with_a_visible_note(page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    open_ui(page, site)
    page.locator("#gq-filters").get_by_text("筛选 · Filters").click()
    page.get_by_label("机构 · Body").click()
    page.get_by_role("option", name="精武镇", exact=True).click()
    page.get_by_label("年份 · Year").click()
    page.get_by_role("option", name="2024年", exact=True).click()
    expect(page.locator("#gq-filter-line")).to_have_text("筛选：精武镇 · 2024年")

    answer = ask(page, TAX_2019)
    text_box = answer.locator(".gq-text")
    text = text_box.inner_text()
    assert not refused(answer), text
    assert "18亿元" in text and "10.8亿元" not in text, text
    note = "注意：问题问的是2019年，与筛选的年份“2024年”不一致，以下按问题回答。"
    assert note in text, text
    expect(text_box.get_by_text("以下按问题回答", exact=False)).to_be_visible()
    assert (
        "2019年精武镇政府工作报告" in answer.locator("details.gq-card").first.locator("summary").inner_text()
    )


def test_an_earlier_body_does_not_leak_into_a_question_about_another_place(page: Any, site: Site) -> None:
    open_ui(page, site)
    first = ask(page, TAX_2019)
    assert "18亿元" in first.locator(".gq-text").inner_text()
    answer = ask(page, "北京市2023年GDP是多少？")
    text = answer.locator(".gq-text").inner_text()
    assert refused(answer), text
    assert "北京市" in text, text
    assert "精武镇北京市" not in text, text
    assert answer.locator("details.gq-card").count() == 0


def test_a_greeting_gets_the_help_answer(page: Any, site: Site) -> None:
    open_ui(page, site)
    answer = ask(page, "你好")
    text = answer.locator(".gq-text").inner_text()
    assert not refused(answer), text
    assert answer.locator(".gq-related").count() == 0
    assert answer.locator("details.gq-card").count() == 0
    for body in ("精武镇", "张家窝镇", "西青区"):
        assert body in text, text
    for year in ("2019年", "2021年", "2024年"):
        assert year in text, text
    assert "可以这样问" in text and text.count("？") >= 2, text  # example questions
    assert len(text) < 600, text  # short
