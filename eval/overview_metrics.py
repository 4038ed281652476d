"""Scores for the answer types of issue 12: overviews (key points) and comparisons (the conclusion).

* ``key_point_recall``: an overview item's ``must_include_any`` groups are the points any good answer
  covers (each group: the ways of saying one point); recall is the share of groups the answer states.
  An overview is correct at ``KEY_POINT_PASS`` recall or more. Its citation precision is the shared
  ``eval.metrics.citation_precision``.
* ``states_derived``: a comparison item's ``derived`` strings (the direction and the difference, e.g.
  减少7.2亿元, fell by 7.2亿元) must all be stated; no quote holds them, so they are checked apart from
  ``must_include``.
Pure functions over the answer text.
"""

from __future__ import annotations

from typing import Any

from eval.golden import normalize_ws

OVERVIEW, COMPARISON = "overview", "comparison"
KEY_POINT_PASS = 0.8


def key_point_recall(item: Any, answer: str, refused: bool) -> float | None:
    """Share of the item's key-point groups the answer states; None for other item types."""
    if item.type != OVERVIEW or not item.must_include_any:
        return None
    if refused:
        return 0.0
    text = normalize_ws(answer)
    met = sum(any(normalize_ws(v) in text for v in group) for group in item.must_include_any)
    return met / len(item.must_include_any)


def states_derived(item: Any, answer: str) -> bool:
    text = normalize_ws(answer)
    return all(normalize_ws(v) in text for v in getattr(item, "derived", ()))
