"""rag.scope: which documents a question may be answered from, place names, the years a chunk is about."""

from __future__ import annotations

import pytest

from govqa.errors import BadQuestionError
from govqa.types import Chunk, DocumentMeta
from govqa.years import base_years, figure_years, stated_years
from rag.question import QuestionInfo, analyze_question
from rag.scope import (
    DocInfo,
    Filters,
    chunk_years,
    en_place_mentions,
    en_place_name,
    frame_years,
    other_places,
    place_mentions,
    resolve_scope,
)

KNOWN = ("精武镇", "西青区", "张家窝镇")

# the five sample reports, as their metadata reads after ingest
JW2019 = DocInfo(
    "jw2019",
    "003_7659820794adfa4e.txt",
    DocumentMeta("精武镇", "2019年精武镇政府工作报告", "2019-12-28", "徐海权", "镇长", (2019,), (2020,)),
)
JW2021 = DocInfo(
    "jw2021",
    "000_09e983e223e49bd2.txt",
    DocumentMeta(
        "精武镇",
        "2021年精武镇政府工作报告",
        "2021-11-09",
        "乔金星",
        "镇长",
        (2017, 2018, 2019, 2020, 2021),  # a five-year review
        (2022, 2023, 2024, 2025, 2026),
    ),
)
JW2024 = DocInfo(
    "jw2024",
    "001_2215fab11d81e0ce.txt",
    DocumentMeta("精武镇", "2024年精武镇政府工作报告", "2024-12-30", "张艳红", "镇长", (2024,), (2025,)),
)
XQ2021 = DocInfo(
    "xq2021",
    "002_1e5a79295a0b2245.txt",
    DocumentMeta(
        "西青区",
        "2021年西青区政府工作报告",
        "2021-12-12",
        "殷学武",
        "代理区长",
        (2017, 2018, 2019, 2020, 2021),
        (2022,),
    ),
)
ZJW2024 = DocInfo(
    "zjw2024",
    "004_53dbeab9c8777d1d.txt",
    DocumentMeta("张家窝镇", "2024年张家窝镇政府工作报告", "2024-01-18", "赵林", "镇长", (2023,), (2024,)),
)
DOCS = [JW2019, JW2021, JW2024, XQ2021, ZJW2024]


def info(bodies: tuple[str, ...] = (), years: tuple[int, ...] = (), text: str = "问题") -> QuestionInfo:
    return QuestionInfo(text, "zh", bodies, years, (), False, False, text)


def ids(*docs: DocInfo) -> frozenset[str]:
    return frozenset(d.doc_id for d in docs)


# ------------------------------------------------------------------------------------ resolve_scope


def test_no_bodies_no_years_means_every_document() -> None:
    scope = resolve_scope(info(), DOCS)
    assert scope.doc_ids == ids(*DOCS)
    assert not scope.empty and scope.missing == [] and scope.required == ()


def test_body_keeps_only_that_bodys_reports() -> None:
    scope = resolve_scope(info(bodies=("精武镇",)), DOCS)
    assert scope.doc_ids == ids(JW2019, JW2021, JW2024)
    assert scope.bodies == ("精武镇",)


def test_year_reviewed_by_its_own_report_and_by_a_five_year_review() -> None:
    # a 2019 figure may be in the 2019 report or in the 2021 report's review of 2017-2021
    scope = resolve_scope(info(bodies=("精武镇",), years=(2019,)), DOCS)
    assert scope.doc_ids == ids(JW2019, JW2021)


def test_planned_year_is_covered_by_the_report_that_plans_it() -> None:
    assert resolve_scope(info(bodies=("精武镇",), years=(2020,)), DOCS).doc_ids == ids(JW2019, JW2021)
    assert resolve_scope(info(bodies=("张家窝镇",), years=(2024,)), DOCS).doc_ids == ids(ZJW2024)


def test_every_asked_year_must_be_covered_by_one_document() -> None:
    assert resolve_scope(info(bodies=("精武镇",), years=(2019, 2021)), DOCS).doc_ids == ids(JW2021)
    scope = resolve_scope(info(bodies=("精武镇",), years=(2019, 2024)), [JW2019, JW2024])
    assert scope.empty


def test_a_year_no_document_covers_empties_the_scope_with_its_reason() -> None:
    scope = resolve_scope(info(bodies=("精武镇",), years=(2016,)), DOCS)
    assert scope.empty and scope.doc_ids == frozenset()
    assert scope.missing == [("涉及精武镇2016年的内容", "Jingwu Town in 2016")]  # English names in English
    assert scope.bodies == ("精武镇",) and scope.years == (2016,)


