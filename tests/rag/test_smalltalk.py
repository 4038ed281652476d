"""rag.smalltalk: greetings and questions about the assistant get a help text built from what is ingested."""

from __future__ import annotations

import pytest

from govqa.types import DocumentMeta
from rag.smalltalk import ABILITIES, GREETING, INVENTORY, THANKS, fallback_examples, help_answer, kind

REPORTS = [
    DocumentMeta(body="甲镇", title="2024年甲镇政府工作报告", years_reviewed=(2024,), years_planned=(2025,)),
    DocumentMeta(
        body="乙区", title="2021年乙区政府工作报告", years_reviewed=(2017, 2021), years_planned=(2022, 2026)
    ),
]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("你好", GREETING),
        ("您好！", GREETING),
        ("Hi", GREETING),
        ("hello!", GREETING),
        ("谢谢", THANKS),
        ("你能做什么？", ABILITIES),
        ("你好，你能做什么？", ABILITIES),
        ("你是谁", ABILITIES),
        ("What can you do?", ABILITIES),
        ("有哪些报告？", INVENTORY),
        ("都有哪些政府工作报告？", INVENTORY),
        ("Which reports do you have?", INVENTORY),
    ],
)
def test_messages_about_the_assistant_are_recognised(question: str, expected: str) -> None:
    assert kind(question) == expected


@pytest.mark.parametrize(
    "question",
    [
        "2024年甲镇有哪些重点工作？",
        "甲镇的主要工作有哪些？",
        "有哪些报告提到了学校",
        "你好，甲镇税收是多少",
        "GDP是什么",
        "What was the GDP of Xiqing in 2021?",
        "",
    ],
)
def test_questions_about_the_reports_are_not_small_talk(question: str) -> None:
    assert kind(question) is None


def test_the_help_answer_lists_reports_years_and_three_examples() -> None:
    examples = ["问题一？", "问题二？", "问题三？", "问题四？"]
    text = help_answer(INVENTORY, "zh", REPORTS, examples)
    assert "《2024年甲镇政府工作报告》（回顾2024年，部署2025年）" in text
    assert "《2021年乙区政府工作报告》（回顾2017–2021年，部署2022–2026年）" in text
    assert "2份报告" in text
    assert all(q in text for q in examples[:3]) and "问题四" not in text


def test_the_english_help_answer_is_in_english() -> None:
    text = help_answer(GREETING, "en", REPORTS, ["Q1?"])
    assert text.startswith("Hello!") and "(reviews 2024, plans 2025)" in text and "Q1?" in text


def test_an_empty_corpus_says_so() -> None:
    assert "还没有收录" in help_answer(ABILITIES, "zh", [], [])


def test_fallback_examples_ask_for_an_outline_of_each_report() -> None:
    assert fallback_examples(REPORTS, "zh")[0] == "2024年甲镇政府工作报告回顾了哪些主要工作？"
