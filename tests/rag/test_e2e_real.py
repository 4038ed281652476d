"""End to end with the real embedding model (multilingual-e5-small) over the five sample reports: the
answer text and its citations, for a fact from each report, a speaker, a comparison across two reports,
an English question, and abstention. The service is built once per session (``real_service``)."""

from __future__ import annotations

import re

import pytest

from govqa.types import Answer, Citation, Filters
from rag.extractive_answerer import EN_LEAD
from ui.service import GovQA

pytestmark = pytest.mark.model

JW2021, JW2024, XQ2021 = "000_09e983e223e49bd2.txt", "001_2215fab11d81e0ce.txt", "002_1e5a79295a0b2245.txt"
JW2019, ZJW2024 = "003_7659820794adfa4e.txt", "004_53dbeab9c8777d1d.txt"


def squash(text: str) -> str:
    """Without whitespace: the cleaned reports keep PDF spaces inside numbers ("18 亿元")."""
    return re.sub(r"\s+", "", text)


def check_citations(svc: GovQA, answer: Answer) -> None:
    for c in answer.citations:
        text = svc.index.document_text(c.doc_id)
        assert c.quote == text[c.start : c.end], c
        assert f"[{c.n}]" in answer.text


def citing(answer: Answer, value: str) -> list[Citation]:
    return [c for c in answer.citations if squash(value) in squash(c.quote)]


@pytest.mark.parametrize(
    ("question", "values", "source", "heading"),
    [
        ("2019年精武镇税收收入是多少？", ["18亿元", "36.8%"], JW2019, "2019年工作回顾"),
        (
            "过去五年精武镇造林多少亩、植树多少株？",
            ["4000亩", "40万株"],
            JW2021,
            "过去五年工作的回顾 › （三）这是绿色发展成效显著、城乡面貌深刻变化的五年",
        ),
        ("2024年精武镇产业项目到位额是多少？", ["10.98亿元"], JW2024, "一、2024年工作回顾"),
        (
            "西青区2022年计划新增多少小学学位和幼儿园学位？",
            ["1305个", "1200个"],
            XQ2021,
            "三、2022年的重点工作 › （五）坚持人民至上、普惠均衡，不断增进民生福祉",
        ),
        (
            "2023年张家窝镇限上社会消费品零售总额是多少？同比增长多少？",
            ["3.93亿元", "367.88%"],
            ZJW2024,
            "一、2023年工作回顾 › （一）奋力抓产业稳增长，经济发展迸发新活力",
        ),
    ],
)
def test_a_cited_fact_from_each_report(
    real_service: GovQA, question: str, values: list[str], source: str, heading: str
) -> None:
    answer = real_service.ask(question)
    assert not answer.refused, answer.text
    for value in values:
        assert squash(value) in squash(answer.text), (value, answer.text)
        cited = citing(answer, value)
        assert cited, (value, answer.citations)
        assert all(c.source == source and heading in c.heading for c in cited), cited
    check_citations(real_service, answer)


def test_the_speaker_of_a_report(real_service: GovQA) -> None:
    answer = real_service.ask("2024年精武镇政府工作报告由谁作？")
    assert not answer.refused and "张艳红" in answer.text
    (c,) = answer.citations
    assert c.source == JW2024 and c.heading_path == ("政府工作报告",) and c.quote == "精武镇镇长张艳红"
    check_citations(real_service, answer)


def test_a_comparison_across_two_reports(real_service: GovQA) -> None:
    answer = real_service.ask("2019年和2024年精武镇税收收入分别是多少？")
    assert not answer.refused
    assert "18亿元" in squash(answer.text) and "10.8亿元" in squash(answer.text)
    assert squash(answer.text).index("18亿元") < squash(answer.text).index("10.8亿元")
    assert [c.source for c in answer.citations] == [JW2019, JW2024]
    (c2019,) = citing(answer, "18亿元")
    (c2024,) = citing(answer, "10.8亿元")
    assert c2019.source == JW2019 and "2019年工作回顾" in c2019.heading
    assert c2024.source == JW2024 and "2024年工作回顾" in c2024.heading
    check_citations(real_service, answer)


