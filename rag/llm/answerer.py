"""Answering with a chat model: pack the passages, stream the model's answer, check its citations.

``LLMAnswerer.stream`` yields the model's text deltas as they arrive, then one final ``Answer``. The
final answer's text is authoritative: its markers are renumbered by ``check_answer``, and it is replaced
by a fixed refusal when the model said ``NOT_IN_REPORTS`` or cited no passage that supports it. Deltas
that could still be the start of the refusal token are held back, so the token never reaches a screen.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelTimeoutError,
)
from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from govqa.errors import LLMError
from govqa.types import Answer, Passage
from rag.answerer import Turn, merge_ranked
from rag.citations import check_answer
from rag.context import PackedContext, TokenCounter, pack_context
from rag.prompts import ANSWER_PROMPT, REFUSAL_TOKEN, Prompt, render

log = logging.getLogger(__name__)

REFUSALS = {"zh": "报告中没有找到相关内容。", "en": "The reports do not say."}
_TOKEN_LETTERS = re.sub(r"[^A-Z]", "", REFUSAL_TOKEN.upper())  # NOTINREPORTS
_SECRETISH = re.compile(r"sk-[A-Za-z0-9_\-*]{4,}|(?<=Bearer )[^\s)\]'\"]+")


def refusal_text(lang: str) -> str:
    return REFUSALS["zh"] if lang.lower().startswith("zh") else REFUSALS["en"]


def is_refusal(text: str) -> bool:
    """The model declined: the refusal token in any spelling (``not_in_reports``, `NOT IN REPORTS`.),
    or one of the refusal sentences themselves."""
    if _TOKEN_LETTERS in re.sub(r"[^A-Z]", "", text.upper()):
        return True
    squashed = re.sub(r"\W", "", text).lower()
    return any(re.sub(r"\W", "", r).lower() in squashed for r in REFUSALS.values())


def _may_become_refusal(prefix: str) -> bool:
    """True while ``prefix`` (what streamed so far) could still turn out to be the refusal token."""
    letters = re.sub(r"[\s`*\"'_.]", "", prefix).upper()
    return _TOKEN_LETTERS.startswith(letters) or letters.startswith(_TOKEN_LETTERS)


def _delta_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        return "".join(
            b if isinstance(b, str) else str(b.get("text", "")) if isinstance(b, dict) else ""
            for b in content
        )
    return ""


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 1)


class LLMAnswerer:
    """Answers a question from ranked passages with a LangChain chat model, with checked citations."""

    def __init__(
        self,
        chat_model: BaseChatModel,
        count_tokens: TokenCounter,
        budget_tokens: int,
        *,
        mode: str = "openai",
        api_key_env: str = "OPENAI_API_KEY",
        prompt: Prompt = ANSWER_PROMPT,
    ) -> None:
        self.chat_model = chat_model
        self.prompt = prompt
        self.count_tokens = count_tokens
        self.budget_tokens = budget_tokens
        self.mode = mode
        self.api_key_env = api_key_env

    # ------------------------------------------------------------------------------------ answering

    def invoke(self, question: str, lang: str, passages: Sequence[Passage]) -> Answer:
        """The final ``Answer`` of ``stream``."""
        for item in self.stream(question, lang, passages):
            if isinstance(item, Answer):
                return item
        raise LLMError("the answer stream ended without an answer")  # not reached: stream always ends so

    def answer(self, turn: Turn) -> Iterator[str | Answer]:
        """The ``Answerer`` step of the chain: the model answers the standalone question from the passages
        of the parts in scope; the final ``Answer`` carries the question as asked and all retrieved."""
        passages = merge_ranked([p.retrieval.passages for p in turn.parts if not p.retrieval.scope.empty])
        final: Answer | None = None
        for item in self.stream(turn.standalone, turn.info.lang, passages):
            if isinstance(item, str):
                yield item
            else:
                final = item
        assert final is not None
        final.question = turn.question
        final.standalone_question = turn.standalone
        final.retrieved = merge_ranked([p.retrieval.passages for p in turn.parts])
        yield final

    def stream(self, question: str, lang: str, passages: Sequence[Passage]) -> Iterator[str | Answer]:
        """Text deltas as the model writes them, then the checked ``Answer``."""
        packed = pack_context(passages, question, self.budget_tokens, self.count_tokens, prompt=self.prompt)
        tokens = packed.token_counts()
        warnings = list(packed.warnings)
        if not packed.passages:
            yield self._refusal(question, lang, passages, tokens, warnings, {})
            return

        messages = render(self.prompt, context=packed.context, question=question)
        parts: list[str] = []
        held = ""
        released = False
        first: float | None = None
        usage: dict[str, Any] | None = None
        t0 = time.perf_counter()
        try:
            for chunk in self.chat_model.stream(messages):
                reported = getattr(chunk, "usage_metadata", None)
                if reported:
                    usage = dict(reported)
                delta = _delta_text(chunk.content)
                if not delta:
                    continue
                if first is None:
                    first = time.perf_counter()
                parts.append(delta)
                if released:
                    yield delta
                    continue
                held += delta
                if not _may_become_refusal(held):
                    released = True
                    yield held
        except LLMError:
            raise
        except Exception as e:
            raise self._error(e) from e
        t1 = time.perf_counter()

        text = "".join(parts)
        timings = {"llm_first_token": _ms((first or t1) - t0), "llm_total": _ms(t1 - t0)}
        if usage and usage.get("output_tokens") is not None:
            tokens["completion"] = int(usage["output_tokens"])
        if is_refusal(text):
            yield self._refusal(question, lang, passages, tokens, warnings, timings)
            return
        if not released and held:
            yield held  # a short answer that only looked like the start of the refusal token
        yield self._checked(question, lang, text, packed, passages, tokens, warnings, timings)

    def _checked(
        self,
        question: str,
        lang: str,
        text: str,
        packed: PackedContext,
        passages: Sequence[Passage],
        tokens: dict[str, int],
        warnings: list[str],
        timings: dict[str, float],
    ) -> Answer:
        if not text.strip():
            warnings.append("the model returned an empty answer")
            return self._refusal(question, lang, passages, tokens, warnings, timings)
        checked = check_answer(text, packed.passages)
        warnings.extend(checked.warnings)
        if not checked.supported_citations:
            log.info("withholding an answer with no supported citation: %r", text[:200])
            warnings.append("the model's answer cites no passage that supports it, so it was withheld")
            return self._refusal(question, lang, passages, tokens, warnings, timings)
        return Answer(
            question=question,
            text=checked.text,
            refused=False,
            citations=checked.citations,
            related=list(passages),
            lang=lang,
            mode=self.mode,
            timings_ms=timings,
            tokens=tokens,
            warnings=warnings,
        )

    def _refusal(
        self,
        question: str,
        lang: str,
        passages: Sequence[Passage],
        tokens: dict[str, int],
        warnings: list[str],
        timings: dict[str, float],
    ) -> Answer:
        return Answer(
            question=question,
            text=refusal_text(lang),
            refused=True,
            related=list(passages),
            lang=lang,
            mode=self.mode,
            timings_ms=timings,
            tokens=tokens,
            warnings=warnings,
        )

    # --------------------------------------------------------------------------------------- errors

    def _where(self) -> tuple[str, str]:
        m = self.chat_model
        model = str(getattr(m, "model_name", None) or getattr(m, "model", None) or type(m).__name__)
        if hasattr(m, "openai_api_base"):
            return model, str(m.openai_api_base or "https://api.openai.com/v1")
        return model, type(m).__name__

    def _redact(self, message: str) -> str:
        secret = getattr(self.chat_model, "openai_api_key", None)
        value = secret.get_secret_value() if isinstance(secret, SecretStr) else None
        if value and len(value) >= 4:
            message = message.replace(value, "***")
        message = _SECRETISH.sub("***", message)
        return message if len(message) <= 300 else message[:300] + "…"

    def _error(self, e: Exception) -> LLMError:
        """An ``LLMError`` naming the server and model and saying what to check; the key never shows."""
        model, where = self._where()
        name = type(e).__name__
        detail = self._redact(str(e))
        if isinstance(e, ModelTimeoutError | TimeoutError):
            hint = "the server did not answer in time: raise GOVQA_LLM_TIMEOUT_S or lower GOVQA_CONTEXT_MAX_TOKENS"
        elif isinstance(e, ModelConnectionError | ConnectionError):
            hint = "could not connect: check GOVQA_LLM_BASE_URL and that the server is running"
        elif isinstance(e, ModelAuthenticationError | ModelPermissionDeniedError):
            hint = f"the server refused the API key: check the key in ${self.api_key_env} (GOVQA_LLM_API_KEY_ENV)"
        elif isinstance(e, ModelNotFoundError):
            hint = "not found: check GOVQA_LLM_MODEL, and that GOVQA_LLM_BASE_URL ends where the API starts (often /v1)"
        elif isinstance(e, ContextOverflowError):
            hint = "the prompt is too long for the model: lower GOVQA_CONTEXT_MAX_TOKENS"
        elif isinstance(e, ModelRateLimitError):
            hint = "rate limited or out of quota: retry later or check the account"
        else:
            hint = "check GOVQA_LLM_BASE_URL, GOVQA_LLM_MODEL and the server's log"
        log.warning("chat model %s at %s failed: %s: %s", model, where, name, detail)
        return LLMError(f"chat model {model!r} at {where} failed ({name}: {detail}); {hint}")
