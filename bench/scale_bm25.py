"""BM25 at scale, for ``bench/scale.py``: synthetic chunk token lists drawn from the sample chunks' own
tokens, the index built and queried in a fresh process per size, and the pre-issue-7 index
(``bench/bm25_baseline.py``) on the same chunks and queries for comparison."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import numpy as np
from bm25_baseline import BaselineBM25Index
from measure import percentiles, rss_mb


def bm25_batches(n: int, token_lists: list[list[str]], seed: int) -> Iterator[tuple[range, list[list[str]]]]:
    """Synthetic chunks in batches of 20k: tokens drawn from the sample chunks' unigram distribution, with
    the real chunks' lengths. Deterministic for (n, seed), so each implementation indexes the same ones."""
    rng = np.random.default_rng(seed)
    vocab, counts = np.unique(
        np.concatenate([np.array(t, dtype=object) for t in token_lists]), return_counts=True
    )
    vocab_list = vocab.tolist()
    cdf = np.cumsum(counts / counts.sum())
    lengths = np.array([len(t) for t in token_lists])
    for start in range(0, n, 20_000):
        docs = range(start, min(n, start + 20_000))
        sizes = lengths[np.arange(docs.start, docs.stop) % len(lengths)]
        drawn = np.searchsorted(cdf, rng.random(int(sizes.sum())), side="right").clip(0, len(vocab_list) - 1)
        cuts = np.cumsum(sizes)[:-1]
        yield docs, [[vocab_list[i] for i in part] for part in np.split(drawn, cuts)]


def bm25_queries(token_lists: list[list[str]], count: int, seed: int) -> list[list[str]]:
    """12-token windows of the real sample chunks."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        src = token_lists[int(rng.integers(len(token_lists)))]
        at = int(rng.integers(max(1, len(src) - 12)))
        out.append(src[at : at + 12])
    return out


def bm25_bytes(index: Any) -> int:
    """Bytes of the index's arrays (postings, per-document data; not the vocabulary dict). Bench-only:
    reads private attributes of both implementations."""
    arrays: list[Any] = [*index._post_tfs]
    if hasattr(index, "_post_ids"):  # bench/bm25_baseline.py
        arrays += [*index._post_ids, *index._doc_terms.values(), index._lengths]
    else:
        arrays += [*index._post_slots, index._slot_doc, index._slot_len, index._fwd_start, index._fwd_terms]
    return sum(a.nbytes if isinstance(a, np.ndarray) else len(a) * a.itemsize for a in arrays)


def bench_bm25(
    kind: str, n: int, token_lists: list[list[str]], queries: list[list[str]], seed: int
) -> tuple[dict, list[tuple[list[int], list[float]]]]:
    """Build ``kind`` ("bm25": vectorstore.bm25.BM25Index, "bm25-baseline": the pre-issue-7 index) over
    ``n`` synthetic chunks and time ``search(q, limit=30)`` and reading the first 30 of ``ranked(q)``
    (what CorpusIndex.bm25_search does) for every query. Also returns each query's top 30.

    Times are wall clock and CPU time of this (single) thread: on a shared machine the CPU time is what
    compares across runs and implementations; wall time includes waiting for a core."""
    import gc

    from vectorstore.bm25 import BM25Index

    gc.collect()
    before = rss_mb()
    index: Any = BM25Index() if kind == "bm25" else BaselineBM25Index()
    build = build_cpu = 0.0  # indexing only, not drawing the synthetic tokens
    for docs, batch in bm25_batches(n, token_lists, seed):
        t0, c0 = time.perf_counter(), time.thread_time()
        for doc, tokens in zip(docs, batch, strict=True):
            index.add(doc, tokens)
        build += time.perf_counter() - t0
        build_cpu += time.thread_time() - c0
        del batch
    t0, c0 = time.perf_counter(), time.thread_time()
    vocabulary = index.vocabulary_size  # the new index indexes its last buffered batch here
    build += time.perf_counter() - t0
    build_cpu += time.thread_time() - c0
    gc.collect()
    grown = rss_mb() - before
    index.search(queries[0], limit=30)  # warm (the new index computes its per-state arrays once)
    wall: list[float] = []
    cpu: list[float] = []
    ranked_cpu: list[float] = []
    tops = []
    for query in queries:
        t0, c0 = time.perf_counter(), time.thread_time()
        ids, scores = index.search(query, limit=30)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
        tops.append((ids.tolist(), scores.tolist()))
    for query in queries:
        c0 = time.thread_time()
        ranked = index.ranked(query)
        for _ in zip(range(30), ranked, strict=False):
            pass
        ranked_cpu.append((time.thread_time() - c0) * 1000)
    p50, p95 = percentiles(wall)
    c50, c95 = percentiles(cpu)
    r50, r95 = percentiles(ranked_cpu)
    row = {
        "kind": kind,
        "n": n,
        "vocabulary": vocabulary,
        "build_s": round(build, 2),
        "build_cpu_s": round(build_cpu, 2),
        "index_mb": round(bm25_bytes(index) / 2**20, 1),
        "rss_growth_mb": round(grown, 1),
        "p50_ms": round(p50, 3),
        "p95_ms": round(p95, 3),
        "cpu_p50_ms": round(c50, 3),
        "cpu_p95_ms": round(c95, 3),
        "ranked30_cpu_p50_ms": round(r50, 3),
        "ranked30_cpu_p95_ms": round(r95, 3),
    }
    del index
    gc.collect()
    return row, tops


def bench_bm25_isolated(
    kind: str, n: int, token_lists: list[list[str]], queries: list[list[str]], seed: int
) -> tuple[dict, list[tuple[list[int], list[float]]]]:
    """``bench_bm25`` in a fresh interpreter, so RSS growth is not hidden by memory an earlier
    measurement freed (each implementation starts from the same clean process)."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(bench_bm25, (kind, n, token_lists, queries, seed))


