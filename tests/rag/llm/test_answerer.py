from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult

from govqa.errors import ConfigError, LLMError, ModelNotReadyError
from govqa.models.tokens import count_tokens
from govqa.settings import Settings
from govqa.types import Answer, Chunk, DocumentMeta, Passage
from rag.context import TokenCounter
from rag.llm.answerer import REFUSALS, LLMAnswerer, is_refusal
from rag.llm.client import PLACEHOLDER_API_KEY, build_chat_model

DOC = (Path(__file__).resolve().parents[3] / "data" / "samples" / "003_7659820794adfa4e.txt").read_text(
    "utf-8"
)
META = DocumentMeta(body="精武镇", title="2019年精武镇政府工作报告")
QUESTION = "2019年精武镇税收收入是多少？"


def passage(opening: str, chunk_id: str) -> Passage:
    start = DOC.index(opening)
    end = DOC.index("\n", start)
    chunk = Chunk(chunk_id, "003", "003.txt", DOC[start:end], ("一、2019年工作回顾",), start, end, META)
    return Passage(chunk=chunk, score=1.0)


PASSAGES = [passage("2019年全镇预计实现税收收入", "tax"), passage("创新能力快速提升", "innov")]
GOOD = "2019年精武镇税收收入 18 亿元， 同比增长 36.8% [1]。"


@pytest.fixture(scope="module")
def counter(tmp_path_factory: pytest.TempPathFactory) -> TokenCounter:
    return partial(count_tokens, cache_dir=tmp_path_factory.mktemp("tiktoken"))


def run(answerer: LLMAnswerer, question: str = QUESTION, lang: str = "zh") -> tuple[list[str], Answer]:
    items = list(answerer.stream(question, lang, PASSAGES))
    assert isinstance(items[-1], Answer)
    assert all(isinstance(i, str) for i in items[:-1])
    return [i for i in items[:-1] if isinstance(i, str)], items[-1]


def fake(*replies: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter(replies))


# ------------------------------------------------------------------------------- with fake models


def test_normal_answer_streams_then_checks(counter: TokenCounter) -> None:
    deltas, answer = run(LLMAnswerer(fake(GOOD), counter, 1200))
    assert len(deltas) > 1 and "".join(deltas) == GOOD
    assert not answer.refused
    assert answer.text == GOOD.strip()
    assert [(c.n, c.chunk_id) for c in answer.citations] == [(1, "tax")]
    assert DOC[answer.citations[0].start : answer.citations[0].end] == answer.citations[0].quote
    assert answer.related == PASSAGES and answer.warnings == []
    assert set(answer.timings_ms) == {"llm_first_token", "llm_total"}
    assert answer.timings_ms["llm_first_token"] <= answer.timings_ms["llm_total"]
    assert answer.tokens["context"] > 0 and answer.tokens["system"] > 0 and answer.tokens["question"] > 0
    assert answer.mode == "openai" and answer.lang == "zh"


def test_refusal_token_is_never_streamed(counter: TokenCounter) -> None:
    # FakeListChatModel streams one character at a time
    model = FakeListChatModel(responses=["NOT_IN_REPORTS", " `not_in_reports`. "])
    answerer = LLMAnswerer(model, counter, 1200)
    deltas, answer = run(answerer)
    assert deltas == []
    assert answer.refused and answer.text == REFUSALS["zh"] and answer.citations == []
    assert answer.related == PASSAGES
    deltas, answer = run(answerer, "What was the tax revenue?", "en")
    assert deltas == [] and answer.refused and answer.text == "The reports do not say."


def test_a_short_answer_that_looks_like_the_token_is_still_streamed(counter: TokenCounter) -> None:
    deltas, answer = run(LLMAnswerer(FakeListChatModel(responses=["No"]), counter, 1200), "Any?", "en")
    assert "".join(deltas) == "No"
    assert answer.refused  # no citation: withheld
    assert "withheld" in answer.warnings[-1]


def test_is_refusal_spellings() -> None:
    for text in ["NOT_IN_REPORTS", "**NOT_IN_REPORTS**", "not in reports.", "报告中没有找到相关内容。"]:
        assert is_refusal(text)
    assert not is_refusal("2019年税收收入18亿元[1]。")


