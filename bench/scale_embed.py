"""Embedding throughput variants, for ``bench/scale.py --embed``: torch fp32 and int8, and (when onnxruntime
and onnx are installed) ONNX Runtime exports of the same model, on the sample chunks."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


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
    conn = sqlite3.connect(index_dir / "index.sqlite")
    texts = [t for (t,) in conn.execute("SELECT index_text FROM items ORDER BY fid LIMIT ?", (limit,))]
    conn.close()
    model = models_dir / "multilingual-e5-small"
    work = Path(tempfile.mkdtemp(prefix="govqa-embed-bench-"))
    try:
        variants = embed_variants(model, work, threads, batch)
        timings, cpu, vectors = time_variants(variants, texts, rounds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return embed_rows(timings, cpu, vectors, batch=batch, threads=threads, passages=len(texts))


def embed_variants(model: Path, work: Path, threads: int, batch: int) -> dict[str, Any]:
    """Each variant's ``encode_passages``, by name; the ONNX ones exported into ``work``."""
    from govqa.models.embedders import SentenceTransformerEmbedder

    def backend(name: str) -> Any:
        embedder = SentenceTransformerEmbedder(str(model), batch_size=batch, threads=threads, backend=name)
        embedder.warm_up()
        return embedder.encode_passages

    variants: dict[str, Any] = {
        "torch fp32 (default)": backend("torch"),
        "torch int8 (dynamic, per-channel)": backend("int8"),
    }
    try:
        from onnx import TensorProto
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError:
        print("onnxruntime/onnx not installed: torch variants only", file=sys.stderr)
        return variants
    onnx_export(model, work / "fused.onnx", fuse=True)
    onnx_export(model, work / "plain.onnx", fuse=False)
    variants["onnx fp32 fused, ORT all"] = onnx_encoder(work / "fused.onnx", model, threads, batch)
    variants["onnx fp32 fused, ORT basic"] = onnx_encoder(work / "fused.onnx", model, threads, batch, "basic")
    variants["onnx fp32 plain export, ORT all"] = onnx_encoder(work / "plain.onnx", model, threads, batch)
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
    return variants


def time_variants(
    variants: dict[str, Any], texts: list[str], rounds: int
) -> tuple[dict[str, list[float]], dict[str, list[float]], dict[str, np.ndarray]]:
    """Per variant: passages/s and CPU s/passage of each round, and the vectors of the first round."""
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
    return timings, cpu, vectors


def embed_rows(
    timings: dict[str, list[float]],
    cpu: dict[str, list[float]],
    vectors: dict[str, np.ndarray],
    *,
    batch: int,
    threads: int,
    passages: int,
) -> list[dict[str, Any]]:
    """One row per variant: best round, least CPU, both relative to torch fp32, cosine to its vectors."""
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
                "passages": passages,
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


def embed_table(rows: list[dict]) -> str:
    lines = [
        "| backend | passages/s (best round) | each round | x torch fp32 | CPU s/passage | x torch fp32 (CPU) "
        "| min cos to fp32 | mean cos |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['backend']} | {r['passages_per_s']} | {' / '.join(map(str, r['rounds']))} | "
            f"{r['speedup']} | {r['cpu_s_per_passage']} | {r['cpu_speedup']} | {r['cos_to_fp32_min']} | "
            f"{r['cos_to_fp32_mean']} |"
        )
    return "\n".join(lines)
