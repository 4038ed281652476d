"""Questions that name a report select it; the year of the fact is whatever that report says."""

from __future__ import annotations

import pytest

from govqa.types import DocumentMeta
from rag.decompose import decompose
from rag.question import analyze_question
from rag.report_ref import report_year
from rag.scope import DocInfo, resolve_scope

KNOWN = ("东丽区", "国务院")
DL2021 = DocInfo(
    "a",
    "a.txt",
    DocumentMeta(
        "东丽区",
        "2021年东丽区政府工作报告",
        "2021-01-10",
        years_reviewed=(2016, 2017, 2018, 2019, 2020),
        years_planned=(2021,),
    ),
)
DL2022 = DocInfo(
    "b",
    "b.txt",
    DocumentMeta(
        "东丽区", "2022年东丽区政府工作报告", "2022-01-12", years_reviewed=(2021,), years_planned=(2022,)
    ),
)
CN2025 = DocInfo(
    "c",
    "c.txt",
    DocumentMeta(
        "国务院", "2025年国务院政府工作报告", "2025-03-05", years_reviewed=(2024,), years_planned=(2025,)
    ),
)
DOCS = [DL2021, DL2022, CN2025]


@pytest.mark.parametrize(
    ("question", "years", "report_years"),
    [
        ("2021年政府工作报告中，东丽区税收收入是多少？", (), (2021,)),
        ("根据东丽区2021年的报告，2019年税收收入是多少", (2019,), (2021,)),
        ("According to the 2025 Government Work Report, what was China's GDP in 2024?", (2024,), (2025,)),
        ("2021年东丽区税收收入是多少？", (2021,), ()),
        ("东丽区今后五年（2021年报告提出）新增就业的目标是多少？", (), (2021,)),
        ("东丽区2021年报告中提到的税收收入是多少？", (), (2021,)),
        ("2021年报告期内东丽区税收收入是多少？", (2021,), ()),  # 报告期: the period, not a report
    ],
)
def test_a_year_naming_a_report_is_not_the_fact_year(
    question: str, years: tuple[int, ...], report_years: tuple[int, ...]
) -> None:
    info = analyze_question(question, known_bodies=KNOWN)
    assert (info.years, info.report_years) == (years, report_years)


def test_the_named_report_is_the_scope() -> None:
    info = analyze_question("东丽区2021年政府工作报告中，2018年的税收收入是多少？", known_bodies=KNOWN)
    assert resolve_scope(info, DOCS).doc_ids == {"a"}
    info = analyze_question("2025年政府工作报告提出的2026年国内生产总值增长目标是多少？", known_bodies=KNOWN)
    assert resolve_scope(info, DOCS).empty  # the 2025 report plans 2025, not 2026


def test_no_report_of_that_year_reads_the_year_as_the_fact_year() -> None:
    info = analyze_question("2022年政府工作报告中东丽区税收收入是多少？", known_bodies=KNOWN)
    assert resolve_scope(info, [DL2021]).empty
    assert resolve_scope(info, DOCS).doc_ids == {"b"}


def test_report_year_is_the_title_year_else_the_delivery_year() -> None:
    assert report_year(DocumentMeta(title="2024年某镇政府工作报告", date="2024-01-18")) == 2024
    assert report_year(DocumentMeta(title="某镇政府工作报告", date="2019-12-28")) == 2019
    assert report_year(DocumentMeta()) == 0


def test_each_part_of_a_question_about_two_reports_names_one_report() -> None:
    info = analyze_question("东丽区2021年和2022年两份政府工作报告分别由谁作？", known_bodies=KNOWN)
    parts = decompose(info)
    assert [(p.years, p.report_years) for p in parts] == [((), (2021,)), ((), (2022,))]
    assert [resolve_scope(p, DOCS).doc_ids for p in parts] == [{"a"}, {"b"}]
