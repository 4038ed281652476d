"""rag.extractive: clause units, their features for a question, and the gates of ``select``."""

from __future__ import annotations

import pytest

from govqa.types import Chunk, DocumentMeta, Passage
from rag.extractive import (
    Weights,
    asked_years,
    best_candidate,
    covered_bigrams,
    question_core,
    question_numbers,
    score_unit,
    select,
    units,
)
from rag.question import QuestionInfo, analyze_question

KNOWN = ("精武镇", "西青区", "张家窝镇")
FIVE_YEARS = (2017, 2018, 2019, 2020, 2021)
JW2019 = DocumentMeta("精武镇", "2019年精武镇政府工作报告", "2019-12-28", "徐海权", "镇长", (2019,), (2020,))
JW2021 = DocumentMeta(
    "精武镇",
    "2021年精武镇政府工作报告",
    "2021-11-09",
    "乔金星",
    "镇长",
    FIVE_YEARS,
    (2022, 2023, 2024, 2025, 2026),
)
ZJW2024 = DocumentMeta("张家窝镇", "张家窝镇政府工作报告", "2024-01-18", "赵林", "镇长", (2023,), (2024,))
XQ2021 = DocumentMeta(
    "西青区", "2021年西青区政府工作报告", "2021-12-12", "殷学武", "代理区长", FIVE_YEARS, (2022,)
)
REVIEW_2019 = ("一、2019年工作回顾",)
PLAN_2020 = ("二、2020年工作安排",)
REVIEW_5Y = ("一、过去五年工作的回顾",)

TAX_2019 = "2019年全镇预计实现税收收入18亿元,同比增长36.8%"


def ask(question: str) -> QuestionInfo:
    return analyze_question(question, known_bodies=KNOWN)


def passage(
    text: str,
    heading: tuple[str, ...] = REVIEW_2019,
    meta: DocumentMeta = JW2019,
    score: float = 1.0,
    chunk_id: str = "c",
) -> Passage:
    return Passage(Chunk(chunk_id, "d", "d.txt", text, heading, 0, len(text), meta), score)


def pick_text(question: str, passages: list[Passage], **kwargs: object) -> str | None:
    s = select(ask(question), passages, **kwargs)  # type: ignore[arg-type]
    return None if s is None else s.unit.text


# ------------------------------------------------------------------------------------------ units


def test_units_split_at_sentence_ends_and_semicolons() -> None:
    text = f"{TAX_2019};固定资产投入118亿元，同比增长84.5%；外资到位额1120万美元。规模工业总产值151亿元。"
    got = units(passage(text), 3)
    assert [u.text for u in got] == [
        TAX_2019,
        "固定资产投入118亿元，同比增长84.5%",
        "外资到位额1120万美元",
        "规模工业总产值151亿元",
    ]
    assert all(u.passage_index == 3 and text[u.start : u.end] == u.text for u in got)


def test_units_trim_punctuation_and_drop_empty_pieces() -> None:
    text = "经济发展稳中有进。\n；；，税收基础持续夯实，全年预计完成税收10.8亿元；\n"
    got = units(passage(text), 0)
    assert [u.text for u in got] == ["经济发展稳中有进", "税收基础持续夯实，全年预计完成税收10.8亿元"]
    assert all(text[u.start : u.end] == u.text for u in got)


def test_units_keep_decimal_numbers_whole() -> None:
    assert [u.text for u in units(passage("PM2.5年均浓度下降16.4%。"), 0)] == ["PM2.5年均浓度下降16.4%"]


# -------------------------------------------------------------------------------------- narrowing

FILLER = [
    "坚持以习近平新时代中国特色社会主义思想为指导",
    "全面贯彻党的十九大和十九届二中三中四中全会精神",
    "深入贯彻落实中央市委和区委决策部署",
    "在区委区政府和镇党委的坚强领导下",
    "在镇人大的监督支持下",
    "紧紧围绕总体工作目标和基本工作思路",
    "砥砺奋进攻坚克难",
    "扎实推进各项工作取得新成效",
    "经济社会发展呈现良好态势",
]


