"""rag.precedence: a year, body or place the question names wins over contradicting filters, with a note."""

from __future__ import annotations

from govqa.types import DocumentMeta
from rag.precedence import conflicts, without
from rag.question import analyze_question
from rag.scope import Filters

KNOWN = ["甲镇", "乙镇"]


def test_no_filters_no_conflict() -> None:
    assert conflicts(analyze_question("2019年甲镇税收收入是多少？", KNOWN), None) == []


def test_a_year_the_filter_contradicts_is_dropped_with_a_note() -> None:
    info = analyze_question("2019年甲镇税收收入是多少？", KNOWN)
    filters = Filters(body="甲镇", year=2024)
    found = conflicts(info, filters)
    assert [c.field for c in found] == ["year"]
    assert without(filters, found) == Filters(body="甲镇")
    assert found[0].note("zh") == "注意：问题问的是2019年，与筛选的年份“2024年”不一致，以下按问题回答。"


def test_a_question_agreeing_with_the_filters_keeps_them() -> None:
    info = analyze_question("2024年甲镇税收收入是多少？", KNOWN)
    assert conflicts(info, Filters(body="甲镇", year=2024)) == []
    assert conflicts(analyze_question("税收收入是多少？", KNOWN), Filters(body="甲镇", year=2024)) == []


def test_a_body_or_a_place_the_filter_contradicts() -> None:
    filters = Filters(body="甲镇", year=2024)
    found = conflicts(analyze_question("乙镇2024年税收收入是多少？", KNOWN), filters)
    assert [c.field for c in found] == ["body"] and without(filters, found) == Filters(year=2024)
    found = conflicts(analyze_question("税收收入是多少？", KNOWN), Filters(body="甲镇"), places=["丙市"])
    assert [c.field for c in found] == ["body"] and without(Filters(body="甲镇"), found) is None


def test_a_document_filter_the_question_contradicts() -> None:
    meta = DocumentMeta(
        body="甲镇", title="2019年甲镇政府工作报告", years_reviewed=(2019,), years_planned=(2020,)
    )
    filters = Filters(document="a.txt")
    found = conflicts(analyze_question("2024年税收收入是多少？", KNOWN), filters, document_meta=meta)
    assert [c.field for c in found] == ["document"] and "2019年甲镇政府工作报告" in found[0].note("zh")
    assert conflicts(analyze_question("2020年目标是什么？", KNOWN), filters, document_meta=meta) == []


def test_the_english_note() -> None:
    info = analyze_question("What was the tax revenue in 2019?", KNOWN)
    (c,) = conflicts(info, Filters(year=2024))
    assert (
        c.note("en") == "Note: the question asks about 2019, not the filtered year “2024”; answered as asked."
    )