def test_hallucinated_number_is_flagged_and_withheld(counter: TokenCounter) -> None:
    deltas, answer = run(LLMAnswerer(fake("2019年精武镇税收收入 19 亿元 [1]。"), counter, 1200))
    assert deltas  # it was streamed; the final answer replaces it
    assert answer.refused and answer.text == REFUSALS["zh"]
    assert any(
        w.startswith("claim not supported by cited passage: 2019年精武镇税收收入 19 亿元")
        for w in answer.warnings
    )


def test_partly_supported_answer_is_kept_with_a_warning(counter: TokenCounter) -> None:
    text = "税收收入 18 亿元 [1]。 专利受理超过 900 件 [2]。 新增高新技术企业 18 家 [5]。"
    answer = LLMAnswerer(fake(text), counter, 1200).invoke(QUESTION, "zh", PASSAGES)
    assert not answer.refused
    assert answer.text == "税收收入 18 亿元 [1]。 专利受理超过 900 件 [2]。 新增高新技术企业 18 家。"
    assert "dropped marker [5]: only 2 passage(s) were given" in answer.warnings
    assert any("not found: 900 件" in w for w in answer.warnings)
    assert any(w == "claim without citation: 新增高新技术企业 18 家。" for w in answer.warnings)


def test_markers_refer_to_the_packed_passages_only(counter: TokenCounter) -> None:
    # a budget that holds only the first passage: [2] does not exist for the model
    budget = counter(PASSAGES[0].chunk.text) + 60
    answer = LLMAnswerer(fake("税收收入 18 亿元 [1][2]。"), counter, budget).invoke(QUESTION, "zh", PASSAGES)
    assert [c.chunk_id for c in answer.citations] == ["tax"]
    assert "dropped marker [2]: only 1 passage(s) were given" in answer.warnings
    assert answer.related == PASSAGES


class Broken(BaseChatModel):
    """A chat model whose server is down (and whose error text carries something key-like)."""

    model_name: str = "broken-model"

    @property
    def _llm_type(self) -> str:
        return "broken"

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        raise ConnectionError("connection refused (auth: Bearer sk-live-0123456789abcdef)")


def test_model_error_becomes_llm_error(counter: TokenCounter) -> None:
    with pytest.raises(LLMError) as info:
        LLMAnswerer(Broken(), counter, 1200).invoke(QUESTION, "zh", PASSAGES)
    msg = str(info.value)
    assert "broken-model" in msg and "GOVQA_LLM_BASE_URL" in msg
    assert "sk-live" not in msg and "0123456789abcdef" not in msg


def test_error_mid_stream_becomes_llm_error(counter: TokenCounter) -> None:
    model = FakeListChatModel(responses=[GOOD], error_on_chunk_number=5)
    stream = LLMAnswerer(model, counter, 1200).stream(QUESTION, "zh", PASSAGES)
    got: list[object] = []
    with pytest.raises(LLMError, match="FakeListChatModelError"):
        got.extend(stream)
    assert "".join(str(g) for g in got) == GOOD[:5]


def test_no_passages_refuses_without_calling_the_model(counter: TokenCounter) -> None:
    answer = LLMAnswerer(Broken(), counter, 1200).invoke(QUESTION, "zh", [])
    assert answer.refused and answer.text == REFUSALS["zh"]


# ------------------------------------------------------------------------------- build_chat_model


def settings(tmp_path: Path, **kw: Any) -> Settings:
    base: dict[str, Any] = {
        "data_dir": tmp_path,
        "answer_mode": "openai",
        "llm_api_key_env": "GOVQA_TEST_LLM_KEY",
    }
    return Settings(**{**base, **kw}, _env_file=None)  # type: ignore[call-arg]


def test_build_chat_model_modes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOVQA_TEST_LLM_KEY", raising=False)
    assert build_chat_model(settings(tmp_path, answer_mode="extractive")) is None
    with pytest.raises(ModelNotReadyError, match="govqa models prepare --llm"):  # no GGUF under tmp_path
        build_chat_model(settings(tmp_path, answer_mode="local"))
    with pytest.raises(ConfigError, match="set the environment variable GOVQA_TEST_LLM_KEY"):
        build_chat_model(settings(tmp_path, llm_base_url=""))
    with pytest.raises(ConfigError, match="must start with http"):
        build_chat_model(settings(tmp_path, llm_base_url="127.0.0.1:8080/v1"))


# ------------------------------------------------------------------ ChatOpenAI against a fake server


