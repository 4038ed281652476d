"""Local LLM time to first token with and without the prompt cache, in one run on one loaded model.

Every local answer prompt starts with the same instruction (``rag.prompts.LOCAL_ANSWER_PROMPT``). With the
prompt cache on (the default, ``GOVQA_LOCAL_PROMPT_CACHE=true``) the model's state after the instruction is
kept and restored before each answer prompt whose context no longer starts with it (the follow-ups here
are condensed by the same model first, with another instruction), so only passages and question are read.
Off (the baseline), every prompt is read from its first token.

One service, one loaded model, the same questions: each question is asked with the cache off, then on (the
switch is the model's ``prompt_cache``; off resets the context before every prompt, so nothing is reused;
before the "on" call the context is reset too, so it cannot reuse the "off" call's tokens of the same
question: it gains only from the kept instruction state, restored). Answers are cut at ``--max-tokens``
(the first token is what is timed).
Printed: ``llm_first_token`` (model call to first text) p50/p95 per side, the ratio off/on, the load.

    .venv/bin/python bench/local_ttft.py [--n 10] [--follow-ups 4] [--out var/bench/local_ttft.json]

Models and index: ``$GOVQA_TEST_MODELS_DIR`` / ``$GOVQA_TEST_DATA_DIR`` (``make test-data``, ``make llm``).
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

from eval.golden import GoldenItem, load_golden  # noqa: E402
from govqa.settings import load_settings  # noqa: E402
from ui.service import GovQA  # noqa: E402

log = logging.getLogger("bench.local_ttft")


def _spaced(items: list[GoldenItem], n: int) -> list[GoldenItem]:
    step = max(1, len(items) // max(n, 1))
    return items[::step][:n]


def _pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))]


def _first_token(svc: GovQA, question: str, history: list[Any]) -> tuple[float | None, int]:
    answer = svc.ask(question, history=history)
    return answer.timings_ms.get("llm_first_token"), int(answer.tokens.get("prompt", 0))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--golden", type=Path, default=REPO / "eval" / "golden.jsonl")
    ap.add_argument("--n", type=int, default=10, help="fact questions, evenly spaced over the golden set")
    ap.add_argument("--follow-ups", type=int, default=4, help="of them, also asked as a follow-up")
    ap.add_argument("--max-tokens", type=int, default=16, help="answers are cut here (TTFT is timed)")
    ap.add_argument("--out", type=Path, default=REPO / "var" / "bench" / "local_ttft.json")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "jieba", "faiss", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    facts = [i for i in load_golden(args.golden) if i.type == "fact" and i.lang == "zh"]
    items = _spaced(facts, args.n)
    settings = load_settings(
        models_dir=Path(os.environ.get("GOVQA_TEST_MODELS_DIR", REPO / "var" / "models")),
        data_dir=Path(os.environ.get("GOVQA_TEST_DATA_DIR", REPO / "var" / "test-data")),
        answer_mode="local",
        local_max_tokens=args.max_tokens,
        answer_cache_size=0,
        local_prompt_cache=True,
    )
    svc = GovQA(settings)
    t0 = time.perf_counter()
    svc.warm_up()  # loads the model and reads the instruction once (the cache side's start-up cost)
    warm_s = time.perf_counter() - t0
    model = svc.chain.chat_model
    side: dict[str, dict[str, list[float]]] = {
        s: {"plain": [], "follow_up": [], "prompt_tokens": []} for s in ("on", "off")
    }
    asks: list[tuple[str, str, list[Any]]] = [("plain", i.question, []) for i in items]
    prev = items[-1].question
    for item in items[: args.follow_ups]:  # a follow-up: the model condenses it first (another prompt)
        asks.append(("follow_up", item.question, [[prev, "……"]]))
        prev = item.question
    try:
        for k, (kind, question, history) in enumerate(asks, 1):
            for name, cached in (("off", False), ("on", True)):
                model.prompt_cache = cached  # type: ignore[attr-defined]
                if name == "on":
                    model.load().reset()  # type: ignore[attr-defined]  # drop the "off" call's tokens
                ttft, prompt = _first_token(svc, question, history)
                if ttft is None:
                    log.info("%s %s: answered without the model", name, question)
                    continue
                side[name][kind].append(ttft)
                side[name]["prompt_tokens"].append(prompt)
                log.info("%d/%d %s %s %.0f ms, %d prompt tokens", k, len(asks), kind, name, ttft, prompt)
    finally:
        model.prompt_cache = True  # type: ignore[attr-defined]
        svc.close()

    result: dict[str, Any] = {
        "questions": len(asks),
        "warm_up_s": round(warm_s, 1),
        "loadavg": os.getloadavg(),
    }
    for name, got in side.items():
        every = got["plain"] + got["follow_up"]
        result[name] = {
            "p50_ms": _pct(every, 0.5),
            "p95_ms": _pct(every, 0.95),
            "plain_p50_ms": _pct(got["plain"], 0.5),
            "follow_up_p50_ms": _pct(got["follow_up"], 0.5),
            "prompt_tokens_median": statistics.median(got["prompt_tokens"]) if got["prompt_tokens"] else None,
            "n": len(every),
        }
    on, off = result["on"], result["off"]
    if on["p50_ms"] and off["p50_ms"]:
        result["ratio_off_over_on_p50"] = round(off["p50_ms"] / on["p50_ms"], 2)
        result["ratio_off_over_on_p95"] = round(off["p95_ms"] / on["p95_ms"], 2)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), "utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
