"""The evaluation report: ``report.md``, one self-contained ``report.html`` and ``summary.json``.

Both documents are rendered from one list of blocks (headings, paragraphs, tables, figures), so their
tables agree; figures (inline SVG from ``eval.plots``) appear only in the HTML. A question *fails* when
it is answerable and not correct, unanswerable and not refused, its gold sources are not all
retrieved within the first 5 passages, or its faithfulness is below 1. Failures come first in the
per-question table and are highlighted in the HTML. Text from the data (questions, answers, claims)
is escaped in both documents: HTML-escaped, and in markdown also ``|`` and line breaks.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from eval.golden import TYPES, GoldenItem
from eval.meta import MetaReport
from eval.metrics import (
    GroupStats,
    ItemScore,
    Metric,
    ResultRow,
    Summary,
    answer_values,
    format_summary,
    source_hit_rank,
)
from eval.outcome import EvalOutcome, SystemRun
from eval.plots import bar_chart, histogram

log = logging.getLogger(__name__)

METRICS = (
    ("hit@1", "hit_at_1"),
    ("hit@5", "hit_at_5"),
    ("MRR", "mrr"),
    ("correct", "correct"),
    ("refusal accuracy", "refusal_acc"),
    ("false refusals", "false_refusal"),
    ("citation recall", "cite_recall"),
    ("citation precision", "cite_precision"),
    ("faithfulness", "faithfulness"),
)
TYPE_PLOT_METRICS = ("hit_at_5", "correct", "refusal_acc", "faithfulness", "cite_recall")
LATENCY_KEY = "total"
ANSWER_CHARS = 120
CLAIM_CHARS = 200
MAX_DISAGREEMENTS = 30


# ---------------------------------------------------------------- document model


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    failed: frozenset[int] = frozenset()  # indexes of rows to highlight


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Para:
    text: str
    pre: bool = False  # preformatted (summary lines)


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Figure:
    svg: str  # already escaped SVG markup; HTML only


Block = Heading | Para | Bullets | Table | Figure


# ---------------------------------------------------------------- per question


@dataclass(frozen=True)
class QuestionResult:
    id: str
    type: str
    question: str
    answer: str
    refused: bool
    correct: bool | None
    hit_rank: int | None  # rank at which every gold source is hit; None when missed or no sources
    has_sources: bool
    faithfulness: float | None
    unsupported: tuple[str, ...]
    problems: tuple[str, ...]  # why the question fails; empty when it passes

    @property
    def failed(self) -> bool:
        return bool(self.problems)


def hit_rank(item: GoldenItem, row: ResultRow) -> int | None:
    """The rank by which every gold source of ``item`` is hit (as ``hit@k`` counts it), or None."""
    ranks = [source_hit_rank(s, row.retrieved, answer_values(item)) for s in item.sources]
    found = [r for r in ranks if r is not None]
    return max(found) if found and len(found) == len(ranks) else None


def problems_of(score: ItemScore) -> tuple[str, ...]:
    out = []
    if score.missing:
        out.append("no result row")
    if score.answerable and not score.correct:
        out.append("refused" if score.refused else "incorrect")
    if not score.answerable and not score.refused:
        out.append("not refused")
    if score.retrieval is not None and not score.retrieval.hit_at_5:
        out.append("retrieval miss@5")
    if score.faithfulness is not None and score.faithfulness < 1.0:
        out.append(f"faithfulness {score.faithfulness:.2f}")
    return tuple(out)


def question_results(run: SystemRun, items: Sequence[GoldenItem]) -> list[QuestionResult]:
    """One result per golden item of ``run``, failures first, each part in golden-set order."""
    rows = {str(r["id"]): ResultRow.from_dict(r) for r in run.rows}
    scores = {s.id: s for s in run.summary.items}
    out = []
    for item in items:
        row = rows.get(item.id) or ResultRow(id=item.id, question=item.question)
        score = scores.get(item.id)
        if score is None:
            log.warning("item %s is not in the %s summary; left out of the report", item.id, run.name)
            continue
        out.append(
            QuestionResult(
                id=item.id,
                type=item.type,
                question=item.question,
                answer=row.answer,
                refused=row.refused,
                correct=score.correct,
                hit_rank=hit_rank(item, row),
                has_sources=bool(item.sources),
                faithfulness=score.faithfulness,
                unsupported=tuple(run.unsupported.get(item.id, ())),
                problems=problems_of(score),
            )
        )
    return sorted(out, key=lambda q: not q.failed)


# ---------------------------------------------------------------- tables


def _yes(b: bool | None) -> str:
    return "—" if b is None else ("yes" if b else "no")


def _num(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}"


def _cut(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _metric(stats: GroupStats, attr: str) -> Metric:
    m: Metric = getattr(stats, attr)
    return m


def overall_table(runs: Sequence[SystemRun]) -> Table:
    headers = ("metric", *(h for r in runs for h in (r.name, f"n ({r.name})")))
    rows = [
        (label, *(c for r in runs for c in _cells(_metric(r.summary.overall, attr))))
        for label, attr in METRICS
    ]
    keys = sorted({k for r in runs for k in r.summary.latency})
    for key in keys:
        for p in ("p50", "p95"):
            cells: list[str] = []
            for r in runs:
                lat = r.summary.latency.get(key)
                cells += [f"{lat[p]:.0f}", f"{lat['n']:.0f}"] if lat else ["—", "0"]
            rows.append((f"latency {p} {key} (ms)", *cells))
    return Table(headers, tuple(rows))


def _cells(m: Metric) -> tuple[str, str]:
    return str(m), str(m.n)


def _types(summary: Summary) -> list[str]:
    return [t for t in TYPES if t in summary.by_type] + sorted(set(summary.by_type) - set(TYPES))


def type_table(summary: Summary) -> Table:
    rows = [
        (t, str(g.n), *(str(_metric(g, attr)) for _, attr in METRICS))
        for t in _types(summary)
        for g in [summary.by_type[t]]
    ]
    return Table(("type", "n", *(label for label, _ in METRICS)), tuple(rows))


def question_table(results: Sequence[QuestionResult]) -> Table:
    headers = (
        *("status", "id", "type", "question", "govqa answer"),
        *("refused", "correct", "hit rank", "faithfulness", "unsupported claims"),
    )
    rows = tuple(
        (
            "FAIL: " + "; ".join(q.problems) if q.failed else "ok",
            q.id,
            q.type,
            q.question,
            _cut(q.answer, ANSWER_CHARS),
            _yes(q.refused),
            _yes(q.correct),
            "—" if not q.has_sources else str(q.hit_rank) if q.hit_rank else "miss",
            _num(q.faithfulness),
            _cut(" | ".join(q.unsupported), CLAIM_CHARS),
        )
        for q in results
    )
    return Table(headers, rows, frozenset(i for i, q in enumerate(results) if q.failed))


def meta_blocks(meta: MetaReport | None) -> list[Block]:
    out: list[Block] = [Heading("Faithfulness judge (meta-evaluation)")]
    if meta is None:
        return [*out, Para("Not run.")]
    out.append(
        Bullets(
            (
                f"labelled answers: {meta.n}",
                f"agreement with the labels: {meta.agreement:.3f}",
                f"fabricated answers passed: {meta.fabricated_pass_rate:.3f} (lower is better)",
                f"correct answers passed: {meta.correct_pass_rate:.3f}",
            )
        )
    )
    kinds = tuple(
        (kind, "faithful" if kind == "correct" else "unfaithful", str(n), f"{rate:.2f}")
        for kind, (n, rate) in meta.by_kind().items()
    )
    out.append(Table(("kind", "label", "cases", "judged faithful"), kinds))
    wrong = meta.disagreements()
    if wrong:
        out.append(Para(f"Disagreements ({len(wrong)}, first {min(len(wrong), MAX_DISAGREEMENTS)}):"))
        rows = tuple(
            (
                o.case.item_id,
                o.case.kind,
                o.case.detail,
                f"{o.score:.2f}",
                _cut("; ".join(o.reasons), CLAIM_CHARS),
            )
            for o in wrong[:MAX_DISAGREEMENTS]
        )
        out.append(Table(("item", "kind", "change", "score", "reasons"), rows, frozenset(range(len(rows)))))
    return out


# ---------------------------------------------------------------- figures


def figure_overall(runs: Sequence[SystemRun]) -> Figure:
    series = {r.name: [_metric(r.summary.overall, attr).value for _, attr in METRICS] for r in runs}
    title = "Overall metrics (false refusals: lower is better)"
    return Figure(bar_chart("overall", title, [label for label, _ in METRICS], series, y_max=1.0))


def figure_by_type(summary: Summary) -> Figure:
    labels = dict((attr, label) for label, attr in METRICS)
    types = _types(summary)
    series = {labels[a]: [_metric(summary.by_type[t], a).value for t in types] for a in TYPE_PLOT_METRICS}
    return Figure(bar_chart("by-type", "govqa by question type", types, series, y_max=1.0))


def figure_latency(runs: Sequence[SystemRun]) -> Figure:
    samples = {
        r.name: [
            float(row["latency_ms"][LATENCY_KEY])
            for row in r.rows
            if LATENCY_KEY in row.get("latency_ms", {})
        ]
        for r in runs
    }
    return Figure(histogram("latency", f"Latency per question, {LATENCY_KEY}", samples))


# ---------------------------------------------------------------- documents


def build_blocks(outcome: EvalOutcome, results: Sequence[QuestionResult], generated: str) -> list[Block]:
    runs = [r for r in (outcome.govqa, outcome.baseline) if r is not None]
    lines = "\n".join(f"{r.name}: {format_summary(r.summary, LATENCY_KEY)}" for r in runs)
    n_failed = sum(q.failed for q in results)
    blocks: list[Block] = [
        Heading("govqa evaluation report", 1),
        Para(f"Generated {generated}; {len(results)} questions; evaluation took {outcome.seconds:.1f} s."),
        Para(lines, pre=True),
        Heading("Overall"),
        overall_table(runs),
        figure_overall(runs),
        figure_latency(runs),
        Heading("By question type"),
    ]
    for r in runs:
        blocks += [Heading(r.name, 3), type_table(r.summary)]
    blocks.append(figure_by_type(outcome.govqa.summary))
    blocks += meta_blocks(outcome.meta)
    blocks.append(Heading("Gate"))
    if outcome.gate_failures:
        blocks += [Para(f"FAILED ({len(outcome.gate_failures)}):"), Bullets(tuple(outcome.gate_failures))]
    else:
        blocks.append(Para("passed" if outcome.gate_checked else "not checked (run with --gate)"))
    blocks += [
        Heading("Questions"),
        Para(
            f"{n_failed} of {len(results)} fail (listed first); govqa answers cut to {ANSWER_CHARS} characters."
        ),
        question_table(results),
    ]
    return blocks


def _md_cell(text: str) -> str:
    return html.escape(" ".join(text.split()), quote=False).replace("|", "\\|")


def render_markdown(blocks: Sequence[Block]) -> str:
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            out.append("#" * b.level + " " + _md_cell(b.text))
        elif isinstance(b, Para):
            out.append(f"```\n{b.text}\n```" if b.pre else _md_cell(b.text))
        elif isinstance(b, Bullets):
            out.append("\n".join(f"- {_md_cell(i)}" for i in b.items))
        elif isinstance(b, Table):
            rows = [b.headers, tuple("---" for _ in b.headers), *b.rows]
            out.append("\n".join("| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows))
    return "\n\n".join(out) + "\n"


CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1400px}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f0f0f0}
tr.fail td{background:#fde4e4}
pre{background:#f6f6f6;padding:.6em;overflow-x:auto}
svg.chart{display:block;max-width:100%;height:auto;margin:1em 0;font:11px system-ui,sans-serif}
svg .grid{stroke:#e3e3e3}
svg .tick{text-anchor:end;fill:#666}
svg .label{text-anchor:middle}
svg .chart-title{font-weight:bold;font-size:13px}
"""


