"""Example questions mined from the reports: a figure the report states, for a year it reviews."""

from __future__ import annotations

from dataclasses import dataclass

from govqa.types import DocumentMeta
from rag.examples import example_questions, figure_question


@dataclass
class Record:
    doc_id: str
    meta: DocumentMeta


def test_the_first_stated_figure_becomes_a_question() -> None:
    meta = DocumentMeta(body="东丽区", title="2022年东丽区政府工作报告", years_reviewed=(2021,))
    text = "一、2021年工作回顾\n全年实现地区生产总值1,000亿元。全区一般公共预算收入完成85.6亿元，增长6%。"
    assert figure_question(meta, text) == "2021年东丽区一般公共预算收入是多少？"


def test_a_report_without_figures_asks_who_delivered_it() -> None:
    records = [Record("a", DocumentMeta(body="某县", title="2020年某县政府工作报告", years_reviewed=(2019,)))]
    assert example_questions(records, lambda _: "没有数字的报告。") == ["2020年某县政府工作报告是谁作的？"]


def test_one_per_body_first_newest_first() -> None:
    def meta(body: str, year: int) -> DocumentMeta:
        return DocumentMeta(body=body, title=f"{year + 1}年{body}政府工作报告", years_reviewed=(year,))

    records = [
        Record("1", meta("甲镇", 2019)),
        Record("2", meta("甲镇", 2023)),
        Record("3", meta("乙市", 2020)),
    ]
    text = {"1": "税收收入完成3亿元。", "2": "税收收入完成5亿元。", "3": "地区生产总值达到900亿元。"}
    assert example_questions(records, text.__getitem__, k=3) == [
        "2023年甲镇税收收入是多少？",
        "2020年乙市地区生产总值是多少？",
        "2019年甲镇税收收入是多少？",
    ]
