"""The embedder base class: what every embedder is (``govqa.models.embedders`` builds them).

A LangChain ``Embeddings`` (``embed_documents`` / ``embed_query``) with two numpy helpers
(``encode_passages`` / ``encode_queries``) that return L2-normalised float32 rows, so the FAISS store can
use inner product as cosine similarity. Subclasses implement ``_encode``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from langchain_core.embeddings import Embeddings


class Embedder(Embeddings):
    """Base: subclasses implement ``_encode``; everything else is derived."""

    name: str = "embedder"
    dim: int = 0
    # whether one forward pass over several questions costs less than one each: the premise of the
    # query micro-batcher (govqa.models.batching); an embedder that runs each text alone says False
    shares_passes: bool = True

    def _encode(self, texts: Sequence[str], *, is_query: bool) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self._encode(list(texts), is_query=False))

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self._encode(list(texts), is_query=True))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode_queries([text])[0].tolist()

    def warm_up(self) -> None:
        """Load whatever is heavy now rather than on first use."""


def _normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(v / norms, dtype=np.float32)
