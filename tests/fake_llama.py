"""``answer_mode=local`` without the model: a stand-in for ``llama_cpp.Llama`` that streams a fixed answer
and can hold it half-way, and the patch that makes the service build its ``LlamaChatModel`` over it.

The patch replaces only what a test machine lacks, the verified GGUF file (``require_gguf``) and the
llama.cpp binding (``import_llama``); everything between the settings and the chat model is the real
code (``rag.llm.client.build_local_chat_model``, ``LlamaChatModel``, the local prompt, the citation checks).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from rag.llm import local_model, local_runtime

FAKE_GGUF = Path("/nonexistent/govqa-tests/qwen2.5-1.5b-instruct-q4_k_m.gguf")

# A grounded answer to "2019年精武镇税收收入是多少？": its figures are in the first passage retrieved for
# it from the sample reports (003, "2019年全镇预计实现税收收入 18 亿元, 同比增长 36.8%;").
HEAD = "2019年全镇预计实现税收收入"  # streamed before the gate
TAIL = "18亿元，同比增长36.8%[1]。"  # streamed once the test releases it
FIGURES = ("18亿元", "36.8%")

_PASSAGE_1 = re.compile(r'<passage id="1"[^>]*>(.*?)</passage>', re.S)


class GatedLlama:
    """Quacks like ``llama_cpp.Llama`` (the class and its instance): ``create_chat_completion`` with
    ``stream=True`` yields ``head`` in ``piece_chars``-sized content deltas, sets ``at_gate`` and waits
    for ``release`` before yielding ``tail``. Every call's parameters are kept in ``calls``."""

    def __init__(
        self, head: str = HEAD, tail: str = TAIL, *, piece_chars: int = 2, wait_s: float = 120
    ) -> None:
        self.head = head
        self.tail = tail
        self.piece_chars = piece_chars
        self.wait_s = wait_s
        self.release = threading.Event()
        self.at_gate = threading.Event()
        self.loads: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []
        self.n_tokens = 0  # read by LlamaChatModel for the prompt's token count

    @property
    def reply(self) -> str:
        return self.head + self.tail

    def __call__(self, **kwargs: Any) -> GatedLlama:
        """``Llama(model_path=..., n_ctx=..., ...)``: the model "loads" as this same object."""
        self.loads.append(kwargs)
        return self

    def pieces(self, text: str) -> list[str]:
        return [text[i : i + self.piece_chars] for i in range(0, len(text), self.piece_chars)]

    def create_chat_completion(self, **params: Any) -> Any:
        self.calls.append(params)
        self.n_tokens = 100 + len(self.pieces(self.head)) + len(self.pieces(self.tail))
        if not params.get("stream"):
            self._wait()
            return {
                "choices": [
                    {"message": {"role": "assistant", "content": self.reply}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": 100, "completion_tokens": self.n_tokens - 100},
            }
        return self._chunks()

    def _wait(self) -> None:
        self.at_gate.set()
        if not self.release.wait(self.wait_s):
            raise TimeoutError("the test never released the fake model")

    def _chunks(self) -> Iterator[dict[str, Any]]:
        yield {"choices": [{"delta": {"role": "assistant"}, "finish_reason": None}]}
        for piece in self.pieces(self.head):
            yield {"choices": [{"delta": {"content": piece}, "finish_reason": None}]}
        self._wait()
        for piece in self.pieces(self.tail):
            yield {"choices": [{"delta": {"content": piece}, "finish_reason": None}]}
        yield {"choices": [{"delta": {}, "finish_reason": "stop"}]}


def first_passage(call: dict[str, Any]) -> str:
    """The text of passage 1 in the prompt of one ``create_chat_completion`` call."""
    prompt = "\n".join(m["content"] for m in call["messages"])
    found = _PASSAGE_1.search(prompt)
    assert found, f"no passage 1 in the prompt: {prompt[:300]!r}"
    return found.group(1).strip()


@contextmanager
def fake_local_model(fake: GatedLlama) -> Iterator[GatedLlama]:
    """While open, ``answer_mode=local`` builds a ``LlamaChatModel`` at ``FAKE_GGUF`` over ``fake``.

    Build the service's chain (``warm_up``, or the first question) inside the block. On exit the gate is
    opened, so no server thread stays blocked in the fake, and the loaded-model cache is emptied."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(local_model, "require_gguf", lambda *args, **kwargs: FAKE_GGUF)
        mp.setattr(local_runtime, "import_llama", lambda: fake)
        local_runtime.clear_cache()
        try:
            yield fake
        finally:
            fake.release.set()
            local_runtime.clear_cache()
