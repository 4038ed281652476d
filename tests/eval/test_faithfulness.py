"""Claim splitting, each rule of the offline judge, the LLM judge with scripted fake chat models."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from pydantic import Field

from eval import prompts
from eval.faithfulness import (
    Claim,
    Evidence,
    JudgeOutputError,
    LLMJudge,
    OfflineJudge,
    evidence_for,
    extract_facts,
    split_claims,
)
from eval.metrics import CitedText
from govqa.errors import ConfigError, LLMError
from govqa.models.embedders import HashingEmbedder
from govqa.types import Citation

# real passages of the sample reports (data/samples), with the report title and heading as ingest gives them
TAX19 = Evidence(
    text="2019年全镇预计实现税收收入 18 亿元, 同比增长 36.8%; 固定资产投入 118 亿元, 同比增长 84.5%; "
    "规模工业总产值 151 亿元, 同比增长 9.3%; 津外内资到位额 100 亿元; 外资到位额 1120 万美元; 限上批零销售额 225 亿元。",
    source="003_7659820794adfa4e.txt",
    heading="一、2019年工作回顾",
    title="2019年精武镇政府工作报告",
)
ECON24 = Evidence(
    text="经济发展稳中有进。税收基础持续夯实，全年预计完成税收\n\n10.8亿元；规模工业总产值 186亿元，在全区各街镇中位列第一；\n\n"
    "限上批零销售额 185亿元，占全区体量的 16.9%；市场投资信心\n\n持续增强，固定资产投资 29亿元，产业项目到位额 10.98亿元；",
    source="001_2215fab11d81e0ce.txt",
    heading="一、2024年工作回顾",
    title="2024年精武镇政府工作报告",
)
SPEAKER19 = Evidence(
    text="精武镇人民政府镇长 徐海权", source="003_7659820794adfa4e.txt", title="2019年精武镇政府工作报告"
)


def verdicts(answer: str, *citations: Evidence, judge: OfflineJudge | None = None) -> list[tuple[str, bool]]:
    result = (judge or OfflineJudge()).judge(answer, list(citations))
    return [(v.claim.text, v.supported) for v in result.verdicts]


def score(answer: str, *citations: Evidence, refused: bool = False) -> float:
    return OfflineJudge().judge(answer, list(citations), refused=refused).score


# ---------------------------------------------------------------- split_claims


def test_split_zh_sentences_and_number_clauses_end_marker_applies_to_all() -> None:
    claims = split_claims("2019年，精武镇税收收入18 亿元，同比增长36.8％[1]。规模工业总产值151亿元。")
    assert claims == [
        Claim("2019年，精武镇税收收入18 亿元", (1,), 0),  # a bare year lead stays with its clause
        Claim("同比增长36.8％", (1,), 0),
        Claim("规模工业总产值151亿元", (), 1),
    ]


def test_clause_keeps_its_own_marker_and_semicolons_split() -> None:
    claims = split_claims("税收收入18亿元[1]，同比增长36.8%[2]；规模工业总产值151亿元。[3]")
    assert [(c.text, c.markers) for c in claims] == [
        ("税收收入18亿元", (1,)),
        ("同比增长36.8%", (2,)),
        ("规模工业总产值151亿元", (3,)),
    ]
    assert split_claims("据报告[1,2]：精武镇税收18亿元[1、3]")[0].markers == (1, 3)


def test_commas_without_two_facts_do_not_split() -> None:
    text = "加快现代都市型农业发展，积极推进了光伏农业园建设[1]。"
    assert [c.text for c in split_claims(text)] == ["加快现代都市型农业发展，积极推进了光伏农业园建设"]
    assert len(split_claims("精武镇镇长是徐海权，张家窝镇镇长是赵林[1]。")) == 2  # two named facts


def test_split_english_sentences_decimals_and_thousands() -> None:
    claims = split_claims(
        "In 2019, Jingwu Town's tax revenue reached 1.8 billion yuan, up 36.8% year on year [1]. "
        "It created 1,468 jobs [2]."
    )
    assert [(c.text, c.markers) for c in claims] == [
        ("In 2019, Jingwu Town's tax revenue reached 1.8 billion yuan", (1,)),
        ("up 36.8% year on year", (1,)),
        ("It created 1,468 jobs", (2,)),
    ]


def test_boilerplate_is_dropped() -> None:
    assert split_claims("根据报告：2019年全镇预计实现税收收入18亿元[1]。") == [
        Claim("2019年全镇预计实现税收收入18亿元", (1,), 0)
    ]
    mixed = "The reports quote the evidence in Chinese:\n- 2019年全镇预计实现税收收入 18 亿元[1]\n[1][2]"
    assert [c.text for c in split_claims(mixed)] == ["2019年全镇预计实现税收收入 18 亿元"]
    assert split_claims("报告中没有找到2025年的相关数据。") == []
    assert split_claims("The reports do not mention it.") == []
    assert split_claims("**[1]**") == []
    assert [c.text for c in split_claims("2021年：乔金星；2024年：张艳红[1][2]。")] == [
        "2021年：乔金星",
        "2024年：张艳红",
    ]


def test_numbered_list_lines_are_sentences() -> None:
    claims = split_claims("1. 税收收入18亿元[1]\n2. 规模工业总产值151亿元[1]\n7.846 billion yuan [2]")
    assert [c.text for c in claims] == ["税收收入18亿元", "规模工业总产值151亿元", "7.846 billion yuan"]


def test_facts_normalise_spacing_width_and_english_amounts() -> None:
    values = {(n.value, n.unit) for n in extract_facts("18 亿元、１８亿元、1.8 billion yuan").quantities}
    assert len(values) == 1 and next(iter(values))[1] == "元"
    facts = extract_facts("据2019年精武镇政府工作报告，2020年张家窝镇镇长赵林在西青区开会，Xiqing District")
    assert facts.years == {2020}  # the year of a report's name is checked as the name
    assert facts.named == {"2019年精武镇政府工作报告"}
    assert facts.places == {"精武镇", "家窝镇", "西青区", "py:xiqing"}
    assert facts.names == {"赵林"}
    assert extract_facts("全镇18个村和社区、园区").places == frozenset()  # generic words are not places
    # English place names are any pinyin word before a level word or 's, not a list of known places
    assert extract_facts("Dongli District's GDP and Hexi's parks").places == {"py:dongli", "py:hexi"}
    assert extract_facts("China's GDP, the Tax Bureau's plan, Smith's town").places == frozenset()


def test_a_clause_that_only_restates_cited_figures_is_supported_by_its_facts() -> None:
    y19 = Evidence("实现新增就业1468人，转移农村富余劳动力1154人。", title="2019年东丽区政府工作报告")
    y21 = Evidence("2021年，实现新增就业750人。", title="2021年东丽区政府工作报告")
    said = "比较：从2019年的1468人到2021年的750人，减少718人（750 − 1468 = -718）[1][2]。"
    assert score(said, y19, y21) == 1.0
    assert score(said.replace("750人，", "760人，"), y19, y21) == 0.5  # the changed clause fails its facts


def test_an_english_place_is_checked_against_the_pinyin_of_the_cited_text() -> None:
    dongli = Evidence("2021年全区地区生产总值增长6.5%。", title="2022年东丽区政府工作报告")
    assert score("In 2021, Dongli District's GDP grew 6.5% [1].", dongli) == 1.0
    assert score("In 2021, Beichen District's GDP grew 6.5% [1].", dongli) == 0.0


# ---------------------------------------------------------------- the offline judge, rule by rule


def test_the_quote_itself_is_faithful() -> None:
    assert score("2019年全镇预计实现税收收入18亿元，同比增长36.8%[1]。", TAX19) == 1.0


def test_paraphrase_with_the_same_numbers_passes() -> None:
    assert verdicts("精武镇2019年税收达到18亿元，比上年增长36.8%[1]。", TAX19) == [
        ("精武镇2019年税收达到18亿元", True),
        ("比上年增长36.8%", True),
    ]
    assert score("In 2019, Jingwu Town's tax revenue reached 1.8 billion yuan, up 36.8% [1].", TAX19) == 1.0


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("精武镇2019年税收收入19亿元[1]。", "number 19亿元 not in the cited text"),
        ("精武镇2019年税收收入同比增长38.6%[1]。", "number 38.6% not in the cited text"),
        ("精武镇2019年认定高新技术企业18个[1]。", "number 18个 not in the cited text"),  # unit matters
        ("精武镇2020年税收收入18亿元[1]。", "year 2020 not in the cited text"),
        ("张家窝镇2019年税收收入18亿元[1]。", "place 家窝镇 not in the cited text"),
        (
            "In 2019 Zhangjiawo's tax revenue was 1.8 billion yuan [1].",
            "place Zhangjiawo not in the cited text",
        ),
        ("据2020年精武镇政府工作报告，税收收入18亿元[1]。", "date or report 2020年精武镇政府工作报告 not in"),
        ("In 2019, Jingwu's tax revenue reached 1.9 billion yuan [1].", "number 19亿元 not in"),
    ],
)
def test_a_changed_fact_fails(answer: str, reason: str) -> None:
    result = OfflineJudge().judge(answer, [TAX19])
    assert result.score == 0.0
    assert any(r.startswith(reason) for r in result.verdicts[0].reasons), result.verdicts[0].reasons


def test_a_number_from_another_line_of_the_same_passage_is_contradicted() -> None:
    ok = "2024年精武镇限上批零销售额185亿元[1]。"
    assert score(ok, ECON24) == 1.0
    bad = OfflineJudge().judge("2024年精武镇限上批零销售额186亿元[1]。", [ECON24])
    assert bad.score == 0.0
    assert bad.verdicts[0].reasons == ("the cited text gives 185亿元 for 镇限上批零销售额, not 186亿元",)


def test_a_number_must_be_stated_for_the_claims_year_and_place() -> None:
    both = [TAX19, ECON24]
    assert score("2024年精武镇税收10.8亿元[1][2]。", *both) == 1.0
    assert score("2019年精武镇税收10.8亿元[1][2]。", *both) == 0.0  # 2019 is cited, but not for 10.8亿元
    other_place = Evidence(ECON24.text, title="2024年张家窝镇政府工作报告", heading=ECON24.heading)
    assert score("2024年张家窝镇规模工业总产值186亿元[1][2]。", TAX19, other_place) == 1.0
    assert score("2024年精武镇规模工业总产值186亿元[1][2]。", TAX19, other_place) == 0.0  # 精武镇 only in [1]


def test_titled_names_are_checked() -> None:
    assert score("2019年精武镇政府工作报告由镇长徐海权作[1]。", SPEAKER19) == 1.0
    assert score("2019年精武镇政府工作报告由镇长乔金星作[1]。", SPEAKER19) == 0.0


def test_citing_the_wrong_passage_fails() -> None:
    answer = "2019年全镇预计实现税收收入18亿元[1]。"
    assert score(answer, ECON24) == 0.0
    assert score(answer, ECON24, TAX19) == 0.0  # [1] is the wrong one even though [2] would do
    assert score("2019年全镇预计实现税收收入18亿元[2]。", ECON24, TAX19) == 1.0


def test_unmarked_claims_are_judged_against_every_citation() -> None:
    assert score("2019年全镇预计实现税收收入18亿元。", ECON24, TAX19) == 1.0
    result = OfflineJudge().judge("2019年全镇预计实现税收收入19亿元。", [ECON24, TAX19])
    assert result.score == 0.0 and result.verdicts[0].reasons[0] == "no marker, and no citation supports it"


def test_dangling_marker_and_no_citations_fail() -> None:
    result = OfflineJudge().judge("税收收入18亿元[3]。", [TAX19])
    assert result.score == 0.0 and "[3]" in result.verdicts[0].reasons[0]
    assert score("税收收入18亿元[1]。") == 0.0


def test_claim_without_facts_needs_more_lexical_support() -> None:
    assert score("全镇固定资产投入和规模工业总产值同比增长[1]。", TAX19) == 1.0
    assert score("精武镇获评全国文明单位[1]。", TAX19) == 0.0
    assert score("The town did very well [1].", TAX19) == 0.0  # no CJK, no fact, no embedder


def test_embedder_cosine_can_support_a_claim() -> None:
    claim = "全镇经济保持较快发展[1]。"
    assert score(claim, TAX19) == 0.0
    judge = OfflineJudge(embedder=HashingEmbedder(), min_cosine=0.0)
    result = judge.judge(claim, [TAX19])
    assert result.score == 1.0 and "cosine" in result.verdicts[0].reasons[0]


def test_zero_claims_score_one_only_for_a_refusal() -> None:
    assert score("报告中没有找到相关信息。", refused=True) == 1.0
    assert score("", refused=False) == 0.0


def test_evidence_for_results_file_citations() -> None:
    cited = [CitedText("全镇税收 18 亿元", "003.txt", "一、2019年工作回顾"), CitedText("x", "other.txt")]
    evidence = evidence_for(cited, {"003.txt": "2019年精武镇政府工作报告"})
    assert evidence == [
        Evidence("全镇税收 18 亿元", "003.txt", "一、2019年工作回顾", "2019年精武镇政府工作报告"),
        Evidence("x", "other.txt"),
    ]
    assert score("2019年精武镇税收18亿元[1]。", *evidence) == 1.0


def test_llm_judge_rejects_negative_retries() -> None:
    with pytest.raises(ConfigError, match="retries must be >= 0, got -1"):
        LLMJudge(FakeListChatModel(responses=[]), retries=-1)


def test_evidence_from_a_citation_prefers_the_passage() -> None:
    c = Citation(
        1,
        "c",
        "d",
        "003.txt",
        "2019年精武镇政府工作报告",
        ("一、2019年工作回顾",),
        "18 亿元",
        0,
        5,
        "全镇税收 18 亿元",
    )
    ev = Evidence.from_citation(c)
    assert ev == Evidence("全镇税收 18 亿元", "003.txt", "一、2019年工作回顾", "2019年精武镇政府工作报告")
    assert ev.context == "2019年精武镇政府工作报告\n一、2019年工作回顾\n全镇税收 18 亿元"


# ---------------------------------------------------------------- prompts


def test_prompts_declare_exactly_the_variables_they_use_and_are_pinned() -> None:
    pins = {"faithfulness_statements": "89da43f940f8b824", "faithfulness_verdicts": "f32435c71743965d"}
    for prompt in (prompts.STATEMENTS, prompts.VERDICTS):
        assert prompt.placeholders() == set(prompt.input_variables)
        digest = hashlib.sha256(prompt.template.encode()).hexdigest()[:16]
        assert digest == pins[prompt.name], f"{prompt.name} changed: review it, then update the pin"
    text = prompts.render(prompts.STATEMENTS, question="Q?", answer="A[1]")
    assert "QUESTION: Q?" in text and "ANSWER: A[1]" in text and '{"statements": [' in text


def test_render_rejects_missing_or_unexpected_variables() -> None:
    with pytest.raises(ValueError, match=r"missing \['answer'\], unexpected \['context'\]"):
        prompts.render(prompts.STATEMENTS, question="q", context="c")


# ---------------------------------------------------------------- the LLM judge with fakes


class RecordingFake(FakeListChatModel):
    """FakeListChatModel that keeps the prompts it was sent."""

    seen: list[str] = Field(default_factory=list)
    kwargs_seen: list[dict[str, Any]] = Field(default_factory=list)

    def _call(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> str:
        self.seen.append(str(messages[-1].content))
        self.kwargs_seen.append({k: v for k, v in kwargs.items() if k != "run_manager"})
        return super()._call(messages, *args, **kwargs)


STATEMENTS = '{"statements": ["2019年精武镇税收收入18亿元[1]", "同比增长38.6%"]}'
VERDICTS = (
    '{"verdicts": [{"statement": "2019年精武镇税收收入18亿元", "reason": "stated", "verdict": 1},'
    ' {"statement": "同比增长38.6%", "reason": "the context says 36.8%", "verdict": 0}]}'
)


def test_llm_judge_passes_its_token_cap_to_the_model() -> None:
    """Its JSON is longer than an answer: the judge asks for room instead of the model's answer cap."""
    model = RecordingFake(responses=[STATEMENTS, VERDICTS])
    LLMJudge(model, max_tokens=768).judge("2019年精武镇税收收入18亿元，同比增长38.6%[1]。", [TAX19])
    assert [k.get("max_tokens") for k in model.kwargs_seen] == [768, 768]
    plain = RecordingFake(responses=[STATEMENTS, VERDICTS])
    LLMJudge(plain).judge("2019年精武镇税收收入18亿元，同比增长38.6%[1]。", [TAX19])
    assert all("max_tokens" not in k for k in plain.kwargs_seen)


