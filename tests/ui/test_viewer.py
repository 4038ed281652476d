"""The document viewer: outline from the chunks' heading paths, the cited span highlighted, all escaped;
the routes are tested in tests/ui/http/test_documents.py."""

from __future__ import annotations

from govqa.types import Chunk, DocumentMeta
from ui.viewer import clamp_span, document_page, outline

TEXT = "2025年某镇政府工作报告\n一、2024年工作回顾\n全镇税收收入3亿元。<b>x</b>\n二、2025年工作安排\n新建学校2所。\n"


def chunk(i: int, path: tuple[str, ...], body: str) -> Chunk:
    start = TEXT.index(body)
    return Chunk(f"c{i}", "d", "a.txt", body, path, start, start + len(body), DocumentMeta(), ordinal=i)


CHUNKS = [
    chunk(0, ("一、2024年工作回顾",), "全镇税收收入3亿元。<b>x</b>"),
    chunk(1, ("二、2025年工作安排",), "新建学校2所。"),
]


def test_outline_places_each_heading_once_in_document_order() -> None:
    heads = outline(TEXT, CHUNKS)
    assert [(h.level, h.title) for h in heads] == [(1, "一、2024年工作回顾"), (1, "二、2025年工作安排")]
    assert all(TEXT[h.start :].startswith(h.title) for h in heads)


def test_page_highlights_the_span_and_escapes_the_report() -> None:
    start = TEXT.index("税收收入3亿元")
    span = clamp_span(TEXT, start, start + len("税收收入3亿元"))
    page = document_page("2025年某镇政府工作报告", "a.txt", TEXT, outline(TEXT, CHUNKS), span)
    assert "<mark id=gq-hit>税收收入3亿元</mark>" in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    assert page.count('href="#h') == 2 and "scrollIntoView" in page
    assert clamp_span(TEXT, 5, 2) is None and clamp_span(TEXT, 0, 10_000) is None
