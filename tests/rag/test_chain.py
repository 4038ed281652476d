"""rag.chain.AnswerChain over a real index of the five sample reports, with the deterministic hashing
embedder (no model): streaming, refusals, English answers, multi-turn, citations, an LLM answerer through
LangChain's fake chat models, and the retriever as a LangChain retriever."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from langchain_core.documents import Document as LCDocument
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel

from govqa.errors import BadQuestionError
from govqa.models.tokens import count_tokens
from govqa.settings import Settings
from govqa.types import Answer, Filters
from rag.chain import AnswerChain, AskInput, filtered
from rag.extractive_answerer import EN_LEAD
from rag.llm.answerer import REFUSALS, LLMAnswerer
from rag.question import analyze_question
from ui.service import GovQA

TAX_2019 = "2019年全镇预计实现税收收入18亿元,同比增长36.8%"
TAX_2024 = "税收基础持续夯实，全年预计完成税收10.8亿元"
JW2019, JW2024, ZJW = "003_7659820794adfa4e.txt", "001_2215fab11d81e0ce.txt", "004_53dbeab9c8777d1d.txt"


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory, sample_files: list[Path]) -> Iterator[GovQA]:
    """The service over the five samples with the hashing embedder, ingested once for this module
    (the same settings as the ``fake_settings`` fixture, which is per test)."""
    data = tmp_path_factory.mktemp("chain") / "data"
    service = GovQA(Settings(data_dir=data, embedding_model="fake", _env_file=None))  # type: ignore[call-arg]
    report = service.ingest(sample_files)
    assert not report.failed and report.count("added") == 5, report.summary()
    yield service
    service.close()


@pytest.fixture(scope="module")
def chain(svc: GovQA) -> AnswerChain:
    c = svc.chain
    assert isinstance(c, AnswerChain) and c.mode == "extractive"
    return c


def comparable(answer: Answer) -> dict[str, Any]:
    """An answer without its timings (they differ between two runs)."""
    d = answer.to_dict()
    d.pop("timings_ms")
    return d


def assert_citations_exact(svc: GovQA, answer: Answer) -> None:
    """Every citation quotes the document's cleaned text at its offsets, inside its passage."""
    for c in answer.citations:
        text = svc.index.document_text(c.doc_id)
        assert c.quote and c.quote == text[c.start : c.end], c
        assert c.passage == text[c.passage_start : c.passage_start + len(c.passage)]
        assert c.passage_start <= c.start and c.end <= c.passage_start + len(c.passage)
        assert f"[{c.n}]" in answer.text
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))


# --------------------------------------------------------------------------- invoke and stream


def test_invoke_and_stream_give_the_same_answer(chain: AnswerChain) -> None:
    question = "2019年精武镇税收收入是多少？"
    invoked = chain.invoke(question)
    events = list(chain.stream(question))
    streamed = events[-1]["answer"]
    assert comparable(invoked) == comparable(streamed)
    assert invoked.text == f"{TAX_2019}[1]。"
    assert not invoked.refused and invoked.mode == "extractive" and invoked.lang == "zh"
    assert set(invoked.timings_ms) == {"condense", "retrieve", "answer", "total"}


def test_stream_yields_deltas_then_one_answer(chain: AnswerChain) -> None:
    events = list(chain.stream({"question": "2019年和2024年精武镇税收收入分别是多少？"}))
    kinds = [e["type"] for e in events]
    assert kinds[-1] == "answer" and kinds.count("answer") == 1
    assert kinds[:-1] and set(kinds[:-1]) == {"delta"}
    answer = events[-1]["answer"]
    assert "".join(e["text"] for e in events[:-1]) == answer.text


def test_service_ask_and_ask_stream_agree(svc: GovQA) -> None:
    question = "2024年精武镇政府工作报告由谁作？"
    streamed = list(svc.ask_stream(question))[-1]["answer"]
    assert comparable(svc.ask(question)) == comparable(streamed)


def test_the_chain_takes_a_string_a_dict_or_an_ask_input(chain: AnswerChain) -> None:
    question = "2019年精武镇税收收入是多少？"
    texts = {
        chain.invoke(question).text,
        chain.invoke({"question": question}).text,
        chain.invoke(AskInput(question)).text,
    }
    assert texts == {f"{TAX_2019}[1]。"}


