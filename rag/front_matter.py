"""Questions about a report itself — who delivered it, when and at which meeting, its document number.

Their answers sit in the report's front matter (the cover notice and the speech header), in lines that
share no words with the question ("由谁作？" vs "东丽镇人民政府镇长王明"), so ranking by similarity
misses them. Here they are read directly from the chosen report's first chunks. Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from govqa.types import Chunk
from govqa.years import DATE
from rag.question import QuestionInfo
from rag.scope import DocInfo

SPEAKER = "speaker"
DELIVERY = "delivery"
DOC_NUMBER = "doc_number"

_ABOUT_REPORT = re.compile(r"报告|\breport\b", re.IGNORECASE)
_INTENTS = (
    (
        SPEAKER,
        re.compile(
            r"谁|报告人|哪位.{0,4}(?:镇长|区长|领导)|\bwho\b|\bspeaker\b|\bby whom\b|\bdelivered by\b",
            re.IGNORECASE,
        ),
    ),
    (
        DELIVERY,
        re.compile(
            r"哪天|哪一天|哪日|什么时候|何时|什么日期|日期|哪次会议|什么会议|哪届|几次会议"
            r"|\bwhat date\b|\bon what day\b|\bwhen\b|\bwhich (?:meeting|session|congress)\b|\bwhat (?:meeting|session)\b",
            re.IGNORECASE,
        ),
    ),
    (DOC_NUMBER, re.compile(r"文号|发文字号|文件编号|\bdocument number\b|\bfile number\b", re.IGNORECASE)),
)
_DELIVERY_LINE = re.compile(r"——|[(（]\s*\d{4}\s*年")  # ——2024年1月…会议上 / （2023年2月10日在…会议上）
_DOC_NUMBER_LINE = re.compile(r"[\u4e00-\u9fff]+[〔\[［(（]\d{4}[〕\]］)）]\d+号")


def intents(info: QuestionInfo) -> tuple[str, ...]:
    """Which report facts the question asks for (empty for an ordinary question)."""
    if not _ABOUT_REPORT.search(info.text):
        return ()
    return tuple(name for name, pattern in _INTENTS if pattern.search(info.text))


def pick_document(info: QuestionInfo, docs: Sequence[DocInfo]) -> DocInfo | None:
    """The report the question means: its title names the asked year, else it was delivered in it."""
    if not docs:
        return None
    years = set(info.years) | set(info.report_years)

    def rank(d: DocInfo) -> tuple[int, int, str]:
        title_year = any(f"{y}年" in d.meta.title for y in years)
        date_year = any(d.meta.date.startswith(str(y)) for y in years)
        return (0 if title_year else 1, 0 if date_year else 1, d.meta.date)

    return sorted(docs, key=rank)[0]


def _lines(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for part in text.split("\n"):
        end = start + len(part)
        if part.strip():
            spans.append((start, end))
        start = end + 1
    return spans


def answer_spans(wanted: Sequence[str], chunk: Chunk) -> list[tuple[int, int]]:
    """Local spans in ``chunk.text`` of the front-matter lines that answer ``wanted`` intents."""
    out = []
    for start, end in _lines(chunk.text):
        line = chunk.text[start:end].strip()
        speaker = chunk.meta.speaker
        if (
            (SPEAKER in wanted and speaker and speaker in line and len(line) <= 40)
            or (DELIVERY in wanted and _DELIVERY_LINE.match(line) and "会议" in line)
            or (DOC_NUMBER in wanted and _DOC_NUMBER_LINE.fullmatch(line))
        ):
            out.append((start, end))
    if DELIVERY in wanted and not any(_DELIVERY_LINE.match(chunk.text[s:e].strip()) for s, e in out):
        out += _date_lines(chunk)
    return out


_DATE_ALONE = re.compile(rf"[(（]?{DATE}[)）]?")


def _date_lines(chunk: Chunk) -> list[tuple[int, int]]:
    """A header without a ``——…会议上`` line: the date line alone that is the report's delivery date."""
    if not chunk.meta.date:
        return []
    out = []
    for start, end in _lines(chunk.text):
        m = _DATE_ALONE.fullmatch(chunk.text[start:end].strip())
        if m and "-".join(f"{int(g):02d}" for g in m.groups()) == chunk.meta.date:
            out.append((start, end))
    return out[:1]


def find(wanted: Sequence[str], chunks: Sequence[Chunk]) -> tuple[Chunk, list[tuple[int, int]]] | None:
    """The first front-matter chunk (in document order) holding the wanted lines."""
    for chunk in sorted(chunks, key=lambda c: c.ordinal)[:4]:
        spans = answer_spans(wanted, chunk)
        if spans:
            return chunk, spans
    return None