def test_a_long_clause_is_narrowed_to_the_window_that_answers() -> None:
    clause = "，".join([*FILLER[:4], "全镇预计实现税收收入18亿元", "同比增长36.8%", *FILLER[4:]])
    assert len(clause) > 160
    text = "一年来，" + clause + "。"  # in the 2019 review: every window is about 2019
    s = select(ask("2019年精武镇税收收入是多少？"), [passage(text)])
    assert s is not None
    assert "税收收入18亿元" in s.unit.text
    assert len(s.unit.text) <= 160 and s.unit.text.count("，") <= 2
    assert text[s.unit.start : s.unit.end] == s.unit.text


def test_a_short_clause_is_quoted_whole() -> None:
    text = "持续推进营商环境优化，全镇预计实现税收收入18亿元，同比增长36.8%，继续保持全区前列。"
    assert pick_text("2019年精武镇税收收入是多少？", [passage(text)]) == text.rstrip("。")


# ------------------------------------------------------------------------------------ the question


def test_question_core_drops_years_bodies_and_question_words() -> None:
    assert question_core(ask("2019年精武镇税收收入是多少？")) == "税收收入"
    assert question_core(ask("张家窝镇2024年计划新建几所学校？")) == "新建学校"


@pytest.mark.parametrize(
    ("question", "numbers"),
    [
        ("天津地铁12号线在西青区的哪一年通车？", ["12"]),
        ("2019年精武镇税收收入是多少？", []),
        ("西青区5G基站有多少个？", ["5"]),
        ("PM2.5浓度是多少", ["2.5"]),
        ("精武镇2019年和2024年的税收收入分别是多少？", []),
    ],
)
def test_question_numbers_are_the_numbers_other_than_years(question: str, numbers: list[str]) -> None:
    assert question_numbers(ask(question)) == numbers


def test_asked_years_of_a_span_and_of_a_comparison() -> None:
    assert asked_years(ask("2017—2021年五年间精武镇累计实现税收收入多少？")) == set(FIVE_YEARS)
    assert asked_years(ask("精武镇2019年和2024年的税收收入分别是多少？")) == {2019, 2024}
    assert asked_years(ask("精武镇的常住人口有多少？")) == set()


# -------------------------------------------------------------------------------------- features


def test_score_features_of_a_clause_that_answers() -> None:
    q = ask("2019年精武镇税收收入是多少？")
    p = passage(TAX_2019)
    (u,) = units(p, 0)
    s = score_unit(q, u, p, 1.0, Weights())
    f = s.features
    assert f["terms"] == 1.0 and f["bigrams"] == 1.0 and f["topic"] == 1.0
    assert f["number"] == 1.0 and f["year"] == 1.0 and f["year_conflict"] == 0.0 and f["prior"] == 1.0
    assert "plan_conflict" not in f and "number_missing" not in f
    assert s.score == pytest.approx(1.0 + 0.8 + 0.35 + 0.35 + 0.3)


def test_score_is_the_weighted_sum_of_the_features() -> None:
    q = ask("2019年精武镇税收收入是多少？")
    p = passage("税收基础持续夯实，完成税收10.8亿元", PLAN_2020)
    (u,) = units(p, 0)
    w = Weights(terms=2.0, bigrams=0.5, number=0.1, year=0.2, year_conflict=3.0, prior=0.7)
    s = score_unit(q, u, p, 0.4, w)
    f = s.features
    expected = (
        2.0 * f["terms"]
        + 0.5 * f["bigrams"]
        + 0.1 * f["number"]
        + 0.2 * f["year"]
        - 3.0 * f["year_conflict"]
        + 0.7 * f["prior"]
    )
    assert s.score == pytest.approx(expected)
    assert f["prior"] == 0.4
    assert 0 < f["terms"] < 1  # 税收 but not 税收收入: partial credit
    assert f["year_conflict"] == 1.0  # a section about 2020, no year in the clause


