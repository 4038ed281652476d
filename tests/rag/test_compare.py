"""rag.compare: the figure a quote states for a measure, and a comparison that concludes."""

from __future__ import annotations

from decimal import Decimal

from rag.compare import conclude, figure_of, status_of


def test_the_figure_after_the_measure_not_the_growth_rate() -> None:
    f = figure_of("2019年全镇预计实现税收收入18亿元,同比增长36.8%", ("税收收入",))
    assert (
        f is not None and f.text == "18亿元" and f.value == Decimal(1_800_000_000) and f.status == "expected"
    )


def test_the_term_picks_its_figure_among_several() -> None:
    f = figure_of(
        "主要预期目标是：税收收入16亿元，规模工业总产值245亿元，固定资产投资62亿元", ("固定资产投资",)
    )
    assert f is not None and f.text == "62亿元" and f.status == "planned"


def test_a_measure_inside_a_longer_measure_word_is_not_it() -> None:
    quote = "外贸进出口总额完成23.5亿元，其中出口18.2亿元、进口5.3亿元"
    exports = figure_of(quote, ("出口",))
    assert exports is not None and exports.text == "18.2亿元"
    trade = figure_of(quote, ("进出口",))
    assert trade is not None and trade.text == "23.5亿元"


def test_an_ambiguous_quote_gives_no_figure() -> None:
    assert figure_of("新建学校2所，改造道路10条", ("医院",)) is None
    assert figure_of("新建学校2所", ("医院",)) is not None  # the only figure


def test_status() -> None:
    assert status_of("力争达到19亿元", "") == "planned"
    assert status_of("固定资产投资130亿元", "二、2020年工作安排") == "planned"
    assert status_of("全年实现规上工业总产值78.46亿元", "一、2023年工作回顾") == "actual"


def _fig(quote: str) -> tuple[str, object]:
    f = figure_of(quote, ())
    assert f is not None
    return quote, f


def test_a_fall_over_time_with_the_arithmetic() -> None:
    a, b = figure_of("税收收入18亿元", ()), figure_of("税收10.8亿元", ())
    assert a and b
    text = conclude(("2019年", a), ("2024年", b), True, "zh")
    assert (
        text
        == "比较：从2019年的18亿元到2024年的10.8亿元，减少7.2亿元（10.8 − 18 = -7.2），下降40%（-7.2 ÷ 18）。"
    )
    en = conclude(("2019", a), ("2024", b), True, "en")
    assert "it fell by 7.2亿元 (10.8 − 18 = -7.2), down 40% (-7.2 ÷ 18)" in en


def test_two_bodies_higher_or_lower_and_magnitudes_aligned() -> None:
    a, b = figure_of("投入帮扶资金92.4万元", ()), figure_of("拨付帮扶资金113.3万元", ())
    assert a and b
    assert conclude(("甲镇", a), ("乙镇", b), False, "zh").startswith(
        "比较：乙镇比甲镇高20.9万元（113.3 − 92.4 = 20.9），高22.62%"
    )
    big, small = figure_of("收入1.2亿元", ()), figure_of("收入5000万元", ())
    assert big and small
    assert "7000万元" in conclude(("甲", big), ("乙", small), False, "zh")


def test_never_across_units_and_a_target_is_said_to_be_one() -> None:
    a, b = figure_of("新增就业1468人", ()), figure_of("新增企业750家", ())
    assert a and b
    assert "单位不同" in conclude(("2019年", a), ("2021年", b), True, "zh")
    t, r = figure_of("目标销售额215亿元", ()), figure_of("销售额185亿元", ())
    assert t and r
    assert "（注意：2022年是目标数，2024年是实际数，性质不同）" in conclude(
        ("2022年", t), ("2024年", r), True, "zh"
    )


def test_rates_change_in_points_without_a_percent_of_a_percent() -> None:
    a, b = figure_of("增长6.6%", ()), figure_of("增长5%", ())
    assert a and b
    assert (
        conclude(("2021年", a), ("2022年", b), True, "zh")
        == "比较：从2021年的6.6%到2022年的5%，降低1.6%（5 − 6.6 = -1.6）。"
    )


def test_a_quote_through_several_years_is_read_where_it_speaks_of_the_year() -> None:
    from rag.compare import figure_of, year_segment

    quote = "2019年街道税收收入3.52亿元，2020年受疫情影响为3.99亿元，2021年达到4.36亿元"
    assert quote[slice(*year_segment(quote, 2020))] == "2020年受疫情影响为3.99亿元，"
    assert figure_of(quote, ("税收收入",), year=2019).text == "3.52亿元"  # type: ignore[union-attr]
    assert figure_of(quote, ("税收收入",), year=2021).text == "4.36亿元"  # type: ignore[union-attr]
    assert figure_of(quote, ("税收收入",)).text == "3.52亿元"  # type: ignore[union-attr]  (no year: as before)
    assert figure_of("2021年税收收入4.36亿元", ("税收收入",), year=2021).text == "4.36亿元"  # type: ignore[union-attr]
    planned = "2022年目标：2023年税收收入5亿元"
    assert figure_of(planned, ("税收收入",), year=2023).status == "planned"  # type: ignore[union-attr]
