"""The corpus backends by name (``GOVQA_VECTOR_BACKEND``): one opener per backend, in one registry.

``faiss``: ``CorpusIndex``, FAISS + SQLite + BM25 in the index folder (``vectorstore.faiss_corpus``);
``milvus``: ``MilvusCorpus``, a Milvus deployment or embedded milvus-lite (``vectorstore.milvus_corpus``,
imported only when chosen: it needs the ``milvus`` extra).
"""

from __future__ import annotations

from collections.abc import Callable

from govqa.errors import ConfigError
from govqa.models.embedders import Embedder
from govqa.settings import Settings
from vectorstore.base import Corpus
from vectorstore.faiss_corpus import CorpusIndex
from vectorstore.faiss_index import IndexSpec

CorpusOpener = Callable[[Settings, Embedder], Corpus]


def open_faiss(settings: Settings, embedder: Embedder) -> Corpus:
    return CorpusIndex.open(
        settings.index_dir,
        embedder,
        bm25_tokenizer=settings.bm25_tokenizer,
        index_spec=IndexSpec.from_settings(settings),
    )


def open_milvus(settings: Settings, embedder: Embedder) -> Corpus:
    from vectorstore.milvus_corpus import MilvusCorpus

    return MilvusCorpus.from_settings(embedder, settings)


CORPUS_BACKENDS: dict[str, CorpusOpener] = {"faiss": open_faiss, "milvus": open_milvus}


def open_corpus(settings: Settings, embedder: Embedder) -> Corpus:
    """The corpus ``settings.vector_backend`` names: the FAISS index folder, or a Milvus collection."""
    opener = CORPUS_BACKENDS.get(settings.vector_backend)
    if opener is None:
        raise ConfigError(
            f"GOVQA_VECTOR_BACKEND must be one of {', '.join(CORPUS_BACKENDS)}, got {settings.vector_backend!r}"
        )
    return opener(settings, embedder)
