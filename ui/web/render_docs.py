"""The documents tab as data: table rows, dropdown choices, per-file upload results. Pure functions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from govqa.types import DocumentRecord
from ui.web.render import esc

ALL = "all"  # the "no filter" value of every filter dropdown
ALL_LABEL = "全部 · all"
TABLE_HEADERS = ["编号 · id", "标题 · title", "机构 · body", "年份 · years", "段落 · chunks", "文件 · file"]


def years_text(years: Sequence[int]) -> str:
    """``2019–2020`` for a run of years, ``2019, 2021`` otherwise."""
    ys = sorted(set(years))
    if not ys:
        return ""
    if len(ys) > 1 and ys[-1] - ys[0] == len(ys) - 1:
        return f"{ys[0]}–{ys[-1]}"
    return ", ".join(str(y) for y in ys)


def table_rows(records: Iterable[DocumentRecord]) -> list[list[str | int]]:
    return [
        [r.doc_id, r.meta.title, r.meta.body, years_text(r.meta.years), r.chunk_count, r.source]
        for r in sorted(records, key=lambda r: (r.meta.body, r.meta.title, r.source))
    ]


def doc_label(record: DocumentRecord) -> str:
    return f"{record.meta.title or record.source} · {record.source}"


@dataclass(frozen=True)
class Choices:
    """The filter dropdowns' choices as (label, value) pairs, "all" first."""

    bodies: list[tuple[str, str]]
    years: list[tuple[str, str]]
    documents: list[tuple[str, str]]

    @classmethod
    def of(
        cls, records: Sequence[DocumentRecord], body: str | None = None, year: str | None = None
    ) -> Choices:
        """All bodies; the years of the chosen body's reports; the reports of that body and year."""
        bodies = sorted({r.meta.body for r in records if r.meta.body})
        of_body = [r for r in records if body in (None, "", ALL) or r.meta.body == body]
        years = sorted({y for r in of_body for y in r.meta.years})
        chosen_year = int(year) if year and year != ALL and year.isdigit() else None
        docs = sorted(
            (r for r in of_body if chosen_year is None or chosen_year in r.meta.years), key=doc_label
        )
        return cls(
            bodies=[(ALL_LABEL, ALL), *((b, b) for b in bodies)],
            years=[(ALL_LABEL, ALL), *((f"{y}年", str(y)) for y in years)],
            documents=[(ALL_LABEL, ALL), *((doc_label(r), r.doc_id) for r in docs)],
        )


def keep(value: str | None, choices: list[tuple[str, str]]) -> str:
    """The current selection if it is still offered, else "all"."""
    return value if value in {v for _, v in choices} and value is not None else ALL


def filter_line(body: str | None, year: str | None, document: str | None = None) -> str:
    """The active filters as one short line for beside the input, e.g. ``筛选：东丽镇 · 2024年``.

    ``document`` is the chosen report's label (its title), not its id; "all" or empty means no filter.
    """
    chosen = [v for v in (body, f"{year}年" if year and year != ALL else None, document) if v and v != ALL]
    if not chosen:
        return '<div class="gq-filter-line gq-none">筛选：全部报告 · all reports</div>'
    return f'<div class="gq-filter-line">筛选：{esc(" · ".join(chosen))}</div>'


def file_result_html(source: str, ok: bool, detail: str) -> str:
    mark, cls = ("✔", "gq-ok") if ok else ("✖", "gq-fail")
    return f'<div class="gq-file {cls}">{mark} <b>{esc(source)}</b> — {esc(detail)}</div>'
