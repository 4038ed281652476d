"""The scoring core: each metric on hand-made rows, edge cases included."""

from __future__ import annotations

from typing import Any

import pytest

from eval.golden import GoldenItem, GoldenSource
from eval.metrics import (
    CitedText,
    ResultRow,
    RetrievedPassage,
    answer_correct,
    answer_values,
    as_golden,
    citation_precision,
    citation_recall,
    format_summary,
    is_answerable,
    latency_percentiles,
    percentile,
    retrieval_score,
    source_hit_rank,
    squash,
    summarize,
    texts_overlap,
)

F19 = "003_7659820794adfa4e.txt"  # 2019 精武镇
F24 = "001_2215fab11d81e0ce.txt"  # 2024 精武镇
TAX19 = "2019年全镇预计实现税收收入 18 亿元, 同比增长 36.8%"
TAX24 = "全年预计完成税收10.8亿元"


def gold(id_: str = "q1", type_: str = "fact", **kw: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "id": id_,
        "lang": "zh",
        "type": type_,
        "question": "2019年精武镇税收收入多少？",
        "answer": "18亿元，同比增长36.8%。",
        "must_include": ["18亿元", "36.8%"],
        "must_include_any": [],
        "sources": [{"file": F19, "heading": "一、2019年工作回顾", "quote": TAX19}],
    }
    d.update(kw)
    return d


def passage(text: str, source: str = F19) -> RetrievedPassage:
    return RetrievedPassage(text=text, source=source)


# ---------------------------------------------------------------- normalisation and data


def test_squash_ignores_spaces_bold_width_and_thousands() -> None:
    assert squash("税收收入 18 亿元，\n同比增长 **36.8％**") == "税收收入18亿元,同比增长36.8%"
    assert squash("１８亿元") == "18亿元"
    assert squash("1,468 人") == "1468人"
    assert squash("2019,2020") == "2019,2020"  # not a thousands separator


def test_golden_items_from_dicts() -> None:
    item = as_golden(gold(must_include_any=[["36.8%", "36.8％"]]))
    assert isinstance(item, GoldenItem)
    assert item.sources == (GoldenSource(file=F19, heading="一、2019年工作回顾", quote=TAX19),)
    assert answer_values(item) == ("18亿元", "36.8%", "36.8%", "36.8％")
    assert as_golden(item) is item
    assert is_answerable(item) and not is_answerable(as_golden(gold(type_="unanswerable")))


def test_result_row_from_results_file_dict() -> None:
    row = ResultRow.from_dict(
        {
            "id": "q1",
            "question": "q",
            "answer": "18亿元[1]",
            "refused": False,
            "retrieved": [{"text": TAX19, "source": F19, "heading": "h", "score": 0.5}],
            "citations": [{"text": TAX19, "source": F19, "heading": "h"}],
            "latency_ms": {"total": 120, "retrieve": 20.5},
        }
    )
    assert row.retrieved == (RetrievedPassage(TAX19, F19, "h", 0.5),)
    assert row.citations == (CitedText(TAX19, F19, "h"),)
    assert row.latency_ms == {"total": 120.0, "retrieve": 20.5}
    assert ResultRow.from_dict({"id": "q2"}) == ResultRow(id="q2")


# ---------------------------------------------------------------- retrieval


def test_hit_when_quote_inside_passage_whitespace_insensitively() -> None:
    src = GoldenSource(F19, "", TAX19)
    text = (
        "经济社会保持了较快发展的态势。\n2019年全镇预计实现税收收入18\n亿元,同比增长36.8%;固定资产投入118亿元"
    )
    assert source_hit_rank(src, [passage("无关"), passage(text)]) == 2


def test_same_text_from_another_report_is_not_a_hit() -> None:
    assert source_hit_rank(GoldenSource(F19, "", TAX19), [passage(TAX19, source=F24)]) is None


def test_empty_retrieved_and_empty_quote() -> None:
    assert source_hit_rank(GoldenSource(F19, "", TAX19), []) is None
    assert source_hit_rank(GoldenSource(F19, "", "  "), [passage(TAX19)]) is None
    score = retrieval_score(as_golden(gold()), [])
    assert score is not None and not score.hit_at_5 and score.reciprocal_rank == 0.0


