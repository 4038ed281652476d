"""Run the evaluation: answer every question with govqa (and the tutorial baseline), write the results
file, score both with the same code, meta-evaluate the faithfulness judge, write the report, check the gate.

The results file (one JSON object per line) is a public interface, documented in eval/README.md:
``{"id","question","answer","refused","retrieved":[{"text","source","heading","score"}],
"citations":[{"text","source","heading"}],"latency_ms":{...}}``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from eval.faithfulness import Evidence, FaithfulnessJudge, OfflineJudge
from eval.gate import Thresholds, check_gate
from eval.golden import GoldenItem, load_golden
from eval.meta import report_passage_lookup, run_meta_eval
from eval.metrics import format_summary, summarize
from eval.outcome import EvalOutcome, SystemRun
from eval.split import split_summaries
from govqa.types import Answer

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


def result_row(item_id: str, answer: Answer) -> dict[str, Any]:
    """One line of the results file for a govqa answer."""
    return {
        "id": item_id,
        "question": answer.question,
        "answer": answer.text,
        "refused": answer.refused,
        "retrieved": [
            {"text": p.chunk.text, "source": p.chunk.source, "heading": p.chunk.heading, "score": p.score}
            for p in answer.retrieved
        ],
        "citations": [{"text": c.quote, "source": c.source, "heading": c.heading} for c in answer.citations],
        "latency_ms": dict(answer.timings_ms),
    }


def evidence_of(answer: Answer) -> dict[int, Evidence]:
    """What each [n] of an answer points at: the whole cited passage, its title and heading."""
    return {
        c.n: Evidence(c.passage or c.quote, source=c.source, heading=c.heading, title=c.title)
        for c in answer.citations
    }


def judge_rows(
    judge: FaithfulnessJudge, rows: Sequence[dict[str, Any]], evidence: dict[str, dict[int, Evidence]]
) -> tuple[dict[str, float], dict[str, list[str]]]:
    """Faithfulness per answered (not refused) row, and the claims judged unsupported."""
    scores: dict[str, float] = {}
    unsupported: dict[str, list[str]] = {}
    for row in rows:
        if row["refused"]:
            continue
        result = judge.judge(
            row["answer"], evidence.get(row["id"], {}), refused=False, question=row["question"]
        )
        scores[row["id"]] = result.score
        bad = [f"{v.claim.text} ({'; '.join(v.reasons)})" for v in result.unsupported]
        if bad:
            unsupported[row["id"]] = bad
    return scores, unsupported


def run_govqa(
    service: Any, items: Sequence[GoldenItem], judge: FaithfulnessJudge, progress: Progress | None = None
) -> SystemRun:
    rows: list[dict[str, Any]] = []
    evidence: dict[str, dict[int, Evidence]] = {}
    for i, item in enumerate(items):
        t0 = time.perf_counter()
        answer = service.ask(item.question)
        row = result_row(item.id, answer)
        row["latency_ms"]["wall"] = (time.perf_counter() - t0) * 1000
        rows.append(row)
        evidence[item.id] = evidence_of(answer)
        if progress:
            progress(i + 1, len(items))
    faith, unsupported = judge_rows(judge, rows, evidence)
    return SystemRun("govqa", rows, faith, summarize(items, rows, faith), unsupported)


def run_baseline(
    reports: Sequence[Path], embeddings: Any, items: Sequence[GoldenItem], judge: FaithfulnessJudge
) -> SystemRun:
    from eval.baseline import TutorialRAG

    rag = TutorialRAG(reports, embeddings)
    rows = list(rag.run(items))
    evidence = {
        r["id"]: {1: Evidence(c["text"], source=c["source"])} for r in rows for c in r["citations"][:1]
    }
    faith, unsupported = judge_rows(judge, rows, evidence)
    return SystemRun("baseline", rows, faith, summarize(items, rows, faith), unsupported)


def write_results(rows: Iterable[dict[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(path)


def evaluate(
    service: Any,
    questions: Path,
    *,
    reports_dir: Path,
    out: Path,
    report_dir: Path | None,
    baseline: bool = True,
    judge: FaithfulnessJudge | None = None,
    thresholds: Thresholds | None = None,
    progress: Progress | None = None,
) -> EvalOutcome:
    """The whole evaluation. ``service`` is a ``GovQA`` whose index holds the reports."""
    t0 = time.perf_counter()
    items = load_golden(questions)
    judge = judge or OfflineJudge()
    govqa = run_govqa(service, items, judge, progress)
    write_results(govqa.rows, out)
    base = None
    reports = sorted(p for p in reports_dir.iterdir() if p.suffix in (".txt", ".md"))
    reports = [p for p in reports if p.name != "README.md"]
    if baseline and not reports:
        log.warning(
            "no .txt/.md reports in %s: the LangChain baseline (text files only) is skipped", reports_dir
        )
    if baseline and reports:
        base = run_baseline(reports, service.embedder, items, judge)
        write_results(base.rows, out.with_name(out.stem + ".baseline" + out.suffix))
    titles = {r.source: r.meta.title for r in service.documents()}
    meta = None
    if reports:  # the judge's meta-evaluation quotes the gold .txt reports
        meta = run_meta_eval(items, judge, report_passage_lookup(reports_dir, titles))
    else:
        log.warning("no .txt/.md reports in %s: the judge's meta-evaluation is skipped", reports_dir)
    failures = check_gate(govqa.summary, meta, thresholds) if thresholds is not None else []
    splits = split_summaries(items, govqa.rows, govqa.faithfulness)
    outcome = EvalOutcome(
        govqa, base, meta, failures, time.perf_counter() - t0, thresholds is not None, splits
    )
    if report_dir is not None:
        from eval.report import write_report

        write_report(outcome, items, report_dir)
    log.info("govqa: %s", format_summary(govqa.summary))
    return outcome
