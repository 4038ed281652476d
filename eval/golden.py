"""Golden question sets: the JSONL format, loading it, and checking it against the reports.

A golden set is one JSON object per line (the format is documented in ``eval/README.md``). Loading
checks the shape of every line and fails on the first malformed one, naming its line number and
field. Validation checks the content against the report files and returns every problem it finds:
quotes that are not in the cited report, expected answer strings that no quote supports, duplicate
ids, and "absent" terms of unanswerable questions that do occur in some report.

All text comparisons are whitespace-insensitive (see :func:`normalize_ws`) because the reports are
PDF extractions whose line breaks and spaces ("18 亿元", "2024年 12月") are noise.

Run ``python -m eval.golden eval/golden.jsonl --reports data/samples`` to validate a set.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govqa.errors import ConfigError, GovQAError

logger = logging.getLogger(__name__)

TYPES = ("fact", "disambiguation", "multi_hop", "crosslingual", "unanswerable", "overview", "comparison")
LANGS = ("zh", "en")
HEADING_SEP = " › "
REPORT_SUFFIXES = (".txt", ".md")

_REQUIRED = ("id", "lang", "type", "question", "answer", "must_include", "sources")
_OPTIONAL = ("must_include_any", "absent", "derived")
_SOURCE_FIELDS = ("file", "heading", "quote")
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class GoldenSource:
    """Where the answer is written: a report file, the heading path above the quote, a verbatim quote."""

    file: str
    heading: str
    quote: str

    @property
    def heading_parts(self) -> tuple[str, ...]:
        """The heading path split on " › " (empty for front matter before the first heading)."""
        return tuple(part.strip() for part in self.heading.split(HEADING_SEP.strip()) if part.strip())


@dataclass(frozen=True)
class GoldenItem:
    """One evaluation question with its reference answer and the strings a correct answer must contain."""

    id: str
    lang: str
    type: str
    question: str
    answer: str
    must_include: tuple[str, ...] = ()
    must_include_any: tuple[tuple[str, ...], ...] = ()
    sources: tuple[GoldenSource, ...] = ()
    absent: tuple[str, ...] = ()
    # computed statements a correct answer makes that no quote holds (a comparison's 减少7.2亿元)
    derived: tuple[str, ...] = ()
    line: int = field(default=0, compare=False)  # line number in the JSONL file, for messages


def normalize_ws(text: str) -> str:
    """Delete all whitespace and markdown ``**`` so PDF line breaks and spaces inside numbers don't matter."""
    return _WS.sub("", text).replace("**", "")


# --- loading -------------------------------------------------------------------------------------------


