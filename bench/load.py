"""HTTP load benchmark: many concurrent clients asking /v1/ask, then a burst of parallel uploads.

Without ``--url`` it starts ``govqa serve`` itself in a subprocess on a free loopback port with the real
default settings (the real embedding model; ``--fake`` for the hashing embedder) over a throw-away data
folder, so the uploads never touch your index; the server's rate limit is switched off for the run.

    .venv/bin/python bench/load.py                       # 50 clients for 20 s, real model
    .venv/bin/python bench/load.py --fake --seconds 10
    .venv/bin/python bench/load.py --url http://127.0.0.1:8000 --api-key KEY
    .venv/bin/python bench/load.py --index-from var/test-data --set GOVQA_ANSWER_CACHE_SIZE=0

``--index-from DATA_DIR`` copies that data folder's index (built with the same model) into the throw-away
folder, so the server starts without ingesting; ``--set NAME=VALUE`` passes settings to the server.

Questions come from eval/golden.jsonl (else a built-in list), asked round-robin. Prints throughput,
latency percentiles (p50/p95/p99), error count, refusals; then uploads ``--uploads`` distinct reports in
parallel and checks that every one is listed (and deletes them again).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "eval" / "golden.jsonl"
BUILTIN_QUESTIONS = [
    "2019年精武镇税收收入是多少？",
    "张家窝镇2024年计划新建几所学校？",
    "2021年精武镇政府工作报告是谁作的？",
    "西青区2023年地区生产总值增长多少？",
    "How did Jingwu's tax revenue change from 2019 to 2024?",
    "2019年杨柳青镇税收收入是多少？",
]
UPLOAD_TEXT = (
    "2025年{name}政府工作报告\n\n一、2025年工作回顾\n\n"
    "2025年全镇实现税收收入{n}.5亿元，同比增长{n}.2%。新建口袋公园{n}座，改造老旧小区两个。\n\n"
    "二、2026年工作安排\n\n2026年计划新建学校一所，推进智慧社区建设，完成道路改造{n}公里。\n"
)


def load_questions() -> tuple[list[str], str]:
    if GOLDEN.exists():
        rows = [json.loads(line) for line in GOLDEN.read_text(encoding="utf-8").splitlines() if line.strip()]
        questions = [str(r["question"]) for r in rows if r.get("question")]
        if questions:
            return questions, f"{GOLDEN.relative_to(REPO)} ({len(questions)} questions)"
    return BUILTIN_QUESTIONS, f"built-in list ({len(BUILTIN_QUESTIONS)} questions)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(args: argparse.Namespace, data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **os.environ,
        "GOVQA_DATA_DIR": str(data_dir),
        "GOVQA_RATE_LIMIT_PER_MINUTE": "0",
        "GOVQA_API_KEYS": "",
        "GOVQA_ADMIN_API_KEYS": "",
    }
    if args.models_dir:
        env["GOVQA_MODELS_DIR"] = str(Path(args.models_dir).expanduser().absolute())
    if args.fake:
        env["GOVQA_EMBEDDING_MODEL"] = "fake"
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep:
            sys.exit(f"--set wants NAME=VALUE, got {item!r}")
        env[name] = value
    if args.index_from:
        shutil.copytree(Path(args.index_from).expanduser() / "index", data_dir / "index")
    log = open(data_dir.parent / "server.log", "wb")  # noqa: SIM115 - the server owns it until it exits
    cmd = [sys.executable, "-m", "ui.cli", "serve", "--no-ui", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + args.start_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the server exited ({proc.returncode}); see {log.name}")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.terminate()
    sys.exit(f"the server was not ready after {args.start_timeout} s; see {log.name}")


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    refused: int = 0
    errors: int = 0
    probe_ms: list[float] = field(default_factory=list)  # /healthz while under load
    rss_mb: list[float] = field(default_factory=list)  # the server's resident memory, sampled with /healthz


def rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


async def ask_load(
    url: str,
    headers: dict[str, str],
    questions: list[str],
    clients: int,
    seconds: float,
    server_pid: int | None = None,
) -> tuple[Results, float]:
    results = Results()
    counter = itertools.count()
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=300, limits=limits) as http:

        async def client() -> None:
            while time.monotonic() < deadline:
                question = questions[next(counter) % len(questions)]
                t0 = time.perf_counter()
                try:
                    r = await http.post("/v1/ask", json={"question": question})
                except httpx.HTTPError as e:
                    results.errors += 1
                    results.statuses[type(e).__name__] += 1
                    continue
                results.latencies.append(time.perf_counter() - t0)
                results.statuses[str(r.status_code)] += 1
                if r.status_code != 200:
                    results.errors += 1
                elif r.json().get("refused"):
                    results.refused += 1

        async def probe() -> None:  # does the server still answer its liveness probe under load?
            async with httpx.AsyncClient(base_url=url, timeout=60) as prober:
                while time.monotonic() < deadline:
                    t0 = time.perf_counter()
                    try:
                        await prober.get("/healthz")
                        results.probe_ms.append((time.perf_counter() - t0) * 1000)
                    except httpx.HTTPError:
                        results.statuses["healthz-failed"] += 1
                    if (mb := rss_mb(server_pid)) is not None:
                        results.rss_mb.append(mb)
                    await asyncio.sleep(0.25)

        t0 = time.perf_counter()
        await asyncio.gather(probe(), *(client() for _ in range(clients)))
        elapsed = time.perf_counter() - t0
    return results, elapsed


async def upload_check(url: str, headers: dict[str, str], n: int) -> dict[str, Any]:
    tag = f"{os.getpid()}{int(time.time()) % 100000}"
    names = [f"bench-{tag}-{i}.txt" for i in range(n)]
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=600) as http:

        async def upload(i: int, name: str) -> int:
            text = UPLOAD_TEXT.format(name=f"测试{i}号镇", n=i + 1)
            r = await http.post("/v1/documents", files={"file": (name, text.encode(), "text/plain")})
            return r.status_code

        t0 = time.perf_counter()
        statuses = await asyncio.gather(*(upload(i, name) for i, name in enumerate(names)))
        seconds = time.perf_counter() - t0
        listed = {d["source"]: d["doc_id"] for d in (await http.get("/v1/documents")).json()["documents"]}
        missing = [name for name in names if name not in listed]
        for name in names:
            if name in listed:
                await http.delete(f"/v1/documents/{listed[name]}")
    return {"uploads": n, "statuses": dict(Counter(statuses)), "seconds": seconds, "missing": missing}


def _rss_summary(samples: list[float]) -> dict[str, float] | None:
    """Is memory flat under load? The first and last tenth of the samples, and the peak."""
    if not samples:
        return None
    tenth = max(1, len(samples) // 10)
    return {
        "first": round(samples[0], 1),
        "first_tenth": round(statistics.median(samples[:tenth]), 1),
        "last_tenth": round(statistics.median(samples[-tenth:]), 1),
        "max": round(max(samples), 1),
        "last": round(samples[-1], 1),
    }


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="a running govqa server (default: start one)")
    ap.add_argument(
        "--api-key", default=os.environ.get("GOVQA_BENCH_API_KEY", ""), help="Bearer key for --url"
    )
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--uploads", type=int, default=10, help="parallel uploads to check (0: skip)")
    ap.add_argument("--fake", action="store_true", help="the hashing embedder instead of the real model")
    ap.add_argument(
        "--models-dir",
        default=os.environ.get("GOVQA_MODELS_DIR")
        or os.environ.get("GOVQA_TEST_MODELS_DIR")
        or REPO / "var" / "models",
        help="prepared models folder (default: var/models, where `make test-data` prepares them)",
    )
    ap.add_argument("--start-timeout", type=float, default=900.0)
    ap.add_argument("--index-from", help="data folder whose index the server starts from (no ingest)")
    ap.add_argument("--set", action="append", default=[], help="NAME=VALUE for the server (repeatable)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    return ap.parse_args()


def main() -> None:
    args = parse_args()
    questions, origin = load_questions()
    server, results, elapsed, uploads = run_load(args, questions)
    lat_ms = [x * 1000 for x in results.latencies]
    done = len(results.latencies)
    figures = {
        "server": server,
        "questions": origin,
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "requests": done,
        "throughput_rps": round(done / elapsed, 2) if elapsed else 0.0,
        "p50_ms": round(percentile(lat_ms, 50), 1),
        "p95_ms": round(percentile(lat_ms, 95), 1),
        "p99_ms": round(percentile(lat_ms, 99), 1),
        "mean_ms": round(statistics.fmean(lat_ms), 1) if lat_ms else None,
        "healthz_p50_ms": round(percentile(results.probe_ms, 50), 1),
        "healthz_max_ms": round(max(results.probe_ms), 1) if results.probe_ms else None,
        "rss_mb": _rss_summary(results.rss_mb),
        "errors": results.errors,
        "statuses": dict(results.statuses),
        "refused": results.refused,
        "uploads": uploads,
    }
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
    else:
        print(f"server     {figures['server']}")
        print(f"questions  {origin}")
        print(
            f"load       {args.clients} clients for {figures['seconds']} s: {done} answers, {figures['throughput_rps']} req/s"
        )
        print(
            f"latency    p50 {figures['p50_ms']} ms  p95 {figures['p95_ms']} ms  p99 {figures['p99_ms']} ms"
        )
        print(
            f"/healthz   p50 {figures['healthz_p50_ms']} ms  max {figures['healthz_max_ms']} ms (under load)"
        )
        if figures["rss_mb"]:
            r = figures["rss_mb"]
            print(
                f"server RSS first {r['first']} MB, median of first/last tenth {r['first_tenth']}/"
                f"{r['last_tenth']} MB, max {r['max']} MB, last {r['last']} MB"
            )
        print(f"errors     {results.errors}  (statuses {dict(results.statuses)}; {results.refused} refusals)")
        if uploads:
            ok = not uploads["missing"] and set(uploads["statuses"]) <= {201, 200}
            print(
                f"uploads    {uploads['uploads']} in parallel in {uploads['seconds']:.1f} s, statuses "
                f"{uploads['statuses']}, missing {len(uploads['missing'])}: {'OK' if ok else 'FAILED'}"
            )
    if results.errors or (uploads and uploads["missing"]):
        sys.exit(1)


def run_load(
    args: argparse.Namespace, questions: list[str]
) -> tuple[str, Results, float, dict[str, Any] | None]:
    """Start a server (or use ``--url``), put ``--clients`` on it for ``--seconds``, check uploads."""
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    proc = None
    tmp = tempfile.TemporaryDirectory(prefix="govqa-load-")
    try:
        if args.url:
            url = args.url.rstrip("/")
            server = f"running server {url}"
        else:
            t0 = time.perf_counter()
            proc, url = start_server(args, Path(tmp.name) / "data")
            model = "fake hashing embedder" if args.fake else "real default embedding model"
            server = f"govqa serve subprocess ({model}), ready in {time.perf_counter() - t0:.0f} s"
            if args.set:
                server += " with " + " ".join(args.set)
        with httpx.Client(base_url=url, headers=headers, timeout=600) as http:  # warm every path once
            http.post("/v1/ask", json={"question": questions[0]})
        pid = proc.pid if proc is not None else None
        results, elapsed = asyncio.run(ask_load(url, headers, questions, args.clients, args.seconds, pid))
        uploads = asyncio.run(upload_check(url, headers, args.uploads)) if args.uploads else None
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        tmp.cleanup()
    return server, results, elapsed, uploads


if __name__ == "__main__":
    main()
