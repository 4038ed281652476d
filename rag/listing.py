"""Counting and listing within the retrieved passages: 几所学校, 多少个项目.

When a question asks how many of something, the answer is every clause that names such an item, not
only the best one: ``more_items`` adds the other clauses of the same report that pass the same tests as
the picked one (about the asked year and topic, over the threshold). No count is made up: the quotes
are listed, and a count is only what a quoted clause states. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from govqa.types import Passage
from rag import extractive
from rag.question import QuestionInfo

MAX_ITEMS = 5
_COUNT = re.compile(
    r"几(?:所|个|家|项|座|条|处|批|名|人|户|栋|场|次|件|套|辆|台|宗|期)|多少(?:个|所|家|项|座|条|处|批|名|户|栋|场|件|套|辆|台|宗|期)|\bhow\s+many\b",
    re.IGNORECASE,
)


def asks_count(info: QuestionInfo) -> bool:
    return _COUNT.search(info.text) is not None


def more_items(
    info: QuestionInfo,
    passages: Sequence[Passage],
    pick: extractive.Scored,
    w: extractive.Weights,
) -> list[extractive.Scored]:
    """Other clauses of the picked clause's report that answer the same counting question, in document
    order with the picked one (at most ``MAX_ITEMS`` in all)."""
    doc = passages[pick.unit.passage_index].chunk.doc_id
    top = max(p.score for p in passages) or 1.0
    found = [pick]
    for i, p in enumerate(passages):
        if p.chunk.doc_id != doc:
            continue
        for u in extractive.units(p, i):
            if any(
                f.unit.passage_index == i and f.unit.start < u.end and u.start < f.unit.end for f in found
            ):
                continue
            s = extractive.score_unit(info, u, p, max(0.0, p.score / top), w)
            if not extractive.answers_the_year(s) or s.features["topic"] < w.min_topic:
                continue
            # an item need not state a number of its own (建成第一小学; 对接第三小学项目), but it must
            # name what is counted at least as fully as the picked clause does
            if s.features["terms"] < pick.features["terms"] - 1e-9:
                continue
            if s.score + (0.0 if s.features.get("number") else w.number) < w.threshold:
                continue
            if extractive.vetoed(s):
                continue
            found.append(s)
    found.sort(key=lambda s: passages[s.unit.passage_index].chunk.start + s.unit.start)
    return found[:MAX_ITEMS]