def test_llm_judge_two_steps() -> None:
    model = RecordingFake(responses=[STATEMENTS, VERDICTS])
    result = LLMJudge(model).judge(
        "2019年精武镇税收收入18亿元，同比增长38.6%[1]。", [TAX19], question="税收？"
    )
    assert result.score == 0.5
    assert [(v.claim, v.supported, v.reasons) for v in result.verdicts] == [
        (Claim("2019年精武镇税收收入18亿元", (1,), 0), True, ("stated",)),
        (Claim("同比增长38.6%", (), 1), False, ("the context says 36.8%",)),
    ]
    assert "QUESTION: 税收？" in model.seen[0]
    assert "[1] 2019年精武镇政府工作报告\n一、2019年工作回顾\n2019年全镇" in model.seen[1]
    assert '["2019年精武镇税收收入18亿元", "同比增长38.6%"]' in model.seen[1]


def test_llm_judge_retries_once_on_malformed_json() -> None:
    model = FakeListChatModel(
        responses=[STATEMENTS, "Sure! verdicts: 1, 0", "```json\n" + VERDICTS + "\n```"]
    )
    assert LLMJudge(model).judge("…", [TAX19]).score == 0.5


def test_llm_judge_gives_up_with_a_clear_error() -> None:
    model = FakeListChatModel(responses=[STATEMENTS, "{not json", '{"verdicts": [{"verdict": 1}]}'])
    with pytest.raises(
        JudgeOutputError, match=r"faithfulness_verdicts: no valid reply after 2 attempts"
    ) as e:
        LLMJudge(model).judge("…", [TAX19])
    assert "with 2 entries" in str(e.value) and isinstance(e.value, LLMError)


