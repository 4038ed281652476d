from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pytest

from govqa.errors import BadQuestionError
from rag import glossary
from rag.question import MAX_QUESTION_CHARS, QuestionInfo, fold
from rag.question import analyze_question as _analyze_question

# the sample reports' bodies, as the index would list them (bodies are learned from documents)
SAMPLE_BODIES = ("精武镇", "西青区", "张家窝镇")


def analyze_question(question: str, known_bodies: Iterable[str] = ()) -> QuestionInfo:
    return _analyze_question(question, known_bodies=(*SAMPLE_BODIES, *known_bodies))


SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


# ----------------------------------------------------------------------------- bodies and years

BODIES_YEARS = [
    # (question, known_bodies, bodies, years)
    ("2019年精武镇税收收入是多少？", (), ("精武镇",), (2019,)),
    ("张家窝镇2024年计划新建几所学校？", (), ("张家窝镇",), (2024,)),
    ("How did Jingwu's tax revenue change from 2019 to 2024?", (), ("精武镇",), (2019, 2024)),
    ("2019年和2024年精武镇税收收入分别是多少？", (), ("精武镇",), (2019, 2024)),
    ("那2024年呢？", (), (), (2024,)),
    ("and Zhangjiawo?", (), ("张家窝镇",), ()),
    # aliases, Chinese and English
    ("精武2019年的规模工业总产值", (), ("精武镇",), (2019,)),
    ("西青2021年地区生产总值是多少", (), ("西青区",), (2021,)),
    ("张家窝的学校", (), ("张家窝镇",), ()),
    ("What was Jingwu Town's GDP?", (), ("精武镇",), ()),
    ("Tell me about Xiqing District in 2021", (), ("西青区",), (2021,)),
    ("ZHANGJIAWO schools in 2024", (), ("张家窝镇",), (2024,)),
    ("zhang jia wo kindergartens", (), ("张家窝镇",), ()),
    ("Compare Zhangjiawo and Jingwu", (), ("张家窝镇", "精武镇"), ()),
    # order of mention, duplicates once
    ("张家窝镇和精武镇的税收收入", (), ("张家窝镇", "精武镇"), ()),
    ("精武镇、张家窝镇和精武镇", (), ("精武镇", "张家窝镇"), ()),
    # a district written before a town only qualifies it
    ("西青区精武镇2019年固定资产投资", (), ("精武镇",), (2019,)),
    ("天津市西青区张家窝镇的人口", (), ("张家窝镇",), ()),
    ("industrial output of Zhangjiawo Town, Xiqing District in 2023", (), ("张家窝镇",), (2023,)),
    ("精武镇和西青区2021年的税收收入", (), ("精武镇", "西青区"), (2021,)),
    # a park named after the district is not the district
    ("天开西青园有哪些企业", (), (), ()),
    # unknown towns: only when the index knows them
    ("杨柳青镇2019年税收收入是多少", (), (), (2019,)),
    ("杨柳青镇2019年税收收入是多少", ("杨柳青镇",), ("杨柳青镇",), (2019,)),
    ("杨柳青的学校有几所", ("杨柳青镇", "精武镇"), ("杨柳青镇",), ()),
    ("李七庄2020年的道路", ("李七庄街道",), ("李七庄街道",), (2020,)),
    ("精武镇的道路", ("精武镇",), ("精武镇",), ()),
    # full-width digits, spaces, Chinese numerals, two-digit years
    ("２０１９年精武镇税收收入", (), ("精武镇",), (2019,)),
    ("2019 年精武镇税收收入", (), ("精武镇",), (2019,)),
    ("二〇二一年西青区地区生产总值", (), ("西青区",), (2021,)),
    ("19年精武镇的限上批零销售额", (), ("精武镇",), (2019,)),
    ("19年度精武镇的税收", (), ("精武镇",), (2019,)),
    # ranges give both ends, not the years in between
    ("2017-2021年精武镇累计税收收入", (), ("精武镇",), (2017, 2021)),
    ("2019到2024年精武镇税收收入的变化", (), ("精武镇",), (2019, 2024)),
    ("2019到24年精武镇税收变化", (), ("精武镇",), (2019, 2024)),
    ("从2019年到2024年精武镇税收收入增长了多少", (), ("精武镇",), (2019, 2024)),
    ("between 2019 and 2024", (), (), (2019, 2024)),
    # numbers that are not years
    ("精武镇税收收入超过2000万元了吗", (), ("精武镇",), ()),
    ("近10年来西青区GDP增长了多少", (), ("西青区",), ()),
    ("10年来精武镇的变化", (), ("精武镇",), ()),
    ("精武镇新增规模以上企业18家", (), ("精武镇",), ()),
    ("2019年12月28日精武镇的会议", (), ("精武镇",), (2019,)),
    ("2019-12-28精武镇的会议", (), ("精武镇",), (2019,)),
    ("今年精武镇的目标", (), ("精武镇",), ()),
    ("十四五期间西青区的目标", (), ("西青区",), ()),
    # nothing at all
    ("税收收入是多少", (), (), ()),
    ("What is the population?", (), (), ()),
]


