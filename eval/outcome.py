"""What one evaluation run produced: each system's scored rows (``SystemRun``) and the whole outcome
(``EvalOutcome``: both systems, the judge's meta-evaluation, the gate). ``eval.run`` makes them,
``eval.report`` renders them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eval.meta import MetaReport
from eval.metrics import Summary


@dataclass
class SystemRun:
    name: str
    rows: list[dict[str, Any]]
    faithfulness: dict[str, float]
    summary: Summary
    unsupported: dict[str, list[str]] = field(default_factory=dict)  # id -> claims judged unsupported


@dataclass
class EvalOutcome:
    govqa: SystemRun
    baseline: SystemRun | None
    meta: MetaReport | None
    gate_failures: list[str]
    seconds: float
    gate_checked: bool = False
    splits: dict[str, Summary] = field(default_factory=dict)  # the dev and test halves (eval.split)

    @property
    def passed(self) -> bool:
        return not self.gate_failures
