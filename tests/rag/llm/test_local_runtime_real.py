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
from typing import Any

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


PASSAGE = (
    "新引进了北京同仁堂、天津大拓医药等 115 个重点项目,投资总额达到 82.5 亿元,其中亿元以上投资项目 13 个。"
    "全年新增规模以上企业 18 家,区域产业竞争优势显著提升。"
)


def test_the_kept_instruction_state_restores_into_the_real_model_and_answers_as_a_cold_read() -> None:
    """The prefix state is saved and restored through llama.cpp's state API: after a prompt of another
    kind, an answer prompt restores it (read from the instruction on) and answers like a cold read."""
    models = _dir("GOVQA_TEST_MODELS_DIR", REPO / "var" / "models")
    problem = check_gguf(gguf_path(models))
    if problem is not None:
        pytest.skip(f"local model not prepared ({problem}): run `make llm` or `{PREPARE_COMMAND}`")
    pytest.importorskip("llama_cpp", reason=f"llama-cpp-python is not installed: run `{PREPARE_COMMAND}`")
    from langchain_core.messages import HumanMessage, SystemMessage

    from govqa.types import Chunk, DocumentMeta, Passage
    from rag.llm import local_runtime
    from rag.llm.local_runtime import LlamaChatModel, LlamaStateIO
    from rag.prompts import LOCAL_ANSWER_PROMPT, format_passages, render

    class CountingIO(LlamaStateIO):
        restores = 0

        def restore(self, llama: object, tokens: object, data: bytes) -> None:
            CountingIO.restores += 1
            super().restore(llama, tokens, data)  # type: ignore[arg-type]

    meta = DocumentMeta(body="精武镇", title="2019年精武镇政府工作报告")
    chunk = Chunk("c1", "d1", "2019.txt", PASSAGE, ("一、2019年工作回顾",), 0, len(PASSAGE), meta)
    messages = render(
        LOCAL_ANSWER_PROMPT,
        context=format_passages([Passage(chunk, 1.0)]),
        question="2019年精武镇新引进了多少个重点项目？",
    )
    common: dict[str, Any] = {
        "model_path": str(gguf_path(models)),
        "max_tokens": 24,
        "prime_system": LOCAL_ANSWER_PROMPT.system,
    }
    local_runtime.clear_cache()
    try:
        cold = LlamaChatModel(**common, prompt_cache=False).invoke(messages).text
        model = LlamaChatModel(**common, state_io=CountingIO())
        model.warm_up()
        llama = model.load()
        state = local_runtime._PREFIXES[id(llama)]
        assert 50 < state.shared < len(state.tokens) and len(state.data) > 0
        model.invoke([SystemMessage("Rewrite the question."), HumanMessage("那2020年呢？")])  # another kind
        restored = model.invoke(messages).text
        assert CountingIO.restores == 1
        assert "115" in cold and "115" in restored, (cold, restored)
    finally:
        local_runtime.clear_cache()