def test_a_year_no_document_covers_without_a_body() -> None:
    scope = resolve_scope(info(years=(2010,)), DOCS)
    assert scope.empty
    assert scope.missing == [("涉及2010年的内容", "any body in 2010")]


def test_a_body_with_no_report_empties_the_scope() -> None:
    scope = resolve_scope(info(bodies=("杨柳青镇",), years=(2021,)), DOCS)
    assert scope.empty
    assert scope.missing == [("杨柳青镇的报告", "reports of Yangliuqing Town")]


def test_a_known_body_whose_reports_are_not_in_the_corpus() -> None:
    scope = resolve_scope(info(bodies=("张家窝镇",)), [JW2019, XQ2021])
    assert scope.missing == [("张家窝镇的报告", "reports of Zhangjiawo Town")]
    scope = resolve_scope(info(bodies=("精武镇", "西青区"), years=(2030,)), DOCS)
    assert scope.missing == [("涉及精武镇、西青区2030年的内容", "Jingwu Town, Xiqing District in 2030")]


def test_filter_body_overrides_the_questions_bodies() -> None:
    scope = resolve_scope(info(bodies=("精武镇",)), DOCS, Filters(body="张家窝镇"))
    assert scope.doc_ids == ids(ZJW2024)
    assert scope.bodies == ("张家窝镇",)


def test_filter_year_overrides_the_questions_years() -> None:
    scope = resolve_scope(info(bodies=("精武镇",), years=(2019,)), DOCS, Filters(year=2024))
    assert scope.doc_ids == ids(JW2021, JW2024)
    assert scope.years == (2024,)


@pytest.mark.parametrize("document", ["jw2024", "001_2215fab11d81e0ce.txt"])
def test_filter_document_by_id_or_by_source(document: str) -> None:
    scope = resolve_scope(info(), DOCS, Filters(document=document))
    assert scope.doc_ids == ids(JW2024)


def test_filter_document_still_checks_the_year() -> None:
    scope = resolve_scope(info(years=(2019,)), DOCS, Filters(document="jw2024"))
    assert scope.empty
    assert scope.missing == [("涉及2019年的内容", "any body in 2019")]


def test_filter_unknown_document_empties_the_scope() -> None:
    scope = resolve_scope(info(), DOCS, Filters(document="nope.txt"))
    assert scope.empty
    assert scope.missing == [("文档nope.txt", "document nope.txt")]


@pytest.mark.parametrize("year", [1800, 2200])
def test_filter_year_out_of_range_is_a_bad_question(year: int) -> None:
    with pytest.raises(BadQuestionError, match=f"between 1949 and 2100, got {year}"):
        Filters(year=year)


def test_place_the_corpus_never_mentions_empties_the_scope() -> None:
    scope = resolve_scope(
        info(years=(2021,)), DOCS, places=["大寺镇"], corpus_has=lambda term: term in "中北镇 杨柳青古镇"
    )
    assert scope.empty
    assert scope.missing == [("关于大寺镇的内容", "Dasi Town")]  # (Chinese, English) phrases


def test_place_the_corpus_mentions_must_appear_in_the_evidence() -> None:
    scope = resolve_scope(
        info(bodies=("西青区",), years=(2022,)),
        DOCS,
        places=["中北镇"],
        corpus_has=lambda term: term in "中北镇溪华苑",
    )
    assert scope.doc_ids == ids(XQ2021)
    assert scope.required == ("中北镇",)


def test_allow_keeps_chunks_of_scoped_documents_only() -> None:
    allow = resolve_scope(info(bodies=("张家窝镇",)), DOCS).allow()
    assert allow(chunk(doc_id="zjw2024"))
    assert not allow(chunk(doc_id="jw2024"))


# ----------------------------------------------------------------------------- place names