def render_html(blocks: Sequence[Block], title: str) -> str:
    e = html.escape
    out = [f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>']
    out.append(f"<style>{CSS}</style></head><body>")
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f"<h{b.level}>{e(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            out.append(f"<pre>{e(b.text)}</pre>" if b.pre else f"<p>{e(b.text)}</p>")
        elif isinstance(b, Bullets):
            out.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Figure):
            out.append(b.svg)
        else:
            head = "".join(f"<th>{e(h)}</th>" for h in b.headers)
            body = "\n".join(
                ('<tr class="fail">' if i in b.failed else "<tr>")
                + "".join(f"<td>{e(c)}</td>" for c in row)
                + "</tr>"
                for i, row in enumerate(b.rows)
            )
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def summary_json(outcome: EvalOutcome, results: Sequence[QuestionResult], generated: str) -> dict[str, Any]:
    meta = outcome.meta
    return {
        "generated": generated,
        "seconds": outcome.seconds,
        "govqa": outcome.govqa.summary.to_dict(),
        "baseline": outcome.baseline.summary.to_dict() if outcome.baseline else None,
        "meta": None
        if meta is None
        else {
            "cases": meta.n,
            "agreement": meta.agreement,
            "fabricated_pass_rate": meta.fabricated_pass_rate,
            "correct_pass_rate": meta.correct_pass_rate,
            "by_kind": {k: {"cases": n, "judged_faithful": rate} for k, (n, rate) in meta.by_kind().items()},
        },
        "gate": {
            "checked": outcome.gate_checked,
            "passed": outcome.passed if outcome.gate_checked else None,
            "failures": list(outcome.gate_failures),
        },
        "failed_questions": {q.id: list(q.problems) for q in results if q.failed},
    }


def write_report(outcome: EvalOutcome, items: Sequence[GoldenItem], report_dir: Path) -> dict[str, Path]:
    """Write ``report.md``, ``report.html`` and ``summary.json`` into ``report_dir``; return their paths."""
    generated = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    results = question_results(outcome.govqa, items)
    blocks = build_blocks(outcome, results, generated)
    report_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "markdown": report_dir / "report.md",
        "html": report_dir / "report.html",
        "json": report_dir / "summary.json",
    }
    paths["markdown"].write_text(render_markdown(blocks), encoding="utf-8")
    paths["html"].write_text(render_html(blocks, f"govqa evaluation report {generated}"), encoding="utf-8")
    data = summary_json(outcome, results, generated)
    paths["json"].write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    log.info(
        "wrote the evaluation report to %s (%d failing questions)", report_dir, len(data["failed_questions"])
    )
    return paths
