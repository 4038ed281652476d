"""The composition root on the top floor: wires ingest, vectorstore and rag into one object that the CLI,
the HTTP API and the web UI share.

It owns the heavy things (embedder, corpus index, answering chain), builds each lazily and once, and
exposes the product's operations. It raises ``GovQAError``s; the edges convert them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govqa.answer_cache import AnswerCache
from govqa.errors import GovQAError, NotFoundError
from govqa.models.embedders import Embedder, build_embedder
from govqa.settings import Settings
from govqa.types import Answer, Chunk, DocumentRecord, Filters
from ingest.limits import MB, Limits
from ingest.loaders import LoadedFile, load_bytes
from ingest.pipeline import FileOutcome, Ingestor, IngestReport, ProgressFn
from vectorstore.backends import open_corpus
from vectorstore.base import Corpus

if TYPE_CHECKING:  # built lazily: importing rag pulls in the question analysis and LangChain
    from rag.chain import AnswerChain
    from rag.retrieval import HybridRetriever, Retrieval

log = logging.getLogger(__name__)
WARM_UP_QUESTION = (
    "政府工作报告提出的主要目标是什么？"  # any question of the genre: a search loads what questions need
)

SAMPLES_DIR = Path(__file__).resolve().parents[1] / "data" / "samples"


def sample_reports() -> list[Path]:
    """The five sample reports shipped with govqa (the folder's README.md is not a report)."""
    return sorted(SAMPLES_DIR.glob("*.txt"))


class GovQA:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.RLock()
        self._write_lock = threading.Lock()
        self._embedder: Embedder | None = None
        self._index: Corpus | None = None
        self._chain: AnswerChain | None = None
        self._retriever: HybridRetriever | None = None
        self._writes = (
            0  # this service's own writes: the answer cache's key where the index has no generation
        )
        self.answers = AnswerCache(settings.answer_cache_size, self._generation)

    # --- lazily built parts ------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = build_embedder(self.settings)
            return self._embedder

    @property
    def index(self) -> Corpus:
        with self._lock:
            if self._index is None:
                self._index = open_corpus(self.settings, self.embedder)
            return self._index

    @property
    def retriever(self) -> HybridRetriever:
        with self._lock:
            if self._retriever is None:
                from rag.rerank import build_reranker
                from rag.retrieval import HybridRetriever

                self._retriever = HybridRetriever(
                    self.index,
                    self.embedder,
                    candidates=self.settings.candidates,
                    top_k=self.settings.top_k,
                    reranker=build_reranker(self.settings.reranker),
                )
            return self._retriever

    @property
    def chain(self) -> AnswerChain:
        with self._lock:
            if self._chain is None:
                from functools import partial

                from govqa.models.tokens import count_tokens
                from rag.chain import AnswerChain
                from rag.llm.answerer import LLMAnswerer
                from rag.llm.client import build_chat_model
                from rag.prompts import ANSWER_PROMPT, LOCAL_ANSWER_PROMPT

                counter = partial(count_tokens, cache_dir=self.settings.tiktoken_cache_dir)
                chat_model = build_chat_model(self.settings)
                answerer = (
                    LLMAnswerer(
                        chat_model,
                        counter,
                        self.settings.context_max_tokens,
                        mode=self.settings.answer_mode,
                        api_key_env=self.settings.llm_api_key_env,
                        prompt=LOCAL_ANSWER_PROMPT if self.settings.answer_mode == "local" else ANSWER_PROMPT,
                    )
                    if chat_model is not None
                    else None
                )
                self._chain = AnswerChain(
                    self.retriever,
                    chat_model=chat_model,
                    answerer=answerer,
                    count_tokens=counter,
                    evidence_gate=self.settings.llm_evidence_gate,
                    examples=self._example_questions,
                )
            return self._chain

    def _example_questions(self) -> list[str]:
        from rag.examples import example_questions

        return example_questions(self.documents(), self.index.document_text)

    def warm_up(self) -> None:
        """Load what the first question would otherwise wait for (~1 s): the embedder, the index, and, by one
        search, the BM25 tokenizer's dictionary and the question analysis; the token counter; the local
        model with its instruction read."""
        from govqa.models.tokens import count_tokens

        self.embedder.warm_up()
        self.search(WARM_UP_QUESTION)
        count_tokens(WARM_UP_QUESTION, cache_dir=self.settings.tiktoken_cache_dir)
        warm_model = getattr(self.chain.chat_model, "warm_up", None)  # the local model: load, read the prefix
        if callable(warm_model):
            warm_model()

    # --- questions -----------------------------------------------------------------------------
    def _check_question(self, question: str) -> None:
        from govqa.errors import BadQuestionError

        if not question or not question.strip():
            raise BadQuestionError("the question is empty: ask something about the reports")
        if len(question) > self.settings.max_question_chars:
            raise BadQuestionError(
                f"the question is {len(question)} characters, over the limit of "
                f"{self.settings.max_question_chars}; shorten it"
            )

    def _generation(self) -> Hashable:
        generation = getattr(self.index, "generation", None)
        return (self._writes, generation() if callable(generation) else None)

    def _document_changed(self) -> None:
        self._writes += 1
        self.answers.clear()

    def ask(
        self, question: str, history: Sequence[tuple[str, str]] = (), filters: Filters | None = None
    ) -> Answer:
        self._check_question(question)
        from rag.chain import AskInput

        key = self.answers.key(question, history, filters) if self.answers.enabled else None
        if key is not None and (cached := self.answers.get(key)) is not None:
            return cached
        answer: Answer = self.chain.invoke(AskInput(question, tuple(history), filters))
        if key is not None:
            self.answers.put(key, answer)
        return answer

    def ask_stream(
        self, question: str, history: Sequence[tuple[str, str]] = (), filters: Filters | None = None
    ) -> Iterator[dict[str, Any]]:
        self._check_question(question)
        from rag.chain import AskInput

        key = self.answers.key(question, history, filters) if self.answers.enabled else None
        if key is not None and (cached := self.answers.get(key)) is not None:
            yield {"type": "delta", "text": cached.text}
            yield {"type": "answer", "answer": cached}
            return
        for event in self.chain.stream(AskInput(question, tuple(history), filters)):
            if key is not None and event.get("type") == "answer":
                self.answers.put(key, event["answer"])
            yield event

    def search(self, question: str, filters: Filters | None = None, k: int | None = None) -> Retrieval:
        """Ranked passages with their scores, for debugging retrieval."""
        self._check_question(question)
        return self.retriever.retrieve(self.retriever.analyze(question), filters, k=k)

    def backup(self, dest: Path) -> Path:
        """A consistent copy of the index's database in the folder ``dest``."""
        backup = getattr(self.index, "backup", None)
        if backup is None:
            raise GovQAError(
                f"the {self.settings.vector_backend} backend has no `govqa backup`: use its own backup tools"
            )
        try:
            with self._write_lock:
                return Path(backup(dest))
        except (FileExistsError, OSError) as e:
            raise GovQAError(f"cannot back up into {dest}: {e}") from None

    def close(self) -> None:
        self.answers.clear()
        with self._lock:
            if self._index is not None:
                self._index.close()
                self._index = None

    # --- documents -----------------------------------------------------------------------------
    def _ingestor(self, progress: ProgressFn | None) -> Ingestor:
        return Ingestor(
            self.index,
            self.embedder,
            max_tokens=self.settings.chunk_max_tokens,
            overlap_tokens=self.settings.chunk_overlap_tokens,
            max_file_bytes=int(self.settings.max_file_mb * 1024 * 1024),
            progress=progress,
            limits=self.limits,
            budget_s=self.settings.ingest_budget_s,
        )

    @property
    def limits(self) -> Limits:
        """The bounds on the work one file may cause (zip bombs, page counts), from the settings."""
        return Limits.from_settings(self.settings)

    def ingest(
        self,
        paths: Iterable[Path],
        *,
        force: bool = False,
        progress: ProgressFn | None = None,
        overrides: dict[str, Any] | None = None,
    ) -> IngestReport:
        with self._write_lock:
            try:
                return self._ingestor(progress).ingest_paths(paths, force=force, overrides=overrides)
            finally:
                self._document_changed()

    def ingest_loaded(self, loaded: LoadedFile) -> FileOutcome:
        with self._write_lock:
            try:
                return self._ingestor(None).ingest_loaded(loaded)
            finally:
                self._document_changed()

    def ingest_bytes(
        self, name: str, data: bytes, pages: Callable[[int, int], None] | None = None
    ) -> FileOutcome:
        """Read one uploaded file (within the limits; ``InputFileError`` if it cannot be) and ingest it.

        ``pages(done, total)`` is called per page of a PDF (OCR takes seconds a page)."""
        loaded = load_bytes(
            name, data, max_bytes=int(self.settings.max_file_mb * MB), limits=self.limits, progress=pages
        )
        return self.ingest_loaded(loaded)

    def ingest_samples_if_empty(self, progress: ProgressFn | None = None) -> IngestReport | None:
        if self.index.documents():
            return None
        return self.ingest(sample_reports(), progress=progress)

    def documents(self) -> list[DocumentRecord]:
        return self.index.documents()

    def document_view(self, doc_id: str) -> tuple[DocumentRecord, str, list[Chunk]]:
        """A document's record, cleaned text (what citations' offsets point into) and chunks."""
        record = self.index.get_document(doc_id)
        if record is None:
            raise NotFoundError(f"no document with id {doc_id!r}; `govqa docs list` shows the ids")
        return record, self.index.document_text(doc_id), self.index.chunks_of(doc_id)

    def delete_document(self, doc_id: str) -> DocumentRecord:
        with self._write_lock:
            record = self.index.get_document(doc_id)
            if record is None:
                raise NotFoundError(f"no document with id {doc_id!r}; `govqa docs list` shows the ids")
            try:
                self.index.delete_document(doc_id)
            finally:
                self._document_changed()
            return record
