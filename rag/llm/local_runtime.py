"""A LangChain chat model over an in-process ``llama_cpp.Llama`` (the bundled Qwen2.5 1.5B GGUF).

Why in-process rather than ``python -m llama_cpp.server`` behind ``ChatOpenAI``: there is no second
process, port or start-up race to manage, the app stays one command (``GOVQA_ANSWER_MODE=local govqa
serve``), and ``create_chat_completion`` applies the chat template stored in the GGUF itself. The price
is that one llama.cpp context is not thread-safe: calls on one loaded model take turns behind a lock (two cores gain nothing from running two at once anyway). The OpenAI-compatible
path stays available as ``answer_mode=openai`` for anyone who prefers a separate server.

The ``Llama`` is built lazily on first use and cached by its configuration, so every ``LlamaChatModel``
with the same path and settings shares one loaded model. Tests pass ``llama_factory`` to use a fake.

Prefill dominates the time to first token on a CPU (~90-100 prompt tokens/s on 2 cores with AVX-512), and
every answer prompt starts with the same instruction. llama.cpp keeps the tokens it last read and skips the
prefix a new prompt shares with them. With ``prompt_cache`` on, the model's state after the instruction
(``prime_system``, read once at ``warm_up`` or before the first answer) is kept as a ``PrefixState`` — the
KV cells of ~100 tokens, ~2 MB, saved and restored in milliseconds — and restored before an answer prompt
whenever the context no longer starts with it (a condense or judge call came in between), so every answer
reads only its passages and question. Off, every prompt is read from its first token (the baseline
``bench/local_ttft.py`` compares against).

Not llama-cpp-python's ``LlamaRAMCache``: each of its states carries a copy of the logits of every token
read (up to 512 x 151,936 floats, 296 MB, not counted against its capacity: a "256 MB" cache of ~14 MB
states could hold ~18 of them, gigabytes), and it saves one after every answer, under the model lock.
Measured after a 570-token prompt: save 0.7 s, restore 1.4 s while the pages are new (0.01 / 0.03 s once
warm); ~20 MB of RSS per state after short prompts.
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

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
_PREFIXES: dict[int, PrefixState] = {}  # per loaded model: its state after the fixed instruction


@dataclass(frozen=True)
class PrefixState:
    """A loaded model's state after reading an instruction: the tokens it held, how many of them every
    prompt with that instruction starts with (``shared``), and llama.cpp's state bytes (the KV cells)."""

    system: str
    tokens: tuple[int, ...]
    shared: int
    data: bytes


@runtime_checkable
class StateIO(Protocol):
    """Reads and writes a loaded model's context (a seam: tests use a fake model)."""

    def supports(self, llama: Any) -> bool: ...

    def tokens(self, llama: Any) -> Sequence[int]: ...

    def save(self, llama: Any) -> bytes: ...

    def restore(self, llama: Any, tokens: Sequence[int], data: bytes) -> None: ...


class LlamaStateIO:
    """``StateIO`` over llama-cpp-python: llama.cpp's state API, without the logits buffer (see above)."""

    def supports(self, llama: Any) -> bool:
        return all(hasattr(llama, a) for a in ("ctx", "input_ids", "n_tokens", "create_chat_completion"))

    def tokens(self, llama: Any) -> Sequence[int]:
        return [int(t) for t in llama.input_ids[: llama.n_tokens]]

    def save(self, llama: Any) -> bytes:
        import llama_cpp

        size = int(llama_cpp.llama_state_get_size(llama.ctx))
        buffer = (ctypes.c_uint8 * size)()
        n = int(llama_cpp.llama_state_get_data(llama.ctx, buffer, size))
        if n > size:
            raise LLMError("llama.cpp wrote more state than it asked room for")
        return ctypes.string_at(buffer, n)

    def restore(self, llama: Any, tokens: Sequence[int], data: bytes) -> None:
        import llama_cpp

        buffer = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
        if int(llama_cpp.llama_state_set_data(llama.ctx, buffer, len(data))) != len(data):
            raise LLMError("llama.cpp did not take the saved prefix state")
        llama.input_ids[: len(tokens)] = tokens
        llama.n_tokens = len(tokens)
        llama._requires_eval = True  # as llama-cpp-python's load_state: sample only after a fresh decode


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def default_threads() -> int:
    return os.cpu_count() or 1


