"""The govqa command line, run in-process through ``main`` with the deterministic fake embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ui.cli import main


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("GOVQA_EMBEDDING_MODEL", "fake")
    monkeypatch.setenv("GOVQA_DATA_DIR", str(tmp_path / "data"))

    def _run(*args: str) -> tuple[int, str, str]:
        code = 0
        try:
            main(list(args))
        except SystemExit as e:
            code = int(e.code or 0)
        out = capsys.readouterr()
        return code, out.out, out.err

    return _run


@pytest.fixture
def ingested(run, sample_files):
    code, out, _ = run("ingest", *map(str, sample_files))
    assert code == 0, out
    return out


def test_ingest_prints_a_summary_and_is_incremental(run, ingested, sample_files) -> None:
    assert "5 files: 5 added" in ingested
    code, out, _ = run("ingest", *map(str, sample_files))
    assert code == 0 and "5 unchanged" in out and "(0 embedded)" in out


def test_docs_list_and_delete(run, ingested) -> None:
    code, out, _ = run("docs", "list")
    assert code == 0
    assert "2019年精武镇政府工作报告" in out and "2024年张家窝镇政府工作报告" in out
    code, out, _ = run("docs", "list", "--json")
    docs = json.loads(out)
    assert len(docs) == 5
    victim = next(d for d in docs if d["source"].startswith("003_"))
    code, out, _ = run("docs", "delete", victim["doc_id"])
    assert code == 0 and f"deleted {victim['doc_id']}" in out
    code, out, _ = run("docs", "list", "--json")
    assert victim["doc_id"] not in {d["doc_id"] for d in json.loads(out)}


def test_delete_unknown_id_is_a_clear_error(run, ingested) -> None:
    code, _, err = run("docs", "delete", "nope")
    assert code == 2
    assert "no document with id 'nope'" in err and "govqa docs list" in err


def test_ask_prints_answer_and_citation(run, ingested) -> None:
    code, out, _ = run("ask", "2019年精武镇税收收入是多少？")
    assert code == 0
    assert "18亿元" in out and "[1]" in out
    assert "2019年精武镇政府工作报告 › 一、2019年工作回顾" in out


def test_ask_json_is_the_structured_answer(run, ingested) -> None:
    code, out, _ = run("ask", "--json", "2023年精武镇税收收入是多少？")
    assert code == 0
    answer = json.loads(out)
    assert answer["refused"] is True
    assert answer["answer"].startswith("报告中没有找到")
    assert answer["related"], "a refusal lists the nearest passages"


def test_ask_with_filters(run, ingested) -> None:
    code, out, _ = run("ask", "--json", "--body", "张家窝镇", "税收收入是多少？")
    assert code == 0
    answer = json.loads(out)
    assert all(c["source"].startswith("004_") for c in answer["citations"])


def test_search_shows_scores(run, ingested) -> None:
    code, out, _ = run("search", "-k", "3", "2019年精武镇税收收入")
    assert code == 0
    assert "bodies=['精武镇'] years=[2019]" in out
    ranked = [line for line in out.splitlines() if line[:2] in ("1.", "2.", "3.", "4.")]
    assert [line[:2] for line in ranked] == ["1.", "2.", "3."]
    assert "2019年精武镇政府工作报告" in ranked[0]
    assert out.count("  bm25=") + out.count(" bm25=") >= 1 and "rerank=" in out


def test_bad_setting_is_reported_with_its_variable(run, monkeypatch) -> None:
    monkeypatch.setenv("GOVQA_TOP_K", "0")
    code, _, err = run("docs", "list")
    assert code == 2
    assert "GOVQA_TOP_K" in err and "top_k must be > 0, got 0" in err


def test_empty_question_is_refused_with_a_message(run, ingested) -> None:
    code, _, err = run("ask", "   ")
    assert code == 2 and "question is empty" in err


def test_ingest_of_only_bad_files_exits_1(run, tmp_path) -> None:
    bad = tmp_path / "x.exe"
    bad.write_bytes(b"MZ")
    code, out, err = run("ingest", str(bad))
    assert code == 1
    assert "unsupported file type '.exe'" in err and "1 failed" in out


def test_chat_carries_the_conversation(run, ingested, monkeypatch) -> None:
    lines = iter(["2019年精武镇税收收入是多少？", "那2024年呢？", ""])
    monkeypatch.setattr("builtins.input", lambda _prompt="": next(lines))
    code, out, _ = run("chat")
    assert code == 0
    assert "18亿元" in out
    assert "2024" in out.split("那2024年呢")[-1] if "那2024年呢" in out else "(2024" in out
    assert "10.8亿元" in out


def test_faiss_index_kind_is_a_setting(run, sample_files, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("GOVQA_FAISS_INDEX", "hnsw")
    code, out, _ = run("ingest", *map(str, sample_files[:2]))
    assert code == 0
    manifest = json.loads((tmp_path / "data" / "index" / "manifest.json").read_text(encoding="utf-8"))
    assert "hnsw" in json.dumps(manifest).lower()
    code, out, _ = run("ask", "2024年精武镇税收收入是多少？")  # 001 is among the two ingested
    assert code == 0 and "10.8亿元" in out