class FakeOpenAI(BaseHTTPRequestHandler):
    """``POST /v1/chat/completions`` answering with SSE chunks, or an error status."""

    server: Any

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(
            {"path": self.path, "auth": self.headers.get("Authorization"), "body": body}
        )
        time.sleep(self.server.delay_s)
        if self.server.status != 200:
            payload = json.dumps(
                {"error": {"message": f"bad key {self.headers.get('Authorization')}"}}
            ).encode()
            self.send_response(self.server.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": body["model"]}
        for piece in self.server.pieces:
            choice = {"index": 0, "delta": {"role": "assistant", "content": piece}, "finish_reason": None}
            self._event({**base, "choices": [choice]})
        self._event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        self._event(
            {
                **base,
                "choices": [],
                "usage": {"prompt_tokens": 321, "completion_tokens": 9, "total_tokens": 330},
            }
        )
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def _event(self, data: dict[str, Any]) -> None:
        self.wfile.write(f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode())
        self.wfile.flush()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    httpd.requests = []  # type: ignore[attr-defined]
    httpd.status = 200  # type: ignore[attr-defined]
    httpd.delay_s = 0.0  # type: ignore[attr-defined]
    httpd.pieces = ["2019年精武镇", "税收收入 18 亿元，", "同比增长 36.8%", " [1]。"]  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_chat_openai_streams_from_a_local_server(
    server: Any, tmp_path: Path, counter: TokenCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOVQA_TEST_LLM_KEY", raising=False)
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    model = build_chat_model(settings(tmp_path, llm_base_url=url, llm_model="qwen-test", llm_timeout_s=10))
    assert model is not None
    deltas, answer = run(LLMAnswerer(model, counter, 1200))
    assert deltas == server.pieces
    assert not answer.refused and answer.text == "2019年精武镇税收收入 18 亿元，同比增长 36.8% [1]。"
    assert answer.citations[0].chunk_id == "tax"
    assert answer.tokens["completion"] == 9
    (req,) = server.requests
    assert req["path"] == "/v1/chat/completions"
    assert req["auth"] == f"Bearer {PLACEHOLDER_API_KEY}"
    assert req["body"]["model"] == "qwen-test" and req["body"]["stream"] is True
    assert [m["role"] for m in req["body"]["messages"]] == ["system", "user"]
    assert '<passage id="1" title="2019年精武镇政府工作报告"' in req["body"]["messages"][1]["content"]


def test_chat_openai_auth_error_names_server_not_key(
    server: Any, tmp_path: Path, counter: TokenCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVQA_TEST_LLM_KEY", "sk-test-SECRET-987654321")
    server.status = 401
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    model = build_chat_model(settings(tmp_path, llm_base_url=url, llm_model="qwen-test", llm_timeout_s=10))
    assert model is not None
    with pytest.raises(LLMError) as info:
        LLMAnswerer(model, counter, 1200, api_key_env="GOVQA_TEST_LLM_KEY").invoke(QUESTION, "zh", PASSAGES)
    msg = str(info.value)
    assert server.requests[0]["auth"] == "Bearer sk-test-SECRET-987654321"
    assert url in msg and "qwen-test" in msg and "$GOVQA_TEST_LLM_KEY" in msg
    assert "SECRET" not in msg and "987654321" not in msg


def test_chat_openai_connection_refused(tmp_path: Path, counter: TokenCounter) -> None:
    probe = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    port = probe.server_address[1]
    probe.server_close()  # nothing listens there now
    url = f"http://127.0.0.1:{port}/v1"
    model = build_chat_model(settings(tmp_path, llm_base_url=url, llm_model="qwen-test", llm_timeout_s=5))
    assert model is not None
    with pytest.raises(LLMError, match="could not connect: check GOVQA_LLM_BASE_URL") as info:
        LLMAnswerer(model, counter, 1200).invoke(QUESTION, "zh", PASSAGES)
    assert url in str(info.value)


def test_chat_openai_timeout(server: Any, tmp_path: Path, counter: TokenCounter) -> None:
    server.delay_s = 3.0
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    model = build_chat_model(settings(tmp_path, llm_base_url=url, llm_model="qwen-test", llm_timeout_s=0.3))
    assert model is not None
    with pytest.raises(LLMError, match="did not answer in time: raise GOVQA_LLM_TIMEOUT_S") as info:
        LLMAnswerer(model, counter, 1200).invoke(QUESTION, "zh", PASSAGES)
    assert url in str(info.value) and "qwen-test" in str(info.value)