def load_golden(path: str | Path) -> list[GoldenItem]:
    """Read a golden-set JSONL file. Blank lines are skipped.

    Raises ``ConfigError`` naming the file, the line number and the field for the first malformed line.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"golden set {path} does not exist; pass the path of a .jsonl file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"golden set {path} cannot be read as UTF-8 text: {exc}") from exc

    items: list[GoldenItem] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        items.append(_parse_line(line, path, lineno))
    logger.debug("loaded %d golden items from %s", len(items), path)
    return items


def _parse_line(line: str, path: Path, lineno: int) -> GoldenItem:
    where = f"{path}:{lineno}"
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{where}: not valid JSON ({exc.msg} at column {exc.colno}); each line must be one JSON object"
        ) from None
    if not isinstance(obj, dict):
        raise ConfigError(f"{where}: expected a JSON object, got {type(obj).__name__}")

    missing = [key for key in _REQUIRED if key not in obj]
    if missing:
        raise ConfigError(f"{where}: missing field(s) {', '.join(missing)}")
    unknown = sorted(set(obj) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        allowed = ", ".join(_REQUIRED + _OPTIONAL)
        raise ConfigError(f"{where}: unknown field(s) {', '.join(unknown)}; allowed fields are {allowed}")

    def text_field(key: str) -> str:
        value = obj[key]
        if not isinstance(value, str):
            raise ConfigError(f"{where}: field '{key}' must be a string, got {value!r}")
        return value

    def str_list(key: str, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise ConfigError(f"{where}: field '{key}' must be a list of non-empty strings, got {value!r}")
        return tuple(value)

    item_id = text_field("id")
    if not item_id.strip():
        raise ConfigError(f"{where}: field 'id' must not be empty")
    question = text_field("question")
    if not question.strip():
        raise ConfigError(f"{where}: field 'question' must not be empty")

    groups_raw = obj.get("must_include_any", [])
    if not isinstance(groups_raw, list):
        raise ConfigError(f"{where}: field 'must_include_any' must be a list of lists, got {groups_raw!r}")
    groups: list[tuple[str, ...]] = []
    for i, group in enumerate(groups_raw):
        members = str_list(f"must_include_any[{i}]", group)
        if not members:
            raise ConfigError(f"{where}: field 'must_include_any[{i}]' is an empty group")
        groups.append(members)

    sources_raw = obj["sources"]
    if not isinstance(sources_raw, list):
        raise ConfigError(f"{where}: field 'sources' must be a list, got {sources_raw!r}")
    sources = tuple(_parse_source(src, where, f"sources[{i}]") for i, src in enumerate(sources_raw))

    return GoldenItem(
        id=item_id,
        lang=text_field("lang"),
        type=text_field("type"),
        question=question,
        answer=text_field("answer"),
        must_include=str_list("must_include", obj["must_include"]),
        must_include_any=tuple(groups),
        sources=sources,
        absent=str_list("absent", obj.get("absent", [])),
        derived=str_list("derived", obj.get("derived", [])),
        line=lineno,
    )


def _parse_source(src: Any, where: str, name: str) -> GoldenSource:
    if not isinstance(src, dict):
        raise ConfigError(f"{where}: field '{name}' must be an object with file, heading, quote; got {src!r}")
    for key in _SOURCE_FIELDS:
        if not isinstance(src.get(key), str):
            raise ConfigError(f"{where}: field '{name}.{key}' must be a string, got {src.get(key)!r}")
    unknown = sorted(set(src) - set(_SOURCE_FIELDS))
    if unknown:
        raise ConfigError(
            f"{where}: field '{name}' has unknown field(s) {', '.join(unknown)}; allowed: file, heading, quote"
        )
    return GoldenSource(file=src["file"], heading=src["heading"], quote=src["quote"])


# --- validation ----------------------------------------------------------------------------------------


def read_report(path: Path) -> str:
    """A report's text as gold quotes are written against: a .txt/.md file as it is; a .docx or .pdf as
    the ingest loader reads it (paragraphs and tables, the text layer or OCR)."""
    if path.suffix.lower() in REPORT_SUFFIXES:
        return path.read_text(encoding="utf-8")
    from ingest.limits import MB
    from ingest.loaders import load_file

    return load_file(path, max_bytes=200 * MB).text


def load_reports(reports_dir: str | Path) -> dict[str, str]:
    """Map each report file name in ``reports_dir`` to its whitespace-normalized text."""
    from ingest.loaders import SUPPORTED_SUFFIXES

    reports_dir = Path(reports_dir)
    if not reports_dir.is_dir():
        raise ConfigError(f"reports directory {reports_dir} does not exist")
    reports = {
        p.name: normalize_ws(read_report(p))
        for p in sorted(reports_dir.iterdir())
        if p.suffix.lower() in SUPPORTED_SUFFIXES and p.name.lower() != "readme.md"
    }
    if not reports:
        raise ConfigError(f"no reports ({', '.join(SUPPORTED_SUFFIXES)}) in {reports_dir}")
    return reports


def validate_golden(items: Sequence[GoldenItem], reports_dir: str | Path) -> list[str]:
    """Check a loaded golden set against the reports; return human-readable problems (empty if none)."""
    reports = load_reports(reports_dir)
    problems: list[str] = []

    counts = Counter(item.id for item in items)
    for item_id, n in sorted(counts.items()):
        if n > 1:
            lines = ", ".join(str(item.line) for item in items if item.id == item_id)
            problems.append(f"{item_id}: duplicate id ({n} items, lines {lines})")

    for item in items:
        problems.extend(f"{item.id} (line {item.line}): {p}" for p in _item_problems(item, reports))
    return problems


def _item_problems(item: GoldenItem, reports: dict[str, str]) -> list[str]:
    problems: list[str] = []
    if item.type not in TYPES:
        problems.append(f"type must be one of {', '.join(TYPES)}, got {item.type!r}")
    if item.lang not in LANGS:
        problems.append(f"lang must be one of {', '.join(LANGS)}, got {item.lang!r}")

    if item.type == "unanswerable":
        if item.sources:
            problems.append("unanswerable item must have no sources")
        if item.must_include or item.must_include_any:
            problems.append("unanswerable item must have empty must_include and must_include_any")
        if item.answer:
            problems.append('unanswerable item must have answer ""')
    else:
        if not item.answer.strip():
            problems.append("answer is empty")
        if not item.sources:
            problems.append("answerable item needs at least one source")
        if not item.must_include and not item.must_include_any:
            problems.append("answerable item needs must_include or must_include_any")
        if item.type in ("multi_hop", "comparison") and len(item.sources) < 2:
            problems.append(f"multi_hop item needs at least 2 sources, got {len(item.sources)}")

    quotes: list[str] = []
    for i, src in enumerate(item.sources):
        text = reports.get(src.file)
        if text is None:
            problems.append(f"sources[{i}]: unknown file {src.file!r}")
            continue
        quote = normalize_ws(src.quote)
        if not quote:
            problems.append(f"sources[{i}]: quote is empty")
            continue
        if quote not in text:
            problems.append(f"sources[{i}]: quote not found in {src.file}: {src.quote!r}")
            continue
        quotes.append(quote)
        parts = [normalize_ws(part) for part in src.heading_parts]
        missing = [part for part in src.heading_parts if normalize_ws(part) not in text]
        if missing:
            problems.extend(f"sources[{i}]: heading part not found in {src.file}: {p!r}" for p in missing)
        elif not _heading_precedes(text, parts, quote):
            problems.append(
                f"sources[{i}]: heading {src.heading!r} does not come before the quote in {src.file}; "
                "give the part and section the quote sits under"
            )

    for value in item.must_include:
        if not any(normalize_ws(value) in q for q in quotes):
            problems.append(f"must_include {value!r} is in none of the item's quotes")
    for group in item.must_include_any:
        if not any(normalize_ws(member) in q for member in group for q in quotes):
            problems.append(f"no member of must_include_any group {list(group)!r} is in the item's quotes")

    for term in item.absent:
        found = [name for name, text in reports.items() if normalize_ws(term) in text]
        if found:
            problems.append(f"absent term {term!r} occurs in {', '.join(found)}")
    return problems


def _heading_precedes(text: str, parts: Sequence[str], quote: str) -> bool:
    """True if some occurrence of ``quote`` has the heading parts before it, in order."""
    start = text.find(quote)
    while start >= 0:
        end = start
        for part in reversed(parts):
            end = text.rfind(part, 0, end)
            if end < 0:
                break
        else:
            return True
        start = text.find(quote, start + 1)
    return False


# --- command line --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Validate a golden set: print every problem and return 1 if there are any, else print a summary."""
    parser = argparse.ArgumentParser(
        prog="python -m eval.golden", description="Validate a golden question set against the reports."
    )
    parser.add_argument("golden", type=Path, help="golden-set JSONL file, e.g. eval/golden.jsonl")
    parser.add_argument("--reports", type=Path, default=Path("data/samples"), help="folder of report files")
    args = parser.parse_args(argv)

    try:
        items = load_golden(args.golden)
        problems = validate_golden(items, args.reports)
    except GovQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    for problem in problems:
        print(problem)
    by_type = Counter(item.type for item in items)
    summary = ", ".join(f"{t} {by_type[t]}" for t in TYPES if by_type[t])
    if problems:
        print(f"{len(problems)} problem(s) in {len(items)} items ({summary})", file=sys.stderr)
        return 1
    print(f"{args.golden}: {len(items)} items, no problems ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
