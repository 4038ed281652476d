from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from govqa.types import Chunk, DocumentMeta, Passage
from rag.citations import (
    best_quote,
    check_answer,
    figures,
    make_citation,
    parse_markers,
    sentence_spans,
)

DOC = (Path(__file__).resolve().parents[2] / "data" / "samples" / "003_7659820794adfa4e.txt").read_text(
    "utf-8"
)
META = DocumentMeta(
    body="精武镇", title="2019年精武镇政府工作报告", years_reviewed=(2019,), years_planned=(2020,)
)


def passage(opening: str, chunk_id: str, heading: tuple[str, ...] = ("一、2019年工作回顾",)) -> Passage:
    """The paragraph of the sample report that starts with ``opening``, as a retrieved passage."""
    start = DOC.index(opening)
    end = DOC.index("\n", start)
    chunk = Chunk(chunk_id, "003", "003_7659820794adfa4e.txt", DOC[start:end], heading, start, end, META)
    return Passage(chunk=chunk, score=1.0)


TAX = passage("2019年全镇预计实现税收收入", "c-tax")  # 税收收入 18 亿元, 同比增长 36.8%; ...
INNOVATION = passage("创新能力快速提升", "c-innov", ("一、2019年工作回顾", "(一)经济发展的新动能进一步集聚"))
EDUCATION = passage("社会事业稳步发展", "c-edu")


# ----------------------------------------------------------------------------------- sentence_spans