@pytest.mark.parametrize(("question", "known", "bodies", "years"), BODIES_YEARS)
def test_bodies_and_years(
    question: str, known: tuple[str, ...], bodies: tuple[str, ...], years: tuple[int, ...]
) -> None:
    info = analyze_question(question, known_bodies=known)
    assert info.bodies == bodies
    assert info.years == years


# ----------------------------------------------------------------------------------------- lang

LANGS = [
    ("2019年精武镇税收收入是多少？", "zh"),
    ("What was Jingwu's tax revenue in 2019?", "en"),
    ("2019年精武镇GDP是多少", "zh"),
    ("GDP是多少", "zh"),
    ("What was 精武镇's 税收收入 in 2019?", "en"),
    ("Ｗｈａｔ ａｂｏｕｔ ２０１９？", "en"),
    ("2019?", "zh"),
]


@pytest.mark.parametrize(("question", "lang"), LANGS)
def test_lang(question: str, lang: str) -> None:
    assert analyze_question(question).lang == lang


# ---------------------------------------------------------------------------------------- terms

TERMS = [
    # (question, terms that must be there, words that must not)
    ("2019年精武镇税收收入是多少？", ("税收收入", "税收"), ("多少", "是多少", "精武镇", "2019")),
    ("张家窝镇2024年计划新建几所学校？", ("新建", "学校"), ("几所", "计划", "张家窝镇")),
    ("2019年精武镇的规模工业总产值", ("规模工业总产值", "工业总产值"), ("的",)),
    ("2023年张家窝镇规上工业总产值", ("规上工业总产值", "工业总产值"), ("规模工业总产值",)),
    ("精武镇的固定资产投入有多少", ("固定资产投入", "固定资产"), ("有多少",)),
    ("限上批零销售额是多少", ("限上批零销售额", "批零销售额"), ()),
    ("精武镇有哪些高新技术企业", ("高新技术企业",), ("哪些", "有哪些")),
    ("西青区的人口是多少", ("人口",), ()),
    ("精武镇的霍元甲文化公园建设得怎么样", ("文化公园",), ("怎么样",)),
    ("2024年精武镇政府工作报告是谁作的", ("镇长", "区长", "代表"), ("谁",)),
    ("十四五期间西青区的目标是什么", ("十四五", "目标"), ("是什么", "什么")),
    ("杨柳青镇2019年税收收入是多少", ("杨柳青镇", "税收收入"), ()),
    ("精武镇税收收入超过2000万元了吗", ("税收收入",), ("万元", "超过", "2000")),
    ("西青区GDP是多少", ("地区生产总值",), ()),
    ("2017-2021年精武镇累计税收收入", ("累计", "税收收入"), ()),
    # English questions get Chinese terms from the glossary
    ("What was Jingwu's tax revenue in 2019?", ("税收收入", "税收"), ("精武镇",)),
    ("How much industrial output did Zhangjiawo have in 2023?", ("工业总产值", "规模工业总产值"), ()),
    ("What was the fixed-asset investment of Jingwu in 2024?", ("固定资产投资",), ()),
    ("fixed asset investment", ("固定资产投资",), ()),
    ("What were the wholesale and retail sales?", ("限上批零销售额", "批零销售额"), ()),
    ("retail sales in 2019", ("批零销售额",), ()),
    ("How many schools will Zhangjiawo build in 2024?", ("学校",), ()),
    ("How many kindergartens?", ("幼儿园",), ("学校",)),
    ("What was Xiqing's GDP in 2021?", ("地区生产总值",), ()),
    ("What is the population of Xiqing?", ("人口",), ()),
    ("How many jobs were created?", ("就业",), ()),
    ("Which roads were built?", ("道路",), ()),
    ("How many high-tech enterprises are there?", ("高新技术企业",), ("企业",)),
    ("How many companies registered?", ("企业",), ()),
    ("Who is the mayor of Jingwu?", ("镇长",), ()),
    ("Who is the district head?", ("区长",), ()),
    ("Who delivered the 2024 report of Jingwu Town?", ("镇长", "区长", "代表"), ()),
    ("What does the report say about elderly care?", ("养老",), ()),
    ("rural revitalization plans", ("乡村振兴",), ()),
    ("garbage sorting", ("垃圾分类",), ()),
    ("What was the tax revenue and 固定资产投资?", ("税收收入", "固定资产投资"), ()),
    ("gross output of industry above designated size in 2023", ("规模工业总产值",), ()),
    ("How much grain did Zhangjiawo harvest?", ("粮食",), ()),
    ("What urbanization rate had Jingwu reached?", ("城镇化率",), ()),
    ("How many new enterprises were registered in 2024?", ("注册企业", "新增"), ()),
    ("How many days of good air quality?", ("优良天数",), ()),
    ("When did Zhao Lin deliver the report?", ("镇长",), ()),
    (
        "Who delivered the Xiqing district government work report in December 2021?",
        ("区长", "政府工作报告"),
        (),
    ),
    # the words of the report's name are no content terms
    ("2019年精武镇政府工作报告是由谁代表镇政府作的？", ("镇长", "代表"), ("镇政府作", "作", "政府工作报告")),
    (
        "精武镇2025年计划更新多少家涉气企业重污染天气应急减排清单？",
        ("涉气企业", "重污染天气", "减排", "清单"),
        (),
    ),
    # unknown runs over four characters contribute their bigrams
    ("撤桶并点建厢房", ("撤桶", "桶并", "建厢"), ("撤桶并点建厢房",)),
    ("李七庄街的道路", ("李七庄街", "道路"), ()),
]


