"""rag.quantity: the measure word of an asked count, and the quantity kinds (price, per capita) a
clause must state to answer."""

from __future__ import annotations

import pytest

from rag.quantity import (
    asked_kinds,
    asked_measures,
    has_asked_number,
    missing_kinds,
    named_measures,
    rival_measure,
)
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


# ---------------------------------------------------------------------------- kinds a clause must state


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("精武门·中华武林园的门票价格是多少？", ["price"]),
        ("武林园门票多少钱？", ["price"]),
        ("How much is a ticket to the Jingwu Gate park?", ["price"]),
        ("What is the admission fee of the park?", ["price"]),
        ("西青区2021年居民消费价格涨幅是多少？", ["price"]),
        ("What was Xiqing district's per-capita GDP in 2021?", ["per_capita"]),
        ("What was Xiqing's GDP per capita in 2021?", ["per_capita"]),
        ("西青区2021年人均地区生产总值是多少？", ["per_capita"]),
        ("西青区2021年居民人均可支配收入达到多少？", ["per_capita"]),
        ("西青区2021年地区生产总值是多少？", []),
        ("武林园门票收入是多少？", []),  # revenue, not a price
        ("精武镇2019年投入多少钱建设民心工程？", []),  # an amount, not a price
        ("How many tickets did the park sell?", ["amount"]),  # a count: a percentage does not answer it
        ("东丽县2022年全社会研发经费投入总额是多少亿元？", ["amount"]),
        ("What was Dongli County's resident population at the end of 2022?", ["amount"]),
        ("东丽县2022年研发经费投入强度是多少？", []),
        ("How much did the population grow in 2022?", []),  # a change: a percentage answers it
        ("Which office is in charge of the park?", []),
        ("2019年精武镇税收收入是多少？", []),
    ],
)
def test_asked_kinds(question: str, kinds: list[str]) -> None:
    assert [k.name for k in asked_kinds(ask(question))] == kinds


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("依托精武门·中华武林园爱国主义教育基地资源优势，共接待40所学校师生2万人次", ["price"]),
        ("精武门·中华武林园门票价格为60元", []),
        ("武林园成人票80元/人", []),
        ("精武门·中华武林园对市民免费开放", []),
    ],
)
def test_a_price_question_needs_a_price(text: str, missing: list[str]) -> None:
    assert missing_kinds(ask("精武门·中华武林园的门票价格是多少？"), text) == missing


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("2021年，预计完成地区生产总值915亿元，比2016年增长32%", ["per_capita"]),
        ("居民人均可支配收入达到48300元，比2016年增长41.2%", ["per_capita"]),  # 人均, another metric
        ("地区生产总值915亿元，居民人均可支配收入48300元", ["per_capita"]),
        ("人均地区生产总值达到13万元", []),
        ("人均可支配收入48300元，地区生产总值915亿元", ["per_capita"]),  # 人均 of another phrase
    ],
)
def test_a_per_capita_question_needs_the_metric_per_capita(text: str, missing: list[str]) -> None:
    assert missing_kinds(ask("What was Xiqing district's per-capita GDP in 2021?"), text) == missing


def test_a_per_capita_metric_named_as_one_word() -> None:
    q = ask("西青区2021年居民人均可支配收入达到多少？")
    assert missing_kinds(q, "居民人均可支配收入达到48300元") == []
    assert missing_kinds(q, "农村居民可支配收入增长8%") == ["per_capita"]


def test_per_capita_without_a_metric_in_the_question() -> None:
    q = ask("西青区人均住房面积是多少？")
    assert missing_kinds(q, "人均住房面积35平方米") == []
    assert missing_kinds(q, "住房面积35万平方米") == ["per_capita"]


# ---------------------------------------------------------------------------- rival measures of one thing


@pytest.mark.parametrize(
    ("question", "text", "rival"),
    [
        ("2024年我国新能源汽车出口多少辆？", "新能源汽车年产量突破1300万辆", "产量"),
        (
            "How many new energy vehicles did the county export in 2023?",
            "新能源汽车年产量突破3.2万辆",
            "产量",
        ),
        ("2023年茶叶销量是多少？", "茶叶产量达到1.8万吨", "产量"),
        ("外贸出口额是多少？", "外贸进出口总额完成23.5亿元", "进出口"),  # 进出口 is not 出口
        ("What were the county's imports in 2023?", "机电产品出口额9.6亿元", "出口"),
        ("2023年新增5G基站多少座？", "全县累计建成5G基站1260座", "累计"),
    ],
)
def test_a_figure_of_a_rival_measure(question: str, text: str, rival: str) -> None:
    assert rival_measure(ask(question), text) == rival


@pytest.mark.parametrize(
    ("question", "text"),
    [
        ("2024年新能源汽车年产量是多少？", "新能源汽车年产量突破1300万辆"),  # the asked measure
        ("新能源汽车出口多少辆？", "汽车出口585万辆，产量3100万辆"),  # the asked one is stated too
        ("新能源汽车出口多少辆？", "新能源汽车达到120万辆"),  # no measure stated: left to the other features
        ("新能源汽车出口多少辆？", "提升新能源汽车产量，全年接待游客120万人次"),  # the figure is not its
        ("累计收获粮食多少吨？", "实现粮食产量3000余吨"),  # 累计 and 产量 are no rivals
        ("2024年固定资产投资的预期目标是多少？", "完成固定资产投资95亿元"),  # targets are written with 完成
        ("精武镇2019年税收收入是多少？", "税收收入完成18亿元"),  # no measure asked
        ("累计新增就业多少人？", "新增就业1.2万人"),  # 新增 is asked, not a rival
    ],
)
def test_no_rival_measure(question: str, text: str) -> None:
    assert rival_measure(ask(question), text) == ""


def test_english_measures_come_from_the_glossary() -> None:
    assert named_measures(ask("How many cars did the county export?")) == {"出口"}
    assert named_measures(ask("What was the value of imports and exports?")) == {"进出口"}
    assert named_measures(ask("How much grain did the county produce?")) == frozenset()


def test_a_percentage_does_not_state_an_amount() -> None:
    q = ask("东丽县2022年全社会研发经费投入总额是多少亿元？")
    assert missing_kinds(q, "全社会研发经费投入强度达到1.9%") == ["amount"]
    assert missing_kinds(q, "全社会研发经费投入总额7.8亿元，投入强度1.9%") == []
