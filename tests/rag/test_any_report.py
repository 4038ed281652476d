"""Reports of bodies no sample has (issue 11): ingested as a new user would, asked in Chinese and English.

The fixtures in tests/fixtures/anyreport are invented reports in other layouts: a city (滨江市) with
第一部分 / 1. / （1）headings and a table of targets, a county (青禾县) whose title block names no body (set
by its ``.meta.json`` sidecar), a township (河口镇) in markdown. The deterministic fake embedder is used,
so these answers come from the lexical side and the derived aliases, not from the model.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from govqa.settings import Settings
from ui.service import GovQA

FIXTURES = Path(__file__).parents[1] / "fixtures" / "anyreport"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> GovQA:
    root = tmp_path_factory.mktemp("anyreport")
    reports = root / "reports"
    shutil.copytree(FIXTURES, reports, ignore=shutil.ignore_patterns("questions.jsonl", "README.md"))
    svc = GovQA(Settings(data_dir=root / "data", embedding_model="fake", _env_file=None))  # type: ignore[call-arg]
    report = svc.ingest([reports])
    assert not report.failed, report.failed
    return svc


def _meta(svc: GovQA, source: str):  # type: ignore[no-untyped-def]
    return next(r.meta for r in svc.documents() if r.source == source)


def test_bodies_are_learned_from_the_documents(service: GovQA) -> None:
    city = _meta(service, "2023年滨江市政府工作报告.txt")
    assert (city.body, city.speaker, city.date) == ("滨江市", "周明远", "2023-01-12")
    assert (city.years_reviewed, city.years_planned) == ((2022,), (2023,))
    county = _meta(service, "青禾县政府工作报告.txt")  # no body in its title block: set by the sidecar
    assert (county.body, county.date, county.years_planned) == ("青禾县", "2024-02-20", (2024,))
    town = _meta(service, "河口镇政府工作报告.md")
    assert (town.body, town.speaker, town.years_reviewed) == ("河口镇", "林晓", (2023,))


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("2022年滨江市地区生产总值是多少？", "3260亿元"),
        ("滨江市2022年税收收入完成多少？", "163亿元"),
        ("2023年河口镇税收收入完成多少？", "2.6亿元"),
        ("青禾县2023年粮食产量是多少？", "52.3万吨"),
        ("2024年河口镇政府工作报告是谁作的？", "林晓"),
        ("How much tax revenue did Hekou Town collect in 2023?", "2.6亿元"),
        ("What was Binjiang City's GDP in 2022?", "3260亿元"),
        ("What was Qinghe County's grain output in 2023?", "52.3万吨"),
    ],
)
def test_answers_about_a_new_body(service: GovQA, question: str, expected: str) -> None:
    answer = service.ask(question)
    assert not answer.refused, answer.text
    assert expected in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "青禾县2021年地区生产总值是多少？",
        "东丽区2022年税收收入是多少？",
        "What was Dongli District's GDP in 2022?",
    ],
)
def test_refuses_a_year_or_body_with_no_report(service: GovQA, question: str) -> None:
    assert service.ask(question).refused
