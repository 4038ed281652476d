"""Extractive vs local LLM answers (Qwen2.5 1.5B through llama.cpp), in one run on the real sample index.

Both systems answer the same questions with the same retrieval; each is scored by ``eval.metrics.summarize``
(answer correctness, refusal accuracy, false refusals, citation precision) with the offline faithfulness
judge (``eval.faithfulness.OfflineJudge``); with ``--llm-judge N`` the first N answered rows of each system
are also judged by ``eval.faithfulness.LLMJudge`` running on the same local model. Time to first token:
``llm_first_token`` (model call to first text) and from the question (condense + retrieval + that); for
extractive answers the whole answer arrives at once, so its first token is its total time.

By default a stratified subset of the golden set (``PER_TYPE``: 12 evenly spaced questions over every type,
in file order) keeps the run near 15 min on a busy 2-core machine; ``--all`` runs the whole set. Models and index come
from ``$GOVQA_TEST_MODELS_DIR`` (default var/models) and ``$GOVQA_TEST_DATA_DIR`` (default var/test-data),
prepared by ``make test-data`` and ``make llm``.

    .venv/bin/python bench/local_llm.py [--all] [--llm-judge 10] [--out var/bench/local_llm.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from eval.faithfulness import FaithfulnessJudge, JudgeOutputError, LLMJudge, OfflineJudge  # noqa: E402
from eval.golden import GoldenItem, load_golden  # noqa: E402
from eval.metrics import Summary, summarize  # noqa: E402
from eval.outcome import SystemRun  # noqa: E402
from eval.run import evidence_of, judge_rows, result_row  # noqa: E402
from govqa.settings import load_settings  # noqa: E402
from ui.service import GovQA  # noqa: E402

log = logging.getLogger("bench.local_llm")

PER_TYPE = {"fact": 4, "disambiguation": 2, "unanswerable": 3, "crosslingual": 2, "multi_hop": 1}


def stratified(items: list[GoldenItem], per_type: dict[str, int]) -> list[GoldenItem]:
    """Evenly spaced items of each type (file order), English unanswerables first among unanswerables."""
    picked: list[GoldenItem] = []
    for kind, n in per_type.items():
        group = [i for i in items if i.type == kind]
        if kind == "unanswerable":  # keep both languages of refusal in the sample
            group = sorted(group, key=lambda i: i.lang != "en")
            head = [i for i in group if i.lang == "en"][: n // 2]
            rest = [i for i in group if i not in head]
            group = head + _spaced(rest, n - len(head))
            picked.extend(group)
            continue
        picked.extend(_spaced(group, n))
    order = {it.id: k for k, it in enumerate(items)}
    return sorted(picked, key=lambda i: order[i.id])


def _spaced(group: list[GoldenItem], n: int) -> list[GoldenItem]:
    if n >= len(group):
        return list(group)
    step = len(group) / n
    return [group[int(k * step)] for k in range(n)]


def _pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))
    return xs[k]


def timings(run: SystemRun, llm: bool) -> dict[str, float | None]:
    lat = [r["latency_ms"] for r in run.rows]
    total = [float(t.get("total", t.get("wall", 0.0))) for t in lat]
    if llm:
        called = [t for t in lat if "llm_first_token" in t]
        model = [float(t["llm_first_token"]) for t in called]
        question = [
            float(t.get("condense", 0)) + float(t.get("retrieve", 0)) + float(t["llm_first_token"])
            for t in called
        ]
    else:
        model, question = [], total
    return {
        "llm_first_token_p50": _pct(model, 0.5),
        "llm_first_token_p95": _pct(model, 0.95),
        "first_token_p50": _pct(question, 0.5),
        "first_token_p95": _pct(question, 0.95),
        "total_p50": _pct(total, 0.5),
        "total_p95": _pct(total, 0.95),
        "model_calls": float(len(model)),
    }


def answer_all(
    svc: GovQA, items: list[GoldenItem], mode: str, out_rows: Path
) -> tuple[SystemRun, dict[str, Any]]:
    """``eval.run.run_govqa`` that also keeps each answer's cited evidence for a later LLM judge.

    Each row is appended to ``out_rows`` as soon as it is answered (with the load average then), so an
    interrupted run keeps what it measured."""
    rows: list[dict[str, Any]] = []
    evidence: dict[str, Any] = {}
    out_rows.parent.mkdir(parents=True, exist_ok=True)
    out_rows.write_text("", "utf-8")
    for k, item in enumerate(items, 1):
        t0 = time.perf_counter()
        answer = svc.ask(item.question)
        row = result_row(item.id, answer)
        row["latency_ms"]["wall"] = (time.perf_counter() - t0) * 1000
        row["loadavg_1m"] = os.getloadavg()[0]
        rows.append(row)
        with out_rows.open("a", encoding="utf-8") as f:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
        evidence[item.id] = evidence_of(answer)
        log.info(
            "%s %d/%d %s %.1f s: %s",
            mode,
            k,
            len(items),
            item.id,
            row["latency_ms"]["wall"] / 1000,
            answer.text[:80].replace("\n", " "),
        )
    faith, unsupported = judge_rows(OfflineJudge(), rows, evidence)
    return SystemRun(mode, rows, faith, summarize(items, rows, faith), unsupported), evidence


def llm_judged(judge: FaithfulnessJudge, run: SystemRun, evidence: dict[str, Any], n: int) -> dict[str, Any]:
    """LLM-judge faithfulness over the first ``n`` answered rows; a row whose judge replies stay
    unparseable after the retry is counted in ``unjudged``, not scored."""
    answered = [r for r in run.rows if not r["refused"]][:n]
    t0 = time.perf_counter()
    scores: dict[str, float] = {}
    unjudged: list[str] = []
    for row in answered:
        try:
            scores.update(judge_rows(judge, [row], evidence)[0])
        except JudgeOutputError as e:
            log.warning("LLM judge gave up on %s: %s", row["id"], e)
            unjudged.append(row["id"])
        log.info("LLM judge %s %s: %s", run.name, row["id"], scores.get(row["id"]))
    return {
        "n": len(scores),
        "mean": statistics.fmean(scores.values()) if scores else None,
        "unjudged": unjudged,
        "scores": scores,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def _row(summary: Summary) -> dict[str, Any]:
    o = summary.overall
    return {
        "n": o.n,
        "correct": o.correct.value,
        "faithfulness_offline": o.faithfulness.value,
        "refusal_acc": o.refusal_acc.value,
        "false_refusal": o.false_refusal.value,
        "cite_precision": o.cite_precision.value,
        "by_type_correct": {t: g.correct.value for t, g in summary.by_type.items()},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--golden", type=Path, default=REPO / "eval" / "golden.jsonl")
    ap.add_argument("--all", action="store_true", help="every golden question, not the stratified subset")
    ap.add_argument("--llm-judge", type=int, default=0, help="LLM-judge this many answered rows per system")
    ap.add_argument("--out", type=Path, default=REPO / "var" / "bench" / "local_llm.json")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "jieba", "faiss", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    items = load_golden(args.golden)
    if not args.all:
        items = stratified(items, PER_TYPE)
    log.info("%d questions: %s", len(items), {t: sum(i.type == t for i in items) for t in PER_TYPE})
    base = {
        "models_dir": Path(os.environ.get("GOVQA_TEST_MODELS_DIR", REPO / "var" / "models")),
        "data_dir": Path(os.environ.get("GOVQA_TEST_DATA_DIR", REPO / "var" / "test-data")),
    }
    result: dict[str, Any] = {"questions": [i.id for i in items], "systems": {}}
    runs: dict[str, tuple[SystemRun, dict[str, Any]]] = {}
    local: GovQA | None = None
    for mode in ("extractive", "local"):
        svc = GovQA(load_settings(**base, answer_mode=mode))
        svc.warm_up()
        local = svc if mode == "local" else local
        t0 = time.perf_counter()
        out_rows = args.out.with_name(f"{args.out.stem}.{mode}.jsonl")
        run, evidence = answer_all(svc, items, mode, out_rows)
        runs[mode] = (run, evidence)
        loads = [float(r["loadavg_1m"]) for r in run.rows]
        stats = {
            **_row(run.summary),
            **timings(run, mode == "local"),
            "seconds": time.perf_counter() - t0,
            "loadavg_1m_median": statistics.median(loads) if loads else None,
            "loadavg_1m_max": max(loads, default=None),
        }
        result["systems"][mode] = stats
        log.info("%s: %s", mode, json.dumps(stats, ensure_ascii=False))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), "utf-8")  # before the slow judge
    if args.llm_judge and local is not None:
        judge = LLMJudge(local.chain.chat_model, max_tokens=768)  # the same local model judges both systems
        for mode, (run, evidence) in runs.items():
            result["systems"][mode]["faithfulness_llm_judge"] = llm_judged(
                judge, run, evidence, args.llm_judge
            )
            log.info("LLM judge %s: %s", mode, result["systems"][mode]["faithfulness_llm_judge"])
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), "utf-8")
    print(json.dumps(result["systems"], ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