@pytest.mark.parametrize(
    "bad",
    ['{"statements": "one"}', '["a"]', '{"statements": [1]}'],
)
def test_statement_replies_of_the_wrong_shape_are_rejected(bad: str) -> None:
    with pytest.raises(JudgeOutputError, match="expected"):
        LLMJudge(FakeListChatModel(responses=[bad, bad]), retries=1).judge("…", [TAX19])


def test_verdict_must_be_zero_or_one() -> None:
    model = FakeListChatModel(responses=['{"statements": ["a"]}', '{"verdicts": [{"verdict": "yes"}]}'])
    with pytest.raises(JudgeOutputError, match="must be 0 or 1"):
        LLMJudge(model, retries=0).judge("a", [TAX19])


def test_llm_judge_no_statements_and_generic_fake() -> None:
    def replies() -> Iterator[AIMessage]:
        yield AIMessage(content='{"statements": []}')

    result = LLMJudge(GenericFakeChatModel(messages=replies())).judge("没有找到。", [], refused=True)
    assert result.verdicts == () and result.score == 1.0


def test_llm_judge_wraps_model_failures() -> None:
    class Broken(FakeListChatModel):
        def _call(self, *args: Any, **kwargs: Any) -> str:
            raise ConnectionError("refused")

    with pytest.raises(LLMError, match="the judge model failed on faithfulness_statements: refused"):
        LLMJudge(Broken(responses=["x"])).judge("a", [TAX19])


def test_shown_arithmetic_on_cited_figures_is_supported() -> None:
    from eval.arithmetic import check_arithmetic

    evidence = "税收收入18亿元 ... 税收10.8亿元"
    assert check_arithmetic("税收收入18亿元", evidence) is None  # no arithmetic: the usual checks
    assert check_arithmetic("减少7.2亿元（10.8 − 18 = -7.2）", evidence) == ()
    assert check_arithmetic("下降40%（-7.2 ÷ 18）", evidence) == ()
    assert check_arithmetic("减少7.3亿元（10.8 − 18 = -7.3）", evidence)  # wrong
    assert check_arithmetic("减少7.2亿元（10.8 − 18 = -7.2）", "只有18亿元")  # an operand not cited
    assert check_arithmetic("下降50%（-7.2 ÷ 18）", evidence)  # wrong percent