# ------------------------------------------------------------------------------------- answers


def test_a_cited_fact(svc: GovQA, chain: AnswerChain) -> None:
    answer = chain.invoke("2019年精武镇税收收入是多少？")
    (c,) = answer.citations
    assert c.quote == TAX_2019 and c.source == JW2019 and c.heading_path == ("一、2019年工作回顾",)
    assert c.title == "2019年精武镇政府工作报告"
    assert answer.retrieved and answer.retrieved[0].chunk.chunk_id == c.chunk_id
    assert c.chunk_id not in {p.chunk.chunk_id for p in answer.related}  # see-also excludes the evidence
    assert answer.tokens["context"] > 0 and answer.tokens["answer"] > 0
    assert_citations_exact(svc, answer)


def test_a_comparison_cites_each_report(svc: GovQA, chain: AnswerChain) -> None:
    answer = chain.invoke("2019年和2024年精武镇税收收入分别是多少？")
    assert answer.text == (  # one sentence per part, then the conclusion computed from both, citing both
        f"2019年：{TAX_2019}[1]。2024年：{TAX_2024}[2]。"
        "比较：从2019年的18亿元到2024年的10.8亿元，减少7.2亿元（10.8 − 18 = -7.2），下降40%（-7.2 ÷ 18）[1][2]。"
    )
    assert [c.source for c in answer.citations] == [JW2019, JW2024]
    assert_citations_exact(svc, answer)


def test_a_front_matter_question_quotes_the_speech_header(svc: GovQA, chain: AnswerChain) -> None:
    answer = chain.invoke("2024年精武镇政府工作报告由谁作？")
    assert answer.text == "精武镇镇长张艳红[1]。"
    (c,) = answer.citations
    assert c.source == JW2024 and c.heading_path == ("政府工作报告",)
    assert answer.retrieved[0].chunk.chunk_id == c.chunk_id
    assert_citations_exact(svc, answer)


def test_an_english_question_gets_an_english_lead_and_chinese_quotes(svc: GovQA, chain: AnswerChain) -> None:
    answer = chain.invoke("How did Jingwu's tax revenue change from 2019 to 2024?")
    assert answer.lang == "en" and not answer.refused
    assert answer.text.startswith(f"{EN_LEAD} 2019: “{TAX_2019}”[1]. 2024: “{TAX_2024}”[2].")
    assert "it fell by 7.2亿元 (10.8 − 18 = -7.2), down 40% (-7.2 ÷ 18)[1][2]." in answer.text
    assert [c.source for c in answer.citations] == [JW2019, JW2024]
    assert_citations_exact(svc, answer)


@pytest.mark.parametrize(
    "question",
    [
        "2023年张家窝镇限上社会消费品零售总额是多少？同比增长多少？",
        "截至2021年，精武镇的城镇化率达到多少？",
        "西青区2021年预计完成地区生产总值多少？比2016年增长多少？",
        "印发张家窝镇政府工作报告的文件文号是什么？",
        "What GDP growth target did Xiqing district set for 2022?",
    ],
)
def test_citations_quote_the_document_text_exactly(svc: GovQA, chain: AnswerChain, question: str) -> None:
    answer = chain.invoke(question)
    assert answer.citations, answer.text
    assert_citations_exact(svc, answer)


# ------------------------------------------------------------------------------------ refusals


def test_a_place_with_no_report_is_refused_with_related_passages(chain: AnswerChain) -> None:
    answer = chain.invoke("大寺镇2021年的税收收入是多少？")
    assert answer.refused and answer.citations == []
    assert answer.text == "报告中没有找到关于大寺镇的内容。"
    assert answer.related and len(answer.related) <= 5
    assert answer.retrieved == []  # nothing in scope


def test_a_year_no_report_covers_is_refused(chain: AnswerChain) -> None:
    answer = chain.invoke("精武镇2016年的税收收入是多少？")
    assert answer.refused and answer.text == "报告中没有找到涉及精武镇2016年的内容。"
    assert answer.related
    english = chain.invoke("What was Jingwu's tax revenue in 2016?")
    assert english.refused and english.lang == "en"
    assert english.text == "The reports do not say anything about Jingwu Town in 2016."


