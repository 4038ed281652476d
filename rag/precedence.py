"""The question wins over the filters.

Filters (CLI flags, the API's ``filters``, the UI's dropdowns) narrow what a question is answered from.
When the question itself names a year, a body or a place the filters contradict — filters 2024 and
"2019年…是多少？" — answering for the filter would silently answer another question. ``resolve`` drops
each contradicted filter so the question is answered as asked, and returns a note for each one, which
the answer shows. Pure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rag.question import QuestionInfo


@dataclass(frozen=True)
class Conflict:
    """One filter the question contradicts: what the question asks and what the filter said."""

    field: str  # "year" | "body" | "document"
    asked: str
    filtered: str

    def note(self, lang: str) -> str:
        if lang == "zh":
            what = {"year": "年份", "body": "地方", "document": "文档"}[self.field]
            return f"注意：问题问的是{self.asked}，与筛选的{what}“{self.filtered}”不一致，以下按问题回答。"
        what = {"year": "year", "body": "place", "document": "document"}[self.field]
        return (
            f"Note: the question asks about {self.asked}, not the filtered {what} “{self.filtered}”; "
            "answered as asked."
        )


def _years(years: Sequence[int], lang: str) -> str:
    if lang == "zh":
        return "、".join(f"{y}年" for y in years)
    return ", ".join(str(y) for y in years)


def conflicts(
    info: QuestionInfo,
    filters: Any,
    *,
    places: Sequence[str] = (),
    document_meta: Any = None,
) -> list[Conflict]:
    """The filters the question contradicts. ``places`` are places the question names that are no body
    of the corpus; ``document_meta`` is the ``DocumentMeta`` of the document filter, if any."""
    if filters is None:
        return []
    out = []
    if filters.year is not None and info.years and any(y != filters.year for y in info.years):
        out.append(Conflict("year", _years(info.years, info.lang), _years((filters.year,), info.lang)))
    named = [*info.bodies, *places]
    if filters.body and named and any(b != filters.body for b in named):
        out.append(Conflict("body", "、".join(named), filters.body))
    if document_meta is not None and filters.document:
        years = set(document_meta.years)
        off_year = bool(info.years) and not all(y in years for y in info.years)
        off_body = bool(named) and any(b != document_meta.body for b in named)
        if off_year or off_body:
            asked = "、".join([*named, *([_years(info.years, info.lang)] if info.years else [])])
            out.append(Conflict("document", asked, document_meta.title or filters.document))
    return out


def without(filters: Any, found: Sequence[Conflict]) -> Any:
    """The filters minus those the question contradicts (None when nothing is left)."""
    if filters is None or not found:
        return filters
    drop = {c.field: None for c in found}
    kept = dataclasses.replace(filters, **drop)
    if all(getattr(kept, f.name) is None for f in dataclasses.fields(kept)):
        return None
    return kept
