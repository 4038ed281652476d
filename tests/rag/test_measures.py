"""Rival measures of one thing: a question about exports is not answered with production (the fixture
report in tests/fixtures/measures, an invented county, asked with the deterministic fake embedder)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from govqa.settings import Settings
from ui.service import GovQA

FIXTURES = Path(__file__).parents[1] / "fixtures" / "measures"
QUESTIONS = [json.loads(line) for line in (FIXTURES / "questions.jsonl").read_text("utf-8").splitlines()]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> GovQA:
    root = tmp_path_factory.mktemp("measures")
    reports = root / "reports"
    shutil.copytree(FIXTURES, reports, ignore=shutil.ignore_patterns("questions.jsonl", "README.md"))
    svc = GovQA(Settings(data_dir=root / "data", embedding_model="fake", _env_file=None))  # type: ignore[call-arg]
    report = svc.ingest([reports])
    assert not report.failed, report.failed
    return svc


@pytest.mark.parametrize("item", [q for q in QUESTIONS if q["type"] == "unanswerable"], ids=lambda q: q["id"])
def test_a_rival_measure_is_no_answer(service: GovQA, item: dict[str, str]) -> None:
    answer = service.ask(item["question"])
    assert answer.refused, answer.text


@pytest.mark.parametrize("item", [q for q in QUESTIONS if q["type"] != "unanswerable"], ids=lambda q: q["id"])
def test_the_asked_measure_is_answered(service: GovQA, item: dict[str, list[str]]) -> None:
    answer = service.ask(str(item["question"]))
    assert not answer.refused, answer.text
    assert all(s in answer.text for s in item["must_include"]), answer.text


def test_the_english_lead_states_the_asked_measure_not_the_one_around_it(service: GovQA) -> None:
    answer = service.ask("What were Songling County's exports in 2023?")  # not 进出口's 23.5亿元
    assert answer.text.startswith("Songling County's exports in 2023: 1.82 billion yuan (18.2亿元)"), (
        answer.text
    )