def bm25_compare(
    new: dict,
    old: dict,
    new_tops: list[tuple[list[int], list[float]]],
    old_tops: list[tuple[list[int], list[float]]],
) -> dict:
    """old/new ratios of one size, and how far the two top-30 lists agree."""
    same = sum(a[0] == b[0] for a, b in zip(new_tops, old_tops, strict=True))
    diff = max(
        (max((abs(x - y) for x, y in zip(a[1], b[1], strict=False)), default=0.0))
        for a, b in zip(new_tops, old_tops, strict=True)
    )

    def ratio(key: str) -> float:
        return round(old[key] / max(new[key], 1e-9), 1)

    return {
        "kind": "baseline/new",
        "n": new["n"],
        "build_cpu_x": ratio("build_cpu_s"),
        "index_mb_x": round(old["index_mb"] / max(new["index_mb"], 1e-9), 2),
        "rss_growth_x": round(old["rss_growth_mb"] / max(new["rss_growth_mb"], 1e-9), 2),
        "cpu_p50_x": ratio("cpu_p50_ms"),
        "cpu_p95_x": ratio("cpu_p95_ms"),
        "p50_x": ratio("p50_ms"),
        "p95_x": ratio("p95_ms"),
        "ranked30_cpu_p50_x": ratio("ranked30_cpu_p50_ms"),
        "ranked30_cpu_p95_x": ratio("ranked30_cpu_p95_ms"),
        "same_top30": f"{same}/{len(new_tops)}",
        "max_abs_score_diff": float(f"{diff:.3g}"),
    }


def bm25_table(rows: list[dict]) -> str:
    lines = [
        "| index | n | vocabulary | build CPU s (wall) | arrays MB | RSS growth MB | search CPU p50 / p95 ms "
        "| search wall p50 / p95 ms | ranked 30 CPU p50 / p95 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "build_cpu_x" in r:
            lines.append(
                f"| **{r['kind']}** | {r['n']:,} | | ×{r['build_cpu_x']} | ×{r['index_mb_x']} | "
                f"×{r['rss_growth_x']} | **×{r['cpu_p50_x']} / ×{r['cpu_p95_x']}** | ×{r['p50_x']} / ×{r['p95_x']} "
                f"| ×{r['ranked30_cpu_p50_x']} / ×{r['ranked30_cpu_p95_x']} |"
            )
            lines.append(
                f"| (same top 30: {r['same_top30']} queries; max score difference {r['max_abs_score_diff']}) "
                "| | | | | | | | |"
            )
        else:
            lines.append(
                f"| {r['kind']} | {r['n']:,} | {r['vocabulary']:,} | {r['build_cpu_s']} ({r['build_s']}) | "
                f"{r['index_mb']} | {r['rss_growth_mb']} | {r['cpu_p50_ms']} / {r['cpu_p95_ms']} | "
                f"{r['p50_ms']} / {r['p95_ms']} | {r['ranked30_cpu_p50_ms']} / {r['ranked30_cpu_p95_ms']} |"
            )
    return "\n".join(lines)
