"""The CI gate: fail when a metric of the default offline pipeline falls below its threshold.

Thresholds live in ``eval/thresholds.json`` (set from measured values, a small margin below them; see
eval/README.md). Lower-is-better metrics (false refusals, fabricated answers passed) are ceilings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from eval.meta import MetaReport
from eval.metrics import Summary

DEFAULT_THRESHOLDS = Path(__file__).with_name("thresholds.json")
_CEILINGS = {"false_refusal", "fabricated_pass"}


@dataclass(frozen=True)
class Thresholds:
    values: dict[str, float]

    @classmethod
    def load(cls, path: Path = DEFAULT_THRESHOLDS) -> Thresholds:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls({k: float(v) for k, v in data["thresholds"].items()})


def measured(summary: Summary, meta: MetaReport | None) -> dict[str, float | None]:
    g = summary.overall
    out: dict[str, float | None] = {
        "hit_at_1": g.hit_at_1.value,
        "hit_at_5": g.hit_at_5.value,
        "mrr": g.mrr.value,
        "correct": g.correct.value,
        "refusal_acc": g.refusal_acc.value,
        "false_refusal": g.false_refusal.value,
        "faithfulness": g.faithfulness.value,
        "cite_recall": g.cite_recall.value,
        "cite_precision": g.cite_precision.value,
    }
    if meta is not None:
        out["judge_agreement"] = meta.agreement
        out["fabricated_pass"] = meta.fabricated_pass_rate
    return out


def check_gate(summary: Summary, meta: MetaReport | None, thresholds: Thresholds) -> list[str]:
    """Human-readable failures; empty when every gated metric is on the right side of its threshold."""
    got = measured(summary, meta)
    failures = []
    for name, limit in sorted(thresholds.values.items()):
        value = got.get(name)
        if value is None:
            failures.append(f"{name}: not measured (threshold {limit:.2f})")
        elif name in _CEILINGS and value > limit:
            failures.append(f"{name}={value:.3f} is above the ceiling {limit:.3f}")
        elif name not in _CEILINGS and value < limit:
            failures.append(f"{name}={value:.3f} is below the threshold {limit:.3f}")
    return failures
