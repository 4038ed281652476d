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
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import faiss
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bm25_baseline import BaselineBM25Index  # noqa: E402

from vectorstore.faiss_index import AnnIndex, IndexSpec  # noqa: E402

K = 10


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


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


def percentiles(ms: list[float]) -> tuple[float, float]:
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


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


def onnx_export(model_dir: Path, out: Path, *, fuse: bool) -> None:
    """The e5 folder as ONE ONNX graph, fp32: transformer, mean pooling over the mask, L2 normalisation
    (what the folder's 1_Pooling and 2_Normalize do). ``fuse``: then ONNX Runtime's transformer optimiser
    (Attention, SkipLayerNorm, BiasGelu, EmbedLayerNorm kernels; needs eager attention at export)."""
    import torch
    from onnxruntime.transformers import optimizer
    from sentence_transformers import SentenceTransformer

    class Pooled(torch.nn.Module):
        def __init__(self, transformer: torch.nn.Module) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            tokens = self.transformer(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(dim=1) / torch.clamp(mask.sum(dim=1), min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    st = SentenceTransformer(
        str(model_dir), device="cpu", local_files_only=True, model_kwargs={"attn_implementation": "eager"}
    ).eval()
    transformer: Any = st[0].auto_model
    example = st.tokenizer(
        ["passage: 一二三", "passage: 一二三四五六七八九十"], padding=True, return_tensors="pt"
    )
    raw = out.with_suffix(".raw.onnx")
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad():
        torch.onnx.export(
            Pooled(transformer).eval(),
            (example["input_ids"], example["attention_mask"]),
            str(raw),
            input_names=["input_ids", "attention_mask"],
            output_names=["sentence_embedding"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "sentence_embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    if not fuse:
        raw.rename(out)
        return
    config = transformer.config
    fused = optimizer.optimize_model(
        str(raw),
        model_type="bert",
        num_heads=config.num_attention_heads,
        hidden_size=config.hidden_size,
        opt_level=0,
    )
    print(json.dumps({"fused": fused.get_fused_operator_statistics()}), file=sys.stderr, flush=True)
    fused.save_model_to_file(str(out))
    raw.unlink()


def onnx_encoder(onnx_file: Path, model_dir: Path, threads: int, batch: int, level: str = "all") -> Any:
    """passages -> vectors with ONNX Runtime: the folder's tokenizer as sentence-transformers uses it
    (``passage: `` prompt, pad to the batch's longest, truncate at 512), longest texts first."""
    import onnxruntime as ort
    from transformers import AutoTokenizer

    options = ort.SessionOptions()
    options.graph_optimization_level = {
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }[level]
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)

    def encode(xs: list[str]) -> np.ndarray:
        order = sorted(range(len(xs)), key=lambda i: -len(xs[i]))
        out = np.empty((len(xs), 384), dtype=np.float32)
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            enc = tokenizer(
                ["passage: " + xs[i] for i in idx],
                padding=True,
                truncation=True,
                max_length=512,
                return_tensors="np",
            )
            feeds = {k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask")}
            out[idx] = session.run(None, feeds)[0]
        return out

    return encode


def bench_embed(
    index_dir: Path, models_dir: Path, limit: int, rounds: int, batch: int, threads: int = 2
) -> list[dict]:
    """Passages/s of embedding variants on the sample chunks, in ONE run, ``rounds`` interleaved rounds.

    torch fp32 (the default) and int8 through ``SentenceTransformerEmbedder``; with onnxruntime and onnx
    installed (not project dependencies: ``pip install onnxruntime==1.31.1 onnx==1.23.2``), the same model
    exported here to a temporary folder (:func:`onnx_export`) and run in ONNX Runtime: fp32 plain export,
    fp32 with the transformer fusions (session graph optimisation all / basic), and ``quantize_dynamic``
    int8 of the fused graph (per-channel, per-tensor). Every variant: batch ``batch``, ``threads``
    threads, longest texts first; cosine to the torch fp32 vectors of the first round. Besides wall-clock
    passages/s (best round), process CPU seconds per passage (least round), which other load on the
    machine changes less (with 2 threads it also counts spin-waiting).
    """
    from govqa.models.embedders import SentenceTransformerEmbedder

    conn = sqlite3.connect(index_dir / "index.sqlite")
    texts = [t for (t,) in conn.execute("SELECT index_text FROM items ORDER BY fid LIMIT ?", (limit,))]
    conn.close()
    model = models_dir / "multilingual-e5-small"

    def backend(name: str) -> Any:
        embedder = SentenceTransformerEmbedder(str(model), batch_size=batch, threads=threads, backend=name)
        embedder.warm_up()
        return embedder.encode_passages

    variants: dict[str, Any] = {
        "torch fp32 (default)": backend("torch"),
        "torch int8 (dynamic, per-channel)": backend("int8"),
    }
    work = Path(tempfile.mkdtemp(prefix="govqa-embed-bench-"))
    try:
        try:
            from onnx import TensorProto
            from onnxruntime.quantization import QuantType, quantize_dynamic
        except ImportError:
            print("onnxruntime/onnx not installed: torch variants only", file=sys.stderr)
        else:
            onnx_export(model, work / "fused.onnx", fuse=True)
            onnx_export(model, work / "plain.onnx", fuse=False)
            variants["onnx fp32 fused, ORT all"] = onnx_encoder(work / "fused.onnx", model, threads, batch)
            variants["onnx fp32 fused, ORT basic"] = onnx_encoder(
                work / "fused.onnx", model, threads, batch, "basic"
            )
            variants["onnx fp32 plain export, ORT all"] = onnx_encoder(
                work / "plain.onnx", model, threads, batch
            )
            for kind in ("per-channel", "per-tensor"):
                q = work / f"int8-{kind}.onnx"
                quantize_dynamic(
                    work / "fused.onnx",
                    q,
                    weight_type=QuantType.QInt8,
                    per_channel=kind == "per-channel",
                    # the fused ops carry no type information for the quantiser: their outputs are float
                    extra_options={"DefaultTensorType": TensorProto.FLOAT},
                )
                variants[f"onnx int8 (quantize_dynamic, {kind})"] = onnx_encoder(q, model, threads, batch)
        timings: dict[str, list[float]] = {name: [] for name in variants}
        cpu: dict[str, list[float]] = {name: [] for name in variants}
        vectors: dict[str, np.ndarray] = {}
        for encode in variants.values():
            encode(texts[:8])  # warm
        for r in range(rounds):
            for name, encode in variants.items():
                t0, c0 = time.perf_counter(), time.process_time()
                vecs = encode(texts)
                timings[name].append(len(texts) / (time.perf_counter() - t0))
                cpu[name].append((time.process_time() - c0) / len(texts))
                vectors.setdefault(name, vecs)
                row = {"round": r, "variant": name, "passages_per_s": round(timings[name][-1], 2)}
                row |= {"cpu_s_per_passage": round(cpu[name][-1], 4), "load": os.getloadavg()[0]}
                print(json.dumps(row), file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    reference = vectors["torch fp32 (default)"]
    base = max(timings["torch fp32 (default)"])
    base_cpu = min(cpu["torch fp32 (default)"])
    out: list[dict[str, Any]] = []
    for name, speeds in timings.items():
        cos = (vectors[name] * reference).sum(axis=1)
        out.append(
            {
                "backend": name,
                "batch": batch,
                "threads": threads,
                "passages": len(texts),
                "passages_per_s": round(max(speeds), 2),
                "rounds": [round(x, 2) for x in speeds],
                "speedup": round(max(speeds) / base, 2),
                "cpu_s_per_passage": round(min(cpu[name]), 4),
                "cpu_speedup": round(base_cpu / min(cpu[name]), 2),
                "cos_to_fp32_min": round(float(cos.min()), 4),
                "cos_to_fp32_mean": round(float(cos.mean()), 4),
            }
        )
    return out


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


def main() -> None:
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
    args = ap.parse_args()
    if args.embed:
        rows = bench_embed(
            args.index, args.models, args.embed_limit, args.embed_rounds, args.embed_batch, args.embed_threads
        )
        for r in rows:
            print(json.dumps(r), flush=True)
        print(
            "| backend | passages/s (best round) | each round | x torch fp32 | CPU s/passage | x torch fp32 (CPU) "
            "| min cos to fp32 | mean cos |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            print(
                f"| {r['backend']} | {r['passages_per_s']} | {' / '.join(map(str, r['rounds']))} | "
                f"{r['speedup']} | {r['cpu_s_per_passage']} | {r['cpu_speedup']} | {r['cos_to_fp32_min']} | "
                f"{r['cos_to_fp32_mean']} |"
            )
        return

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
                exact = faiss.IndexFlatIP(x.shape[1])
                exact.add(x)
                truth = exact.search(queries, K)[1]
                emit(bench_milvus(x, queries, truth, "FLAT"))
                emit(bench_milvus(x, queries, truth, "IVF_FLAT"))
            continue
        if args.only != "bm25":
            x = synthetic(centres, n, seed=n)
            queries = synthetic(centres, args.queries, seed=1)
            faiss.omp_set_num_threads(2)
            exact = faiss.IndexFlatIP(x.shape[1])
            exact.add(x)
            _, truth = exact.search(queries, K)
            del exact
            for kind in ("flat", "ivf", "hnsw"):
                if kind == "hnsw" and n > args.hnsw_max_n:
                    continue
                for row in bench_faiss(kind, x, queries, truth, spec, sweep):
                    emit(row)
            if args.milvus and n == 100_000:
                emit(bench_milvus(x, queries, truth, "FLAT"))
                emit(bench_milvus(x, queries, truth, "IVF_FLAT"))
            del x
        if args.only != "faiss" and n <= args.bm25_max_n:
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
    print(table(results))
    if bm25_rows:
        print(bm25_table(bm25_rows))


if __name__ == "__main__":
    main()
