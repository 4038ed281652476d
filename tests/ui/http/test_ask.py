"""POST /v1/ask: JSON and server-sent events over the real sample index (fake embedder)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from govqa.errors import LLMError
from govqa.types import Answer
from tests.ui.http.helpers import Api, LiveServer, MakeApi, assert_error, sse_json

TAX_2019 = "2019年精武镇税收收入是多少？"


def test_ask_returns_a_cited_answer(client: TestClient) -> None:
    r = client.post("/v1/ask", json={"question": TAX_2019})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["refused"] is False
    assert "18亿元" in answer["answer"]
    assert answer["citations"], answer
    c = answer["citations"][0]
    assert c["title"] == "2019年精武镇政府工作报告"
    assert c["heading_path"] and c["heading"] == " › ".join(c["heading_path"])
    assert "税收收入" in c["quote"] and c["quote"] in c["passage"]
    assert c["source"].endswith(".txt") and "/" not in c["source"]
    assert c["end"] - c["start"] == len(c["quote"])
    assert f"[{c['n']}]" in answer["answer"]
    assert set(answer["timings_ms"]) >= {"total"}
    assert "answer" in answer["tokens"]


def test_ask_refuses_what_the_reports_do_not_say(client: TestClient) -> None:
    r = client.post("/v1/ask", json={"question": "2019年杨柳青镇税收收入是多少？"})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["refused"] is True
    assert answer["citations"] == []
    assert "没有" in answer["answer"]


def test_both_history_shapes_give_the_same_answer(client: TestClient) -> None:
    first = client.post("/v1/ask", json={"question": TAX_2019}).json()
    follow_up = "那2020年呢？"
    pairs = client.post(
        "/v1/ask", json={"question": follow_up, "history": [[TAX_2019, first["answer"]]]}
    ).json()
    turns = client.post(
        "/v1/ask",
        json={
            "question": follow_up,
            "history": [
                {"role": "system", "content": "ignored"},
                {"role": "user", "content": TAX_2019},
                {"role": "assistant", "content": first["answer"]},
            ],
        },
    ).json()
    assert pairs["standalone_question"] == turns["standalone_question"]
    assert pairs["standalone_question"] != follow_up  # the history was used to complete the question
    assert pairs["answer"] == turns["answer"]


def test_filters_restrict_the_reports(client: TestClient) -> None:
    r = client.post(
        "/v1/ask", json={"question": "税收收入是多少？", "filters": {"body": "精武镇", "year": 2019}}
    )
    assert r.status_code == 200, r.text
    for c in r.json()["citations"]:
        assert "精武镇" in c["title"]
    r = client.post("/v1/ask", json={"question": TAX_2019, "filters": {"document": "no-such-document"}})
    assert r.json()["refused"] is True


@pytest.mark.parametrize(
    "body",
    [
        {"question": TAX_2019, "filters": {"year": 3000}},
        {"question": TAX_2019, "filters": {"colour": "red"}},
        {"question": TAX_2019, "history": [["only one"]]},
        {"question": TAX_2019, "history": [{"role": "robot", "content": "x"}]},
        {"question": 42},
        {"question": ""},
        {},
    ],
)
def test_bad_requests_are_422_in_the_error_shape(client: TestClient, body: dict[str, Any]) -> None:
    err = assert_error(client.post("/v1/ask", json=body), 422, "validation_error")
    assert err["details"] and all("input" not in d for d in err["details"])


def test_malformed_json_is_422(client: TestClient) -> None:
    r = client.post("/v1/ask", content=b'{"question": ', headers={"Content-Type": "application/json"})
    assert_error(r, 422, "validation_error")


@pytest.mark.parametrize("stream", [False, True])
def test_service_errors_keep_their_status_and_code(client: TestClient, stream: bool) -> None:
    err = assert_error(
        client.post("/v1/ask", json={"question": "   ", "stream": stream}), 400, "bad_question"
    )
    assert "empty" in err["message"]
    err = assert_error(client.post("/v1/ask", json={"question": "问" * 1001, "stream": stream}), 400)
    assert "1000" in err["message"]


def test_stream_sends_deltas_then_citations_then_done(client: TestClient) -> None:
    r = client.post("/v1/ask", json={"question": TAX_2019, "stream": True})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    events = sse_json(r.text)
    names = [e for e, _ in events]
    assert names[-2:] == ["citations", "done"]
    assert set(names[:-2]) == {"delta"} and names[:-2]
    text = "".join(d["text"] for e, d in events if e == "delta")
    done = events[-1][1]
    assert text == done["answer"]
    assert events[-2][1] == done["citations"]
    assert done == client.post("/v1/ask", json={"question": TAX_2019}).json() | {
        "timings_ms": done["timings_ms"]
    }


def test_unknown_routes_and_methods_answer_in_the_error_shape(client: TestClient) -> None:
    assert_error(client.get("/v1/nothing-here"), 404, "not_found")
    assert_error(client.get("/v1/ask"), 405, "method_not_allowed")


def test_body_over_the_limit_is_413(make_api: MakeApi) -> None:
    api = make_api(max_body_kb=1)
    big = {"question": TAX_2019, "history": [["问" * 400, "答" * 400]]}
    assert_error(api.client.post("/v1/ask", json=big), 413, "payload_too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while reading
        yield b'{"question": "' + "问".encode() * 600
        yield b'"}'

    r = api.client.post("/v1/ask", content=chunks(), headers={"Content-Type": "application/json"})
    assert_error(r, 413, "payload_too_large")
    assert api.client.post("/v1/ask", json={"question": TAX_2019}).status_code == 200


# --- failures inside the service -----------------------------------------------------------------------
class _Broken:
    """Delegates to the real service but fails in ``ask``/``ask_stream`` the way it is told to."""

    def __init__(self, real: Any, error: Exception, after_first_delta: bool = True) -> None:
        self._real = real
        self._error = error
        self._after = after_first_delta

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def ask(self, *args: Any, **kwargs: Any) -> Answer:
        raise self._error

    def ask_stream(self, *args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
        if self._after:
            yield {"type": "delta", "text": "部分"}
        raise self._error


def test_unexpected_errors_are_a_bare_500_and_logged(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    api.app.state.govqa.service = _Broken(api.service, RuntimeError("secret internals /etc/x"))
    r = api.client.post("/v1/ask", json={"question": TAX_2019})
    err = assert_error(r, 500, "internal")
    assert err["message"] == "internal error" and "secret" not in r.text
    assert any("secret internals" in str(rec.exc_info) for rec in caplog.records if rec.exc_info)


@pytest.mark.parametrize(
    ("error", "code"), [(LLMError("the chat model timed out"), "llm_error"), (KeyError("boom"), "internal")]
)
def test_errors_mid_stream_become_an_error_event(api: Api, error: Exception, code: str) -> None:
    api.app.state.govqa.service = _Broken(api.service, error)
    r = api.client.post("/v1/ask", json={"question": TAX_2019, "stream": True})
    assert r.status_code == 200
    events = sse_json(r.text)
    assert events[0] == ("delta", {"text": "部分"})
    assert events[-1][0] == "error"
    assert events[-1][1]["error"]["code"] == code
    assert "boom" not in r.text


def test_errors_before_the_first_event_are_plain_json(api: Api) -> None:
    api.app.state.govqa.service = _Broken(api.service, LLMError("unreachable"), after_first_delta=False)
    r = api.client.post("/v1/ask", json={"question": TAX_2019, "stream": True})
    assert_error(r, 502, "llm_error")


class _Slow:
    """Counts how many answers run at once; each answer waits until ``release`` is set."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self._lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.release = threading.Event()
        self.two_running = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def ask(self, *args: Any, **kwargs: Any) -> Answer:
        with self._lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
            if self.running >= 2:
                self.two_running.set()
        try:
            self.release.wait(60)
            answer: Answer = self._real.ask(*args, **kwargs)
            return answer
        finally:
            with self._lock:
                self.running -= 1


def test_answers_run_on_a_bounded_pool_and_probes_stay_fast(make_api: MakeApi) -> None:
    api = make_api(answer_workers=2)
    slow = _Slow(api.service)
    api.app.state.govqa.service = slow
    with LiveServer(api.app) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        statuses: list[int] = []

        def ask() -> None:
            with httpx.Client(base_url=server.url, timeout=60) as own:
                statuses.append(own.post("/v1/ask", json={"question": TAX_2019}).status_code)

        threads = [threading.Thread(target=ask) for _ in range(6)]
        for t in threads:
            t.start()
        assert slow.two_running.wait(30), "two answers should be running"
        # both workers are blocked inside an answer: the probe is still served (not starved)
        assert http.get("/healthz", timeout=10).status_code == 200
        assert not slow.release.is_set() and slow.running == 2
        slow.release.set()
        for t in threads:
            t.join(60)
    assert statuses == [200] * 6
    assert slow.peak == 2  # six requests, two at a time; the rest waited in line