@pytest.mark.parametrize(
    ("text", "heading", "meta", "year", "conflict"),
    [
        ("2019年税收收入18亿元", PLAN_2020, JW2019, 1.0, 0.0),  # names the year: wins over its section
        ("税收收入18亿元", REVIEW_2019, JW2019, 0.6, 0.0),  # a section about exactly 2019
        ("税收收入73.3亿元", REVIEW_5Y, JW2021, 0.0, 0.4),  # a section about 2017-2021
        ("税收收入18亿元", PLAN_2020, JW2019, 0.0, 1.0),  # a section about 2020
        ("2020年税收收入18亿元", REVIEW_2019, JW2019, 0.0, 1.0),  # names another year
    ],
)
def test_year_features(
    text: str, heading: tuple[str, ...], meta: DocumentMeta, year: float, conflict: float
) -> None:
    q = ask("2019年精武镇税收收入是多少？")
    p = passage(text, heading, meta)
    (u,) = units(p, 0)
    f = score_unit(q, u, p, 1.0, Weights()).features
    assert (f["year"], f["year_conflict"]) == (year, conflict)


def test_no_number_feature_when_the_question_wants_none() -> None:
    q = ask("精武镇如何推进营商环境建设？")
    p = passage("优化营商环境，新增市场主体861家")
    (u,) = units(p, 0)
    assert score_unit(q, u, p, 1.0, Weights()).features["number"] == 0.0


# ------------------------------------------------------------------------------------------ gates


def test_a_clause_about_another_year_is_never_chosen() -> None:
    q = ask("2019年精武镇税收收入是多少？")
    other_year = [
        passage("2020年全镇税收收入18亿元，同比持平", REVIEW_2019, score=5.0, chunk_id="a"),
        passage("税收收入目标18亿元，同比持平", PLAN_2020, score=5.0, chunk_id="b"),
    ]
    assert select(q, other_year) is None
    assert best_candidate(q, other_year) is None  # not even without threshold and topic gates
    right = passage(TAX_2019, REVIEW_2019, score=0.1, chunk_id="c")
    s = select(q, [*other_year, right])
    assert s is not None and s.unit.text == TAX_2019 and s.unit.passage_index == 2


def test_a_multi_year_section_is_allowed_but_ranks_below_an_explicit_year() -> None:
    question = "2019年精武镇税收收入是多少？"
    five_years = passage("全镇税收收入累计73.3亿元，年均增长9%", REVIEW_5Y, JW2021, score=1.0, chunk_id="5y")
    s = select(ask(question), [five_years])
    assert s is not None and s.features["year_conflict"] == 0.4
    assert s.unit.text == "全镇税收收入累计73.3亿元，年均增长9%"
    explicit = passage(TAX_2019, REVIEW_2019, JW2019, score=0.5, chunk_id="2019")
    assert pick_text(question, [five_years, explicit]) == TAX_2019


def test_a_list_item_is_about_what_introduced_the_list() -> None:
    """ "主要预期目标是：A；B；C。": C is a target too, though only the list's first item says so."""
    targets = (
        "今年发展主要预期目标是：地区生产总值增长5%左右；城镇新增就业1200人以上；粮食产量3.2万吨左右。"
        "去年粮食产量3.1万吨。"
    )
    plan = passage(targets, ("二、2025年工作安排",), JW2021)
    [first, jobs, grain, last_year] = units(plan, 0)
    assert first.lead == "" and jobs.lead == grain.lead == "今年发展主要预期目标是："
    assert last_year.lead == ""  # the list ended with its sentence
    assert pick_text("2025年东丽镇粮食产量的预期目标是多少？", [plan]) == "粮食产量3.2万吨左右"


