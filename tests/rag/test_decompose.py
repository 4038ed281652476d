from __future__ import annotations

from collections.abc import Iterable

import pytest

from rag.decompose import MAX_SUBQUESTIONS, decompose
from rag.question import QuestionInfo
from rag.question import analyze_question as _analyze_question

# the sample reports' bodies, as the index would list them (bodies are learned from documents)
SAMPLE_BODIES = ("精武镇", "西青区", "张家窝镇")


def analyze_question(question: str, known_bodies: Iterable[str] = ()) -> QuestionInfo:
    return _analyze_question(question, known_bodies=(*SAMPLE_BODIES, *known_bodies))


SPLITS = [
    # (question, [(sub-question text, bodies, years)])
    (
        "2019年和2024年精武镇税收收入分别是多少？",
        [
            ("2019年精武镇税收收入是多少？", ("精武镇",), (2019,)),
            ("2024年精武镇税收收入是多少？", ("精武镇",), (2024,)),
        ],
    ),
    (
        "2019年和2024年精武镇税收收入是多少？",
        [
            ("2019年精武镇税收收入是多少？", ("精武镇",), (2019,)),
            ("2024年精武镇税收收入是多少？", ("精武镇",), (2024,)),
        ],
    ),
    (
        "精武镇2019年和2024年的税收收入相比有什么变化？",
        [
            ("2019年精武镇税收收入是多少？", ("精武镇",), (2019,)),
            ("2024年精武镇税收收入是多少？", ("精武镇",), (2024,)),
        ],
    ),
    (
        "从2019年到2024年精武镇的税收收入增长了多少？",
        [
            ("2019年精武镇税收收入是多少？", ("精武镇",), (2019,)),
            ("2024年精武镇税收收入是多少？", ("精武镇",), (2024,)),
        ],
    ),
    (
        "2019到2024年精武镇税收收入的变化",
        [
            ("2019年精武镇税收收入是多少？", ("精武镇",), (2019,)),
            ("2024年精武镇税收收入是多少？", ("精武镇",), (2024,)),
        ],
    ),
    (
        "２０１９年和２０２４年精武镇的税收分别是多少",
        [
            ("2019年精武镇的税收是多少", ("精武镇",), (2019,)),
            ("2024年精武镇的税收是多少", ("精武镇",), (2024,)),
        ],
    ),
    (
        "比较精武镇和张家窝镇的规上工业总产值",
        [
            ("精武镇规上工业总产值是多少？", ("精武镇",), ()),
            ("张家窝镇规上工业总产值是多少？", ("张家窝镇",), ()),
        ],
    ),
    (
        "2023年精武和张家窝的规模工业总产值分别是多少？",
        [
            ("2023年精武镇的规模工业总产值是多少？", ("精武镇",), (2023,)),
            ("2023年张家窝镇的规模工业总产值是多少？", ("张家窝镇",), (2023,)),
        ],
    ),
    (
        "2019年精武镇的税收收入比2018年增长了多少",
        [
            ("2019年精武镇税收收入是多少？", ("精武镇",), (2019,)),
            ("2018年精武镇税收收入是多少？", ("精武镇",), (2018,)),
        ],
    ),
    # two metrics with 分别
    (
        "2019年精武镇税收收入和固定资产投资分别是多少",
        [
            ("2019年精武镇税收收入是多少", ("精武镇",), (2019,)),
            ("2019年精武镇固定资产投资是多少", ("精武镇",), (2019,)),
        ],
    ),
    (
        "2019年精武镇税收收入与规模工业总产值分别为多少？",
        [
            ("2019年精武镇税收收入为多少？", ("精武镇",), (2019,)),
            ("2019年精武镇规模工业总产值为多少？", ("精武镇",), (2019,)),
        ],
    ),
    # not about a figure: substitution in the question itself
    (
        "2019年和2024年精武镇分别新建了几所学校？",
        [
            ("2019年精武镇新建了几所学校？", ("精武镇",), (2019,)),
            ("2024年精武镇新建了几所学校？", ("精武镇",), (2024,)),
        ],
    ),
    (
        "精武镇和张家窝镇2023年分别引进了哪些重点项目",
        [
            ("精武镇2023年引进了哪些重点项目", ("精武镇",), (2023,)),
            ("张家窝镇2023年引进了哪些重点项目", ("张家窝镇",), (2023,)),
        ],
    ),
    (
        "2024年张家窝镇分别新建了几所学校和幼儿园？",
        [
            ("2024年张家窝镇新建了几所学校？", ("张家窝镇",), (2024,)),
            ("2024年张家窝镇新建了几所幼儿园？", ("张家窝镇",), (2024,)),
        ],
    ),
    (
        "精武镇2019年和2024年的学校建设有什么变化",
        [
            ("2019年精武镇学校的情况如何？", ("精武镇",), (2019,)),
            ("2024年精武镇学校的情况如何？", ("精武镇",), (2024,)),
        ],
    ),
    # bodies and years written in pairs are split as pairs, not crossed
    (
        "精武镇2024年与张家窝镇2023年的规模工业总产值分别是多少？哪个更高？",
        [
            ("2024年精武镇规模工业总产值是多少？", ("精武镇",), (2024,)),
            ("2023年张家窝镇规模工业总产值是多少？", ("张家窝镇",), (2023,)),
        ],
    ),
    (
        "西青区（2021年）和张家窝镇（2023年）的高新技术企业分别有多少家？",
        [
            ("2021年西青区高新技术企业有多少家？", ("西青区",), (2021,)),
            ("2023年张家窝镇高新技术企业有多少家？", ("张家窝镇",), (2023,)),
        ],
    ),
    (
        "2024年精武镇和2023年张家窝镇的固定资产投资分别是多少？",
        [
            ("2024年精武镇固定资产投资是多少？", ("精武镇",), (2024,)),
            ("2023年张家窝镇固定资产投资是多少？", ("张家窝镇",), (2023,)),
        ],
    ),
    (
        "西青区2021年与张家窝镇2023年的PM2.5浓度分别是多少？哪个更低？",
        [
            ("2021年西青区PM2.5浓度是多少？", ("西青区",), (2021,)),
            ("2023年张家窝镇PM2.5浓度是多少？", ("张家窝镇",), (2023,)),
        ],
    ),
    # parallel phrases are cut to one
    (
        "西青区政府工作报告和张家窝镇政府工作报告分别由谁作？",
        [
            ("西青区政府工作报告由谁作？", ("西青区",), ()),
            ("张家窝镇政府工作报告由谁作？", ("张家窝镇",), ()),
        ],
    ),
    (
        "精武镇2021年的报告和2024年的报告分别由谁作？",
        [
            ("精武镇2021年的报告由谁作？", ("精武镇",), (2021,)),
            ("精武镇2024年的报告由谁作？", ("精武镇",), (2024,)),
        ],
    ),
    # a year that is context, not compared, stays in every part
    (
        "精武镇2021年和2024年的报告对2025年税收收入的目标分别是多少？",
        [
            ("精武镇2021年的报告对2025年税收收入的目标是多少？", ("精武镇",), (2021, 2025)),
            ("精武镇2024年的报告对2025年税收收入的目标是多少？", ("精武镇",), (2024, 2025)),
        ],
    ),
    # scattered years cannot be substituted: the template is used
    (
        "精武镇2022年限上批零销售额的目标和2024年的实际完成额分别是多少？",
        [
            ("2022年精武镇限上批零销售额是多少？", ("精武镇",), (2022,)),
            ("2024年精武镇限上批零销售额是多少？", ("精武镇",), (2024,)),
        ],
    ),
    # English: English body names, the question's own wording of the metric
    (
        "How did Jingwu's tax revenue change from 2019 to 2024?",
        [
            ("What was Jingwu Town's tax revenue in 2019?", ("精武镇",), (2019,)),
            ("What was Jingwu Town's tax revenue in 2024?", ("精武镇",), (2024,)),
        ],
    ),
    (
        "Compare the industrial output of Jingwu and Zhangjiawo in 2023",
        [
            ("What was Jingwu Town's industrial output in 2023?", ("精武镇",), (2023,)),
            ("What was Zhangjiawo Town's industrial output in 2023?", ("张家窝镇",), (2023,)),
        ],
    ),
    (
        "What were Jingwu's tax revenue and fixed-asset investment in 2019 and 2024 respectively?",
        [
            ("What was Jingwu Town's tax revenue in 2019?", ("精武镇",), (2019,)),
            ("What was Jingwu Town's tax revenue in 2024?", ("精武镇",), (2024,)),
            ("What was Jingwu Town's fixed-asset investment in 2019?", ("精武镇",), (2019,)),
            ("What was Jingwu Town's fixed-asset investment in 2024?", ("精武镇",), (2024,)),
        ],
    ),
    (
        "What was the GDP in 2019 and 2021?",
        [
            ("What was the GDP in 2019?", (), (2019,)),
            ("What was the GDP in 2021?", (), (2021,)),
        ],
    ),
    (
        "How many schools did Jingwu and Zhangjiawo plan to build in 2024?",
        [
            ("How many schools did Jingwu Town plan to build in 2024?", ("精武镇",), (2024,)),
            ("How many schools did Zhangjiawo Town plan to build in 2024?", ("张家窝镇",), (2024,)),
        ],
    ),
    (
        "Compare the schools of Jingwu and Zhangjiawo in 2024",
        [
            ("What about schools in Jingwu Town in 2024?", ("精武镇",), (2024,)),
            ("What about schools in Zhangjiawo Town in 2024?", ("张家窝镇",), (2024,)),
        ],
    ),
    (
        "How many schools were built in 2019 and in 2024 in Jingwu?",
        [
            ("How many schools were built in 2019 in Jingwu Town?", ("精武镇",), (2019,)),
            ("How many schools were built in 2024 in Jingwu Town?", ("精武镇",), (2024,)),
        ],
    ),
]