@pytest.mark.parametrize(("question", "present", "absent"), TERMS)
def test_terms(question: str, present: tuple[str, ...], absent: tuple[str, ...]) -> None:
    terms = analyze_question(question).terms
    for t in present:
        assert t in terms, (question, terms)
    for t in absent:
        assert t not in terms, (question, terms)


def test_terms_are_in_order_and_unique() -> None:
    info = analyze_question("2019年精武镇税收收入和固定资产投资分别是多少")
    assert info.terms == ("税收收入", "税收", "固定资产投资", "固定资产")


def test_question_words_alone_give_no_terms() -> None:
    assert analyze_question("是多少？").terms == ()
    assert analyze_question("那2024年呢？").terms == ()


# ----------------------------------------------------------------------------------------- flags

FLAGS = [
    # (question, wants_number, is_comparison)
    ("2019年精武镇税收收入是多少？", True, False),
    ("张家窝镇2024年计划新建几所学校？", True, False),
    ("How did Jingwu's tax revenue change from 2019 to 2024?", True, True),
    ("2019年和2024年精武镇税收收入分别是多少？", True, True),
    ("2019年和2024年精武镇税收收入是多少？", True, True),
    ("2019年精武镇税收收入和固定资产投资分别是多少", True, True),
    ("比较精武镇和张家窝镇的规上工业总产值", True, True),
    ("精武镇和张家窝镇哪个税收更高", True, True),
    ("2019年精武镇的税收收入比2018年增长了多少", True, True),
    ("与2019年相比，2024年精武镇税收收入有什么变化", True, True),
    ("What was the difference between Jingwu and Zhangjiawo?", False, True),
    ("Jingwu versus Zhangjiawo industrial output", True, True),
    ("What were Jingwu's tax revenue and fixed-asset investment in 2019 and 2024 respectively?", True, True),
    ("How much was Jingwu's tax revenue in 2019?", True, False),
    ("How many schools did Zhangjiawo build?", True, False),
    ("What was the growth rate of tax revenue?", True, False),
    ("What was Jingwu's tax revenue in 2019?", True, False),
    ("2019年精武镇的税收收入", True, False),
    ("精武镇有哪些措施提高税收收入", False, False),
    ("精武镇的霍元甲文化公园建设得怎么样", False, False),
    ("2024年精武镇政府工作报告是谁作的", False, False),
    ("What measures did Jingwu take for elderly care?", False, False),
    ("精武镇2019年税收收入的比重", True, False),
    ("2019年精武镇税收收入同比增长多少", True, False),
    # a period, not a comparison
    ("2017-2021年精武镇累计税收收入是多少", True, False),
    ("2017到2021年精武镇累计实现税收收入多少", True, False),
    ("2022-2026年西青区的奋斗目标", False, False),
    ("What was Jingwu's tax revenue in total from 2017 to 2021?", True, False),
]


