"""The ingest pipeline over a real CorpusIndex with a counting fake embedder: incremental behaviour,
per-file failures, replace and delete in both indexes, and no pickle on disk."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from govqa.errors import ModelNotReadyError, NotFoundError
from govqa.models.embedders import HashingEmbedder
from ingest import pipeline
from ingest.pipeline import Ingestor
from vectorstore.faiss_corpus import CorpusIndex


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.embedded: list[str] = []

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return super().encode_passages(texts)


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[CorpusIndex, CountingEmbedder]:
    emb = CountingEmbedder()
    return CorpusIndex.open(tmp_path / "index", emb), emb


def _ingestor(index: CorpusIndex, emb: CountingEmbedder, progress: list | None = None) -> Ingestor:
    return Ingestor(
        index,
        emb,
        max_tokens=320,
        overlap_tokens=40,
        max_file_bytes=5_000_000,
        progress=(lambda *a: progress.append(a)) if progress is not None else None,
    )


def _copy(samples: list[Path], dest: Path, n: int) -> list[Path]:
    dest.mkdir(exist_ok=True)
    return [Path(shutil.copy(p, dest / p.name)) for p in samples[:n]]


def test_cold_then_warm_ingest_embeds_nothing_the_second_time(corpus, sample_files, tmp_path) -> None:
    index, emb = corpus
    files = _copy(sample_files, tmp_path / "in", 2)
    events: list = []
    first = _ingestor(index, emb, events).ingest_paths(files)
    assert first.count("added") == 2 and first.embedded == first.chunks > 20
    assert ("files", 2, 2) in events and any(e[0] == "embed" for e in events)
    embedded_once = len(emb.embedded)

    second = _ingestor(index, emb).ingest_paths(files)
    assert second.count("unchanged") == 2
    assert second.embedded == 0 and len(emb.embedded) == embedded_once
    assert "2 unchanged" in second.summary()


def test_changed_file_replaces_its_chunks_and_embeds_only_changed_text(
    corpus, sample_files, tmp_path
) -> None:
    index, emb = corpus
    (path,) = _copy(sample_files[3:4], tmp_path / "in", 1)  # 003: 2019年精武镇政府工作报告
    _ingestor(index, emb).ingest_paths([path])
    doc = index.find_by_source(path.name)
    assert doc is not None
    before = {c.chunk_id for c in index.chunks_of(doc.doc_id)}
    text = path.read_text(encoding="utf-8")
    assert "18 亿元" in text
    path.write_text(text.replace("18 亿元", "19 亿元"), encoding="utf-8")
    emb.embedded.clear()

    report = _ingestor(index, emb).ingest_paths([path])
    assert report.count("updated") == 1
    after = index.chunks_of(doc.doc_id)
    assert 0 < report.embedded < len(after)  # only the chunks whose text changed
    assert all("19亿元" in t for t in emb.embedded if "税收收入" in t)
    assert len(before - {c.chunk_id for c in after}) == report.embedded
    assert "19亿元" in index.document_text(doc.doc_id) and "18亿元" not in index.document_text(doc.doc_id)
    hits = index.bm25_search("税收收入19亿元", 3)
    assert hits and "19亿元" in hits[0].chunk.text


def test_bad_files_are_reported_and_the_rest_ingest(corpus, sample_files, tmp_path) -> None:
    index, emb = corpus
    good = _copy(sample_files, tmp_path / "in", 1)
    (tmp_path / "in" / "empty.txt").write_bytes(b"")
    (tmp_path / "in" / "blob.pdf").write_bytes(b"%PDF-1.4 garbage")
    (tmp_path / "in" / "notes.xlsx").write_bytes(b"PK\x03\x04")
    report = _ingestor(index, emb).ingest_paths(
        [
            *good,
            tmp_path / "in" / "empty.txt",
            tmp_path / "in" / "blob.pdf",
            tmp_path / "in" / "notes.xlsx",
            tmp_path / "missing.txt",
        ]
    )
    assert report.count("added") == 1
    reasons = {o.source: o.reason for o in report.failed}
    assert set(reasons) == {"empty.txt", "blob.pdf", "notes.xlsx", str(tmp_path / "missing.txt")}
    assert "empty" in reasons["empty.txt"]
    assert "unsupported file type '.xlsx'" in reasons["notes.xlsx"]
    assert [d.source for d in index.documents()] == [good[0].name]


def test_failed_update_keeps_the_stored_document(corpus, sample_files, tmp_path) -> None:
    index, emb = corpus
    (path,) = _copy(sample_files, tmp_path / "in", 1)
    _ingestor(index, emb).ingest_paths([path])
    doc = index.find_by_source(path.name)
    assert doc is not None
    chunks = index.chunks_of(doc.doc_id)
    path.write_bytes(b"\x00\x01binary now\x00" * 50)  # the same name, now unreadable
    report = _ingestor(index, emb).ingest_paths([path])
    assert report.count("failed") == 1 and "binary" in report.failed[0].reason
    assert [c.chunk_id for c in index.chunks_of(doc.doc_id)] == [c.chunk_id for c in chunks]


def test_delete_removes_a_document_from_both_indexes(corpus, sample_files) -> None:
    index, emb = corpus
    _ingestor(index, emb).ingest_paths(sample_files[:2])
    doc = index.documents()[0]
    ids = {c.chunk_id for c in index.chunks_of(doc.doc_id)}
    index.delete_document(doc.doc_id)
    assert doc.doc_id not in {d.doc_id for d in index.documents()}
    assert not ids & {p.chunk.chunk_id for p in index.bm25_search("税收收入", 100)}
    q = emb.encode_queries(["税收收入"])[0]
    assert not ids & {p.chunk.chunk_id for p in index.dense_search(q, 100)}
    with pytest.raises(NotFoundError, match="govqa docs list"):
        index.delete_document(doc.doc_id)


def test_reindex_embeds_everything_again(corpus, sample_files) -> None:
    index, emb = corpus
    first = _ingestor(index, emb).ingest_paths(sample_files[:1])
    again = _ingestor(index, emb).ingest_paths(sample_files[:1], force=True)
    assert again.count("updated") == 1 and again.embedded == first.embedded


def test_no_pickle_anywhere_in_the_data_folder(corpus, sample_files, tmp_path) -> None:
    index, emb = corpus
    _ingestor(index, emb).ingest_paths(sample_files)
    index.close()
    files = [p for p in (tmp_path / "index").rglob("*") if p.is_file()]
    assert files
    for p in files:
        head = p.read_bytes()[:2]
        assert not head.startswith(b"\x80"), f"{p} looks like a pickle"
        assert p.suffix not in (".pkl", ".pickle")


def test_the_same_file_twice_in_one_run_is_embedded_once(corpus, sample_files, tmp_path) -> None:
    index, emb = corpus
    (path,) = _copy(sample_files, tmp_path / "in", 1)
    report = _ingestor(index, emb).ingest_paths([path, path])
    assert [o.status for o in report.outcomes] == ["added", "unchanged"]
    assert len(emb.embedded) == report.outcomes[0].chunks


def test_outcomes_keep_the_file_order_around_failures(corpus, sample_files, tmp_path) -> None:
    index, emb = corpus
    good = _copy(sample_files, tmp_path / "in", 2)
    (tmp_path / "in" / "empty.txt").write_bytes(b"")
    report = _ingestor(index, emb).ingest_paths([good[0], tmp_path / "in" / "empty.txt", good[1]])
    assert [(o.source, o.status) for o in report.outcomes] == [
        (good[0].name, "added"),
        ("empty.txt", "failed"),
        (good[1].name, "added"),
    ]


class BrokenModel(CountingEmbedder):
    """Embeds the first file, then fails: model trouble, not a problem with one file."""

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        if self.embedded:
            raise ModelNotReadyError("the model folder went away")
        return super().encode_passages(texts)


def test_model_trouble_stops_the_run_and_keeps_what_was_stored(sample_files, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(pipeline, "EMBED_BATCH", 100_000)  # one embedding call per file
    files = _copy(sample_files, tmp_path / "in", 3)
    emb = BrokenModel()
    index = CorpusIndex.open(tmp_path / "index", emb)
    with pytest.raises(ModelNotReadyError, match="went away"):
        _ingestor(index, emb).ingest_paths(files)
    assert [d.source for d in index.documents()] == [files[0].name]  # the first file, whole
