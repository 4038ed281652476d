"""POST /v1/ask in answer mode ``local`` (the in-process llama.cpp chat model) with a fake ``Llama``: the
answer streams as server-sent events while the model is still writing, then comes checked with citations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx

from rag.llm.local_runtime import LlamaChatModel
from tests.fake_llama import FAKE_GGUF, FIGURES, HEAD, GatedLlama, fake_local_model, first_passage
from tests.ui.http.helpers import LiveServer, MakeApi, parse_sse

TAX_2019 = "2019年精武镇税收收入是多少？"


def sse_events(response: httpx.Response) -> Iterator[tuple[str, Any]]:
    """(event, JSON data) of a server-sent event stream, each as soon as its block has arrived."""
    buffer = ""
    for text in response.iter_text():
        buffer += text.replace("\r\n", "\n")
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            for event, data in parse_sse(block + "\n\n"):
                yield event, json.loads(data)


def test_local_mode_streams_deltas_before_citations_and_done(make_api: MakeApi) -> None:
    with fake_local_model(GatedLlama()) as fake:
        api = make_api(answer_mode="local")  # warmed up: the chain and its chat model are built
        chat_model = api.service.chain.chat_model
        assert isinstance(chat_model, LlamaChatModel) and chat_model.model_path == str(FAKE_GGUF)

        with (
            LiveServer(api.app) as server,
            httpx.Client(base_url=server.url, timeout=60) as http,
            http.stream("POST", "/v1/ask", json={"question": TAX_2019, "stream": True}) as r,
        ):
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            events = sse_events(r)

            # the model is held after its first tokens: what it wrote so far has already arrived
            early: list[tuple[str, Any]] = []
            while "".join(d["text"] for _, d in early) != HEAD:
                event, data = next(events)
                assert event == "delta", (event, data)
                early.append((event, data))
            assert fake.at_gate.wait(30) and not fake.release.is_set()  # (a wait, not a timing check)
            assert len(early) >= 3  # token by token, not one block

            fake.release.set()
            rest = list(events)

    assert fake.loads and fake.loads[0]["model_path"] == str(FAKE_GGUF)
    assert len(fake.calls) == 1 and fake.calls[0]["stream"] is True
    passage = first_passage(fake.calls[0])
    assert all(f in passage for f in FIGURES), passage  # the fake's answer is grounded in passage 1

    names = [e for e, _ in early + rest]
    assert names[-2:] == ["citations", "done"]
    assert set(names[:-2]) == {"delta"} and len(names) - 2 > len(early)
    done = rest[-1][1]
    assert "".join(d["text"] for e, d in early + rest if e == "delta") == fake.reply == done["answer"]
    assert done["refused"] is False and done["warnings"] == [] and done["mode"] == "local"
    assert done["tokens"]["completion"] > 0
    assert rest[-2][1] == done["citations"]
    c = done["citations"][0]
    assert c["n"] == 1 and c["title"] == "2019年精武镇政府工作报告"
    assert all(f in c["quote"] for f in FIGURES) and c["quote"] in c["passage"]
