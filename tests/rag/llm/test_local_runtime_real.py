"""One real question through the local model (Qwen2.5 1.5B, llama.cpp) over the real sample index.

Marked ``llm``: ``make llm-test`` (run at the end of ``make test``) prepares the model and runs it; the main
pytest run deselects it (``-m "not llm"``), and it skips with the reason when the model is not prepared.
Models come from ``$GOVQA_TEST_MODELS_DIR`` (default var/models), the index from ``$GOVQA_TEST_DATA_DIR``
(default var/test-data, filled by ``make test-data``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from govqa.settings import Settings
from govqa.types import Answer
from rag.llm.local_model import PREPARE_COMMAND, check_gguf, gguf_path

pytestmark = [pytest.mark.llm, pytest.mark.model, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[3]
CJK = re.compile(r"[\u4e00-\u9fff]")


def _dir(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


def test_one_real_question_streams_a_cited_chinese_answer() -> None:
    models = _dir("GOVQA_TEST_MODELS_DIR", REPO / "var" / "models")
    data = _dir("GOVQA_TEST_DATA_DIR", REPO / "var" / "test-data")
    problem = check_gguf(gguf_path(models))
    if problem is not None:
        pytest.skip(f"local model not prepared ({problem}): run `make llm` or `{PREPARE_COMMAND}`")
    pytest.importorskip("llama_cpp", reason=f"llama-cpp-python is not installed: run `{PREPARE_COMMAND}`")
    from govqa.models.prepare import prepare_models
    from ui.service import GovQA, sample_reports

    prepare_models(models)
    settings = Settings(  # type: ignore[call-arg]
        data_dir=data, models_dir=models, answer_mode="local", _env_file=None
    )
    svc = GovQA(settings)
    try:
        report = svc.ingest(sample_reports())
        assert not report.failed, report.summary()
        deltas: list[str] = []
        answer: Answer | None = None
        for event in svc.ask_stream("2019年精武镇新引进了多少个重点项目？"):
            if event["type"] == "delta":
                deltas.append(event["text"])
            elif event["type"] == "answer":
                answer = event["answer"]
        assert answer is not None
        assert answer.mode == "local" and not answer.refused, answer
        assert answer.text.strip() and CJK.search(answer.text), answer.text
        assert "".join(deltas).strip(), "nothing was streamed"
        assert answer.citations, answer.text
        for c in answer.citations:  # each [n] in the text points at a real span of a real document
            assert f"[{c.n}]" in answer.text
            assert svc.index.document_text(c.doc_id)[c.start : c.end] == c.quote
        assert answer.timings_ms["llm_first_token"] > 0
    finally:
        svc.close()
