"""Scale benchmark: flat, HNSW and IVF faiss indexes (and milvus-lite) at 10^4..10^6 vectors, plus BM25.

Vectors are synthetic but shaped like ours: the real multilingual-e5-small vectors of the sample chunks
(read from a built index, ``--index``, default ``var/test-data/index``) are cluster centres, and every
synthetic vector is a centre plus Gaussian noise, L2-normalised (384 dims). Queries are 200 more such
points, not in the index. Recall@10 is against exact (flat) search of the same vectors.

For each size and kind: build time (2 threads, as the machine has), index bytes (``faiss.write_index``
size), process RSS growth, single-query latency p50/p95 with ONE thread (as the server searches), and
recall@10. BM25 (``vectorstore.bm25.BM25Index``): synthetic chunk token lists drawn from the sample
chunks' own tokens (unigram frequencies, lengths of real chunks), build time, array bytes, RSS growth and
query time (``search`` top 30, and the first 30 of ``ranked``), and in the same run the index as it was
before issue 7 (``bench/bm25_baseline.py``, up to ``--bm25-baseline-max-n``) on the same chunks and
queries: old/new ratios and whether both return the same top 30.

    .venv/bin/python bench/scale.py                          # 10^4, 10^5, 10^6; HNSW up to --hnsw-max-n
    .venv/bin/python bench/scale.py --max-n 100000 --milvus  # quick, with milvus-lite at 10^5
    .venv/bin/python bench/scale.py --only bm25 --bm25-max-n 100000

Prints one JSON object per measurement and a markdown table at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import faiss
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from measure import percentiles, rss_mb  # noqa: E402
from scale_bm25 import bench_bm25_isolated, bm25_compare, bm25_queries, bm25_table  # noqa: E402
from scale_embed import bench_embed, embed_table  # noqa: E402

from vectorstore.faiss_index import AnnIndex, IndexSpec  # noqa: E402

K = 10


def load_real(index_dir: Path) -> tuple[np.ndarray, list[list[str]]]:
    conn = sqlite3.connect(index_dir / "index.sqlite")
    dim = int(conn.execute("SELECT value FROM meta WHERE key = 'dim'").fetchone()[0])
    rows = conn.execute("SELECT vector, tokens FROM items WHERE tokens IS NOT NULL").fetchall()
    conn.close()
    vectors = np.stack([np.frombuffer(v, dtype=np.float32, count=dim) for v, _ in rows])
    return vectors, [t.split() for _, t in rows]


def synthetic(centres: np.ndarray, n: int, seed: int, noise: float = 0.03) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, centres.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        scale = rng.uniform(0.5, 1.5, size=(m, 1)).astype(np.float32)
        x = centres[rng.integers(0, len(centres), m)] + noise * scale * rng.standard_normal(
            (m, centres.shape[1]), dtype=np.float32
        )
        out[start : start + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def index_bytes(index: Any) -> int:
    with tempfile.NamedTemporaryFile(dir=os.environ.get("TMPDIR", "/tmp")) as f:
        faiss.write_index(index, f.name)
        return os.path.getsize(f.name)


def bench_faiss(
    kind: str,
    x: np.ndarray,
    queries: np.ndarray,
    truth: np.ndarray,
    spec: IndexSpec,
    sweep: dict[str, list[int]],
) -> list[dict]:
    faiss.omp_set_num_threads(2)
    before = rss_mb()
    t0 = time.perf_counter()
    ann = AnnIndex.build(kind, x.shape[1], spec, np.arange(len(x), dtype=np.int64), x)  # type: ignore[arg-type]
    build = time.perf_counter() - t0
    grown = rss_mb() - before
    faiss.omp_set_num_threads(1)
    size_mb = round(index_bytes(ann.index) / 2**20, 1)
    out = []
    for value in sweep.get(kind, [0]):
        if kind == "ivf" and value:
            ann.index.nprobe = value
        elif kind == "hnsw" and value:
            inner: Any = faiss.downcast_index(ann.index.index)
            inner.hnsw.efSearch = value
        ann.search(queries[0], K)  # warm
        times, hits = [], 0
        for q, t in zip(queries, truth, strict=True):
            t1 = time.perf_counter()
            found = ann.search(q, K)
            times.append((time.perf_counter() - t1) * 1000)
            hits += len(set(t.tolist()) & {f for f, _ in found})
        p50, p95 = percentiles(times)
        params = {k: v for k, v in ann.describe()["faiss_params"].items() if k != "tombstones"}
        out.append(
            {
                "kind": kind,
                "n": len(x),
                "params": params,
                "build_s": round(build, 2),
                "index_mb": size_mb,
                "rss_growth_mb": round(grown, 1),
                "p50_ms": round(p50, 3),
                "p95_ms": round(p95, 3),
                "recall_at_10": round(hits / (K * len(queries)), 4),
            }
        )
    del ann
    return out


def bench_milvus(x: np.ndarray, queries: np.ndarray, truth: np.ndarray, index_type: str) -> dict:
    from pymilvus import DataType, MilvusClient

    folder = tempfile.mkdtemp(prefix="govqa-milvus-bench-")
    client = MilvusClient(str(Path(folder) / "bench.db"))
    schema = client.create_schema(auto_id=False)
    schema.add_field("fid", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=x.shape[1])
    params = client.prepare_index_params()
    params.add_index("vector", index_type=index_type, metric_type="IP")
    client.create_collection("bench", schema=schema, index_params=params)
    t0 = time.perf_counter()
    for start in range(0, len(x), 5000):
        batch = x[start : start + 5000]
        client.insert("bench", [{"fid": start + i, "vector": v} for i, v in enumerate(batch.tolist())])
    client.flush("bench")
    client.load_collection("bench")
    build = time.perf_counter() - t0
    client.search("bench", [queries[0].tolist()], limit=K)
    times, hits = [], 0
    for q, t in zip(queries, truth, strict=True):
        t1 = time.perf_counter()
        res = client.search("bench", [q.tolist()], limit=K, output_fields=["fid"])
        times.append((time.perf_counter() - t1) * 1000)
        hits += len(set(t.tolist()) & {int(h["entity"]["fid"]) for h in res[0]})
    client.close()
    p50, p95 = percentiles(times)
    size = sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())
    return {
        "kind": f"milvus-lite {index_type}",
        "n": len(x),
        "build_s": round(build, 2),
        "index_mb": round(size / 2**20, 1),
        "p50_ms": round(p50, 3),
        "p95_ms": round(p95, 3),
        "recall_at_10": round(hits / (K * len(queries)), 4),
    }


def table(results: list[dict]) -> str:
    lines = [
        "| index | n | build s | index MB | RSS growth MB | p50 ms | p95 ms | recall@10 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        params = ",".join(f"{k}={v}" for k, v in r.get("params", {}).items() if k != "trained_on")
        lines.append(
            f"| {r['kind']} {params} | {r['n']:,} | {r['build_s']} | {r.get('index_mb', '')} | "
            f"{r.get('rss_growth_mb', '')} | {r['p50_ms']} | {r['p95_ms']} | {r.get('recall_at_10', '')} |"
        )
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--max-n", type=int, default=1_000_000, help="skip larger sizes")
    ap.add_argument("--hnsw-max-n", type=int, default=1_000_000, help="skip HNSW above this (slow build)")
    ap.add_argument("--bm25-max-n", type=int, default=1_000_000)
    ap.add_argument(
        "--bm25-baseline-max-n",
        type=int,
        default=100_000,
        help="also the pre-issue-7 BM25 index (bench/bm25_baseline.py) up to this size, same queries",
    )
    ap.add_argument("--only", choices=["faiss", "bm25"], default=None)
    ap.add_argument("--milvus", action="store_true", help="also milvus-lite at 10^5 (needs extra 'milvus')")
    ap.add_argument("--milvus-only", action="store_true", help="only milvus-lite (at the 10^5 size)")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--hnsw-m", type=int, default=32)
    ap.add_argument("--ef-construction", type=int, default=80)
    ap.add_argument("--ef-search", type=int, default=64)
    ap.add_argument("--nprobe", type=int, default=16)
    ap.add_argument("--nprobe-sweep", type=int, nargs="*", default=[], help="IVF: also measure these nprobe")
    ap.add_argument("--ef-sweep", type=int, nargs="*", default=[], help="HNSW: also measure these efSearch")
    ap.add_argument("--index", type=Path, default=REPO / "var" / "test-data" / "index")
    ap.add_argument("--embed", action="store_true", help="only the embedding throughput comparison")
    ap.add_argument("--embed-limit", type=int, default=292, help="sample chunks to embed per variant")
    ap.add_argument("--embed-rounds", type=int, default=2, help="interleaved rounds; the best one counts")
    ap.add_argument("--embed-batch", type=int, default=16)
    ap.add_argument("--embed-threads", type=int, default=2)
    ap.add_argument("--models", type=Path, default=REPO / "var" / "models")
    return ap.parse_args()


def main() -> None:
    args = parse_args()
    if args.embed:
        rows = bench_embed(
            args.index, args.models, args.embed_limit, args.embed_rounds, args.embed_batch, args.embed_threads
        )
        for r in rows:
            print(json.dumps(r), flush=True)
        print(embed_table(rows))
        return
    results, bm25_rows = run_sizes(args)
    print(table(results))
    if bm25_rows:
        print(bm25_table(bm25_rows))


def run_sizes(args: argparse.Namespace) -> tuple[list[dict], list[dict]]:
    """Every size: the faiss kinds (and milvus-lite at 10^5), then BM25; each row printed as it comes."""
    centres, token_lists = load_real(args.index)
    spec = IndexSpec(
        hnsw_m=args.hnsw_m, ef_construction=args.ef_construction, ef_search=args.ef_search, nprobe=args.nprobe
    )
    results: list[dict] = []
    bm25_rows: list[dict] = []
    sweep = {"ivf": args.nprobe_sweep or [0], "hnsw": args.ef_sweep or [0]}

    def emit(r: dict) -> None:
        results.append(r)
        print(json.dumps(r, ensure_ascii=False), flush=True)

    for n in [s for s in args.sizes if s <= args.max_n]:
        if args.milvus_only:
            if n == 100_000:
                x, queries = synthetic(centres, n, seed=n), synthetic(centres, args.queries, seed=1)
                truth = exact_top_k(x, queries)
                emit(bench_milvus(x, queries, truth, "FLAT"))
                emit(bench_milvus(x, queries, truth, "IVF_FLAT"))
            continue
        if args.only != "bm25":
            for row in faiss_at_size(args, n, centres, spec, sweep):
                emit(row)
        if args.only != "faiss" and n <= args.bm25_max_n:
            bm25_at_size(args, n, token_lists, emit, bm25_rows)
    return results, bm25_rows


def exact_top_k(x: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """The true top ``K`` of each query by exact inner-product search: what recall is measured against."""
    exact = faiss.IndexFlatIP(x.shape[1])
    exact.add(x)
    truth = exact.search(queries, K)[1]
    del exact
    return truth


def faiss_at_size(
    args: argparse.Namespace, n: int, centres: np.ndarray, spec: IndexSpec, sweep: dict[str, list[int]]
) -> Iterator[dict]:
    x = synthetic(centres, n, seed=n)
    queries = synthetic(centres, args.queries, seed=1)
    faiss.omp_set_num_threads(2)
    truth = exact_top_k(x, queries)
    for kind in ("flat", "ivf", "hnsw"):
        if kind == "hnsw" and n > args.hnsw_max_n:
            continue
        yield from bench_faiss(kind, x, queries, truth, spec, sweep)
    if args.milvus and n == 100_000:
        yield bench_milvus(x, queries, truth, "FLAT")
        yield bench_milvus(x, queries, truth, "IVF_FLAT")


def bm25_at_size(
    args: argparse.Namespace,
    n: int,
    token_lists: list[list[str]],
    emit: Callable[[dict], None],
    bm25_rows: list[dict],
) -> None:
    """BM25 at ``n`` chunks, and the pre-issue-7 index on the same chunks and queries up to its limit."""
    token_queries = bm25_queries(token_lists, args.queries, seed=1)
    new, new_tops = bench_bm25_isolated("bm25", n, token_lists, token_queries, seed=n)
    emit(new)
    bm25_rows.append(new)
    if n <= args.bm25_baseline_max_n:
        old, old_tops = bench_bm25_isolated("bm25-baseline", n, token_lists, token_queries, seed=n)
        emit(old)
        bm25_rows.append(old)
        bm25_rows.append(bm25_compare(new, old, new_tops, old_tops))
        print(json.dumps(bm25_rows[-1], ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
