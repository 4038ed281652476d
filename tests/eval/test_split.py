from __future__ import annotations

from pathlib import Path

from eval.golden import load_golden
from eval.split import DEV, TEST, format_gap, split_items, split_of, split_summaries

GOLDEN = Path(__file__).parents[2] / "eval" / "golden.jsonl"


def test_split_is_fixed_by_id() -> None:
    assert split_of("g001") == split_of("g001")
    items = load_golden(GOLDEN)
    halves = split_items(items)
    assert sum(len(v) for v in halves.values()) == len(items)
    assert 0.35 < len(halves[TEST]) / len(items) < 0.65  # roughly half each


def test_split_summaries_and_gap() -> None:
    items = load_golden(GOLDEN)[:20]
    rows = [
        {"id": i.id, "answer": i.answer, "refused": not i.answer, "retrieved": [], "citations": []}
        for i in items
    ]
    splits = split_summaries(items, rows, None)
    assert set(splits) == {DEV, TEST}
    assert sum(s.overall.n for s in splits.values()) == 20
    assert format_gap(splits).startswith("dev−test: correct ")