@pytest.mark.parametrize(
    ("question", "mentions", "others"),
    [
        ("是由谁代表镇政府作的？", [], []),  # 代表 / 镇政府: function words, not a place
        ("2019年精武镇政府工作报告是由谁代表镇政府作的？", ["精武镇"], []),
        ("西青区精武镇2019年税收收入是多少？", ["西青区", "精武镇"], []),
        ("大寺镇2021年的税收收入是多少？", ["大寺镇"], ["大寺镇"]),
        ("杨柳青镇2021年的税收收入是多少？", ["杨柳青镇"], ["杨柳青镇"]),
        ("李七庄街2023年完成固定资产投资多少？", ["李七庄街"], ["李七庄街"]),
        ("中北镇溪华苑改造了多少平方米？", ["中北镇"], ["中北镇"]),
        ("张家窝镇第一小学何时开学？", ["张家窝镇"], []),
        ("精武镇和张家窝镇2023年分别新增多少就业？", ["精武镇", "张家窝镇"], []),
        ("西青经济技术开发区新增了多少企业？", [], []),  # 开发区 is not a place with reports
        ("老旧小区改造了几个？", [], []),
        ("全镇和各街镇的情况", [], []),
        ("What was Jingwu's tax revenue?", [], []),
    ],
)
def test_place_mentions_and_other_places(question: str, mentions: list[str], others: list[str]) -> None:
    assert place_mentions(question) == mentions
    assert other_places(question, KNOWN) == others


def test_other_places_counts_a_place_once() -> None:
    assert other_places("大寺镇和大寺镇", KNOWN) == ["大寺镇"]


def test_other_places_with_an_analyzed_question() -> None:
    q = analyze_question("大寺镇2021年的税收收入是多少？", known_bodies=KNOWN)
    assert q.bodies == ()
    assert other_places(q.text, KNOWN) == ["大寺镇"]


@pytest.mark.parametrize(
    ("question", "mentions"),
    [
        ("What was Dasi town's tax revenue in 2019?", ["Dasi Town"]),
        ("What was dasi's tax revenue?", []),  # no capital, no suffix: no place name
        ("What did Liqizhuang Subdistrict achieve in 2023?", ["Liqizhuang Subdistrict"]),
        ("Compare Xiqing District and Zhongbei town", ["Zhongbei Town"]),
        ("What was Foo Town's GDP?", ["Foo Town"]),  # the name as written
        ("Tell me about Foo Village and Dasi", ["Foo Village"]),
        ("What was Jingwu Town's tax revenue in 2019?", []),  # a known body, not another place
        ("Which town had more tax revenue, Jingwu or Zhangjiawo?", []),
        ("How many schools are there in University Town?", []),  # a glossary phrase (大学城)
        ("How many Zhangjiawo villages got new roads?", []),
        ("What did each town report?", []),
        ("大寺镇2021年的税收收入是多少？", []),
    ],
)
def test_en_place_mentions(question: str, mentions: list[str]) -> None:
    assert en_place_mentions(question, KNOWN) == mentions


def test_other_places_named_in_english_are_checked_like_chinese_ones() -> None:
    assert other_places("What was Dasi town's tax revenue in 2019?", KNOWN) == ["Dasi Town"]
    assert other_places("What was Jingwu Town's tax revenue in 2019?", KNOWN) == []
    assert other_places("What was Dasi town's tax revenue?", ("精武镇", "大寺镇")) == []  # now a known body
    assert en_place_name("大寺镇") == "Dasi Town" and en_place_name("Foo Town") == "Foo Town"


def test_a_place_named_in_english_the_corpus_never_mentions_empties_the_scope() -> None:
    q = analyze_question("What was Dasi town's tax revenue in 2019?", known_bodies=KNOWN)
    assert q.bodies == ()
    places = other_places(q.text, KNOWN)
    scope = resolve_scope(q, DOCS, places=places, corpus_has=lambda term: term in "中北镇 杨柳青镇")
    assert scope.empty and scope.missing == [("关于Dasi Town的内容", "Dasi Town")]
    scope = resolve_scope(q, DOCS, places=["Foo Town"], corpus_has=lambda term: term in "中北镇 杨柳青镇")
    assert scope.empty and scope.missing == [("关于Foo Town的内容", "Foo Town")]


# ------------------------------------------------------------------------------------ chunk_years


def chunk(
    heading_path: tuple[str, ...] = (),
    meta: DocumentMeta = JW2021.meta,
    doc_id: str = "jw2021",
) -> Chunk:
    return Chunk("c1", doc_id, "x.txt", "正文", heading_path, 0, 2, meta)


def test_chunk_years_from_a_heading_with_a_year() -> None:
    assert chunk_years(chunk(("三、2022年工作安排", "（五）聚焦民生福祉"))) == {2022}
    assert chunk_years(chunk(("一、2019年工作回顾",), JW2019.meta)) == {2019}