def import_llama() -> LlamaFactory:
    try:
        from llama_cpp import Llama
    except ImportError as e:
        raise ModelNotReadyError(
            "llama-cpp-python is not installed: run `govqa models prepare --llm` (it builds it for this CPU)"
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
    prompt_cache: bool = True  # keep the state after prime_system; off = every prompt read from the start
    flash_attn: bool = True  # llama.cpp's fused attention: prompts read ~12 % faster on 2 cores
    prime_system: str | None = None  # the instruction every answer prompt starts with, read at warm_up
    llama_factory: LlamaFactory | None = Field(default=None, exclude=True)
    state_io: StateIO = Field(default_factory=LlamaStateIO, exclude=True)

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

    def _key(self, factory: LlamaFactory) -> tuple[Any, ...]:
        return (
            self.model_path,
            self.n_ctx,
            self.n_threads,
            self.seed,
            self.flash_attn,
            id(factory),  # the factory used, not the field: another binding never gets this one's model
        )

    def load(self) -> Any:
        """The loaded ``Llama`` (built once per configuration, on first use)."""
        if self._llama is not None:
            return self._llama
        factory = self.llama_factory or import_llama()
        key = self._key(factory)
        with _CACHE_LOCK:
            llama = _CACHE.get(key)
            if llama is None:
                log.info("loading %s (n_ctx=%d, threads=%d)", self.model_path, self.n_ctx, self.n_threads)
                llama = factory(
                    model_path=self.model_path,
                    n_ctx=self.n_ctx,
                    n_threads=self.n_threads,
                    n_threads_batch=self.n_threads,
                    seed=self.seed,
                    flash_attn=self.flash_attn,
                    verbose=False,
                )
                _CACHE[key] = llama
                _RUN_LOCKS[id(llama)] = threading.Lock()
        self._llama = llama
        return llama

    def warm_up(self) -> None:
        """Load the model and, with the prompt cache on, read the fixed instruction once and keep that state."""
        llama = self.load()
        if self.prompt_cache and self.prime_system:
            with _RUN_LOCKS[id(llama)]:
                self._prefix(llama)

    def _prime(self, llama: Any, question: str) -> Sequence[int]:
        messages = to_llama_messages([SystemMessage(self.prime_system or ""), HumanMessage(question)])
        llama.create_chat_completion(messages=messages, max_tokens=1, temperature=0.0, stream=False)
        return self.state_io.tokens(llama)

    def _prefix(self, llama: Any) -> PrefixState | None:
        """The state after ``prime_system`` (made on first use, under the run lock); None for a model whose
        state cannot be read. Two priming prompts with different questions find the tokens every such
        prompt starts with, whatever the chat template."""
        if not self.state_io.supports(llama):
            return None
        state = _PREFIXES.get(id(llama))
        if state is None or state.system != self.prime_system:
            first = self._prime(llama, "")
            tokens = self._prime(llama, "？")  # reads only the few tokens after the shared prefix
            shared = common_prefix(first, tokens)
            state = PrefixState(self.prime_system or "", tuple(tokens), shared, self.state_io.save(llama))
            _PREFIXES[id(llama)] = state
            log.info(
                "kept the local model's state after the instruction (%d tokens, %d bytes)",
                shared,
                len(state.data),
            )
        return state

    def _before_call(self, llama: Any, messages: list[dict[str, str]]) -> None:
        """Off (``prompt_cache`` False): nothing kept from the last prompt, so the whole prompt is read. On,
        for a prompt that starts with ``prime_system``: the kept state is restored unless the context
        already starts with it (another kind of prompt, or a reset, came in between)."""
        if not self.prompt_cache:
            if hasattr(llama, "reset"):
                llama.reset()
            return
        if (
            not self.prime_system
            or not messages
            or messages[0] != {"role": "system", "content": self.prime_system}
        ):
            return
        state = self._prefix(llama)
        if (
            state is not None
            and common_prefix(self.state_io.tokens(llama), state.tokens[: state.shared]) < state.shared
        ):
            self.state_io.restore(llama, state.tokens, state.data)

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
        params = self._params(messages, stop, **kwargs)
        with _RUN_LOCKS[id(llama)]:
            self._before_call(llama, params["messages"])
            response = llama.create_chat_completion(**params, stream=False)
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
            self._before_call(llama, params["messages"])
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


def _usage(prompt: int, completion: int) -> UsageMetadata:
    return UsageMetadata(
        input_tokens=int(prompt), output_tokens=int(completion), total_tokens=int(prompt + completion)
    )


def clear_cache() -> None:
    """Forget every loaded model (tests; freeing memory)."""
    with _CACHE_LOCK:
        _CACHE.clear()
        _RUN_LOCKS.clear()
        _PREFIXES.clear()


# Free loaded models before interpreter teardown: llama-cpp-python's finalizer fails noisily once the
# modules it calls have been torn down.
atexit.register(clear_cache)