def test_quote_straddling_two_chunks_counts_at_the_later_rank() -> None:
    head = "前文。2019年全镇预计实现税收收" + ""  # 13 of the 28 quote chars: neither part reaches 60%
    tail = "入18亿元,同比增长36.8%;固定资产投入118亿元"
    src = GoldenSource(F19, "", TAX19)
    assert source_hit_rank(src, [passage(tail[:9]), passage("x"), passage(head)]) is None
    assert source_hit_rank(src, [passage(head), passage("无关"), passage(tail)]) == 3
    assert source_hit_rank(src, [passage(tail), passage(head)]) == 2  # either order


def test_long_enough_prefix_counts_alone() -> None:
    src = GoldenSource(F19, "", TAX19)  # squashed: 28 chars; 60% = 16.8
    assert source_hit_rank(src, [passage("2019年全镇预计实现税收收入18亿元")]) == 1  # 19 chars
    assert source_hit_rank(src, [passage("2019年全镇预计实现税收")]) is None  # 13 chars


def test_short_part_with_an_answer_value_counts() -> None:
    src = GoldenSource(F19, "", TAX19)
    suffix = "18亿元,同比增长36.8%"  # 14 of 28 chars, holds 18亿元
    assert source_hit_rank(src, [passage(suffix)]) is None
    assert source_hit_rank(src, [passage(suffix)], values=["18亿元"]) == 1
    assert source_hit_rank(src, [passage("36.8%")], values=["36.8%"]) is None  # too short to say


def test_multi_source_hit_needs_all_sources_any_needs_one() -> None:
    item = as_golden(
        gold(
            type_="multi_hop",
            sources=[
                {"file": F19, "heading": "", "quote": TAX19},
                {"file": F24, "heading": "", "quote": TAX24},
            ],
        )
    )
    ranked = [passage(TAX19), *[passage(f"无关{i}") for i in range(5)], passage(TAX24, source=F24)]
    score = retrieval_score(item, ranked)
    assert score is not None
    assert (score.hit_at_1, score.hit_at_5, score.hit_at_1_any, score.hit_at_5_any) == (
        False,
        False,
        True,
        True,
    )
    assert score.reciprocal_rank == 1.0
    late = retrieval_score(item, [passage("无关"), passage(TAX24, source=F24), passage(TAX19)])
    assert late is not None and late.hit_at_5 and not late.hit_at_1 and late.reciprocal_rank == 0.5


def test_unanswerable_has_no_retrieval_score() -> None:
    assert retrieval_score(as_golden(gold(type_="unanswerable", sources=[])), [passage(TAX19)]) is None


# ---------------------------------------------------------------- answers


@pytest.mark.parametrize(
    ("answer", "ok"),
    [
        ("2019年精武镇税收收入18亿元，同比增长36.8%。", True),
        ("税收收入 18 亿元，同比增长 36.8％[1]", True),  # spacing and full-width %
        ("税收收入１８亿元，同比增长36.8%", True),  # full-width digits
        ("税收收入18亿元。", False),  # 36.8% missing
        ("税收收入19亿元，同比增长36.8%", False),
    ],
)
def test_answer_correct(answer: str, ok: bool) -> None:
    assert answer_correct(as_golden(gold()), answer, refused=False) is ok


def test_refused_answerable_is_incorrect_and_unanswerable_is_not_scored() -> None:
    item = as_golden(gold())
    assert answer_correct(item, "18亿元，36.8%", refused=True) is False
    assert answer_correct(as_golden(gold(type_="unanswerable")), "无", refused=True) is None


def test_must_include_any_groups() -> None:
    item = as_golden(gold(must_include=[], must_include_any=[["1468", "1,468"], ["people", "人"]]))
    assert answer_correct(item, "1,468 people", refused=False)
    assert answer_correct(item, "新增就业1468人", refused=False)
    assert not answer_correct(item, "1468", refused=False)


# ---------------------------------------------------------------- citations


def test_texts_overlap() -> None:
    assert texts_overlap("税收收入 18 亿元", TAX19)  # contained
    assert texts_overlap(TAX19 + ";固定资产投入118亿元", TAX19)  # contains
    assert texts_overlap("预计实现税收收入18亿元,同比增长36.8%;固定资产投入118亿元,同比增长84.5%", TAX19)
    assert not texts_overlap("同比增长", TAX19 + "。" + "无关的内容" * 5)  # a tiny common run
    assert not texts_overlap("", TAX19)
    assert texts_overlap("镇长 徐海权。", "徐海权")  # a short quote inside the cited text