def test_chunk_years_of_a_review_part() -> None:
    c = chunk(("一、过去五年工作的回顾", "（一）这是产业结构战略性调整全面提速、综合实力显著提升的五年"))
    assert chunk_years(c) == {2017, 2018, 2019, 2020, 2021}


def test_chunk_years_of_a_plan_part() -> None:
    assert chunk_years(chunk(("二、今后五年的奋斗目标和主要任务",))) == {2022, 2023, 2024, 2025, 2026}


def test_chunk_years_elsewhere_are_every_year_of_the_report() -> None:
    assert chunk_years(chunk(("三、切实加强政府自身建设",), JW2019.meta)) == {2019, 2020}
    assert chunk_years(chunk((), JW2024.meta)) == {2024, 2025}


def test_chunk_years_of_a_review_part_without_reviewed_years_falls_back() -> None:
    meta = DocumentMeta(body="精武镇", years_planned=(2025,))
    assert chunk_years(chunk(("一、工作回顾",), meta)) == {2025}


@pytest.mark.parametrize(
    ("text", "stated", "bases"),
    [
        ("2021年，预计完成地区生产总值915亿元，比2016年增长32%", {2021}, {2016}),
        ("居民人均可支配收入达到48300元，比2016年增长41.2%", set(), {2016}),
        ("较2018年末增长10%", set(), {2018}),
        ("与2016年相比增长20%", set(), {2016}),
        ("精武镇2024年税收比2019年增长多少？", {2024}, {2019}),
        ("How much did Xiqing's GDP grow in 2021 compared with 2016?", {2021}, {2016}),
        ("Was tax revenue higher in 2024 than 2019?", {2024}, {2019}),
        ("2019年与2024年税收分别是多少？", {2019, 2024}, set()),  # two asked years, no base
        ("2019年和2024年精武镇税收收入分别是多少？", {2019, 2024}, set()),
        ("2016年税收比2016年以前高", {2016}, set()),  # named as the year it is about too
        ("占规模以上工业增加值比重超过70%", set(), set()),
    ],
)
def test_stated_and_base_years(text: str, stated: set[int], bases: set[int]) -> None:
    assert stated_years(text) == stated
    assert base_years(text) == bases


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("五年来，我们坚持就业优先，新增就业近5000人", {2017, 2018, 2019, 2020, 2021}),
        ("这是民生福祉更加殷实的五年。就业形势稳定，新增就业近5000人", {2017, 2018, 2019, 2020, 2021}),
        ("过去三年，累计投入12亿元，新增就业近3000人", {2019, 2020, 2021}),
        ("五年来成绩显著。2021年，我们坚持稳中求进，新增就业750人", {2021}),
        ("2019年以来，累计新增就业3000人", {2019, 2020, 2021}),
        ("一年来，新增就业750人", {2021}),
        ("民生福祉持续增进。新增就业750人", set()),  # no time phrase: the heading decides
        ("近年来，新增就业不断增加", set()),  # vague: no frame
    ],
)
def test_frame_years_from_the_paragraph_before_a_clause(text: str, years: set[int]) -> None:
    c = Chunk(
        "c1",
        "jw2021",
        "x.txt",
        "上一段：2016年，新增就业600人。\n" + text,
        ("一、过去五年工作的回顾",),
        0,
        2,
        JW2021.meta,
    )
    assert frame_years(c, c.text.index("新增就业", len("上一段：2016年，新增就业600人。\n"))) == years


def test_figure_years_are_the_years_a_report_states_something_for() -> None:
    text = (
        "全市地区生产总值由2018年的1520亿元增加到2023年的2186亿元。比2016年增长32%。2019年以来累计投入5亿元。"
    )
    assert figure_years(text) == {2018, 2023}  # not the base 2016, not the starting point 2019年以来


def test_a_year_the_report_states_figures_for_is_in_its_scope() -> None:
    meta = DocumentMeta(
        "东丽镇",
        "2022年东丽镇政府工作报告",
        "2022-01-14",
        years_reviewed=(2021,),
        years_planned=(2022,),
        years_stated=(2019, 2020),
    )
    docs = [DocInfo("dl2022", "dl.txt", meta)]
    q = analyze_question("2019年东丽镇税收收入是多少？", known_bodies=("东丽镇",))
    assert resolve_scope(q, docs).doc_ids == {"dl2022"}
    q = analyze_question("2018年东丽镇税收收入是多少？", known_bodies=("东丽镇",))
    assert resolve_scope(q, docs).empty  # a year it says nothing about: still a refusal
