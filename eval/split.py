"""A fixed development / test split of a question set, by a hash of each question's id.

Rules that decide answer-or-refuse and clause choice are developed against the ``dev`` half; the
``test`` half is only measured, so the gap between the two shows how much a change fits the questions
it was developed on. The split is deterministic and needs no file of its own: an item is in ``test``
when the first eight hex digits of ``sha256(id)`` are odd, so adding questions never moves old ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from eval.golden import GoldenItem
from eval.metrics import GroupStats, Summary, summarize

DEV = "dev"
TEST = "test"
SPLITS = (DEV, TEST)


def split_of(item_id: str) -> str:
    """``"dev"`` or ``"test"`` for a question id, the same on every run and machine."""
    return TEST if int(hashlib.sha256(item_id.encode("utf-8")).hexdigest()[:8], 16) % 2 else DEV


def split_items(items: Iterable[GoldenItem]) -> dict[str, list[GoldenItem]]:
    out: dict[str, list[GoldenItem]] = {name: [] for name in SPLITS}
    for item in items:
        out[split_of(item.id)].append(item)
    return out


def split_summaries(
    items: Sequence[GoldenItem], rows: Sequence[Mapping[str, Any]], faithfulness: Mapping[str, float] | None
) -> dict[str, Summary]:
    """The summary of each half, scored exactly like the whole set."""
    return {
        name: summarize(part, [r for r in rows if r.get("id") in {i.id for i in part}], faithfulness)
        for name, part in split_items(items).items()
        if part
    }


def format_gap(splits: Mapping[str, Summary]) -> str:
    """``dev−test: correct +0.02 false_refusal -0.01 refusal_acc +0.00`` (positive: dev is higher)."""
    if DEV not in splits or TEST not in splits:
        return "dev−test: one half is empty"
    dev, test = splits[DEV].overall, splits[TEST].overall
    parts = []
    for name in ("correct", "false_refusal", "refusal_acc", "hit_at_5"):
        a, b = _value(dev, name), _value(test, name)
        parts.append(f"{name} {a - b:+.2f}" if a is not None and b is not None else f"{name} n/a")
    return "dev−test: " + " ".join(parts)


def _value(stats: GroupStats, name: str) -> float | None:
    value = getattr(stats, name).value
    return None if value is None else float(value)
