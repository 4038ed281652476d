"""rag.overview: questions asking for several things are answered from the report's heading tree."""

from __future__ import annotations

import pytest

from govqa.types import Chunk, DocumentMeta
from rag.overview import asks_overview, asks_whole_report, outline, topic_terms, wanted_part

META = DocumentMeta(
    body="甲镇", title="2024年甲镇政府工作报告", years_reviewed=(2024,), years_planned=(2025,)
)


def _chunk(i: int, path: tuple[str, ...], text: str) -> Chunk:
    return Chunk(f"c{i}", "d", "a.txt", text, path, 0, len(text), META, i)


REVIEW, PLAN = "一、2024年工作回顾", "二、2025年工作安排"
CHUNKS = [
    _chunk(0, ("政府工作报告",), "各位代表：现在，我代表镇人民政府作报告。"),
    _chunk(1, (REVIEW,), "2024年，全镇经济稳中有进。"),
    _chunk(2, (REVIEW, "（一）产业发展势头强劲"), "投资动能持续增强。全年完成固定资产投资20亿元。"),
    _chunk(3, (REVIEW, "（一）产业发展势头强劲"), "营商环境不断优化。新增企业800家。"),
    _chunk(4, (REVIEW, "（二）民生福祉持续增进"), "民生保障有力有效。新增就业1000人。"),
    _chunk(5, (REVIEW, "（二）民生福祉持续增进"), "公共服务向优向好。新建学校2所。"),
    _chunk(6, (REVIEW, "（二）民生福祉持续增进"), "各位代表，成绩来之不易。"),
    _chunk(7, (PLAN, "（一）全力抓产业"), "加快产业转型发展。"),
    _chunk(8, (PLAN, "（二）全力抓生态"), "打造绿色生态宜居环境。"),
]


@pytest.mark.parametrize(
    "question",
    ["甲镇2024年的主要工作成绩有哪些？", "总结一下甲镇2024年政府工作报告", "2025年的重点工作有哪些？",
     "民生方面做了哪些工作？", "What were the main achievements in 2024?", "Summarise the 2024 report"],
)  # fmt: skip
def test_overview_questions_are_recognised(question: str) -> None:
    assert asks_overview(question)


@pytest.mark.parametrize("question", ["2024年甲镇税收收入是多少？", "计划新建几所学校？", "谁作的报告？"])
def test_fact_questions_are_not_overviews(question: str) -> None:
    assert not asks_overview(question)


def test_review_or_plan() -> None:
    assert wanted_part("2024年的主要工作成绩有哪些？", 2024, (2024,), (2025,)) == "review"
    assert wanted_part("2025年的重点工作有哪些？", 2025, (2024,), (2025,)) == "plan"
    assert wanted_part("明年有哪些主要任务？", None, (2024,), (2025,)) == "plan"
    assert asks_whole_report("总结一下甲镇2024年政府工作报告")
    assert wanted_part("总结一下甲镇2024年政府工作报告", 2024, (2024,), (2025,)) == ""


def test_an_outline_is_each_section_heading_with_its_lead_sentence() -> None:
    points, more = outline(CHUNKS, "review")
    assert [(p.heading, p.chunk.text[p.start : p.end]) for p in points] == [
        ("（一）产业发展势头强劲", "投资动能持续增强"),
        ("（二）民生福祉持续增进", "民生保障有力有效"),
    ]
    assert more == 0
    whole, _ = outline(CHUNKS, "")
    assert [p.heading for p in whole] == [
        "（一）产业发展势头强劲", "（二）民生福祉持续增进", "（一）全力抓产业", "（二）全力抓生态"
    ]  # fmt: skip


def test_a_topic_lists_the_paragraph_leads_of_its_section_without_the_closing_words() -> None:
    topics = topic_terms(("民生", "工作"), "民生方面做了哪些工作？")
    assert topics == ["民生"]
    points, _ = outline(CHUNKS, "review", topics)
    assert [p.chunk.text[p.start : p.end] for p in points] == ["民生保障有力有效", "公共服务向优向好"]