def test_a_question_the_scoped_reports_do_not_answer_is_refused(chain: AnswerChain) -> None:
    answer = chain.invoke("2023年精武镇税收收入是多少？")  # in scope (five-year plan), but no 2023 figure
    assert answer.refused
    assert answer.text.startswith("报告中没有找到") and "2023年精武镇税收收入" in answer.text
    assert answer.related and answer.retrieved


def test_a_partly_answered_comparison_says_what_is_missing(svc: GovQA, chain: AnswerChain) -> None:
    answer = chain.invoke("精武镇2019年和2016年的税收收入分别是多少？")
    assert not answer.refused
    assert TAX_2019 in answer.text and answer.text.endswith("报告中没有找到涉及精武镇2016年的内容。")
    assert [c.source for c in answer.citations] == [JW2019]
    assert_citations_exact(svc, answer)


def test_a_comparison_base_year_the_answer_quotes_is_not_reported_missing(
    svc: GovQA, chain: AnswerChain
) -> None:
    # 2016 is what the 2021 figure is measured against; no report covers 2016, the quote names it
    answer = chain.invoke("西青区2021年居民人均可支配收入达到多少？比2016年增长多少？")
    assert not answer.refused
    assert "48300元" in answer.text and "比2016年增长41.2%" in answer.text
    assert "报告中没有找到" not in answer.text and not answer.text.startswith("2021年：")
    assert_citations_exact(svc, answer)


def test_filters_restrict_the_scope(chain: AnswerChain) -> None:
    question = "2019年精武镇税收收入是多少？"
    assert chain.invoke(AskInput(question, filters=Filters(document=JW2019))).citations[0].source == JW2019
    # the question names another report's body and year than the document filter: answered as asked
    other = chain.invoke(AskInput(question, filters=Filters(document=ZJW)))
    assert other.text.startswith(
        "注意：问题问的是精武镇、2019年，与筛选的文档“2024年张家窝镇政府工作报告”不一致"
    )
    assert other.citations[0].source == JW2019 and other.notes
    refused = chain.invoke(AskInput("税收收入是多少？", filters=Filters(document=ZJW)))
    assert refused.refused  # the filtered report does not say


def test_a_year_filter_is_the_asked_year() -> None:
    info = analyze_question("税收收入是多少？", known_bodies=("精武镇",))
    assert filtered(info, None) is info and filtered(info, Filters(body="精武镇")) is info
    assert filtered(info, Filters(year=2024)).years == (2024,)
    named = analyze_question("2019年精武镇税收收入是多少？", known_bodies=("精武镇",))
    assert filtered(named, Filters(year=2019)) is named
    assert filtered(named, Filters(year=2024)).years == (2024,)  # the filter wins, as it does for the scope


def test_a_year_filter_answers_from_that_year_not_another_year_of_the_same_report(
    svc: GovQA, chain: AnswerChain
) -> None:
    # the 2024 report of 精武镇 reviews 2024 (税收10.8亿元) and plans 2025 (also 税收收入10.8亿元)
    answer = chain.invoke(AskInput("税收收入是多少？", filters=Filters(body="精武镇", year=2024)))
    assert not answer.refused and TAX_2024 in answer.text
    (c,) = answer.citations
    assert c.source == JW2024 and "2024年工作回顾" in c.heading
    answer = chain.invoke(AskInput("计划新建几所学校？", filters=Filters(body="张家窝镇", year=2024)))
    assert not answer.refused and "第一小学" in answer.text
    assert all("2024年工作安排" in c.heading for c in answer.citations)
    assert_citations_exact(svc, answer)


@pytest.mark.parametrize("question", ["", "   ", "\n"])
def test_an_empty_question_is_a_bad_question(svc: GovQA, chain: AnswerChain, question: str) -> None:
    with pytest.raises(BadQuestionError, match="the question is empty"):
        chain.invoke(question)
    with pytest.raises(BadQuestionError, match="the question is empty"):
        chain.invoke({"question": question})
    with pytest.raises(BadQuestionError, match="the question is empty"):
        svc.ask(question)