@pytest.mark.parametrize(("question", "wants_number", "is_comparison"), FLAGS)
def test_flags(question: str, wants_number: bool, is_comparison: bool) -> None:
    info = analyze_question(question)
    assert (info.wants_number, info.is_comparison) == (wants_number, is_comparison)


# ----------------------------------------------------------------------------------- search text


def test_chinese_search_text_is_the_question() -> None:
    info = analyze_question("  2019年精武镇税收收入是多少？ ")
    assert info.text == "2019年精武镇税收收入是多少？"
    assert info.search_text == info.text


def test_english_search_text_carries_chinese_terms_and_bodies() -> None:
    info = analyze_question("What was Jingwu's tax revenue in 2019?")
    assert info.search_text.startswith("What was Jingwu's tax revenue in 2019?")
    for word in ("税收收入", "税收", "精武镇"):
        assert word in info.search_text


def test_text_keeps_the_question_as_asked() -> None:
    info = analyze_question("２０１９年精武镇税收收入是多少？")
    assert info.text == "２０１９年精武镇税收收入是多少？"
    assert info.years == (2019,)


def test_fold_keeps_length() -> None:
    for text in ("２０１９年？", "Ｗｈａｔ", "㎡½…", "精武镇"):
        assert len(fold(text)) == len(text)
    assert fold("２０１９年？") == "2019年?"


# ---------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("question", ["", "   ", "\n\t　"])
def test_empty_question_is_rejected(question: str) -> None:
    with pytest.raises(BadQuestionError, match="empty"):
        analyze_question(question)


def test_too_long_question_is_rejected_with_its_length() -> None:
    with pytest.raises(BadQuestionError, match=r"1001 characters.*1000"):
        analyze_question("税" * (MAX_QUESTION_CHARS + 1))
    assert analyze_question("税" * MAX_QUESTION_CHARS).text  # the limit itself is fine


# -------------------------------------------------------------------------------------- glossary


def _corpus() -> str:
    # the samples and the reports in other layouts written for tests: the glossary is genre vocabulary
    files = [
        *sorted(SAMPLES.glob("*.txt")),
        *sorted((Path(__file__).parents[1] / "fixtures" / "anyreport").glob("*")),
        *sorted((Path(__file__).parents[1] / "fixtures" / "measures").glob("*")),
    ]
    text = "".join(p.read_text(encoding="utf-8") for p in files if p.suffix in (".txt", ".md"))
    return re.sub(r"\s+", "", text).replace("**", "")


def test_glossary_is_big_enough_and_speaks_the_reports_language() -> None:
    assert len(glossary.EN_GLOSSARY) >= 60
    corpus = _corpus()
    missing = sorted({t for _, terms in glossary.EN_GLOSSARY for t in terms if t not in corpus})
    assert missing == []
    lexicon_missing = sorted(w for w in glossary.ZH_LEXICON if w not in corpus)
    assert lexicon_missing == []


def test_glossary_patterns_compile_and_variants_are_substrings() -> None:
    for pattern, terms in glossary.EN_GLOSSARY:
        re.compile(pattern)
        assert terms
    for term, variants in glossary.ZH_VARIANTS.items():
        assert all(v in term for v in variants)


def test_the_chinese_words_of_one_english_phrase_are_alternatives() -> None:
    info = analyze_question("What did Dongli District do for its partner regions?", known_bodies=["东丽区"])
    assert ("东西部协作", "对口支援", "对口帮扶", "结对帮扶", "支援合作") in info.alternatives
    chinese = analyze_question("2024年东丽区对口支援做了什么？", known_bodies=["东丽区"])
    assert chinese.alternatives == ()  # Chinese words are matched as written