@pytest.mark.parametrize(("question", "expected"), SPLITS)
def test_split(question: str, expected: list[tuple[str, tuple[str, ...], tuple[int, ...]]]) -> None:
    info = analyze_question(question)
    subs = decompose(info)
    # the years of each part: of the facts, and of a report it names (精武镇2021年的报告 → the 2021 report)
    assert [(s.text, s.bodies, tuple(sorted(s.years + s.report_years))) for s in subs] == expected
    for sub in subs:
        assert sub.lang == info.lang
        assert not sub.is_comparison
        assert sub.wants_number == info.wants_number
        assert len(sub.bodies) <= 1  # and one compared year: the expected tuples above pin the years


PLAIN = [
    "2019年精武镇税收收入是多少？",
    "张家窝镇2024年计划新建几所学校？",
    "What was Jingwu's tax revenue in 2019?",
    "2017-2021年精武镇累计税收收入是多少",
    "2022-2026年西青区的奋斗目标",
    "精武镇有哪些措施提高税收收入",
    "2019年精武镇税收收入同比增长了多少",  # a comparison word, but one body and one year
    "税收收入是多少",
]


@pytest.mark.parametrize("question", PLAIN)
def test_plain_question_is_returned_unchanged(question: str) -> None:
    info = analyze_question(question)
    subs = decompose(info)
    assert len(subs) == 1
    assert subs[0] is info


