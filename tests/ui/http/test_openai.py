"""/v1/chat/completions and /v1/models through the official ``openai`` client against a live server."""

from __future__ import annotations

import httpx
import openai
import pytest

from govqa.errors import BadQuestionError
from tests.ui.http.helpers import LiveServer, MakeApi, parse_sse
from ui.http.openai_schemas import ChatMessageIn
from ui.http.routes.openai import split_messages, strip_footnotes

QUESTION = "2019年精武镇税收收入是多少？"


def _client(server: LiveServer, key: str = "unused") -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0, timeout=60)


def test_completion_with_citations(live: LiveServer) -> None:
    completion = _client(live).chat.completions.create(
        model="govqa", messages=[{"role": "user", "content": QUESTION}]
    )
    assert completion.object == "chat.completion" and completion.model == "govqa"
    choice = completion.choices[0]
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    text = choice.message.content or ""
    assert "18亿元" in text
    extra = completion.model_extra or {}
    citations = extra["citations"]
    assert extra["refused"] is False and citations
    first = citations[0]
    assert f"\n\n[1] {first['title']} › {first['heading']}: “{first['quote']}”" in text
    assert (
        completion.usage is not None and completion.usage.total_tokens >= completion.usage.completion_tokens
    )


def test_streamed_completion_matches(live: LiveServer) -> None:
    client = _client(live)
    plain = client.chat.completions.create(model="govqa", messages=[{"role": "user", "content": QUESTION}])
    chunks = list(
        client.chat.completions.create(
            model="govqa",
            messages=[{"role": "user", "content": QUESTION}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    final = [c for c in chunks if c.choices and c.choices[0].finish_reason == "stop"]
    assert len(final) == 1
    assert (final[0].model_extra or {})["citations"] == (plain.model_extra or {})["citations"]
    assert chunks[-1].usage is not None and not chunks[-1].choices


def test_stream_ends_with_done(live: LiveServer) -> None:
    body = {"model": "govqa", "messages": [{"role": "user", "content": QUESTION}], "stream": True}
    r = httpx.post(live.url + "/v1/chat/completions", json=body, timeout=60)
    events = parse_sse(r.text)
    assert events[-1] == ("message", "[DONE]")
    assert r.text.endswith("data: [DONE]\n\n")


def test_history_and_refusal(live: LiveServer) -> None:
    client = _client(live)
    first = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
    follow = client.chat.completions.create(
        model="govqa",
        messages=[
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": first.choices[0].message.content},
            {"role": "user", "content": [{"type": "text", "text": "那2020年呢？"}]},
        ],
    )
    assert follow.choices[0].message.content
    refused = client.chat.completions.create(
        model="govqa", messages=[{"role": "user", "content": "2019年杨柳青镇税收收入是多少？"}]
    )
    assert (refused.model_extra or {})["refused"] is True
    assert "\n\n[1]" not in (refused.choices[0].message.content or "")


def test_models(live: LiveServer) -> None:
    client = _client(live)
    assert [m.id for m in client.models.list()] == ["govqa"]
    assert client.models.retrieve("govqa").id == "govqa"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4")


def test_errors_reach_the_client(live: LiveServer) -> None:
    client = _client(live)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="govqa", messages=[{"role": "system", "content": "no question"}])
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(
            model="govqa", messages=[{"role": "user", "content": "  "}], stream=True
        )
    with pytest.raises(openai.UnprocessableEntityError):
        client.chat.completions.create(model="govqa", messages=[])


def test_keys_through_the_client(make_api: MakeApi) -> None:
    api = make_api(api_keys=["k-user"])
    with LiveServer(api.app) as server:
        with pytest.raises(openai.AuthenticationError):
            _client(server, "wrong").models.list()
        assert [m.id for m in _client(server, "k-user").models.list()] == ["govqa"]


def test_split_messages() -> None:
    def m(role: str, content: str) -> ChatMessageIn:
        return ChatMessageIn(role=role, content=content)  # type: ignore[arg-type]

    question, history = split_messages(
        [
            m("system", "s"),
            m("user", "q1"),
            m("assistant", "a1[1]。\n\n[1] 报告 › 一、回顾: “引文”"),
            m("user", "q2"),
            m("user", "q3"),
            m("assistant", "trailing"),
        ]
    )
    assert question == "q3"
    assert history == [("q1", "a1[1]。"), ("q2", "")]
    with pytest.raises(BadQuestionError):
        split_messages([m("assistant", "a")])


def test_strip_footnotes_keeps_ordinary_text() -> None:
    assert strip_footnotes("答案[1]。\n\n[1] t › h: “q”\n[2] t: “r”") == "答案[1]。"
    assert strip_footnotes("no notes [1] here") == "no notes [1] here"
