"""Issue 12 over the real HTTP API (uvicorn on 127.0.0.1, the sample index): POST /v1/ask answers an
overview with a cited outline, lets the question's year win over the filters with a note, keeps an
earlier body out of a question about another place, and answers a greeting with help."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.ui.http.helpers import LiveServer

TAX_2019 = "2019年精武镇税收收入是多少？"
POINT = re.compile(r"^\s*\d+\.\s", re.MULTILINE)


def ask(live: LiveServer, question: str, **extra: Any) -> dict[str, Any]:
    r = httpx.post(f"{live.url}/v1/ask", json={"question": question, **extra}, timeout=120)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_an_overview_question_is_answered_with_a_cited_outline(live: LiveServer) -> None:
    a = ask(live, "精武镇2024年的主要工作成绩有哪些？")
    assert a["refused"] is False, a["answer"]
    assert len(POINT.findall(a["answer"])) >= 3, a["answer"]
    assert len(a["citations"]) >= 3
    for c in a["citations"][:3]:
        assert f"[{c['n']}]" in a["answer"]
        assert c["title"] == "2024年精武镇政府工作报告"


def test_the_questions_year_wins_over_the_filters_with_a_note(live: LiveServer) -> None:
    a = ask(live, TAX_2019, filters={"body": "精武镇", "year": 2024})
    assert a["refused"] is False, a["answer"]
    assert "18亿元" in a["answer"] and "10.8亿元" not in a["answer"]
    assert a["answer"].startswith("注意：问题问的是2019年，与筛选的年份“2024年”不一致，以下按问题回答。")
    assert a["citations"][0]["title"] == "2019年精武镇政府工作报告"


def test_an_earlier_body_does_not_leak_into_a_question_about_another_place(live: LiveServer) -> None:
    first = ask(live, TAX_2019)
    assert "18亿元" in first["answer"]
    a = ask(live, "北京市2023年GDP是多少？", history=[[TAX_2019, first["answer"]]])
    assert a["refused"] is True
    assert "北京市" in a["answer"] and "精武镇北京市" not in a["answer"], a["answer"]
    assert "精武镇" not in a["standalone_question"], a["standalone_question"]
    assert a["citations"] == []


def test_a_greeting_gets_the_help_answer(live: LiveServer) -> None:
    a = ask(live, "你好")
    assert a["refused"] is False
    assert a["citations"] == [] and not a.get("related")
    for word in ("精武镇", "张家窝镇", "西青区", "2019年", "2021年", "2024年", "可以这样问"):
        assert word in a["answer"], a["answer"]
    assert len(a["answer"]) < 600
