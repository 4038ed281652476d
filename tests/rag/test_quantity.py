"""rag.quantity: the measure word of an asked count and whether a clause states such a figure."""

from __future__ import annotations

import pytest

from rag.quantity import asked_measures, has_asked_number
from rag.question import QuestionInfo, analyze_question

KNOWN = ("精武镇", "西青区", "张家窝镇")


def ask(question: str) -> QuestionInfo:
    return analyze_question(question, known_bodies=KNOWN)


@pytest.mark.parametrize(
    ("question", "measures"),
    [
        ("张家窝镇2024年计划新建几所学校？", {"所"}),
        ("截至2021年西青区高新技术企业有多少家？", {"家"}),
        ("过去五年精武镇造林多少亩、植树多少株？", {"亩", "株"}),
        ("精武镇2019年新增就业多少人？", {"人"}),
        ("2019年精武镇新引进了多少个重点项目？", set()),  # 个 is any count
        ("精武镇今后五年计划出让多少亩土地、预计增收多少？", set()),  # one figure of any kind
        ("精武镇2024年规模工业总产值是多少？在全区街镇中排第几？", set()),
        ("精武镇2019年税收收入是多少？", set()),
    ],
)
def test_asked_measures(question: str, measures: set[str]) -> None:
    assert asked_measures(ask(question)) == measures


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("新建小学2所", True),
        ("新建小学 2 所", True),
        ("新建第五代日光温室10栋", False),
        ("投资1006万元", False),
        ("新建家兴里小区电动自行车充电设施", False),
    ],
)
def test_has_asked_number_of_the_asked_measure(text: str, expected: bool) -> None:
    assert has_asked_number(ask("张家窝镇2024年计划新建几所学校？"), text) is expected


def test_has_asked_number_with_a_magnitude_before_the_measure() -> None:
    assert has_asked_number(ask("西青区2022年新增就业多少人？"), "新增就业2.3万人")


def test_has_asked_number_any_figure_when_no_measure_is_named() -> None:
    q = ask("张家窝镇2024年绿亨种业科技园实验基地项目计划投资多少？")
    assert has_asked_number(q, "投资1006万元") and has_asked_number(q, "新建第五代日光温室10栋")
    assert not has_asked_number(q, "推动相关补贴政策落地落实")