def test_a_question_of_the_wrong_type_is_a_bad_question(chain: AnswerChain) -> None:
    with pytest.raises(BadQuestionError, match="got int"):
        chain.invoke(42)


# ---------------------------------------------------------------------------------- multi-turn


def test_a_follow_up_is_condensed_with_the_history(svc: GovQA, chain: AnswerChain) -> None:
    first = "2019年精武镇税收收入是多少？"
    history = ((first, chain.invoke(first).text),)
    answer = chain.invoke(AskInput("那2024年呢？", history))
    assert answer.question == "那2024年呢？"
    assert "2024" in answer.standalone_question and "精武镇" in answer.standalone_question
    assert "2019" not in answer.standalone_question
    assert answer.text == f"{TAX_2024}[1]。"
    assert answer.citations[0].source == JW2024
    assert_citations_exact(svc, answer)
    assert svc.ask("那2024年呢？", history=history).text == answer.text


def test_a_chat_model_condenses_when_one_is_given(svc: GovQA) -> None:
    model = FakeListChatModel(responses=["2024年精武镇税收收入是多少？"])
    chain = AnswerChain(svc.retriever, chat_model=model)
    history = (("2019年精武镇税收收入是多少？", f"{TAX_2019}[1]。"),)
    answer = chain.invoke(AskInput("那2024年呢？", history))
    assert answer.standalone_question == "2024年精武镇税收收入是多少？"
    assert answer.mode == "extractive" and answer.citations[0].source == JW2024


# ---------------------------------------------------------------------------------- LLM answerer