def test_an_english_question(real_service: GovQA) -> None:
    answer = real_service.ask("How did Jingwu's tax revenue change from 2019 to 2024?")
    assert not answer.refused and answer.lang == "en"
    assert answer.text.startswith(EN_LEAD)
    quoted = re.findall(r"“([^”]+)”\[(\d+)\]", answer.text)
    assert len(quoted) == 2, answer.text
    assert "18亿元" in squash(quoted[0][0]) and "10.8亿元" in squash(quoted[1][0])
    assert [c.source for c in answer.citations] == [JW2019, JW2024]
    assert [c.quote for c in answer.citations] == [q for q, _ in quoted]
    check_citations(real_service, answer)


def test_abstains_for_a_year_no_report_covers(real_service: GovQA) -> None:
    answer = real_service.ask("2023年精武镇税收收入是多少？")
    assert answer.refused and answer.citations == []
    assert answer.text.startswith("报告中没有找到")
    assert answer.related
    assert not any(v in squash(answer.text) for v in ("18亿元", "10.8亿元", "15.5亿元", "16亿元"))


def test_abstains_for_a_town_with_no_report(real_service: GovQA) -> None:
    answer = real_service.ask("大寺镇2021年的税收收入是多少？")
    assert answer.refused and answer.citations == []
    assert answer.text == "报告中没有找到关于大寺镇的内容。"
    assert answer.related


@pytest.mark.parametrize(
    ("question", "place"),
    [
        ("What was Dasi town's tax revenue in 2019?", "Dasi Town"),  # a town of 西青区 without a report
        ("How much fixed-asset investment did Foo Town complete in 2021?", "Foo Town"),  # any named town
    ],
)
def test_abstains_for_a_town_with_no_report_named_in_english(
    real_service: GovQA, question: str, place: str
) -> None:
    answer = real_service.ask(question)
    assert answer.refused and answer.citations == [] and answer.lang == "en"
    assert answer.text == f"The reports do not say anything about {place}."
    assert answer.related


def test_schools_zhangjiawo_plans_to_build_in_2024(real_service: GovQA) -> None:
    # The report states no number of schools: it plans to finish 张家窝镇第一小学 (open in September) and
    # prepare 第三小学. The school-building sentence is the answer, not the clause that shares only the
    # verb 新建 (新建第五代日光温室10栋).
    answer = real_service.ask("张家窝镇2024年计划新建几所学校？")
    assert not answer.refused, answer.text
    assert "建成张家窝镇第一小学" in answer.text and "温室" not in answer.text
    (c,) = answer.citations
    assert c.source == ZJW2024 and "2024年工作安排" in c.heading and "第一小学" in c.quote
    check_citations(real_service, answer)


def test_schools_with_the_body_and_year_as_filters(real_service: GovQA) -> None:
    # README: govqa ask --body 张家窝镇 --year 2024 "计划新建几所学校？" (the filter year is the asked year:
    # not the 2023 review's 新建家兴里小区电动自行车充电设施…华旭小学…操场提升改造)
    answer = real_service.ask("计划新建几所学校？", filters=Filters(body="张家窝镇", year=2024))
    assert not answer.refused and "建成张家窝镇第一小学" in answer.text, answer.text
    (c,) = answer.citations
    assert c.source == ZJW2024 and "2024年工作安排" in c.heading
    check_citations(real_service, answer)


@pytest.mark.parametrize(
    "question",
    [
        "精武门·中华武林园门票多少钱？",  # the reports tell of the park (visitors, events), not its price
        "What was Xiqing's GDP per capita in 2021?",  # the 2021 report gives total GDP (915亿元) only
        "西青区2021年人均地区生产总值是多少？",
    ],
)
def test_abstains_when_no_clause_states_the_kind_of_quantity_asked(
    real_service: GovQA, question: str
) -> None:
    answer = real_service.ask(question)
    assert answer.refused and answer.citations == [], answer.text
    assert "915" not in answer.text and "人次" not in answer.text


def test_a_growth_since_a_base_year_no_report_covers(real_service: GovQA) -> None:
    # 2016 is the comparison base of the 2021 figure (比2016年增长41.2%), not a year asked about
    answer = real_service.ask("西青区2021年居民人均可支配收入是多少？比2016年增长了多少？")
    assert not answer.refused, answer.text
    assert "48300元" in squash(answer.text) and "41.2%" in answer.text
    assert "没有找到" not in answer.text
    (c,) = answer.citations
    assert c.source == XQ2021
    check_citations(real_service, answer)