def test_citation_recall_and_precision() -> None:
    item = as_golden(
        gold(
            sources=[
                {"file": F19, "heading": "", "quote": TAX19},
                {"file": F24, "heading": "", "quote": TAX24},
            ]
        )
    )
    cites = [
        CitedText("2019年全镇预计实现税收收入 18 亿元, 同比增长 36.8%; 固定资产投入 118 亿元", F19),
        CitedText(TAX24, F19),  # right text, wrong report: not recall, not an overlap for precision
        CitedText("精武镇大力发展现代都市型农业", F19),
        CitedText("规模工业总产值18亿元", F24),  # holds an answer value
    ]
    assert citation_recall(item, cites) == 0.5
    assert citation_precision(item, cites) == 0.5
    assert citation_recall(item, []) == 0.0
    assert citation_precision(item, []) is None


# ---------------------------------------------------------------- latency and summary


def test_percentiles() -> None:
    assert percentile([], 50) is None
    assert percentile([10.0], 95) == 10.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile(list(map(float, range(1, 101))), 95) == pytest.approx(95.05)
    rows = [ResultRow(id=str(i), latency_ms={"total": float(i), "llm": 1.0}) for i in range(1, 5)]
    assert latency_percentiles(rows) == {
        "llm": {"p50": 1.0, "p95": 1.0, "n": 4.0},
        "total": {"p50": 2.5, "p95": pytest.approx(3.85), "n": 4.0},
    }


def test_summarize_per_type_and_overall() -> None:
    golden = [
        gold("a"),
        gold("b"),
        gold("c", type_="unanswerable", must_include=[], sources=[]),
        gold("d", type_="unanswerable", must_include=[], sources=[]),
        gold("e", type_="disambiguation"),
    ]
    cite = {"text": TAX19, "source": F19}
    hit = {"text": TAX19, "source": F19, "score": 1.0}
    results: list[dict[str, Any]] = [
        {
            "id": "a",
            "answer": "18亿元，增长36.8%[1]",
            "retrieved": [hit],
            "citations": [cite],
            "latency_ms": {"total": 100},
        },
        {"id": "b", "answer": "", "refused": True, "retrieved": [], "latency_ms": {"total": 300}},
        {"id": "c", "answer": "没有找到", "refused": True, "latency_ms": {"total": 200}},
        {"id": "d", "answer": "编造", "refused": False, "latency_ms": {"total": 400}},
        {"id": "zz", "answer": "unknown id"},
    ]
    s = summarize(golden, results, faithfulness={"a": 1.0, "b": 1.0})
    o = s.overall
    assert o.n == 5
    assert (o.hit_at_5.value, o.hit_at_5.n) == (pytest.approx(1 / 3), 3)
    assert (o.correct.value, o.correct.n) == (pytest.approx(1 / 3), 3)  # e is missing: scored, wrong
    assert (o.refusal_acc.value, o.refusal_acc.n) == (0.5, 2)
    assert (o.false_refusal.value, o.false_refusal.n) == (pytest.approx(1 / 3), 3)
    assert (o.cite_recall.value, o.cite_recall.n) == (0.5, 2)  # a and the missing e (answered, uncited)
    assert (o.cite_precision.value, o.cite_precision.n) == (1.0, 1)
    assert (o.faithfulness.value, o.faithfulness.n) == (1.0, 2)
    assert s.missing == ("e",) and s.unknown == ("zz",)
    assert set(s.by_type) == {"fact", "unanswerable", "disambiguation"}
    assert s.by_type["unanswerable"].n == 2 and s.by_type["unanswerable"].hit_at_5.value is None
    assert s.latency["total"]["p50"] == 250.0
    line = format_summary(s)
    assert line.startswith("n=5 hit@1=0.33 hit@5=0.33 mrr=0.33 correct=0.33 refusal_acc=0.50")
    assert "false_refusal=0.33 faithfulness=1.00 cite_recall=0.50 cite_precision=1.00" in line
    assert line.endswith("p50=250ms p95=385ms (total)")
    assert format_summary(s.by_type["unanswerable"]).startswith("n=2 hit@1=n/a")
    assert s.to_dict()["overall"]["correct"] == {"value": pytest.approx(1 / 3), "n": 3}


def test_summarize_empty() -> None:
    s = summarize([], [])
    assert s.overall.n == 0 and s.overall.correct.value is None and s.latency == {}
    assert "correct=n/a" in format_summary(s)


def test_same_report_ignores_the_file_format() -> None:
    from eval.metrics import same_report

    assert same_report("003_7659820794adfa4e.pdf", "003_7659820794adfa4e.txt")
    assert same_report("003_7659820794adfa4e.txt", "003_7659820794adfa4e.txt")
    assert not same_report("004_53dbeab9c8777d1d.pdf", "003_7659820794adfa4e.txt")
