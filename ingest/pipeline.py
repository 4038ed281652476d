"""Files → documents → chunks → vectors → the corpus index, incrementally.

An unchanged file (same name, same bytes) embeds nothing; a changed file replaces its chunks, and only
chunks whose text changed are embedded again; a file that fails is reported and the rest go on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from govqa.errors import GovQAError, InputFileError
from govqa.models.embedders import Embedder
from ingest.chunking import split_document
from ingest.document import make_document
from ingest.limits import Deadline, Limits
from ingest.loaders import LoadedFile, expand_paths, load_file
from ingest.overrides import check_overrides, read_sidecar
from vectorstore.base import Corpus

log = logging.getLogger(__name__)

# progress(stage, done, total): stage is "files", "pages" (of one PDF, OCR included) or "embed"
ProgressFn = Callable[[str, int, int], None]
EMBED_BATCH = 32


@dataclass
class FileOutcome:
    source: str
    status: str  # "added", "updated", "unchanged", "failed"
    doc_id: str = ""
    chunks: int = 0
    embedded: int = 0
    reason: str = ""
    warnings: tuple[str, ...] = ()  # e.g. a page OCR could not read, while the rest was ingested
    ocr_note: str = ""  # which pages OCR read, by which engine (``DocumentMeta.ocr_note``)


@dataclass
class IngestReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def chunks(self) -> int:
        return sum(o.chunks for o in self.outcomes)

    @property
    def embedded(self) -> int:
        return sum(o.embedded for o in self.outcomes)

    def summary(self) -> str:
        return (
            f"{len(self.outcomes)} files: {self.count('added')} added, {self.count('updated')} updated, "
            f"{self.count('unchanged')} unchanged, {self.count('failed')} failed; "
            f"{self.chunks} chunks ({self.embedded} embedded) in {self.seconds:.1f} s"
        )


class Ingestor:
    """Adds files to a ``Corpus`` (FAISS folder or Milvus) with an ``Embedder``; chunking budget from the settings."""

    def __init__(
        self,
        index: Corpus,
        embedder: Embedder,
        *,
        max_tokens: int,
        overlap_tokens: int,
        max_file_bytes: int,
        progress: ProgressFn | None = None,
        limits: Limits | None = None,
        budget_s: float = 600.0,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.max_tokens = max_tokens
        self.overlap_tokens = overlap_tokens
        self.max_file_bytes = max_file_bytes
        self.progress = progress or (lambda stage, done, total: None)
        self.limits = limits or Limits()
        self.budget_s = budget_s

    def ingest_paths(
        self, paths: Iterable[Path], *, force: bool = False, overrides: dict[str, Any] | None = None
    ) -> IngestReport:
        """Ingest files and folders. ``overrides`` (``ingest.overrides``) set metadata for every file;
        a ``<file>.meta.json`` sidecar sets it for one (the sidecar wins)."""
        t0 = time.perf_counter()
        files, errors = expand_paths(list(paths))
        report = IngestReport(outcomes=[_failed(e) for e in errors])
        if overrides:
            check_overrides(overrides, "--body/--year")
        for i, path in enumerate(files):
            try:
                loaded = load_file(
                    path,
                    max_bytes=self.max_file_bytes,
                    limits=self.limits,
                    progress=lambda done, total: self.progress("pages", done, total),
                )
                meta = {**(overrides or {}), **read_sidecar(path)}
            except InputFileError as e:
                report.outcomes.append(_failed(e))
            else:
                report.outcomes.append(self.ingest_loaded(loaded, force=force, overrides=meta))
            self.progress("files", i + 1, len(files))
        report.seconds = time.perf_counter() - t0
        log.info("ingest: %s", report.summary())
        return report

    def ingest_loaded(
        self, loaded: LoadedFile, *, force: bool = False, overrides: dict[str, Any] | None = None
    ) -> FileOutcome:
        """Ingest one decoded file. Errors for this file become a failed outcome, never a crash."""
        try:
            return self._ingest(loaded, force=force, overrides=overrides or {})
        except GovQAError as e:
            if not isinstance(e, InputFileError):
                raise  # index or model trouble concerns every file: stop the run
            return _failed(e)

    def _ingest(self, loaded: LoadedFile, *, force: bool, overrides: dict[str, Any]) -> FileOutcome:
        deadline = Deadline(loaded.source, self.budget_s)
        existing = self.index.find_by_source(loaded.source)
        unchanged = existing is not None and existing.sha256 == loaded.sha256 and not force
        if unchanged and not overrides:
            assert existing is not None
            return FileOutcome(loaded.source, "unchanged", existing.doc_id, existing.chunk_count, 0)
        doc = make_document(
            loaded.source,
            loaded.text,
            loaded.sha256,
            overrides,
            ocr_engine=loaded.ocr_engine,
            ocr_pages=loaded.ocr_pages,
        )
        if unchanged and existing is not None and existing.meta == doc.meta:
            return FileOutcome(loaded.source, "unchanged", existing.doc_id, existing.chunk_count, 0)
        chunks = split_document(doc, max_tokens=self.max_tokens, overlap_tokens=self.overlap_tokens)
        if not chunks:
            raise InputFileError(loaded.source, "no text left to index after cleaning")
        known = {} if force else self.index.existing_vectors([c.chunk_id for c in chunks])
        todo = [i for i, c in enumerate(chunks) if c.chunk_id not in known]
        deadline.check()
        fresh = self._embed([chunks[i].embed_text for i in todo], deadline)
        dim = fresh.shape[1] if len(todo) else next(iter(known.values())).shape[0]
        vectors = np.empty((len(chunks), dim), dtype=np.float32)
        for row, i in enumerate(todo):
            vectors[i] = fresh[row]
        for i, c in enumerate(chunks):
            if c.chunk_id in known:
                vectors[i] = known[c.chunk_id]
        self.index.replace_document(doc, chunks, vectors)
        status = "updated" if existing is not None else "added"
        for w in loaded.warnings:
            log.warning("%s: %s", loaded.source, w)
        return FileOutcome(
            loaded.source,
            status,
            doc.doc_id,
            len(chunks),
            len(todo),
            warnings=loaded.warnings,
            ocr_note=doc.meta.ocr_note,
        )

    def _embed(self, texts: list[str], deadline: Deadline) -> np.ndarray:
        parts = []
        for start in range(0, len(texts), EMBED_BATCH):
            deadline.check()
            parts.append(self.embedder.encode_passages(texts[start : start + EMBED_BATCH]))
            self.progress("embed", min(start + EMBED_BATCH, len(texts)), len(texts))
        if not parts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.concatenate(parts, axis=0)


def _failed(e: InputFileError) -> FileOutcome:
    return FileOutcome(e.path, "failed", reason=e.reason)
