"""rag.rerank: term coverage, the feature reranker's ordering, the cross-encoder seam, build_reranker."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from govqa.errors import ConfigError
from govqa.types import Chunk, DocumentMeta, Passage
from rag.question import QuestionInfo, analyze_question
from rag.rerank import (
    CrossEncoderReranker,
    FeatureReranker,
    FeatureWeights,
    build_reranker,
    term_coverage,
    term_found,
)

KNOWN = ("精武镇", "西青区", "张家窝镇")
NO_YEAR_META = DocumentMeta(body="精武镇", title="精武镇政府工作报告")


def ask(question: str) -> QuestionInfo:
    return analyze_question(question, known_bodies=KNOWN)


def passage(
    chunk_id: str,
    text: str,
    *,
    dense: float = 0.5,
    fused: float = 0.5,
    meta: DocumentMeta = NO_YEAR_META,
    heading: tuple[str, ...] = ("三、切实加强政府自身建设",),
) -> Passage:
    chunk = Chunk(chunk_id, "d", "d.txt", text, heading, 0, len(text), meta)
    return Passage(chunk, 0.0, {"dense": dense, "fused_norm": fused})


def order(passages: Sequence[Passage]) -> list[str]:
    return [p.chunk.chunk_id for p in passages]


# ---------------------------------------------------------------------------------- term_coverage


def test_term_coverage_full_and_none() -> None:
    assert term_coverage(("税收收入", "税收"), "全镇预计实现税收收入18亿元") == 1.0
    assert term_coverage(("税收收入", "税收"), "固定资产投资29亿元") == 0.0
    assert term_coverage((), "anything") == 0.0


def test_term_coverage_partial_credit_for_a_shorter_term_inside_an_absent_one() -> None:
    # 税收收入 is absent but its part 税收 is present: 2 of its 4 characters, plus 税收 itself (2 of 2)
    assert term_coverage(("税收收入", "税收"), "全年预计完成税收10.8亿元") == pytest.approx(4 / 6)


def test_term_coverage_is_length_weighted() -> None:
    assert term_coverage(("规模工业总产值", "增长"), "同比增长9.3%") == pytest.approx(2 / 9)


def test_term_coverage_no_credit_from_a_part_that_is_not_a_question_term() -> None:
    # 收入 is inside 税收收入 and in the text, but the question has no term 收入
    assert term_coverage(("税收收入",), "居民人均可支配收入48300元") == 0.0


# ------------------------------------------------------------------------------- FeatureReranker


def test_features_of_a_passage() -> None:
    q = ask("2019年精武镇税收收入是多少？")
    p = passage("a", "2019年全镇预计实现税收收入18亿元", dense=0.9, fused=0.8)
    f = FeatureReranker().features(q, p)
    assert f == {"dense": 0.9, "fused": 0.8, "terms": 1.0, "year": 1.0, "number": 1.0, "body": 1.0}


def test_year_feature_from_the_section_the_chunk_is_in() -> None:
    q = ask("2019年精武镇税收收入是多少？")
    review_2019 = DocumentMeta(
        body="精武镇", title="精武镇政府工作报告", years_reviewed=(2019,), years_planned=(2020,)
    )
    in_review = passage("a", "税收收入18亿元", meta=review_2019, heading=("一、工作回顾",))
    in_plan = passage("b", "税收收入18亿元", meta=review_2019, heading=("二、工作安排",))
    in_title = passage(
        "c", "税收收入18亿元", meta=DocumentMeta(body="精武镇", title="2019年精武镇政府工作报告")
    )
    r = FeatureReranker()
    assert r.features(q, in_review)["year"] == 0.7
    assert r.features(q, in_plan)["year"] == 0.0
    assert r.features(q, in_title)["year"] == 1.0  # the title is part of what is embedded and indexed


def test_rerank_orders_by_the_weighted_features() -> None:
    q = ask("2019年精武镇税收收入是多少？")
    other_body = DocumentMeta(body="张家窝镇", title="张家窝镇政府工作报告")
    passages = [
        passage("dense-only", "坚持稳中求进工作总基调", dense=0.95, fused=1.0),
        passage("answer", "2019年全镇预计实现税收收入18亿元", dense=0.85, fused=0.6),
        passage("terms-no-number", "税收收入稳步增长", dense=0.85, fused=0.6),
        passage("other-body", "2019年全镇预计实现税收收入18亿元", dense=0.85, fused=0.6, meta=other_body),
    ]
    ranked = FeatureReranker().rerank(q, passages)
    assert order(ranked) == ["answer", "other-body", "terms-no-number", "dense-only"]
    w = FeatureWeights()
    top = ranked[0]
    expected = w.dense * 0.85 + w.fused * 0.6 + w.terms + w.year + w.number + w.body
    assert top.score == pytest.approx(expected) and top.scores["rerank"] == pytest.approx(expected)
    assert top.scores["f_terms"] == 1.0 and top.scores["dense"] == 0.85  # earlier scores are kept
    assert passages[0].score == 0.0  # inputs are not mutated


def test_rerank_weights_change_the_order() -> None:
    q = ask("2019年精武镇税收收入是多少？")
    passages = [
        passage("dense", "坚持稳中求进工作总基调", dense=0.95, fused=1.0),
        passage("terms", "税收收入稳步增长", dense=0.7, fused=0.3),
    ]
    assert order(FeatureReranker().rerank(q, passages)) == ["terms", "dense"]
    only_dense = FeatureWeights(dense=1.0, fused=0.0, terms=0.0, year=0.0, number=0.0, body=0.0)
    assert order(FeatureReranker(only_dense).rerank(q, passages)) == ["dense", "terms"]


def test_rerank_breaks_ties_by_chunk_id() -> None:
    q = ask("精武镇党委书记是谁？")
    passages = [passage(cid, "同样的文字") for cid in ("c", "a", "b")]
    assert order(FeatureReranker().rerank(q, passages)) == ["a", "b", "c"]
    assert FeatureReranker().rerank(q, []) == []


# --------------------------------------------------------------------------- CrossEncoderReranker


class _StubCrossEncoder:
    def __init__(self) -> None:
        self.pairs: list[tuple[str, str]] = []

    def predict(self, pairs: list[tuple[str, str]]) -> list[float]:
        self.pairs = pairs
        return [float(len(text)) for _, text in pairs]  # longer embed text, higher score


def test_cross_encoder_orders_by_the_models_scores() -> None:
    q = ask("2019年精武镇税收收入是多少？")
    r = CrossEncoderReranker("/unused")
    stub = _StubCrossEncoder()
    r._model = stub  # as if loaded
    passages = [passage("short", "税收"), passage("long", "2019年全镇预计实现税收收入18亿元")]
    ranked = r.rerank(q, passages)
    assert order(ranked) == ["long", "short"]
    assert ranked[0].score == ranked[0].scores["rerank"] == float(len(passages[1].chunk.embed_text))
    assert stub.pairs == [(q.text, p.chunk.embed_text) for p in passages]


def test_cross_encoder_loads_nothing_for_no_passages() -> None:
    r = CrossEncoderReranker("/does/not/exist")
    assert r.rerank(ask("税收收入"), []) == []
    assert r._model is None


@pytest.mark.slow
def test_cross_encoder_from_a_missing_folder_is_a_config_error(tmp_path: Path) -> None:
    r = build_reranker(f"cross-encoder:{tmp_path / 'missing'}")
    with pytest.raises(ConfigError, match="cannot load the cross-encoder"):
        r.rerank(ask("税收收入"), [passage("a", "税收")])


# -------------------------------------------------------------------------------- build_reranker


def test_build_reranker_features() -> None:
    assert isinstance(build_reranker("features"), FeatureReranker)


def test_build_reranker_cross_encoder_is_lazy() -> None:
    r = build_reranker("cross-encoder:/models/bge-reranker:v2")
    assert isinstance(r, CrossEncoderReranker)
    assert r.model_path == "/models/bge-reranker:v2"  # only the first colon separates the kind
    assert r._model is None


@pytest.mark.parametrize("spec", ["", "feature", "cross-encoder", "bm25:/x", "Features"])
def test_build_reranker_rejects_unknown_specs(spec: str) -> None:
    with pytest.raises(ConfigError, match=r"GOVQA_RERANKER must be 'features' or 'cross-encoder:/path', got"):
        build_reranker(spec)


def test_term_coverage_counts_report_synonyms() -> None:
    # the reports say 建成…第一小学 where a reader asks 新建…学校
    assert term_coverage(("新建", "学校"), "建成张家窝镇第一小学") == 1.0
    assert term_coverage(("新建", "学校"), "新建第五代日光温室10栋") == 0.5
    assert term_coverage(("学校",), "建设公园") == 0.0


def test_term_found_literally_or_under_a_report_synonym() -> None:
    assert term_found("学校", "建成张家窝镇第一小学") and term_found("新建", "建成张家窝镇第一小学")
    assert term_found("学校", "天津霍元甲学校")
    assert not term_found("学校", "新建第五代日光温室10栋")
    assert not term_found("税收", "固定资产投资29亿元")


def test_alternatives_count_once_and_any_of_them_covers_the_phrase() -> None:
    from rag.rerank import term_coverage

    terms = ("帮扶资金", "援助资金", "支援资金", "乡村")
    text = "拨付帮扶资金113.3万元，支持乡村建设"
    assert term_coverage(terms, text) < 0.5  # read as four terms, one found word looks like a poor match
    assert term_coverage(terms, text, (("帮扶资金", "援助资金", "支援资金"),)) == 1.0
    assert term_coverage(terms, "支持乡村建设", (("帮扶资金", "援助资金", "支援资金"),)) == 2 / 6