@pytest.fixture(scope="module")
def counter(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return partial(count_tokens, cache_dir=tmp_path_factory.mktemp("tiktoken"))


def llm_chain(svc: GovQA, model: Any, counter: Any) -> AnswerChain:
    return AnswerChain(svc.retriever, answerer=LLMAnswerer(model, counter, 1200, mode="openai"))


def test_an_llm_answer_is_streamed_and_its_citations_checked(svc: GovQA, counter: Any) -> None:
    question = "2019年精武镇税收收入是多少？"
    passages = svc.search(question).passages
    n = next(i for i, p in enumerate(passages, start=1) if "税收收入18亿元" in p.chunk.text)
    reply = f"2019年精武镇预计实现税收收入 18亿元 ，同比增长 36.8% [{n}]。"
    chain = llm_chain(svc, GenericFakeChatModel(messages=iter([reply])), counter)
    assert chain.mode == "openai"
    events = list(chain.stream(question))
    deltas = [e["text"] for e in events if e["type"] == "delta"]
    assert len(deltas) > 1 and "".join(deltas) == reply  # streamed as the model wrote it
    assert [e["type"] for e in events][-1] == "answer"
    answer = events[-1]["answer"]
    assert answer.mode == "openai" and not answer.refused and answer.warnings == []
    assert "18亿元" in answer.text and "[1]" in answer.text  # the marker is renumbered to [1]
    (c,) = answer.citations
    assert c.source == JW2019 and "18亿元" in c.quote
    assert answer.question == question and answer.standalone_question == question
    assert answer.retrieved and set(answer.timings_ms) >= {"condense", "retrieve", "answer", "total"}
    assert_citations_exact(svc, answer)


def test_an_llm_answer_without_support_is_withheld(svc: GovQA, counter: Any) -> None:
    reply = "2019年精武镇税收收入为 99亿元 [1]。"  # a figure the cited passage does not hold
    answer = llm_chain(svc, GenericFakeChatModel(messages=iter([reply])), counter).invoke(
        "2019年精武镇税收收入是多少？"
    )
    assert answer.refused and answer.text == REFUSALS["zh"] and answer.citations == []
    assert answer.related and answer.warnings


def test_the_llm_refusal_token_never_reaches_the_stream(svc: GovQA, counter: Any) -> None:
    model = FakeListChatModel(responses=["NOT_IN_REPORTS"])  # streamed one character at a time
    # an answerable question (past the evidence gate) that the model declines
    events = list(llm_chain(svc, model, counter).stream("2019年精武镇税收收入是多少？"))
    assert [e["type"] for e in events] == ["answer"]
    answer = events[0]["answer"]
    assert answer.refused and answer.text == REFUSALS["zh"] and answer.mode == "openai"


def test_an_empty_scope_never_reaches_the_llm(svc: GovQA, counter: Any) -> None:
    model = FakeListChatModel(responses=["大寺镇税收收入 5亿元 [1]。", "unused"])
    answer = llm_chain(svc, model, counter).invoke("大寺镇2021年的税收收入是多少？")
    assert model.i == 0  # the model was not asked
    assert answer.refused and answer.text == "报告中没有找到关于大寺镇的内容。"


# ------------------------------------------------------------------------ LangChain retriever


def test_the_retriever_as_a_langchain_retriever(svc: GovQA) -> None:
    question = "2019年精武镇税收收入是多少？"
    docs = svc.retriever.as_langchain().invoke(question)
    assert docs and all(isinstance(d, LCDocument) for d in docs)
    assert len(docs) <= svc.settings.top_k
    core = svc.search(question).passages
    assert [d.id for d in docs] == [p.chunk.chunk_id for p in core]
    top = docs[0]
    assert TAX_2019 in top.page_content
    assert top.metadata["source"] == JW2019 and top.metadata["heading"] == "一、2019年工作回顾"
    assert top.metadata["text"] is None and top.metadata["score"] == pytest.approx(core[0].score)


def test_the_langchain_retriever_keeps_its_filters(svc: GovQA) -> None:
    docs = svc.retriever.as_langchain(Filters(body="张家窝镇")).invoke("税收收入是多少？")
    assert docs and {d.metadata["source"] for d in docs} == {ZJW}


def test_a_retrieval_reports_its_scope_and_timings(svc: GovQA) -> None:
    r = svc.search("2019年精武镇税收收入是多少？", k=3)
    assert len(r.passages) == 3 and r.related == []
    assert {p.chunk.source for p in r.passages} <= {JW2019, "000_09e983e223e49bd2.txt"}
    assert set(r.timings_ms) == {"embed_query", "search"}
    assert r.info.years == (2019,) and r.scope.years == (2019,)


class _CountingModel(FakeListChatModel):
    """Counts the times the model is asked (every streamed or invoked generation)."""

    calls: int = 0

    def _call(self, *args: Any, **kwargs: Any) -> str:
        self.calls += 1
        return super()._call(*args, **kwargs)

    def _stream(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        yield from super()._stream(*args, **kwargs)


def test_the_llm_is_not_asked_when_no_retrieved_sentence_answers(svc: GovQA, counter: Any) -> None:
    """The evidence gate: a question the passages only share words with is refused before the model,
    which a small model would otherwise answer from a neighbouring fact (e.g. '习近平同志[1]' for the
    town's party secretary)."""
    question = "精武镇党委书记是谁？"
    model = _CountingModel(responses=["习近平同志[1]"])
    answer = llm_chain(svc, model, counter).invoke(question)
    assert model.calls == 0
    assert answer.refused and answer.mode == "openai" and answer.citations == []
    assert answer.text == AnswerChain(svc.retriever).invoke(question).text  # the extractive refusal

    open_chain = AnswerChain(
        svc.retriever, answerer=LLMAnswerer(model, counter, 1200, mode="openai"), evidence_gate=False
    )
    open_chain.invoke(question)
    assert model.calls == 1  # without the gate the model decides (and here its reply is checked after)


def test_the_evidence_gate_lets_answerable_questions_through(svc: GovQA, counter: Any) -> None:
    question = "2019年精武镇税收收入是多少？"
    passages = svc.search(question).passages
    n = next(i for i, p in enumerate(passages, start=1) if "税收收入18亿元" in p.chunk.text)
    model = _CountingModel(responses=[f"税收收入18亿元[{n}]。"])
    answer = llm_chain(svc, model, counter).invoke(question)
    assert model.calls == 1 and not answer.refused and "18亿元" in answer.text


# --------------------------------------------------------------------------- small talk (issue 12.7)


@pytest.mark.parametrize("question", ["你好", "你能做什么？", "有哪些报告？"])
def test_a_greeting_gets_a_help_answer_not_a_refusal(chain: AnswerChain, question: str) -> None:
    answer = chain.invoke(question)
    assert not answer.refused and not answer.citations and not answer.retrieved
    assert "《2019年精武镇政府工作报告》（回顾2019年，部署2020年）" in answer.text
    assert "张家窝镇" in answer.text and "西青区" in answer.text
    assert answer.text.count("“") >= 3  # three example questions from the corpus


def test_an_english_greeting_gets_an_english_help_answer(chain: AnswerChain) -> None:
    answer = chain.invoke("Which reports do you have?")
    assert answer.lang == "en" and "Loaded (5)" in answer.text


def test_a_follow_up_about_another_place_does_not_inherit_the_body(chain: AnswerChain) -> None:
    history = [("2019年精武镇税收收入是多少？", TAX_2019), ("那2024年呢？", TAX_2024)]
    answer = chain.invoke(AskInput("北京市2023年GDP是多少？", history))
    assert answer.standalone_question == "北京市2023年GDP是多少？"
    assert answer.refused and "精武镇" not in answer.text


# --------------------------------------------------------------- the question wins over filters (12.5)


def test_a_year_in_the_question_wins_over_the_year_filter(chain: AnswerChain) -> None:
    answer = chain.invoke(AskInput("2019年精武镇税收收入是多少？", (), Filters(body="精武镇", year=2024)))
    assert answer.text.startswith("注意：问题问的是2019年，与筛选的年份“2024年”不一致")
    assert TAX_2019 in answer.text and answer.notes and not answer.refused


def test_a_place_in_the_question_wins_over_the_body_filter(chain: AnswerChain) -> None:
    answer = chain.invoke(AskInput("北京市GDP是多少？", (), Filters(body="精武镇")))
    assert answer.refused and "北京市" in answer.text and "“精武镇”" in answer.text
    plain = chain.invoke("北京市GDP是多少？")
    assert plain.refused and plain.text == "报告中没有找到关于北京市的内容。"


def test_an_english_fact_question_gets_an_english_lead_sentence(chain: AnswerChain) -> None:
    answer = chain.invoke("How much tax revenue did Jingwu town expect in 2019?")
    assert answer.text.startswith(
        "Jingwu Town's tax revenue in 2019: 1.8 billion yuan (18亿元), expected (预计)[1]."
    )
    assert f"“{TAX_2019}”[1]" in answer.text


# --------------------------------------------------------------------------- overviews (issue 12.1)


def test_an_overview_question_gets_an_outline_of_the_review(svc: GovQA, chain: AnswerChain) -> None:
    answer = chain.invoke("精武镇2019年的主要工作成绩有哪些？")
    assert not answer.refused and answer.text.startswith(
        "《2019年精武镇政府工作报告》“一、2019年工作回顾”部分"
    )
    assert "(一)经济发展的新动能进一步集聚：产业基础更加扎实[1]" in answer.text
    assert len(answer.citations) == 6 and all(c.source == JW2019 for c in answer.citations)
    assert_citations_exact(svc, answer)


def test_a_whole_report_summary_covers_review_and_plan(chain: AnswerChain) -> None:
    answer = chain.invoke("总结一下2019年精武镇政府工作报告")
    assert "一、2019年工作回顾 › " in answer.text and "二、2020年工作安排 › " in answer.text


# ------------------------------------------------------------------ counting and listing (12.4)


def test_a_counting_question_quotes_every_matching_clause(svc: GovQA, chain: AnswerChain) -> None:
    answer = chain.invoke("2024年精武镇新增了多少家企业？")
    assert len(answer.citations) >= 2 and all(c.source == JW2024 for c in answer.citations)
    assert "新增注册企业861个" in answer.text and "11家纳统企业" in answer.text
    assert_citations_exact(svc, answer)


def test_a_fact_question_still_quotes_one_clause(chain: AnswerChain) -> None:
    assert len(chain.invoke("2019年精武镇税收收入是多少？").citations) == 1
