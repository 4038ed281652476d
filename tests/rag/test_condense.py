from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import BaseMessage
from pydantic import Field

from govqa.errors import BadQuestionError
from rag.condense import clean_llm_question, condense_with_llm, format_history
from rag.condense import condense as _condense
from rag.prompts import CONDENSE_PROMPT, render

# the sample reports' bodies, as the index would list them (bodies are learned from documents)
SAMPLE_BODIES = ("精武镇", "西青区", "张家窝镇")


def condense(question: str, history: Any, known_bodies: Iterable[str] = ()) -> str:
    return _condense(question, history, known_bodies=(*SAMPLE_BODIES, *known_bodies))


TAX_2019 = [("2019年精武镇税收收入是多少？", "2019年全镇预计实现税收收入18亿元[1]。")]
TAX_2019_EN = [("What was Jingwu's tax revenue in 2019?", "18亿元 [1]")]
SCHOOLS = [("2024年张家窝镇计划新建几所学校？", "建成张家窝镇第一小学[1]。")]

FOLLOW_UPS = [
    # (history, follow-up, standalone)
    (TAX_2019, "那2024年呢？", "2024年精武镇税收收入是多少？"),
    (TAX_2019, "2024年呢", "2024年精武镇税收收入是多少？"),
    (TAX_2019, "那２０２４年呢？", "2024年精武镇税收收入是多少？"),
    (TAX_2019, "2021年的呢", "2021年精武镇税收收入是多少？"),
    (TAX_2019, "张家窝镇呢？", "2019年张家窝镇税收收入是多少？"),
    (TAX_2019, "那张家窝呢", "2019年张家窝镇税收收入是多少？"),
    (TAX_2019, "它的固定资产投资呢", "2019年精武镇固定资产投资是多少？"),
    (TAX_2019, "固定资产投资呢？", "2019年精武镇固定资产投资是多少？"),
    (TAX_2019, "那2024年张家窝镇呢", "2024年张家窝镇税收收入是多少？"),
    (TAX_2019, "2024年的规模工业总产值呢", "2024年精武镇规模工业总产值是多少？"),
    (TAX_2019, "2021年是多少？", "2021年精武镇税收收入是多少？"),
    (TAX_2019, "它的固定资产投资是多少？", "2019年精武镇固定资产投资是多少？"),
    (TAX_2019, "杨柳青镇呢？", "2019年杨柳青镇税收收入是多少？"),
    # English follow-ups after a Chinese question keep the Chinese question's language
    (TAX_2019, "and Zhangjiawo?", "2019年张家窝镇税收收入是多少？"),
    (TAX_2019, "what about 2024?", "2024年精武镇税收收入是多少？"),
    (TAX_2019, "What about GDP?", "2019年精武镇地区生产总值是多少？"),
    # English after English
    (TAX_2019_EN, "and Zhangjiawo?", "What was Zhangjiawo Town's tax revenue in 2019?"),
    (TAX_2019_EN, "what about 2024?", "What was Jingwu's tax revenue in 2024?"),
    (TAX_2019_EN, "How about 2021?", "What was Jingwu's tax revenue in 2021?"),
    (
        TAX_2019_EN,
        "What about its fixed-asset investment?",
        "What was Jingwu's fixed-asset investment in 2019?",
    ),
    (TAX_2019_EN, "And the industrial output?", "What was Jingwu's industrial output in 2019?"),
    (
        [("How did Jingwu's tax revenue change from 2019 to 2024?", "")],
        "and Zhangjiawo?",
        "How did Zhangjiawo Town's tax revenue change from 2019 to 2024?",
    ),
    (
        [("What was Zhangjiawo's industrial output in 2023?", "")],
        "How many schools does it plan to build?",
        "How many schools does Zhangjiawo Town plan to build in 2023?",
    ),
    (
        [("What was Xiqing's GDP in 2021?", "")],
        "What was the population there?",
        "What was the population in Xiqing District in 2021?",
    ),
    # topic changes
    (SCHOOLS, "幼儿园呢？", "2024年张家窝镇计划新建几所幼儿园？"),
    (SCHOOLS, "精武镇呢？", "2024年精武镇计划新建几所学校？"),
    ([("精武镇2019年新建了哪些道路", "")], "学校呢", "精武镇2019年新建了哪些学校"),
    (
        [("2019年精武镇税收收入和固定资产投资分别是多少", "")],
        "那规模工业总产值呢？",
        "2019年精武镇规模工业总产值是多少",
    ),
    # lists of years and bodies are carried and replaced as a whole
    (
        [("2019年和2024年精武镇税收收入分别是多少？", "")],
        "张家窝镇呢？",
        "2019年和2024年张家窝镇税收收入分别是多少？",
    ),
    ([("2019年和2024年精武镇税收收入分别是多少？", "")], "那2021年呢？", "2021年精武镇税收收入是多少？"),
    # a question without a body gets the last one
    ([("精武镇有多少家高新技术企业", "")], "2019年税收收入是多少", "精武镇2019年税收收入是多少"),
    ([("精武镇的税收收入是多少", "")], "2019年呢", "2019年精武镇的税收收入是多少"),
    ([("What was Jingwu's GDP?", "")], "what about 2021?", "What was Jingwu's GDP in 2021?"),
    # chains of follow-ups resolve against the resolved earlier turns
    ([*TAX_2019, ("张家窝镇呢？", "")], "那2024年呢？", "2024年张家窝镇税收收入是多少？"),
    (
        [*TAX_2019, ("那2024年呢？", ""), ("它的固定资产投资呢", "")],
        "张家窝镇呢",
        "2024年张家窝镇固定资产投资是多少？",
    ),
    (
        [("2019年和2024年精武镇税收收入分别是多少？", ""), ("那固定资产投资呢", "")],
        "张家窝镇呢？",
        "2019年和2024年张家窝镇固定资产投资分别是多少？",
    ),
]


