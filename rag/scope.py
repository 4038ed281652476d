"""Which documents a question may be answered from: its body, its years, explicit filters.

A 2019 figure may sit in the 2019 report or in the 2021 report's five-year review, so a document is in
scope for a year when its metadata reviews or plans that year. A question about a year or a body that no
document covers has an empty scope: the answer is a refusal, never a figure from another year.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from govqa.errors import BadQuestionError
from govqa.types import Chunk, DocumentMeta
from rag.question import QuestionInfo

# a place name the question may mention that the corpus might not know: 杨柳青镇, 大寺镇, 滨海新区 ...
_PLACE = re.compile(r"[\u4e00-\u9fff]{2,5}?(?:镇|街道|新区|区|县)")
_NOT_PLACES = (
    "全区",
    "本区",
    "全镇",
    "本镇",
    "城区",
    "园区",
    "社区",
    "开发区",
    "示范区",
    "功能区",
    "片区",
    "景区",
    "校区",
    "小区",
    "市区",
    "辖区",
    "各区",
    "高新区",
    "保税区",
    "产业区",
    "街镇",
)


@dataclass(frozen=True)
class Filters:
    """Explicit filters a user can set (CLI flags, API ``filters``, UI dropdowns)."""

    body: str | None = None
    year: int | None = None
    document: str | None = None  # a doc_id or a source file name

    def __post_init__(self) -> None:
        if self.year is not None and not 1949 <= self.year <= 2100:
            raise BadQuestionError(f"filter year must be between 1949 and 2100, got {self.year}")


@dataclass(frozen=True)
class DocInfo:
    doc_id: str
    source: str
    meta: DocumentMeta


@dataclass
class Scope:
    """The documents a (sub-)question may be answered from, and why others were left out."""

    doc_ids: frozenset[str]
    bodies: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    # why the scope is empty, as (Chinese, English) noun phrases: ("精武镇2023年的内容", "Jingwu in 2023")
    missing: list[tuple[str, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.doc_ids

    def allow(self) -> Callable[[Chunk], bool]:
        ids = self.doc_ids
        return lambda chunk: chunk.doc_id in ids


def unknown_places(
    question: str, known_bodies: Iterable[str], corpus_has: Callable[[str], bool]
) -> list[str]:
    """Place names in the question that are neither a known body nor mentioned anywhere in the corpus."""
    known = set(known_bodies)
    out = []
    for m in _PLACE.finditer(question):
        name = m.group(0)
        if any(name.endswith(n) for n in _NOT_PLACES) or name in known:
            continue
        if any(k in name or name in k for k in known):
            continue
        if not corpus_has(name):
            out.append(name)
    return out


def resolve_scope(
    info: QuestionInfo,
    docs: Iterable[DocInfo],
    filters: Filters | None = None,
    *,
    unknown: Iterable[str] = (),
) -> Scope:
    """The documents matching the question's bodies and years and the explicit filters."""
    filters = filters or Filters()
    docs = list(docs)
    bodies = (filters.body,) if filters.body else info.bodies
    years = (filters.year,) if filters.year else info.years
    missing = [(f"关于{name}的内容", name) for name in unknown]
    if missing:
        return Scope(frozenset(), bodies, years, missing)
    chosen = docs
    if filters.document:
        chosen = [d for d in chosen if filters.document in (d.doc_id, d.source)]
        if not chosen:
            return Scope(
                frozenset(), bodies, years, [(f"文档{filters.document}", f"document {filters.document}")]
            )
    if bodies:
        chosen = [d for d in chosen if d.meta.body in bodies]
        if not chosen:
            names = "、".join(bodies)
            return Scope(frozenset(), bodies, years, [(f"{names}的报告", f"reports of {names}")])
    if years:
        by_year = [d for d in chosen if all(y in d.meta.years for y in years)]
        if not by_year:
            # a comparison across years is decomposed before this; here every year must be covered
            where = "、".join(bodies)
            ys = "、".join(f"{y}年" for y in years)
            en = f"{where or 'any body'} in {', '.join(str(y) for y in years)}"
            return Scope(frozenset(), bodies, years, [(f"涉及{where}{ys}的内容", en)])
        chosen = by_year
    return Scope(frozenset(d.doc_id for d in chosen), bodies, years)


_YEAR_IN_TEXT = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


def years_in(text: str) -> set[int]:
    return {int(y) for y in _YEAR_IN_TEXT.findall(text)}


def chunk_years(chunk: Chunk) -> set[int]:
    """The years a chunk speaks about: those in its heading path, else its document's years."""
    heading_years = years_in(" ".join(chunk.heading_path))
    return heading_years or set(chunk.meta.years)