def test_sub_questions_keep_the_terms() -> None:
    info = analyze_question("从2019年到2024年精武镇的税收收入增长了多少？")
    assert all(s.terms == info.terms for s in decompose(info))


def test_metric_split_keeps_only_its_own_list_item() -> None:
    subs = decompose(analyze_question("2019年精武镇税收收入和固定资产投资分别是多少"))
    assert [s.terms for s in subs] == [("税收收入", "税收"), ("固定资产投资", "固定资产")]


def test_english_sub_questions_search_with_chinese_terms() -> None:
    subs = decompose(analyze_question("How did Jingwu's tax revenue change from 2019 to 2024?"))
    for sub in subs:
        assert "税收收入" in sub.search_text and "精武镇" in sub.search_text
        assert sub.search_text.startswith(sub.text)


@pytest.mark.parametrize(
    "question",
    [
        "Which was higher, Dongli District's 2022 or Hexi District's 2023 GDP, and by how much?",
        "Compare the GDP of Dongli District in 2022 and Hexi District in 2023.",
    ],
)
def test_english_body_year_pairs_are_split_as_pairs(question: str) -> None:
    subs = decompose(analyze_question(question, known_bodies=["东丽区", "河西区"]))
    assert [(s.bodies, s.years) for s in subs] == [(("东丽区",), (2022,)), (("河西区",), (2023,))]


def test_chinese_sub_questions_search_with_their_text() -> None:
    for sub in decompose(analyze_question("2019年和2024年精武镇税收收入分别是多少？")):
        assert sub.search_text == sub.text


def test_sub_questions_analyze_back_to_their_parts() -> None:
    for sub in decompose(analyze_question("2023年精武和张家窝的规模工业总产值分别是多少？")):
        again = analyze_question(sub.text)
        assert (again.bodies, again.years) == (sub.bodies, sub.years)
        assert not again.is_comparison


def test_known_body_from_the_index_is_decomposed() -> None:
    info = analyze_question("2019年杨柳青镇和精武镇的税收收入分别是多少", known_bodies=["杨柳青镇"])
    assert [s.text for s in decompose(info)] == [
        "2019年杨柳青镇的税收收入是多少",
        "2019年精武镇的税收收入是多少",
    ]


def test_too_many_parts_are_capped() -> None:
    years = "和".join(f"{y}年" for y in range(2010, 2025))
    subs = decompose(analyze_question(f"{years}精武镇和张家窝镇的税收收入分别是多少"))
    assert len(subs) == MAX_SUBQUESTIONS