def test_a_paragraph_about_the_five_years_does_not_answer_one_year() -> None:
    """五年来，…近5000人 is a period total; 2021年，…750人 in the same review is the year's figure."""
    review = (
        "民生保障持续加强。五年来，我们坚持就业优先，新增就业近5000人，城镇登记失业率控制在2.4%以内。\n"
        "2021年，我们坚持稳中求进，全年实现税收收入15.5亿元。实现新增就业750人，转移农村劳动力610人。"
    )
    p = passage(review, REVIEW_5Y, JW2021)
    assert pick_text("2021年精武镇新增就业多少人？", [p]) == "实现新增就业750人，转移农村劳动力610人"
    period_only = passage(review.split("\n")[0], REVIEW_5Y, JW2021)
    assert select(ask("2021年精武镇新增就业多少人？"), [period_only]) is None  # a refusal, not 5000
    assert pick_text("2017—2021年精武镇累计新增就业多少人？", [period_only]) is not None


def test_a_plan_clause_is_refused_when_the_question_asks_what_was_achieved() -> None:
    plan = passage(
        "主要预期目标是：预计完成税收收入16亿元，规模工业总产值245亿元", ("三、2022年工作安排",), JW2021
    )
    actual = ask("精武镇2022年实际完成的税收收入是多少？")
    (u,) = units(plan, 0)
    assert score_unit(actual, u, plan, 1.0, Weights()).features["plan_conflict"] == 1.0
    assert select(actual, [plan]) is None
    # the same clause answers the question about the target
    assert pick_text("精武镇2022年税收收入的预期目标是多少？", [plan]) is not None


def test_plan_words_in_a_review_section_are_a_target_too() -> None:
    target = passage("力争2019年税收收入达到20亿元", REVIEW_2019)
    assert select(ask("精武镇2019年实际完成税收收入多少？"), [target]) is None
    assert (
        pick_text("精武镇2019年实际完成税收收入多少？", [target, passage(TAX_2019, chunk_id="t")]) == TAX_2019
    )


def test_a_number_named_in_the_question_must_appear_in_the_clause() -> None:
    question = "天津地铁12号线在西青区的哪一年通车？"
    heading = ("一、过去五年工作回顾", "（三）城市品质更加优化")
    lines_5_6 = passage("地铁5、6号线建成通车，西青区进入地铁时代", heading, XQ2021, chunk_id="a")
    assert select(ask(question), [lines_5_6]) is None
    line_12 = passage("天津地铁12号线西青段于2021年建成通车", heading, XQ2021, score=0.2, chunk_id="b")
    assert pick_text(question, [lines_5_6, line_12]) == "天津地铁12号线西青段于2021年建成通车"


def test_a_required_place_must_appear_in_the_clause() -> None:
    question = "西青区2022年计划提升改造多少旧楼区？"
    heading = ("三、2022年的重点工作",)
    generic = passage("提升改造西营门街跃升里等7个小区73.2万平方米旧楼区", heading, XQ2021, 1.0, "a")
    named = passage("提升改造中北镇溪华苑等7个小区73.2万平方米旧楼区", heading, XQ2021, 0.3, "b")
    assert pick_text(question, [generic, named]) == generic.chunk.text
    assert pick_text(question, [generic, named], required=("中北镇",)) == named.chunk.text
    assert pick_text(question, [generic, named], required=("大寺镇",)) is None


@pytest.mark.parametrize("front", ["印发通知", "政府工作报告"])
def test_front_matter_chunks_are_skipped(front: str) -> None:
    question = "2019年精武镇政府工作报告是在哪次会议上作的？"
    text = "2019年12月28日在精武镇第十八届人民代表大会第九次会议上作政府工作报告"
    assert pick_text(question, [passage(text, REVIEW_2019)]) is not None
    assert pick_text(question, [passage(text, (front,))]) is None


def test_a_clause_off_the_topic_is_not_an_answer() -> None:
    off_topic = passage("2019年固定资产投入118亿元，同比增长84.5%")
    q = ask("2019年精武镇税收收入是多少？")
    assert select(q, [off_topic]) is None
    s = best_candidate(q, [off_topic])  # it scores well on year, number and prior
    assert s is not None and s.features["topic"] == 0.0 and s.score > Weights().threshold