def spans_text(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def test_sentence_spans_chinese_ends_and_numbers() -> None:
    text = "税收收入 18 亿元, 同比增长 36.8%; 固定资产投入 118 亿元。全年新增企业 18 家！真的吗？"
    assert spans_text(text) == [
        "税收收入 18 亿元, 同比增长 36.8%;",
        "固定资产投入 118 亿元。",
        "全年新增企业 18 家！",
        "真的吗？",
    ]


def test_sentence_spans_keep_closing_quotes_and_split_lines() -> None:
    assert spans_text("他说：“要抓落实。”随后散会。\n 第二行没有句号\n\n") == [
        "他说：“要抓落实。”",
        "随后散会。",
        "第二行没有句号",
    ]
    assert spans_text('实施"好。"行动) 下一句。') == ['实施"好。"', "行动) 下一句。"]


def test_sentence_spans_english() -> None:
    text = "Tax revenue was 18 亿元, up 36.8% [1]. It grew again! 1. a list item"
    assert spans_text(text) == ["Tax revenue was 18 亿元, up 36.8% [1].", "It grew again!", "1. a list item"]


def test_sentence_spans_offsets_are_trimmed() -> None:
    text = "  第一句。  第二句。 "
    assert sentence_spans(text) == [(2, 6), (8, 12)]


# ----------------------------------------------------------------------------------------- figures


def test_figures_normalise_width_spaces_and_units() -> None:
    got = {
        (f.amount, f.unit) for f in figures("税收１８亿元，增长３６．８％，1,120 万美元，41.2万平米，18 家")
    }
    assert got == {
        (18 * 10**8, "元"),
        (Decimal("36.8"), "%"),
        (1120 * 10**4, "美元"),
        (412000, "平方米"),
        (18, "家"),
    }


def test_figures_do_not_read_a_chinese_list_comma_as_thousands() -> None:
    assert [f.text for f in figures("分别为5，180家")] == ["5", "180家"]


# --------------------------------------------------------------------------------- make_citation


def test_make_citation_has_document_offsets_and_trims() -> None:
    text = TAX.chunk.text
    a = text.index("固定资产投入") - 1  # includes the space before it
    b = text.index("规模工业") - 1
    c = make_citation(3, TAX, a, b)
    assert c.quote == "固定资产投入 118 亿元, 同比增长 84.5%;"
    assert DOC[c.start : c.end] == c.quote
    assert c.start == TAX.chunk.start + a + 1
    assert (c.n, c.chunk_id, c.doc_id, c.source) == (3, "c-tax", "003", "003_7659820794adfa4e.txt")
    assert c.title == "2019年精武镇政府工作报告"
    assert c.heading_path == ("一、2019年工作回顾",)
    assert c.passage == TAX.chunk.text
    assert DOC[c.passage_start : c.passage_start + len(c.passage)] == c.passage


def test_make_citation_rejects_a_span_outside_the_chunk() -> None:
    with pytest.raises(ValueError, match="outside chunk c-tax"):
        make_citation(1, TAX, 0, len(TAX.chunk.text) + 1)


# ------------------------------------------------------------------------------------ best_quote


def quote_of(claim: str, p: Passage) -> str:
    s, e = best_quote(claim, p)
    return p.chunk.text[s:e]


def test_best_quote_prefers_the_sentence_sharing_the_numbers() -> None:
    assert quote_of("学府科创广场累计完成投资3700万元", INNOVATION).startswith(
        "市级众创空间学府科创广场累计完成投资 3700 万元"
    )
    # the same words appear in several clauses; the figure decides
    assert quote_of("固定资产投入118亿元", TAX) == "固定资产投入 118 亿元, 同比增长 84.5%;"


def test_best_quote_takes_two_adjacent_sentences_when_the_claim_spans_them() -> None:
    q = quote_of("外资到位额1120万美元，限上批零销售额225亿元", TAX)
    assert q == "外资到位额 1120 万美元; 限上批零销售额 225 亿元。"


# --------------------------------------------------------------------------------- parse_markers


def test_parse_markers_variants_and_sentences() -> None:
    text = "税收18亿元[1]。增长36.8%。[2][3] 另有【4】和［5］与[1,2]、[6-8]。"
    ms = parse_markers(text)
    assert [m.numbers for m in ms] == [(1,), (2, 3), (4,), (5,), (1, 2), (6, 7, 8)]
    assert [m.sentence for m in ms] == [0, 1, 2, 2, 2, 2]  # "[2][3]" after 。 belongs to the sentence before
    assert text[ms[1].start : ms[1].end] == "[2][3]"


def test_parse_markers_ignores_bracketed_years() -> None:
    assert parse_markers("西青张政发[2024]1号") == []


# ---------------------------------------------------------------------------------- check_answer


def test_check_answer_valid_markers() -> None:
    text = "2019年精武镇税收收入18亿元，同比增长36.8%[1]。新增市级高新技术企业18家[2]。"
    got = check_answer(text, [TAX, INNOVATION])
    assert got.supported and got.unsupported_claims == [] and got.warnings == []
    assert got.text == text
    assert [c.n for c in got.citations] == [1, 2]
    assert got.citations[0].quote == "2019年全镇预计实现税收收入 18 亿元, 同比增长 36.8%;"
    assert "新增市级高新技术企业 18 家" in got.citations[1].quote
    for c in got.citations:
        assert DOC[c.start : c.end] == c.quote
    assert got.supported_citations == [1, 2]


def test_check_answer_drops_out_of_range_markers_and_renumbers() -> None:
    text = "新增市级高新技术企业18家[2][5]。税收收入18亿元 [7]，增长36.8%[1]。"
    got = check_answer(text, [TAX, INNOVATION])
    assert got.text == "新增市级高新技术企业18家[1]。税收收入18亿元，增长36.8%[2]。"
    assert got.warnings == [
        "dropped marker [5]: only 2 passage(s) were given",
        "dropped marker [7]: only 2 passage(s) were given",
    ]
    assert [(c.n, c.chunk_id) for c in got.citations] == [(1, "c-innov"), (2, "c-tax")]
    assert got.supported


def test_check_answer_flags_a_number_not_in_the_cited_passage() -> None:
    got = check_answer("2019年税收收入19亿元，同比增长36.8%[1]。新增高新技术企业18家[2]。", [TAX, INNOVATION])
    assert not got.supported
    assert got.unsupported_claims == ["2019年税收收入19亿元，同比增长36.8%。"]
    assert got.warnings == [
        "claim not supported by cited passage: 2019年税收收入19亿元，同比增长36.8%。 (not found: 19亿元)"
    ]
    assert got.supported_citations == [2]


def test_check_answer_checks_numbers_against_the_cited_passage_only() -> None:
    # 18 家 is in the innovation passage, not in the tax passage the sentence cites; 8% is not 36.8%
    got = check_answer("新增高新技术企业18家[1]。增长8%[1]。", [TAX, INNOVATION])
    assert got.unsupported_claims == ["新增高新技术企业18家。", "增长8%。"]
    assert got.supported_citations == []


def test_check_answer_matches_full_width_and_spaced_numbers() -> None:
    got = check_answer(
        "税收收入１８ 亿元，同比增长３６．８％【1】。投资1.63亿元[2]，新建幼儿园6 所[2]。", [TAX, EDUCATION]
    )
    assert got.supported, got.warnings
    assert got.text == "税收收入１８ 亿元，同比增长３６．８％[1]。投资1.63亿元[2]，新建幼儿园6 所[2]。"


def test_check_answer_flags_a_number_without_a_marker() -> None:
    got = check_answer("税收收入18亿元。这是好事[1]。", [TAX])
    assert got.unsupported_claims == ["税收收入18亿元。"]
    assert got.warnings == ["claim without citation: 税收收入18亿元。"]
    assert got.supported_citations == [1]  # the claim without figures cannot be checked


def test_check_answer_marker_variants_in_english() -> None:
    text = "Tax revenue was 18 亿元 [1, 2]. It grew 36.8% (【1】). Patents: over 500 [passage 2]."
    got = check_answer(text, [TAX, INNOVATION])
    assert got.supported, got.warnings
    assert got.text == "Tax revenue was 18 亿元 [1][2]. It grew 36.8% ([1]). Patents: over 500 [2]."
    assert got.citations[1].quote.endswith("专利受理超过 500 件。")


def test_check_answer_year_in_title_counts_as_in_passage() -> None:
    # the body never says 2019; the title and heading the model also saw do
    got = check_answer("2019年认定国家级高新技术企业52家[1]。", [INNOVATION])
    assert got.supported


def test_check_answer_no_markers_no_numbers() -> None:
    got = check_answer("精武镇发展很好。", [TAX])
    assert got.citations == [] and got.supported and got.supported_citations == []
