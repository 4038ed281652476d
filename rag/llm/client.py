"""Building the chat model the answer mode asks for.

``extractive`` needs none; ``openai`` is a streaming ``ChatOpenAI`` for OpenAI or any OpenAI-compatible
server (``GOVQA_LLM_BASE_URL``, e.g. ``python -m llama_cpp.server`` on 127.0.0.1); ``local`` is the bundled
Qwen2.5 1.5B GGUF run in-process through llama.cpp (``rag.llm.local_runtime``; prepared by ``govqa models
prepare --llm``). The API key is read from the environment variable named by
``settings.llm_api_key_env`` here, when the client is built, and nowhere else.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Callable
from urllib.parse import urlparse

from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from govqa.errors import ConfigError
from govqa.settings import Settings

log = logging.getLogger(__name__)

PLACEHOLDER_API_KEY = "not-needed"  # local OpenAI-compatible servers accept any key


def is_local_url(base_url: str) -> bool:
    """True for a server on this machine or a private network (no key is usually needed there)."""
    host = urlparse(base_url).hostname or ""
    if host in ("localhost", "") or host.endswith(".local"):
        return bool(host)
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    return addr.is_loopback or addr.is_private or addr.is_unspecified


def _api_key(settings: Settings) -> str:
    env = settings.llm_api_key_env
    key = os.environ.get(env, "").strip() if env else ""
    if key:
        return key
    base_url = settings.llm_base_url.strip()
    if not base_url:
        raise ConfigError(
            f"answer mode 'openai' with no GOVQA_LLM_BASE_URL talks to api.openai.com and needs an API key: "
            f"set the environment variable {env or 'OPENAI_API_KEY'} (GOVQA_LLM_API_KEY_ENV names it), or "
            "point GOVQA_LLM_BASE_URL at a local OpenAI-compatible server"
        )
    if is_local_url(base_url):
        log.debug("no %s set: using a placeholder key for the local server %s", env, base_url)
    else:
        log.warning("no %s set: calling %s without an API key; it may refuse", env, base_url)
    return PLACEHOLDER_API_KEY


def build_local_chat_model(settings: Settings) -> BaseChatModel:
    """The in-process llama.cpp model over the verified GGUF; ``ModelNotReadyError`` until it is prepared.

    Nothing is loaded here: the model file is opened on the first question (or ``warm_up``)."""
    from rag.llm.local_model import require_gguf
    from rag.llm.local_runtime import LlamaChatModel, import_llama
    from rag.prompts import LOCAL_ANSWER_PROMPT

    path = require_gguf(settings.resolved_models_dir)
    import_llama()  # fail now, with the prepare command, rather than on the first question
    model = LlamaChatModel(
        model_path=str(path),
        n_ctx=settings.local_n_ctx,
        n_threads=settings.threads,
        max_tokens=settings.local_max_tokens,
        temperature=settings.llm_temperature,
        prompt_cache=settings.local_prompt_cache,
        flash_attn=settings.local_flash_attn,
        prime_system=LOCAL_ANSWER_PROMPT.system,
    )
    log.info("local chat model %s (%d threads)", path.name, model.n_threads)
    return model


def build_openai_chat_model(settings: Settings) -> BaseChatModel:
    """A streaming ChatOpenAI for OpenAI or any OpenAI-compatible server (``GOVQA_LLM_BASE_URL``)."""
    base_url = settings.llm_base_url.strip()
    if base_url and urlparse(base_url).scheme not in ("http", "https"):
        raise ConfigError(f"GOVQA_LLM_BASE_URL must start with http:// or https://, got {base_url!r}")
    if not settings.llm_model.strip():
        raise ConfigError("GOVQA_LLM_MODEL is empty: name the model the server should run")
    if settings.llm_timeout_s <= 0:
        raise ConfigError(f"GOVQA_LLM_TIMEOUT_S must be > 0, got {settings.llm_timeout_s}")

    from langchain_openai import ChatOpenAI  # imported on first use: it pulls in the openai SDK

    model = ChatOpenAI(
        base_url=base_url or None,
        model=settings.llm_model,
        api_key=SecretStr(_api_key(settings)),
        temperature=settings.llm_temperature,
        timeout=settings.llm_timeout_s,
        streaming=True,
        max_retries=1,
    )
    log.info("chat model %s at %s", settings.llm_model, base_url or "api.openai.com")
    return model


# the chat model each answer mode (GOVQA_ANSWER_MODE) runs on; extractive needs none
CHAT_MODELS: dict[str, Callable[[Settings], BaseChatModel | None]] = {
    "extractive": lambda settings: None,
    "openai": build_openai_chat_model,
    "local": build_local_chat_model,
}


def build_chat_model(settings: Settings) -> BaseChatModel | None:
    """The chat model for ``settings.answer_mode``: None for extractive, a streaming ChatOpenAI for
    openai, the in-process llama.cpp model for local."""
    mode = settings.answer_mode
    build = CHAT_MODELS.get(mode)
    if build is None:
        raise ConfigError(f"GOVQA_ANSWER_MODE must be extractive, openai or local, got {mode!r}")
    return build(settings)
