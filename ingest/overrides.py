"""Metadata the user sets when a report's title block does not say it.

Two ways, the same fields: ``govqa ingest --body 东丽区 --year 2022 FILE`` (applies to every file of the
run) and a sidecar JSON file next to the report, ``<report file name>.meta.json``::

    {"body": "东丽区", "year": 2022, "speaker": "…", "date": "2022-01-10",
     "years_reviewed": [2021], "years_planned": [2022]}

``year`` is the report's year — the year it plans, as a report delivered in January–June is named
(``2022年…政府工作报告`` reviews 2021 and plans 2022); explicit ``years_reviewed``/``years_planned`` win.
A value the user sets replaces what was read from the text; a field the user leaves out keeps it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

from govqa.errors import InputFileError
from govqa.types import DocumentMeta

log = logging.getLogger(__name__)

SIDECAR_SUFFIX = ".meta.json"
_TEXT_FIELDS = ("body", "title", "date", "speaker", "speaker_role", "meeting")
_ALLOWED = {*_TEXT_FIELDS, "year", "years_reviewed", "years_planned"}


def sidecar_for(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def read_sidecar(path: Path) -> dict[str, Any]:
    """The overrides in ``<path>.meta.json``, or {} when there is none."""
    side = sidecar_for(path)
    if not side.is_file():
        return {}
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputFileError(side.name, f"cannot read the metadata sidecar: {e}") from e
    if not isinstance(data, dict):
        raise InputFileError(side.name, "the metadata sidecar must hold a JSON object")
    check_overrides(data, side.name)
    return data


def check_overrides(data: dict[str, Any], where: str = "metadata") -> None:
    unknown = sorted(set(data) - _ALLOWED)
    if unknown:
        raise InputFileError(where, f"unknown metadata fields {unknown}; allowed: {sorted(_ALLOWED)}")
    year = data.get("year")
    if year is not None and not (isinstance(year, int) and 1949 <= year <= 2100):
        raise InputFileError(where, f"year must be a year between 1949 and 2100, got {year!r}")


def apply_overrides(meta: DocumentMeta, data: dict[str, Any]) -> DocumentMeta:
    """``meta`` with the user's values in place of what was read (empty values are ignored)."""
    changes: dict[str, Any] = {k: str(data[k]) for k in _TEXT_FIELDS if data.get(k)}
    year = data.get("year")
    if year:
        changes["years_reviewed"] = (int(year) - 1,)
        changes["years_planned"] = (int(year),)
    for key in ("years_reviewed", "years_planned"):
        if data.get(key):
            changes[key] = tuple(sorted(int(y) for y in data[key]))
    if not changes:
        return meta
    out = dataclasses.replace(meta, **changes)
    if "title" not in changes and (changes.keys() & {"body", "years_reviewed", "years_planned"}):
        report_year = year or (out.years_planned[0] if out.years_planned else 0)
        if out.body:
            out = dataclasses.replace(
                out,
                title=f"{report_year}年{out.body}政府工作报告" if report_year else f"{out.body}政府工作报告",
            )
    log.debug("metadata set by the user: %s", changes)
    return out
