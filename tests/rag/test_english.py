"""rag.english: the English lead sentence, units converted, actual/expected/planned, other periods."""

from __future__ import annotations

from rag.compare import figure_of
from rag.english import in_english, lead, period_note


def _f(quote: str, rate: bool = False):  # type: ignore[no-untyped-def]
    f = figure_of(quote, (), rate=rate)
    assert f is not None
    return f


def test_units_are_converted() -> None:
    assert in_english(_f("税收18亿元")) == "1.8 billion yuan"
    assert in_english(_f("投资2.34亿元")) == "234 million yuan"
    assert in_english(_f("资金92.4万元")) == "924,000 yuan"
    assert in_english(_f("就业1.2万人")) == "12,000 people"
    assert in_english(_f("就业1468人")) == "1,468 people"
    assert in_english(_f("增长6.6%")) == "6.6%"
    assert in_english(_f("粮食2580.3吨")) == "2,580.3 tonnes"


def test_the_lead_states_what_whose_when_and_which_kind() -> None:
    quote = "2019年全镇预计实现税收收入18亿元,同比增长36.8%"
    f = figure_of(quote, ("税收收入",))
    assert f is not None
    assert (
        lead("tax revenue", "Jingwu Town", 2019, f, quote, "[1]")
        == "Jingwu Town's tax revenue in 2019: 1.8 billion yuan (18亿元), expected (预计)[1]."
    )


def test_a_figure_over_another_period_says_so() -> None:
    quote = "2021年，预计完成地区生产总值915亿元，比2016年增长32%"
    f = _f(quote, rate=True)
    assert f.text == "32%"
    assert "measured against 2016" in period_note(quote, f, (2021,))
    assert "several years" in period_note("五年累计增长40%", _f("五年累计增长40%"), (2021,))
    assert period_note("2019年增长9.3%", _f("2019年增长9.3%"), (2019,)) == ""
