"""MilvusCorpus on embedded milvus-lite: the corpus contract, long texts, and the whole service on it.

Skipped unless the ``milvus`` extra (pymilvus, milvus-lite) is installed; the dev extra installs it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pymilvus", reason="the milvus extra is not installed: pip install -e '.[milvus]'")
pytest.importorskip("milvus_lite", reason="the milvus extra is not installed: pip install -e '.[milvus]'")

from govqa.errors import ConfigError, IndexMismatchError
from govqa.models.embedders import HashingEmbedder
from govqa.settings import Settings
from tests.vectorstore.corpus_contract import EMBEDDER, REPORT_A, CorpusContract, make_doc, store
from ui.service import GovQA, sample_reports
from vectorstore.milvus_corpus import TEXT_PART, MilvusCorpus

pytestmark = pytest.mark.slow  # each corpus starts a milvus-lite server process (~1 s)


def _open(path: Path, embedder: HashingEmbedder = EMBEDDER) -> MilvusCorpus:
    return MilvusCorpus.open(str(path / "milvus.db"), embedder, consistency_level="Strong")


class TestMilvusCorpus(CorpusContract):
    def open_corpus(self, path: Path, embedder: HashingEmbedder = EMBEDDER) -> MilvusCorpus:
        path.mkdir(parents=True, exist_ok=True)
        return _open(path, embedder)


def test_long_document_text_round_trips_in_parts(tmp_path: Path) -> None:
    """A report longer than one VARCHAR (65,535 bytes) is stored in parts; shrinking drops the extra parts."""
    long_text = "精武镇全年实现税收收入18亿元。" * (2 * TEXT_PART // 15 + 7)
    assert len(long_text.encode()) > 65_535
    with _open(tmp_path) as corpus:
        for text in (long_text, REPORT_A):
            doc, chunks = make_doc("a", text, "精武镇")
            chunks = chunks[:1]
            corpus.replace_document(doc, chunks, EMBEDDER.encode_passages([c.embed_text for c in chunks]))
            assert corpus.document_text("a") == text


def test_bm25_indexes_title_and_headings_too(tmp_path: Path) -> None:
    """Like the FAISS corpus, BM25 sees ``chunk.embed_text`` (title › headings + body), citations the body."""
    with _open(tmp_path) as corpus:
        a = store(corpus, "a", REPORT_A, "精武镇")
        (hit,) = corpus.bm25_search("政府工作报告 农村人居环境", 1)
        assert hit.chunk == a[1] and hit.chunk.text == a[1].text


def test_collection_without_bm25_is_refused(tmp_path: Path) -> None:
    from vectorstore.milvus_store import MilvusVectorStore

    with MilvusVectorStore(EMBEDDER, tmp_path / "milvus.db", bm25=False) as plain:
        plain.add_texts(["x"])
    with pytest.raises(IndexMismatchError, match="without BM25"):
        _open(tmp_path)


def _settings(data: Path, **extra: object) -> Settings:
    values = {"data_dir": data, "embedding_model": "fake", "rate_limit_per_minute": 0, **extra}
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_the_service_answers_the_same_on_milvus_as_on_faiss(tmp_path: Path) -> None:
    """GOVQA_VECTOR_BACKEND=milvus: ingest the sample reports and ask — same documents, same answers."""
    answers = {}
    for backend in ("faiss", "milvus"):
        svc = GovQA(_settings(tmp_path / backend, vector_backend=backend, milvus_consistency="Strong"))
        try:
            report = svc.ingest(sample_reports())
            assert not report.failed, report
            assert len(svc.documents()) == 5
            got = [svc.ask(q) for q in ("2019年精武镇税收收入是多少？", "2019年精武镇的GDP在火星上是多少？")]
            answers[backend] = [(a.text, a.refused, [c.quote for c in a.citations]) for a in got]
        finally:
            svc.close()
    assert type(svc.index).__name__ == "MilvusCorpus"
    assert answers["milvus"][0][1] is False and "18亿元" in answers["milvus"][0][0]
    assert answers["milvus"] == answers["faiss"]
    assert (tmp_path / "milvus" / "milvus" / "govqa.db").exists()
    assert not (tmp_path / "milvus" / "index").exists()  # nothing written to the FAISS folder


def test_bad_collection_name_is_a_config_error(tmp_path: Path) -> None:
    svc = GovQA(_settings(tmp_path, vector_backend="milvus", milvus_collection="drop;me"))
    with pytest.raises(ConfigError, match="GOVQA_MILVUS_COLLECTION"):
        _ = svc.index


_IN_A_PROCESS = """
import sys
from govqa.models.embedders import HashingEmbedder
from tests.vectorstore.corpus_contract import REPORT_A, store
from vectorstore.milvus_corpus import MilvusCorpus

with MilvusCorpus.open(sys.argv[1], HashingEmbedder(64)) as corpus:
    if sys.argv[2] == "write":
        store(corpus, "a", REPORT_A, "精武镇")
    print([d.doc_id for d in corpus.documents()], corpus.bm25_search("税收", 1)[0].chunk.doc_id)
"""


def test_a_new_process_reads_what_another_wrote(tmp_path: Path) -> None:
    """milvus-lite releases collections when its server stops: opening loads them again."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    db = str(tmp_path / "milvus.db")
    for step in ("write", "read"):
        done = subprocess.run(
            [sys.executable, "-c", _IN_A_PROCESS, db, step],
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip().splitlines()[-1] == "['a'] a"
        assert "Traceback" not in done.stderr  # no server tracebacks logged either
