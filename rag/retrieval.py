"""Hybrid retrieval: dense (FAISS) + Chinese BM25, fused, then re-scored, inside the question's scope.

``HybridRetriever.retrieve`` is the core used by the answer chain; ``as_langchain()`` wraps it as a
LangChain ``BaseRetriever`` so it composes with any LangChain chain.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from govqa.models.embedders import Embedder
from govqa.types import Filters, Passage
from rag.fusion import minmax, rrf
from rag.question import QuestionInfo, analyze_question
from rag.rerank import FeatureReranker, Reranker
from rag.scope import DocInfo, Scope, other_places, resolve_scope
from vectorstore.base import Corpus

log = logging.getLogger(__name__)


@dataclass
class Retrieval:
    info: QuestionInfo
    scope: Scope
    passages: list[Passage]  # ranked, inside the scope
    related: list[Passage] = field(default_factory=list)  # best passages ignoring the scope (for refusals)
    timings_ms: dict[str, float] = field(default_factory=dict)


class HybridRetriever:
    def __init__(
        self,
        index: Corpus,
        embedder: Embedder,
        *,
        candidates: int = 30,
        top_k: int = 5,
        reranker: Reranker | None = None,
        weights: dict[str, float] | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.candidates = candidates
        self.top_k = top_k
        self.reranker = reranker or FeatureReranker()
        self.weights = weights or {"dense": 1.0, "bm25": 1.0}
        self._corpus_text: str | None = None
        self._corpus_key: tuple[str, ...] = ()

    # --- corpus facts used by question analysis ----------------------------------------------
    def docs(self) -> list[DocInfo]:
        return [DocInfo(r.doc_id, r.source, r.meta) for r in self.index.documents()]

    def known_bodies(self) -> list[str]:
        return sorted({d.meta.body for d in self.docs() if d.meta.body})

    def corpus_has(self, term: str) -> bool:
        docs = self.index.documents()
        key = tuple(sorted(f"{r.doc_id}:{r.sha256}" for r in docs))
        if key != self._corpus_key:
            self._corpus_text = "\n".join(self.index.document_text(r.doc_id) for r in docs)
            self._corpus_key = key
        return term in (self._corpus_text or "")

    def analyze(self, question: str) -> QuestionInfo:
        return analyze_question(question, known_bodies=self.known_bodies())

    def scope_for(self, info: QuestionInfo, filters: Filters | None = None) -> Scope:
        places = other_places(info.text, self.known_bodies()) if not (filters and filters.body) else []
        return resolve_scope(info, self.docs(), filters, places=places, corpus_has=self.corpus_has)

    # --- retrieval ---------------------------------------------------------------------------
    def retrieve(
        self, info: QuestionInfo, filters: Filters | None = None, *, k: int | None = None
    ) -> Retrieval:
        k = k or self.top_k
        t0 = time.perf_counter()
        scope = self.scope_for(info, filters)
        qvec = self.embedder.encode_queries([info.search_text])[0]
        t1 = time.perf_counter()
        timings = {"embed_query": (t1 - t0) * 1000}
        if scope.empty:
            related = self._search(info, qvec, None, k)
            timings["search"] = (time.perf_counter() - t1) * 1000
            return Retrieval(info, scope, [], related, timings)
        passages = self._search(info, qvec, scope, k)
        timings["search"] = (time.perf_counter() - t1) * 1000
        return Retrieval(info, scope, passages, [], timings)

    def _search(self, info: QuestionInfo, qvec: np.ndarray, scope: Scope | None, k: int) -> list[Passage]:
        allow = scope.allow() if scope is not None else None
        dense = self.index.dense_search(qvec, self.candidates, allow=allow)
        sparse = self.index.bm25_search(info.search_text, self.candidates, allow=allow)
        by_id: dict[str, Passage] = {}
        for p in dense:
            by_id[p.chunk.chunk_id] = p
        for p in sparse:
            if p.chunk.chunk_id in by_id:
                q = by_id[p.chunk.chunk_id]
                by_id[p.chunk.chunk_id] = replace(q, scores={**q.scores, **p.scores})
            else:
                by_id[p.chunk.chunk_id] = p
        fused = rrf(
            {"dense": [p.chunk.chunk_id for p in dense], "bm25": [p.chunk.chunk_id for p in sparse]},
            weights=self.weights,
        )
        fused_norm = minmax(fused)
        # a candidate found by BM25 alone still gets its dense similarity, from the stored vector
        missing = [cid for cid, p in by_id.items() if "dense" not in p.scores]
        if missing:
            vecs = self.index.existing_vectors(missing)
            for cid in missing:
                if cid in vecs:
                    p = by_id[cid]
                    by_id[cid] = replace(p, scores={**p.scores, "dense": float(vecs[cid] @ qvec)})
        candidates = [
            replace(
                p, score=fused[cid], scores={**p.scores, "fused": fused[cid], "fused_norm": fused_norm[cid]}
            )
            for cid, p in by_id.items()
        ]
        return self.reranker.rerank(info, candidates)[:k]

    def as_langchain(self, filters: Filters | None = None) -> BaseRetriever:
        return LangChainHybridRetriever(core=self, filters=filters)


class LangChainHybridRetriever(BaseRetriever):
    """``HybridRetriever`` as a LangChain retriever: a query string in, Documents with scores out."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    core: Any
    filters: Any = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[LCDocument]:
        result = self.core.retrieve(self.core.analyze(query), self.filters)
        return [
            LCDocument(page_content=p.chunk.text, id=p.chunk.chunk_id, metadata={**p.to_dict(), "text": None})
            for p in result.passages
        ]
