"""A LangChain chat model over an in-process ``llama_cpp.Llama`` (the bundled Qwen2.5 1.5B GGUF).

Why in-process rather than ``python -m llama_cpp.server`` behind ``ChatOpenAI``: there is no second
process, port or start-up race to manage, the app stays one command (``GOVQA_ANSWER_MODE=local govqa
serve``), and ``create_chat_completion`` applies the chat template stored in the GGUF itself. The price
is that one llama.cpp context is not thread-safe: calls on one loaded model take turns behind a lock (two cores gain nothing from running two at once anyway). The OpenAI-compatible
path stays available as ``answer_mode=openai`` for anyone who prefers a separate server.

The ``Llama`` is built lazily on first use and cached by its configuration, so every ``LlamaChatModel``
with the same path and settings shares one loaded model. Tests pass ``llama_factory`` to use a fake.

Prefill dominates the time to first token on a CPU (~35-55 prompt tokens/s on 2 cores), and every answer
prompt starts with the same instruction. llama.cpp keeps the tokens it last read and skips the prefix a
new prompt shares with them; ``prompt_cache_mb`` adds a RAM cache of model states keyed by their tokens
(llama-cpp-python's ``LlamaRAMCache``), so the state of the instruction prefix survives prompts of
another kind in between (a condense or judge call), and ``warm_up`` reads ``prime_system`` once at
start-up so even the first question skips it. ``prompt_cache_mb=0`` reads every prompt from its first
token (the baseline ``bench/local_ttft.py`` compares against).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field, PrivateAttr

from govqa.errors import LLMError, ModelNotReadyError

log = logging.getLogger(__name__)

LlamaFactory = Callable[..., Any]

_CACHE: dict[tuple[Any, ...], Any] = {}
_CACHE_LOCK = threading.Lock()
_RUN_LOCKS: dict[int, threading.Lock] = {}
_PROMPT_CACHES: dict[int, Any] = {}  # the cache of states each loaded model was given


def default_threads() -> int:
    return os.cpu_count() or 1


def import_llama() -> LlamaFactory:
    try:
        from llama_cpp import Llama
    except ImportError as e:
        raise ModelNotReadyError(
            "llama-cpp-python is not installed: run `govqa models prepare --llm` (it builds it with "
            'CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF")'
        ) from e
    return Llama  # type: ignore[no-any-return]


def to_llama_messages(messages: list[BaseMessage]) -> list[dict[str, str]]:
    """LangChain messages as the ``{"role", "content"}`` dicts ``create_chat_completion`` takes."""
    out = []
    for m in messages:
        if isinstance(m, SystemMessage):
            role = "system"
        elif isinstance(m, HumanMessage):
            role = "user"
        elif isinstance(m, AIMessage):
            role = "assistant"
        elif isinstance(m, ChatMessage) and m.role in ("system", "user", "assistant"):
            role = m.role
        else:
            raise LLMError(f"the local chat model cannot take a {type(m).__name__} (role {m.type!r})")
        out.append({"role": role, "content": m.text})
    return out


class LlamaChatModel(BaseChatModel):
    """Chat with a GGUF model through llama.cpp in this process; streams token by token."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: str
    n_ctx: int = 2048
    n_threads: int = Field(default_factory=default_threads)
    max_tokens: int = 256
    temperature: float = 0.0
    seed: int = 0
    stop: list[str] | None = None
    prompt_cache_mb: int = 256  # states kept in RAM by their tokens; 0 = every prompt read from the start
    prime_system: str | None = None  # the instruction every answer prompt starts with, read at warm_up
    llama_factory: LlamaFactory | None = Field(default=None, exclude=True)
    cache_factory: Callable[[int], Any] | None = Field(default=None, exclude=True)  # bytes -> a cache

    _llama: Any = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def model_name(self) -> str:
        return os.path.basename(self.model_path)

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx, "max_tokens": self.max_tokens}

    # ------------------------------------------------------------------------------------- loading

    def _key(self) -> tuple[Any, ...]:
        return (
            self.model_path,
            self.n_ctx,
            self.n_threads,
            self.seed,
            self.prompt_cache_mb > 0,
            id(self.llama_factory),
        )

    def load(self) -> Any:
        """The loaded ``Llama`` (built once per configuration, on first use)."""
        if self._llama is not None:
            return self._llama
        key = self._key()
        with _CACHE_LOCK:
            llama = _CACHE.get(key)
            if llama is None:
                factory = self.llama_factory or import_llama()
                log.info("loading %s (n_ctx=%d, threads=%d)", self.model_path, self.n_ctx, self.n_threads)
                llama = factory(
                    model_path=self.model_path,
                    n_ctx=self.n_ctx,
                    n_threads=self.n_threads,
                    n_threads_batch=self.n_threads,
                    seed=self.seed,
                    verbose=False,
                )
                if self.prompt_cache_mb > 0 and hasattr(llama, "set_cache"):
                    cache = (self.cache_factory or ram_cache)(self.prompt_cache_mb << 20)
                    llama.set_cache(cache)
                    _PROMPT_CACHES[id(llama)] = cache
                _CACHE[key] = llama
                _RUN_LOCKS[id(llama)] = threading.Lock()
        self._llama = llama
        return llama

    def warm_up(self) -> None:
        """Load the model and, with the prompt cache on, read the fixed instruction once."""
        llama = self.load()
        if self.prime_system and getattr(llama, "cache", None) is not None:  # a RAM prompt cache is on
            messages = to_llama_messages([SystemMessage(self.prime_system), HumanMessage("")])
            with _RUN_LOCKS[id(llama)]:
                llama.create_chat_completion(messages=messages, max_tokens=1, temperature=0.0, stream=False)

    def _before_call(self, llama: Any) -> None:
        """Off (``prompt_cache_mb`` 0): no cache of states and nothing kept from the last prompt, so the
        whole prompt is read; on: the model's cache of states is attached (it may have been taken off)."""
        if self.prompt_cache_mb <= 0:
            if getattr(llama, "cache", None) is not None:
                llama.set_cache(None)
            if hasattr(llama, "reset"):
                llama.reset()
        elif id(llama) in _PROMPT_CACHES and llama.cache is not _PROMPT_CACHES[id(llama)]:
            llama.set_cache(_PROMPT_CACHES[id(llama)])

    # ---------------------------------------------------------------------------------- generation

    def _params(self, messages: list[BaseMessage], stop: list[str] | None, **kwargs: Any) -> dict[str, Any]:
        return {
            "messages": to_llama_messages(messages),
            "max_tokens": kwargs.get("max_tokens", self.max_tokens),
            "temperature": kwargs.get("temperature", self.temperature),
            "stop": stop or self.stop or [],
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        llama = self.load()
        with _RUN_LOCKS[id(llama)]:
            self._before_call(llama)
            response = llama.create_chat_completion(**self._params(messages, stop, **kwargs), stream=False)
        choice = response["choices"][0]
        usage = response.get("usage") or {}
        message = AIMessage(
            content=choice["message"].get("content") or "",
            usage_metadata=_usage(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)),
            response_metadata={"finish_reason": choice.get("finish_reason"), "model_name": self.model_name},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        llama = self.load()
        params = self._params(messages, stop, **kwargs)
        with _RUN_LOCKS[id(llama)]:
            self._before_call(llama)
            produced = 0
            finish = None
            for part in llama.create_chat_completion(**params, stream=True):
                choice = part["choices"][0]
                finish = choice.get("finish_reason") or finish
                text = (choice.get("delta") or {}).get("content") or ""
                if not text:
                    continue
                produced += 1
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                if run_manager:
                    run_manager.on_llm_new_token(text, chunk=chunk)
                yield chunk
            in_context = int(getattr(llama, "n_tokens", 0) or 0)  # prompt + what was generated
        prompt_tokens = max(in_context - produced, 0)
        if finish == "length":
            log.info("the local model stopped at max_tokens=%d", params["max_tokens"])
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                usage_metadata=_usage(prompt_tokens, produced),
                response_metadata={"finish_reason": finish, "model_name": self.model_name},
            )
        )


def ram_cache(capacity_bytes: int) -> Any:
    """llama-cpp-python's RAM cache of model states, keyed by the tokens read."""
    from llama_cpp import LlamaRAMCache

    return LlamaRAMCache(capacity_bytes=capacity_bytes)


def _usage(prompt: int, completion: int) -> UsageMetadata:
    return UsageMetadata(
        input_tokens=int(prompt), output_tokens=int(completion), total_tokens=int(prompt + completion)
    )


def clear_cache() -> None:
    """Forget every loaded model (tests; freeing memory)."""
    with _CACHE_LOCK:
        _CACHE.clear()
        _RUN_LOCKS.clear()
        _PROMPT_CACHES.clear()


# Free loaded models before interpreter teardown: llama-cpp-python's finalizer fails noisily once the
# modules it calls have been torn down.
atexit.register(clear_cache)
