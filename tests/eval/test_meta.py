"""Meta-evaluation of the faithfulness judge on labelled answers built from golden items."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.faithfulness import Citations, FaithfulnessResult, OfflineJudge, split_claims
from eval.golden import GoldenItem, GoldenSource, load_golden, validate_golden
from eval.meta import (
    KINDS,
    PassageLookup,
    build_cases,
    change_number,
    report_passage_lookup,
    run_meta_eval,
    swap_place,
    swap_year,
)
from eval.metrics import squash

HERE = Path(__file__).parent
REPO = HERE.parents[1]
FIXTURE = HERE / "meta_fixture.jsonl"
GOLDEN = REPO / "eval" / "golden.jsonl"
# report titles as ingest derives them (data/samples/README.md lists the reports)
TITLES = {
    "000_09e983e223e49bd2.txt": "2021年精武镇政府工作报告",
    "001_2215fab11d81e0ce.txt": "2024年精武镇政府工作报告",
    "002_1e5a79295a0b2245.txt": "2021年西青区政府工作报告",
    "003_7659820794adfa4e.txt": "2019年精武镇政府工作报告",
    "004_53dbeab9c8777d1d.txt": "2024年张家窝镇政府工作报告",
}


@pytest.fixture(scope="module")
def items() -> list[GoldenItem]:
    return load_golden(FIXTURE)


@pytest.fixture(scope="module")
def lookup(samples_dir: Path) -> PassageLookup:
    return report_passage_lookup(samples_dir, TITLES)


def test_the_fixture_is_a_valid_golden_set(items: list[GoldenItem], samples_dir: Path) -> None:
    assert validate_golden(items, samples_dir) == []


# ---------------------------------------------------------------- perturbations


def test_change_number_prefers_answer_values_and_skips_years() -> None:
    assert change_number("2019年全镇税收收入18亿元,同比增长36.8%") == (
        "2019年全镇税收收入19亿元,同比增长36.8%",
        "18 → 19",
    )
    assert change_number("税收收入18亿元,同比增长36.8%", ["36.8%"]) == (
        "税收收入18亿元,同比增长38.6%",
        "36.8 → 38.6",
    )
    assert change_number("增长33.3%") == ("增长33.4%", "33.3 → 33.4")
    assert change_number("2019年") is None


def test_swap_year_and_place() -> None:
    assert swap_year("比2016年增长32%") == ("比2017年增长32%", "2016 → 2017")
    assert swap_year("增长32%") is None
    assert swap_place("西青区张家窝镇") == ("北辰区张家窝镇", "西青区 → 北辰区")
    assert swap_place("2019年精武镇政府工作报告") == ("2019年北辰镇政府工作报告", "精武镇 → 北辰镇")
    assert swap_place("北辰区大学城街道") == (
        "东丽区大学城街道",
        "北辰区 → 东丽区",
    )  # a stem it holds is skipped
    assert swap_place("2023年东丽区政府工作报告")[0] == "2023年北辰区政府工作报告"  # any corpus's places
    assert swap_place("全镇") is None


# ---------------------------------------------------------------- passages and cases


def test_lookup_finds_quotes_across_pdf_line_breaks(lookup: PassageLookup) -> None:
    ev = lookup(GoldenSource("001_2215fab11d81e0ce.txt", "一、2024年工作回顾", "全年预计完成税收10.8亿元"))
    assert ev is not None and "全年预计完成税收10.8亿元" in squash(ev.text)
    assert ev.title == "2024年精武镇政府工作报告" and ev.heading == "一、2024年工作回顾"
    assert 100 < len(ev.text) < 1000
    straddling = lookup(GoldenSource("000_09e983e223e49bd2.txt", "", "累计实现税收收入 73.3 亿元"))
    assert straddling is not None and "累计实\n\n现税收收入 73.3 亿元" in straddling.text
    assert lookup(GoldenSource("000_09e983e223e49bd2.txt", "", "不存在的引文")) is None
    assert lookup(GoldenSource("missing.txt", "", "x")) is None


def test_cases_cover_every_kind_with_labels(items: list[GoldenItem], lookup: PassageLookup) -> None:
    cases = build_cases(items, lookup)
    answerable = [i for i in items if i.type != "unanswerable"]
    assert {c.item_id for c in cases} == {i.id for i in answerable}  # the unanswerable item is skipped
    assert {c.kind for c in cases} == set(KINDS)
    assert all(c.faithful == (c.kind == "correct") for c in cases)
    correct = next(c for c in cases if c.item_id == "m01" and c.kind == "correct")
    assert (
        correct.answer == "2019年精武镇政府工作报告显示，2019年全镇预计实现税收收入18亿元,同比增长36.8%[1]。"
    )
    changed = next(c for c in cases if c.item_id == "m01" and c.kind == "number_changed")
    assert "19亿元" in changed.answer and changed.detail == "18 → 19"
    year = next(c for c in cases if c.item_id == "m02" and c.kind == "year_swapped")
    assert year.answer.startswith("2020年精武镇政府工作报告显示，认定国家级高新技术企业52家")
    multi = [c for c in cases if c.item_id == "m11"]
    assert all(len(c.citations) == 2 and "[2]" in c.answer for c in multi)
    for c in cases:
        if c.kind == "wrong_passage":
            quote = split_claims(c.answer)[-1].text
            assert squash(quote) not in squash(c.citations[0].text)


class AlwaysFaithful:
    def judge(
        self, answer_text: str, citations: Citations, refused: bool = False, question: str = ""
    ) -> FaithfulnessResult:
        return FaithfulnessResult((), refused=True)


def test_report_arithmetic_with_a_judge_that_passes_everything(
    items: list[GoldenItem], lookup: PassageLookup
) -> None:
    report = run_meta_eval(items, AlwaysFaithful(), lookup)
    correct = sum(o.case.faithful for o in report.outcomes)
    assert report.agreement == pytest.approx(correct / report.n)
    assert report.fabricated_pass_rate == 1.0 and report.correct_pass_rate == 1.0
    assert all(rate == 1.0 for _, rate in report.by_kind().values())
    assert len(report.disagreements()) == report.n - correct


def test_offline_judge_meets_the_target_on_the_fixture(
    items: list[GoldenItem], lookup: PassageLookup
) -> None:
    report = run_meta_eval(items, OfflineJudge(), lookup)
    assert report.n >= 70
    assert report.agreement >= 0.95, report.disagreements()
    assert report.fabricated_pass_rate <= 0.02
    assert report.correct_pass_rate == 1.0
    assert report.format().startswith(f"cases={report.n} agreement=")


@pytest.mark.slow
@pytest.mark.skipif(not GOLDEN.exists(), reason="eval/golden.jsonl is not there")
def test_offline_judge_meets_the_target_on_the_golden_set(samples_dir: Path) -> None:
    report = run_meta_eval(load_golden(GOLDEN), OfflineJudge(), report_passage_lookup(samples_dir, TITLES))
    assert report.agreement >= 0.95
    assert report.fabricated_pass_rate <= 0.02
