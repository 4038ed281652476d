"""The evaluation report: markdown, self-contained HTML with inline SVG, and summary.json."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from eval.faithfulness import Evidence, OfflineJudge
from eval.golden import GoldenItem, GoldenSource
from eval.meta import MetaReport, run_meta_eval
from eval.metrics import summarize
from eval.outcome import EvalOutcome, SystemRun
from eval.plots import bar_chart, histogram
from eval.report import TYPE_PLOT_METRICS, write_report

F19 = "003_7659820794adfa4e.txt"
F24 = "001_2215fab11d81e0ce.txt"
TAX19 = "2019年全镇预计实现税收收入18亿元,同比增长36.8%"
TAX24 = "全年预计完成税收10.8亿元"
SCRIPT = "<script>alert('x')</script>精武镇2024年税收多少？"


def item(
    id_: str, type_: str, question: str, *, values: tuple[str, ...] = (), quotes: tuple[str, ...] = ()
) -> GoldenItem:
    files = {TAX19: F19, TAX24: F24}
    return GoldenItem(
        id=id_,
        lang="en" if type_ == "crosslingual" else "zh",
        type=type_,
        question=question,
        answer="" if type_ == "unanswerable" else "，".join(values),
        must_include=values,
        sources=tuple(GoldenSource(files[q], "一、工作回顾", q) for q in quotes),
    )


# golden order puts passes first, so "failures first" is a real reordering
ITEMS = [
    item("g1", "fact", "2019年精武镇税收收入多少？", values=("18亿元",), quotes=(TAX19,)),
    item("g2", "disambiguation", SCRIPT, values=("10.8亿元",), quotes=(TAX24,)),
    item("g3", "unanswerable", "大寺镇2019年税收多少？"),
    item("g4", "unanswerable", "精武镇2023年常住人口多少？"),
    item(
        "g5",
        "multi_hop",
        "2019年和2024年精武镇税收分别多少？",
        values=("18亿元", "10.8亿元"),
        quotes=(TAX19, TAX24),
    ),
    item("g6", "crosslingual", "Jingwu tax revenue in 2019?", values=("18亿元",), quotes=(TAX19,)),
]
FAILING = ["g2", "g4", "g5"]
PASSING = ["g1", "g3", "g6"]


def row(
    id_: str, answer: str, *, refused: bool = False, passages: tuple[str, ...] = (), ms: float = 100.0
) -> dict[str, Any]:
    files = {TAX19: F19, TAX24: F24}
    retrieved = [{"text": p, "source": files.get(p, F19), "heading": "", "score": 1.0} for p in passages]
    return {
        "id": id_,
        "question": next(i.question for i in ITEMS if i.id == id_),
        "answer": answer,
        "refused": refused,
        "retrieved": retrieved,
        "citations": [{k: r[k] for k in ("text", "source", "heading")} for r in retrieved[:1]],
        "latency_ms": {"retrieve": ms / 2, "total": ms},
    }


NOISE = "全镇深入推进乡村振兴战略。"
GOVQA_ROWS = [
    row("g1", "税收收入18亿元[1]。", passages=(TAX19,), ms=120),
    row("g2", "税收收入18亿元[1]。", passages=(NOISE,) * 5 + (TAX24,), ms=480),  # wrong; gold at rank 6
    row("g3", "报告中没有相关信息。", refused=True, ms=90),
    row("g4", "常住人口12万人<b>[1]</b>。", passages=(NOISE,), ms=300),  # should have refused
    row("g5", "分别为18亿元和10.8亿元[1][2]。", passages=(TAX19, TAX24), ms=950),
    row("g6", "18亿元 (1.8 billion yuan) [1].", passages=(NOISE, TAX19), ms=210),
]
GOVQA_FAITH = {"g1": 1.0, "g2": 1.0, "g4": 1.0, "g5": 0.5, "g6": 1.0}
BASELINE_ROWS = [
    row(r["id"], r["retrieved"][0]["text"] if r["retrieved"] else "", passages=(NOISE,), ms=40)
    for r in GOVQA_ROWS
]


def lookup(source: GoldenSource) -> Evidence:
    year = "2019" if source.file == F19 else "2024"
    text = f"{year}年，{NOISE}{source.quote}。全年完成各项工作任务。"
    return Evidence(text, source=source.file, heading=source.heading, title=f"{year}年精武镇政府工作报告")


@pytest.fixture(scope="module")
def meta() -> MetaReport:
    return run_meta_eval(ITEMS, OfflineJudge(), lookup)


def outcome(
    *, baseline: bool = True, meta: MetaReport | None = None, gate: list[str] | None = None
) -> EvalOutcome:
    govqa = SystemRun(
        "govqa",
        GOVQA_ROWS,
        GOVQA_FAITH,
        summarize(ITEMS, GOVQA_ROWS, GOVQA_FAITH),
        {"g5": ["10.8亿元 (not in the cited passage)"]},
    )
    base = SystemRun("baseline", BASELINE_ROWS, {}, summarize(ITEMS, BASELINE_ROWS)) if baseline else None
    return EvalOutcome(govqa, base, meta, gate or [], seconds=1.5, gate_checked=gate is not None)


def svg(page: str, name: str) -> str:
    m = re.search(rf'<svg[^>]*data-chart="{name}".*?</svg>', page, re.S)
    assert m, f"no chart {name}"
    return m.group(0)


def question_ids(text: str) -> list[str]:
    """The ids of the per-question table (markdown or HTML), top to bottom."""
    section = text[text.index("Questions") :]
    return re.findall(r"(?:\| |<td>)(g\d)(?: \||</td>)", section)


# ---------------------------------------------------------------- the three files


def test_writes_the_three_files(tmp_path: Path, meta: MetaReport) -> None:
    paths = write_report(outcome(meta=meta), ITEMS, tmp_path / "report")
    assert {p.name for p in paths.values()} == {"report.md", "report.html", "summary.json"}
    assert all(p.is_file() and p.parent == tmp_path / "report" for p in paths.values())


def test_failures_come_first_in_both_tables(tmp_path: Path, meta: MetaReport) -> None:
    paths = write_report(outcome(meta=meta), ITEMS, tmp_path)
    md = paths["markdown"].read_text(encoding="utf-8")
    page = paths["html"].read_text(encoding="utf-8")
    assert question_ids(md) == question_ids(page) == FAILING + PASSING
    rows = re.findall(r"<tr( class=\"fail\")?><td>([^<]*)</td><td>(g\d)</td>", page)
    assert [(bool(cls), id_) for cls, _, id_ in rows] == [(True, i) for i in FAILING] + [
        (False, i) for i in PASSING
    ]
    assert "FAIL: incorrect; retrieval miss@5" in md  # g2: wrong number, gold passage at rank 6
    assert "FAIL: not refused" in md  # g4
    assert "FAIL: faithfulness 0.50" in md  # g5
    assert "10.8亿元 (not in the cited passage)" in md


def test_markdown_tables_and_sections(tmp_path: Path, meta: MetaReport) -> None:
    md = write_report(
        outcome(meta=meta, gate=["hit_at_5=0.600 is below the threshold 0.900"]), ITEMS, tmp_path
    )["markdown"].read_text(encoding="utf-8")
    assert md.startswith("# govqa evaluation report")
    assert "govqa: n=6 hit@1=" in md and "baseline: n=6 hit@1=" in md
    assert "| metric | govqa | n (govqa) | baseline | n (baseline) |" in md
    assert "| latency p95 total (ms) |" in md
    for t in ("fact", "disambiguation", "multi_hop", "crosslingual", "unanswerable"):
        assert f"| {t} |" in md
    assert f"agreement with the labels: {meta.agreement:.3f}" in md
    assert "| number_changed | unfaithful |" in md
    assert "hit_at_5=0.600 is below the threshold 0.900" in md
    assert "&lt;script&gt;" in md and "<script>" not in md
    assert "&lt;b&gt;" in md  # an answer's markup is data too


def test_html_is_self_contained_escaped_and_has_the_charts(tmp_path: Path, meta: MetaReport) -> None:
    run = outcome(meta=meta)
    page = write_report(run, ITEMS, tmp_path)["html"].read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page and "src=" not in page and "<link" not in page
    assert "<script" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert page.count("<svg") == 3 and page.count("</table>") == 5 + bool(meta.disagreements())

    by_type = run.govqa.summary.by_type
    present = sum(getattr(g, attr).value is not None for g in by_type.values() for attr in TYPE_PLOT_METRICS)
    assert svg(page, "by-type").count('class="bar"') == present
    overall = svg(page, "overall")
    assert overall.count('class="bar" data-series="govqa"') == 9  # every overall metric applies here
    assert overall.count('class="bar" data-series="baseline"') == 8  # its faithfulness was not judged: no bar

    latency = svg(page, "latency")
    for name in ("govqa", "baseline"):
        counts = re.findall(rf'class="bar" data-series="{name}" data-value="([\d.]+)"', latency)
        assert sum(float(c) for c in counts) == len(ITEMS)


def test_summary_json_holds_the_numbers(tmp_path: Path, meta: MetaReport) -> None:
    run = outcome(meta=meta, gate=["correct=0.500 is below the threshold 0.800"])
    data = json.loads(write_report(run, ITEMS, tmp_path)["json"].read_text(encoding="utf-8"))
    assert data["govqa"] == json.loads(json.dumps(run.govqa.summary.to_dict()))
    assert data["govqa"]["overall"]["correct"] == {"value": 0.75, "n": 4}  # g1 g5 g6 right, g2 wrong
    assert data["baseline"]["overall"]["n"] == 6
    assert data["meta"]["agreement"] == pytest.approx(meta.agreement)
    assert data["meta"]["cases"] == meta.n > 0
    assert set(data["meta"]["by_kind"]) == set(meta.by_kind())
    assert data["gate"] == {
        "checked": True,
        "passed": False,
        "failures": ["correct=0.500 is below the threshold 0.800"],
    }
    assert list(data["failed_questions"]) == FAILING


def test_without_baseline_and_meta(tmp_path: Path) -> None:
    paths = write_report(outcome(baseline=False, meta=None), ITEMS, tmp_path)
    md = paths["markdown"].read_text(encoding="utf-8")
    page = paths["html"].read_text(encoding="utf-8")
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert "baseline" not in md and "| metric | govqa | n (govqa) |" in md
    assert "Faithfulness judge (meta-evaluation)\n\nNot run." in md
    assert "not checked (run with --gate)" in md
    assert 'data-series="baseline"' not in page
    assert svg(page, "overall").count('class="bar"') == 9
    assert (
        data["baseline"] is None
        and data["meta"] is None
        and data["gate"] == {"checked": False, "passed": None, "failures": []}
    )


# ---------------------------------------------------------------- the SVG helpers


def test_bar_chart_skips_missing_values_and_escapes_labels() -> None:
    out = bar_chart("c", "a <b> chart", ["x&y", "z"], {"s1": [0.5, None], "s2": [0.0, 1.0]}, y_max=1.0)
    assert out.count('class="bar"') == 3
    assert "a &lt;b&gt; chart" in out and "x&amp;y" in out and "<b>" not in out
    with pytest.raises(ValueError, match="one per group"):
        bar_chart("c", "t", ["a", "b"], {"s": [1.0]})


def test_histogram_counts_every_sample_once() -> None:
    out = histogram("h", "latency", {"a": [0.0, 99.0, 100.0, 250.0, 1000.0], "b": [5.0, 5.0]})
    for name, n in (("a", 5), ("b", 2)):
        counts = re.findall(rf'data-series="{name}" data-value="([\d.]+)"', out)
        assert sum(float(c) for c in counts) == n
    same = histogram("h", "latency", {"a": [7.0, 7.0, 7.0]})
    assert re.findall(r'data-value="([\d.]+)"', same) == ["3"]
    assert "no data" in histogram("h", "latency", {"a": []})
