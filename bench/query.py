"""Query benchmark: latency and retrieval quality of govqa against the naive LangChain tutorial retriever,
over the golden questions, in one run on the real sample index.

- govqa retriever: ``HybridRetriever.retrieve(analyze(question))`` — scope, query embedding, FAISS + BM25,
  fusion, feature rerank — top 5 passages;
- govqa answer: ``GovQA.ask(question)`` — condense, decompose, retrieve per sub-question, extractive
  answer with citations; its hit@k is scored on the merged ``answer.retrieved`` list;
- baseline: ``eval.baseline.TutorialRAG`` — RecursiveCharacterTextSplitter(500, 50), in-memory FAISS,
  ``similarity_search`` k=5 — built with the same embedding weights (``service.embedder``); its answer is
  its top chunk, so it has no separate answer latency.

hit@1 / hit@5 are ``eval.metrics.retrieval_score`` (every gold source of a question within the first k
passages), averaged over the answerable golden questions with sources. Each question is timed for every
system in turn, so a busy machine slows all of them alike. Models and index come from
``$GOVQA_TEST_MODELS_DIR`` (default var/models) and ``$GOVQA_TEST_DATA_DIR`` (default var/test-data); the
sample reports are ingested there first (incremental: nothing to embed when the index is current).

    .venv/bin/python bench/query.py [--repeat 3] [--golden eval/golden.jsonl]
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]


@dataclass
class SystemStats:
    name: str
    retrieve_ms: list[float] = field(default_factory=list)
    answer_ms: list[float] = field(default_factory=list)
    hits1: list[bool] = field(default_factory=list)
    hits5: list[bool] = field(default_factory=list)
    hits5_any: list[bool] = field(default_factory=list)
    rr: list[float] = field(default_factory=list)
    parts_ms: dict[str, list[float]] = field(default_factory=dict)  # the retriever's own timings

    def score(self, item: Any, passages: Sequence[Any]) -> None:
        from eval.metrics import retrieval_score

        s = retrieval_score(item, passages)
        if s is None:  # unanswerable, or no gold source
            return
        self.hits1.append(s.hit_at_1)
        self.hits5.append(s.hit_at_5)
        self.hits5_any.append(s.hit_at_5_any)
        self.rr.append(s.reciprocal_rank)


def _pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def _timed(fn: Callable[[str], Any], question: str) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(question)
    return out, (time.perf_counter() - t0) * 1000


def _passages(passages: Sequence[Any]) -> list[Any]:
    """govqa ``Passage`` objects as ``eval.metrics.RetrievedPassage``."""
    from eval.metrics import RetrievedPassage

    return [RetrievedPassage(p.chunk.text, p.chunk.source, p.chunk.heading, p.score) for p in passages]


def _baseline_passages(retrieved: Sequence[dict[str, Any]]) -> list[Any]:
    from eval.metrics import RetrievedPassage

    return [RetrievedPassage(r["text"], r["source"], r["heading"], r["score"]) for r in retrieved]


def _service(models_dir: Path, data_dir: Path) -> Any:
    from govqa.models.prepare import prepare_models
    from govqa.settings import DEFAULT_EMBEDDING_MODEL, Settings
    from ui.service import GovQA, sample_reports

    prepare_models(models_dir)
    settings = Settings(  # type: ignore[call-arg]
        data_dir=data_dir,
        models_dir=models_dir,
        embedding_model=DEFAULT_EMBEDDING_MODEL,
        answer_mode="extractive",
        answer_cache_size=0,  # repeats time the pipeline, not the answer cache (issue 16)
        query_cache_size=0,
        _env_file=None,
    )
    service = GovQA(settings)
    t0 = time.perf_counter()
    report = service.ingest(sample_reports())
    if report.failed:
        raise SystemExit(f"ingest failed: {report.summary()}")
    print(f"index: {data_dir} ({report.summary()}, {time.perf_counter() - t0:.1f} s)")
    service.warm_up()
    return service


def run(service: Any, baseline: Any, items: Sequence[Any], repeat: int) -> list[SystemStats]:
    retriever = service.retriever

    def retrieve(question: str) -> Any:  # what the LangChain retriever does for a query string
        return retriever.retrieve(retriever.analyze(question))

    gov_r, gov_a, base = SystemStats("govqa retriever"), SystemStats("govqa answer"), SystemStats("baseline")
    for round_ in range(repeat):
        for item in items:
            r, ms = _timed(retrieve, item.question)
            gov_r.retrieve_ms.append(ms)
            for part, part_ms in r.timings_ms.items():
                gov_r.parts_ms.setdefault(part, []).append(part_ms)
            answer, ms = _timed(service.ask, item.question)
            gov_a.answer_ms.append(ms)
            b, ms = _timed(baseline.answer, item.question)
            base.retrieve_ms.append(ms)
            if round_ == 0:  # quality does not change between rounds
                gov_r.score(item, _passages(r.passages))
                gov_a.score(item, _passages(answer.retrieved[:5]))
                base.score(item, _baseline_passages(b["retrieved"]))
    return [gov_r, gov_a, base]


def _fmt(v: float, spec: str = "8.1f") -> str:
    return format(v, spec) if v == v else f"{'–':>{int(spec.split('.')[0])}s}"


def report(stats: Sequence[SystemStats], n_questions: int, repeat: int) -> None:
    print()
    print(
        f"{n_questions} golden questions x {repeat} round(s); hit@k over {len(stats[0].hits1)} with gold sources"
    )
    head = (
        f"{'system':18s} {'retr p50':>8s} {'retr p95':>8s} {'ans p50':>8s} {'ans p95':>8s}"
        f" {'hit@1':>6s} {'hit@5':>6s} {'hit@5any':>8s} {'MRR':>6s}"
    )
    print(head)
    print("-" * len(head))
    for s in stats:
        print(
            f"{s.name:18s} {_fmt(_pct(s.retrieve_ms, 50))} {_fmt(_pct(s.retrieve_ms, 95))}"
            f" {_fmt(_pct(s.answer_ms, 50))} {_fmt(_pct(s.answer_ms, 95))}"
            f" {_fmt(_mean(s.hits1), '6.3f')} {_fmt(_mean(s.hits5), '6.3f')}"
            f" {_fmt(_mean(s.hits5_any), '8.3f')} {_fmt(_mean(s.rr), '6.3f')}"
        )
    print("(latencies in ms, wall clock per question)")
    split = ", ".join(f"{k} {_pct(v, 50):.1f} / {_pct(v, 95):.1f}" for k, v in stats[0].parts_ms.items())
    print(f"govqa retriever p50 / p95 by step: {split}")
    gov, ans, base = stats
    print()
    print(
        f"retrieval latency govqa / baseline: p50 {_pct(gov.retrieve_ms, 50) / _pct(base.retrieve_ms, 50):.2f}x,"
        f" p95 {_pct(gov.retrieve_ms, 95) / _pct(base.retrieve_ms, 95):.2f}x"
    )
    print(
        f"answer latency (govqa answer) / baseline retrieval: p50 "
        f"{_pct(ans.answer_ms, 50) / _pct(base.retrieve_ms, 50):.2f}x"
    )
    for label, g, b in (
        ("hit@1", _mean(gov.hits1), _mean(base.hits1)),
        ("hit@5", _mean(gov.hits5), _mean(base.hits5)),
    ):
        ratio = f"{g / b:.2f}x" if b else "inf"
        print(f"{label} govqa retriever / baseline: {g:.3f} / {b:.3f} = {ratio} ({g - b:+.3f})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--models-dir", default=os.environ.get("GOVQA_TEST_MODELS_DIR", str(REPO / "var" / "models"))
    )
    ap.add_argument(
        "--data-dir", default=os.environ.get("GOVQA_TEST_DATA_DIR", str(REPO / "var" / "test-data"))
    )
    ap.add_argument("--golden", default=str(REPO / "eval" / "golden.jsonl"))
    ap.add_argument("--repeat", type=int, default=1, help="timing rounds over the golden set")
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error(f"--repeat must be >= 1, got {args.repeat}")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    logging.basicConfig(level=logging.WARNING)

    from eval.baseline import TutorialRAG
    from eval.golden import load_golden
    from ui.service import sample_reports

    service = _service(Path(args.models_dir).expanduser(), Path(args.data_dir).expanduser())
    items = load_golden(args.golden)
    baseline = TutorialRAG(sample_reports(), service.embedder)
    print(f"baseline: {len(baseline.chunks)} chunks embedded in {baseline.build_seconds:.1f} s")
    for q in ("2019年精武镇税收收入是多少？", "How did Jingwu's tax revenue change from 2019 to 2024?"):
        service.ask(q)  # warm-up: lazy tokenizers, BM25 views, corpus text
        baseline.answer(q)
    load = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min)"
    )
    stats = run(service, baseline, items, args.repeat)
    report(stats, len(items), args.repeat)
    load = os.getloadavg()
    print(f"load average after the run: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    service.close()


if __name__ == "__main__":
    main()