@pytest.mark.parametrize(("history", "question", "expected"), FOLLOW_UPS)
def test_follow_up_becomes_standalone(history: list[tuple[str, str]], question: str, expected: str) -> None:
    assert condense(question, history) == expected


UNCHANGED = [
    # (history, question): self-contained questions, or nothing to carry over
    (TAX_2019, "张家窝镇2024年计划新建几所学校？"),
    (TAX_2019, "2021年西青区地区生产总值是多少？"),
    (TAX_2019, "What was Zhangjiawo's industrial output in 2023?"),
    (TAX_2019, "精武镇的霍元甲文化公园建设得怎么样"),
    (TAX_2019, "谢谢"),
    (TAX_2019, "好的"),
    ([], "那2024年呢？"),
    ([("你好", "你好！")], "那2024年呢？"),
    ([("", "")], "张家窝镇呢？"),
]


@pytest.mark.parametrize(("history", "question"), UNCHANGED)
def test_question_is_returned_unchanged(history: list[tuple[str, str]], question: str) -> None:
    assert condense(question, history) == question


def test_question_across_bodies_gets_no_body() -> None:
    assert condense("哪个镇的税收最高？", TAX_2019) == "2019年哪个镇的税收最高？"


def test_known_bodies_from_the_index() -> None:
    history = [("2019年杨柳青镇税收收入是多少？", "")]
    assert condense("那2024年呢？", history, known_bodies=["杨柳青镇"]) == "2024年杨柳青镇税收收入是多少？"
    assert condense("精武镇呢", history, known_bodies=["杨柳青镇"]) == "2019年精武镇税收收入是多少？"


def test_only_user_turns_are_read() -> None:
    history = [("2019年精武镇税收收入是多少？", "2024年张家窝镇的固定资产投资是29.52亿元")]
    assert condense("那2021年呢？", history) == "2021年精武镇税收收入是多少？"


def test_question_is_stripped() -> None:
    assert condense("  张家窝镇2024年计划新建几所学校？ ", TAX_2019) == "张家窝镇2024年计划新建几所学校？"


@pytest.mark.parametrize("question", ["", "   ", "多" * 1001])
def test_bad_question_is_rejected(question: str) -> None:
    with pytest.raises(BadQuestionError):
        condense(question, TAX_2019)


# ------------------------------------------------------------------------------------------ LLM

CONDENSE_SNAPSHOT = """\
[system]
Rewrite the user's last message as ONE standalone question about government work reports. Carry over \
from the conversation the government body (the town, district, city, province or the State Council), the \
year and the topic that the last message leaves out; keep what it changes. Keep the language of the last message. If it is already \
standalone, repeat it unchanged. Do not answer it. Reply with the question only.
[human]
Conversation:
User: 2019年精武镇税收收入是多少？
Assistant: 2019年全镇预计实现税收收入18亿元[1]。

Last message: 那2024年呢？
Standalone question:"""


def _as_text(messages: list[BaseMessage]) -> str:
    return "\n".join(f"[{m.type}]\n{m.content}" for m in messages)


def test_condense_prompt_snapshot() -> None:
    messages = render(CONDENSE_PROMPT, history=format_history(TAX_2019), question="那2024年呢？")
    assert _as_text(messages) == CONDENSE_SNAPSHOT
    assert CONDENSE_PROMPT.input_variables == ("history", "question")


def test_format_history_keeps_the_last_turns_and_cuts_long_answers() -> None:
    history = [(f"问题{i}", "答" * 300) for i in range(6)]
    text = format_history(history, max_turns=2, max_answer_chars=10)
    assert (
        text == "User: 问题4\nAssistant: 答答答答答答答答答答…\nUser: 问题5\nAssistant: 答答答答答答答答答答…"
    )


