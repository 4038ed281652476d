"""Chat basics in a real browser (issue 17.6 and 17.2): a conversation survives a reload and can be
switched back to, ``[n]`` opens its citation card, the copy button copies the answer's text, and the
filters in force are named beside the input. Same app, browser and fixtures as ``test_browser``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.ui.web import test_browser as base
from tests.ui.web.test_browser import SCREENSHOTS, TIMEOUT_MS, Site, ask

pytestmark = pytest.mark.browser

# the same app, browser and page fixtures (each module gets its own server and browser)
site, browser, page = base.site, base.browser, base.page

QUESTION = "2019年精武镇税收收入是多少？"


def open_ui(pg: Any, site: Site) -> None:
    pg.goto(f"{site.url}/ui/")
    pg.locator("#gq-question textarea").wait_for()


def test_a_conversation_survives_a_reload_and_can_be_switched_back_to(page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    open_ui(page, site)
    assert "18亿元" in ask(page, QUESTION).locator(".gq-text").inner_text()
    chat = page.locator("#gq-chat")
    # saved after the answer (listed by its question): the browser keeps it encrypted, never as HTML
    expect(page.locator("#gq-convs input")).to_have_value(QUESTION)
    stored = page.evaluate("() => localStorage.getItem('govqa-conversations')")
    assert "18亿元" not in stored and "<div" not in stored

    page.reload()
    page.locator("#gq-question textarea").wait_for()
    expect(chat.locator(".message-row.user-row")).to_have_text([QUESTION])
    restored = chat.locator(".gq-answer.gq-restored")
    expect(restored).to_have_count(1)
    expect(restored.locator(".gq-text")).to_contain_text("18亿元")
    expect(page.locator("#gq-convs input")).to_have_value(QUESTION)

    # the follow-up still knows the conversation (its history was restored with it)
    assert "10.8亿元" in ask(page, "那2024年呢？").locator(".gq-text").inner_text()

    # a new conversation empties the chat; the saved one is still listed and opens again
    page.locator("#gq-new").click()
    expect(chat.locator(".message-row")).to_have_count(0)
    page.locator("#gq-convs input").click()
    page.get_by_role("option", name=QUESTION).click()
    expect(chat.locator(".message-row.user-row")).to_have_count(2)
    expect(chat.locator(".gq-answer.gq-restored")).to_have_count(2)
    page.reload()
    expect(page.locator("#gq-chat .message-row.user-row")).to_have_count(2)  # the one open at reload
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "ui-restored.png"), full_page=True)


def test_a_reference_marker_opens_its_citation_card(page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    open_ui(page, site)
    answer = ask(page, "How did Jingwu's tax revenue change from 2019 to 2024?")
    cards = answer.locator("details.gq-card")
    expect(cards).to_have_count(2)
    second = cards.nth(1)
    assert second.evaluate("d => d.open") is False  # only the first card starts open
    card_id = second.get_attribute("id")
    second = page.locator(f"details#{card_id}")  # (the answer locator follows the last answer)
    link = answer.locator(".gq-text a.gq-ref-link").filter(has_text="[2]").first
    assert link.get_attribute("href") == f"#{card_id}"
    link.click()
    expect(second).to_have_attribute("open", "")
    assert second.evaluate(
        "d => { const r = d.getBoundingClientRect(); return r.top >= 0 && r.top < window.innerHeight; }"
    )
    # ids are unique per answer: the same question again gets cards of its own
    ask(page, "How did Jingwu's tax revenue change from 2019 to 2024?")
    expect(page.locator("#gq-chat .gq-answer:not(.gq-pending)")).to_have_count(2)
    again = page.locator("#gq-chat .gq-answer").last
    expect(page.locator("#gq-chat details.gq-card")).to_have_count(4)
    assert again.locator("details.gq-card").nth(1).get_attribute("id") != card_id
    assert page.locator(f"details#{card_id}").count() == 1


@pytest.fixture
def clipboard_page(browser: Any, site: Site) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 1200}, locale="zh-CN")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    yield pg
    context.close()


def test_the_copy_button_puts_the_answer_text_on_the_clipboard(clipboard_page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    pg = clipboard_page
    open_ui(pg, site)
    answer = ask(pg, QUESTION)
    button = answer.locator("button.gq-copy")
    button.click()
    expect(button).to_contain_text("已复制")
    text = answer.locator(".gq-text").inner_text()
    assert "18亿元" in text
    assert pg.evaluate("() => navigator.clipboard.readText()") == text


def test_the_filters_in_force_are_named_beside_the_input(page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    open_ui(page, site)
    line = page.locator("#gq-filter-line")
    expect(line).to_contain_text("全部报告")
    page.locator("#gq-filters").get_by_text("筛选 · Filters").click()
    page.get_by_label("机构 · Body").click()
    page.get_by_role("option", name="精武镇", exact=True).click()
    expect(line).to_have_text("筛选：精武镇")
    page.get_by_label("年份 · Year").click()
    page.get_by_role("option", name="2024年", exact=True).click()
    expect(line).to_have_text("筛选：精武镇 · 2024年")
    box, row = line.bounding_box(), page.locator("#gq-input-row").bounding_box()
    assert box and row and 0 <= row["y"] - (box["y"] + box["height"]) < 40  # right above the input
