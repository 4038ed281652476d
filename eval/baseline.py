"""The naive LangChain tutorial RAG, scored beside govqa by the same code.

TextLoader → RecursiveCharacterTextSplitter(500, 50) → FAISS (langchain-community, in memory) top-5 with
the same embedding weights; the answer is the top chunk; it never refuses. It exists only to be compared
against, so it lives in eval/ and needs the ``baseline`` extra (langchain-community).
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

log = logging.getLogger(__name__)


class TutorialRAG:
    def __init__(self, reports: Sequence[Path], embeddings: Embeddings, *, k: int = 5) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # langchain-community warns that it is being sunset
            from langchain_community.document_loaders import TextLoader
            from langchain_community.vectorstores import FAISS
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        t0 = time.perf_counter()
        docs = []
        for p in reports:
            docs.extend(TextLoader(str(p), encoding="utf-8").load())
        self.chunks = RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50).split_documents(docs)
        self.store = FAISS.from_documents(self.chunks, embeddings)
        self.k = k
        self.build_seconds = time.perf_counter() - t0
        log.info("baseline: %d chunks indexed in %.1f s", len(self.chunks), self.build_seconds)

    def answer(self, question: str) -> dict[str, Any]:
        t0 = time.perf_counter()
        hits = self.store.similarity_search_with_score(question, k=self.k)
        ms = (time.perf_counter() - t0) * 1000
        retrieved = [
            {
                "text": d.page_content,
                "source": Path(str(d.metadata.get("source", ""))).name,
                "heading": "",
                "score": float(s),
            }
            for d, s in hits
        ]
        top = retrieved[0] if retrieved else {"text": "", "source": "", "heading": ""}
        return {
            "answer": top["text"],
            "refused": False,
            "retrieved": retrieved,
            "citations": [{k: top[k] for k in ("text", "source", "heading")}] if retrieved else [],
            "latency_ms": {"retrieve": ms, "total": ms},
        }

    def run(self, items: Iterable[Any]) -> Iterator[dict[str, Any]]:
        for item in items:
            yield {"id": item.id, "question": item.question, **self.answer(item.question)}