def test_below_the_threshold_nothing_is_chosen() -> None:
    q = ask("2019年精武镇税收收入是多少？")
    passages = [passage(TAX_2019)]
    assert select(q, passages, Weights(threshold=10.0)) is None
    s = best_candidate(q, passages, Weights(threshold=10.0))
    assert s is not None and s.unit.text == TAX_2019 and s.score < 10.0


def test_no_passages_no_answer() -> None:
    assert select(ask("2019年精武镇税收收入是多少？"), []) is None


# --------------------------------------------------------------------- report synonyms, asked measures

PLAN_2024 = ("二、2024年工作安排", "（五）坚持抓好“三农”，全面助推乡村振兴")
SCHOOL_2024 = (
    "大力推进教育高质量发展，建成张家窝镇第一小学，配套购置常用、专业、办公等设备，确保今年9月如期开学投用"
)
GREENHOUSES_2024 = "实施绿亨种业科技园实验基地项目，投资1006万元，新建第五代日光温室10栋、连栋薄膜温室1栋"


def test_covered_bigrams_count_a_term_found_under_its_report_synonym() -> None:
    q = ask("张家窝镇2024年计划新建几所学校？")
    assert question_core(q) == "新建学校"
    school = covered_bigrams(q, SCHOOL_2024)  # 建成 for 新建, 小学 for 学校
    assert {"新建", "学校"} <= school and "建学" not in school
    greenhouses = covered_bigrams(q, GREENHOUSES_2024)
    assert "新建" in greenhouses and "学校" not in greenhouses


def test_the_school_building_plan_answers_how_many_schools_not_a_greenhouse_clause() -> None:
    # the greenhouse clause shares only the verb 新建 and has figures of other measures (10栋, 1006万元)
    q = ask("张家窝镇2024年计划新建几所学校？")
    greenhouses = passage(GREENHOUSES_2024, PLAN_2024, ZJW2024, 1.0, "a")
    school = passage(SCHOOL_2024, PLAN_2024, ZJW2024, 0.9, "b")
    assert pick_text("张家窝镇2024年计划新建几所学校？", [greenhouses, school]) == SCHOOL_2024
    (g,) = units(greenhouses, 0)
    f = score_unit(q, g, greenhouses, 1.0, Weights()).features
    assert f["number"] == 0.0 and f["bigrams"] == pytest.approx(1 / 3)
    (u,) = units(school, 1)
    f = score_unit(q, u, school, 0.9, Weights()).features
    assert f["terms"] == 1.0 and f["bigrams"] == pytest.approx(2 / 3)


def test_the_number_feature_wants_the_asked_measure() -> None:
    p = passage("2024年新建小学2所，新增学位1200个", PLAN_2024, ZJW2024)
    (u,) = units(p, 0)
    assert score_unit(ask("张家窝镇2024年计划新建几所学校？"), u, p, 1.0, Weights()).features["number"] == 1.0
    p = passage("2024年投资1006万元，新建日光温室10栋", PLAN_2024, ZJW2024)
    (u,) = units(p, 0)
    assert score_unit(ask("张家窝镇2024年计划新建几所学校？"), u, p, 1.0, Weights()).features["number"] == 0.0
    assert score_unit(ask("张家窝镇2024年计划投资多少？"), u, p, 1.0, Weights()).features["number"] == 1.0


def test_a_price_question_is_not_answered_by_a_clause_without_a_price() -> None:
    question = "精武门·中华武林园的门票价格是多少？"
    heading = ("一、2024年工作回顾", "（五）传承精武魂，人文魅力持续彰显")
    visitors = passage(
        "依托精武门·中华武林园爱国主义教育基地，共接待40所学校师生2万人次", heading, chunk_id="a"
    )
    assert select(ask(question), [visitors]) is None
    (u,) = units(visitors, 0)
    s = score_unit(ask(question), u, visitors, 1.0, Weights())  # on topic, with a number: gated
    assert s.features["kind_missing"] == 1.0 and s.score > Weights().threshold
    price = passage("精武门·中华武林园门票价格为每人60元", heading, score=0.5, chunk_id="b")
    assert pick_text(question, [visitors, price]) == price.chunk.text