class _RecordingModel(FakeListChatModel):
    seen: list[list[BaseMessage]] = Field(default_factory=list)

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        self.seen.append(list(input))
        return super().invoke(input, config, **kwargs)


class _BrokenModel(FakeListChatModel):
    def _call(self, *args: Any, **kwargs: Any) -> str:
        raise ConnectionError("model server is down")


LLM_REPLIES = [
    # (model reply, expected standalone)
    ("2024年精武镇的税收收入是多少？", "2024年精武镇的税收收入是多少？"),
    ("Standalone question: 2024年精武镇的税收收入是多少？", "2024年精武镇的税收收入是多少？"),
    ("“2024年精武镇税收收入是多少？”\n", "2024年精武镇税收收入是多少？"),
    ("独立问题：2024年精武镇税收收入是多少", "2024年精武镇税收收入是多少"),
    # unusable replies fall back to the rules
    ("", "2024年精武镇税收收入是多少？"),
    ("   \n ", "2024年精武镇税收收入是多少？"),
    ("根据报告，2024年精武镇税收10.8亿元。", "2024年精武镇税收收入是多少？"),
    ("2024年全年预计完成税收10.8亿元。", "2024年精武镇税收收入是多少？"),
    ("According to the reports, the tax revenue was 1.08 billion yuan.", "2024年精武镇税收收入是多少？"),
    ("NOT_IN_REPORTS", "2024年精武镇税收收入是多少？"),
]


@pytest.mark.parametrize(("reply", "expected"), LLM_REPLIES)
def test_condense_with_llm(reply: str, expected: str) -> None:
    model = FakeListChatModel(responses=[reply])
    assert condense_with_llm("那2024年呢？", TAX_2019, model) == expected


def test_condense_with_llm_sends_the_prompt_with_history() -> None:
    model = _RecordingModel(responses=["2024年精武镇税收收入是多少？"])
    condense_with_llm("那2024年呢？", TAX_2019, model)
    assert len(model.seen) == 1
    assert _as_text(model.seen[0]) == CONDENSE_SNAPSHOT


def test_condense_with_llm_falls_back_when_the_model_fails() -> None:
    assert (
        condense_with_llm("那2024年呢？", TAX_2019, _BrokenModel(responses=["x"]))
        == "2024年精武镇税收收入是多少？"
    )


def test_condense_with_llm_needs_no_model_without_history() -> None:
    model = _RecordingModel(responses=["不该被调用"])
    assert condense_with_llm("2019年精武镇税收收入是多少？", [], model) == "2019年精武镇税收收入是多少？"
    assert model.seen == []


def test_condense_with_llm_passes_known_bodies_to_the_fallback() -> None:
    history = [("2019年杨柳青镇税收收入是多少？", "")]
    model = FakeListChatModel(responses=[""])
    out = condense_with_llm("那2024年呢？", history, model, known_bodies=["杨柳青镇"])
    assert out == "2024年杨柳青镇税收收入是多少？"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("What was Zhangjiawo's tax revenue in 2019?", "What was Zhangjiawo's tax revenue in 2019?"),
        ("Question: and what about 2024?", "and what about 2024?"),
        ("The reports say 18亿元.", ""),
        ("18亿元", ""),
        ("x" * 1001 + "?", ""),
    ],
)
def test_clean_llm_question(raw: str, clean: str) -> None:
    assert clean_llm_question(raw) == clean


# ------------------------------------------------- mixed-body conversations (issue 12.6): no leaks

MIXED = [
    ("精武镇2019年税收收入是多少？", ""),
    ("那2024年呢？", ""),
    ("它的固定资产投资呢", ""),
]


@pytest.mark.parametrize(
    "question",
    [
        "北京市2023年GDP是多少？",
        "天津市的税收是多少？",
        "河北省的财政收入是多少？",
        "杨柳青镇的税收是多少？",
        "张家窝镇2023年规上工业总产值是多少？",
        "What was Beijing's GDP in 2023?",
    ],
)
def test_a_follow_up_naming_its_own_place_keeps_it(question: str) -> None:
    known = ["精武镇", "张家窝镇", "西青区"]
    assert condense(question, MIXED, known_bodies=known) == question


def test_only_an_elliptical_follow_up_inherits_in_a_mixed_body_conversation() -> None:
    known = ["精武镇", "张家窝镇", "西青区"]
    history = [*MIXED, ("北京市2023年GDP是多少？", "")]
    assert condense("那2022年呢？", history, known_bodies=known) == "北京市2022年GDP是多少？"
    assert condense("北京市呢？", MIXED, known_bodies=known) == "北京市2024年固定资产投资是多少？"
    assert condense("张家窝镇呢？", MIXED, known_bodies=known) == "张家窝镇2024年固定资产投资是多少？"