def test_a_per_capita_question_is_not_answered_by_the_total() -> None:
    question = "What was Xiqing district's per-capita GDP in 2021?"
    total = passage("2021年，预计完成地区生产总值915亿元，比2016年增长32%", REVIEW_5Y, XQ2021, chunk_id="a")
    assert select(ask(question), [total]) is None
    per_capita = passage("2021年人均地区生产总值达到13万元", REVIEW_5Y, XQ2021, 0.5, "b")
    assert pick_text(question, [total, per_capita]) == per_capita.chunk.text


def test_a_comparison_base_year_in_a_clause_is_not_the_year_it_is_about() -> None:
    # the 2021 line of the five-year review: "2021年，…；居民人均可支配收入达到48300元，比2016年增长41.2%"
    income = "居民人均可支配收入达到48300元，比2016年增长41.2%"
    p = passage(income, ("一、过去五年工作回顾",), XQ2021)
    assert pick_text("西青区2021年居民人均可支配收入达到多少？", [p]) == income
    (u,) = units(p, 0)
    f = score_unit(ask("西青区2021年居民人均可支配收入达到多少？"), u, p, 1.0, Weights()).features
    assert f["year_conflict"] == 0.4  # a section about 2017-2021, not a clause about 2016
    # a 2019 figure measured against 2018 does not answer a question about 2018
    tax = passage("全镇实现税收收入18亿元，较2018年增长36.8%", REVIEW_2019, JW2019)
    assert pick_text("2018年精武镇税收收入是多少？", [tax]) is None


def test_an_export_question_is_not_answered_by_the_production_figure() -> None:
    question = "2023年新能源汽车出口多少辆？"
    heading = ("一、2023年工作回顾",)
    production = passage("高技术制造业增加值增长8.9%，新能源汽车年产量突破3.2万辆", heading, chunk_id="a")
    assert select(ask(question), [production]) is None
    (u,) = units(production, 0)
    s = score_unit(ask(question), u, production, 1.0, Weights())  # on topic, with a number: gated
    assert s.features["measure_conflict"] == 1.0 and s.features["topic"] >= Weights().min_topic
    exports = passage("新能源汽车出口1.1万辆，增长20%", heading, score=0.5, chunk_id="b")
    assert pick_text(question, [production, exports]) == exports.chunk.text


def test_a_lead_is_quoted_with_the_list_it_introduces() -> None:
    from rag.extractive import ends_with_lead, opening_table, with_its_list

    text = "主要预期目标是：地区生产总值增长5%；新增就业1200人。其他内容。"
    end = text.index("：")
    assert text[: with_its_list(text, 0, end)] == "主要预期目标是：地区生产总值增长5%；新增就业1200人"
    table = "主要预期目标是：\n| 指标 | 2025年目标 |\n| --- | --- |\n| 新增就业 | 1200人 |\n下一段。"
    assert table[: with_its_list(table, 0, table.index("："))].endswith("| 新增就业 | 1200人 |")
    one = "重点是：稳就业。"  # one clause after the colon: left as chosen
    assert with_its_list(one, 0, one.index("：")) == one.index("：")
    assert ends_with_lead("全市的主要预期目标是：\n", len("全市的主要预期目标是"))
    assert opening_table("\n| a | b |\n| --- | --- |\n正文") == (1, len("\n| a | b |\n| --- | --- |"))
    assert opening_table("正文") is None


def test_a_question_asking_for_several_things_prefers_the_clause_that_lists_them() -> None:
    text = "2025年是关键一年，目标任务繁重。综合考虑各方面因素，主要预期目标是：\n| 指标 | 目标 |"
    plan = passage(text, ("二、2025年工作安排",), JW2021)
    s = select(analyze_question("What are the main targets for 2025?"), [plan])
    assert s is not None and s.unit.text.endswith("主要预期目标是") and s.features["list"] == 1.0
