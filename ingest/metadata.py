"""What a report says about itself: whose report, delivered when and by whom, which years it covers.

Works on the cleaned text (``ingest.clean``) and never raises: a field that cannot be found is empty.

- **date**: the delivery line ``——2019年12月28日在…会议上`` (the notice date under the cover is when it
  was published, not delivered, and is ignored).
- **speaker / role / body**: the speaker line ``东丽镇人民政府镇长王明`` / ``北辰区人民政府代理区长李华``:
  the body is the X镇/X区/X街道/X乡/X县/X市 that precedes the role. Failing that, the body is the last
  such unit named in the delivery line (``在天津市北辰区河西镇第十九届…`` → 河西镇), then in a
  ``YYYY年X政府工作报告`` title.
- **title**: a ``YYYY年X政府工作报告`` line in the front matter, as written. Otherwise it is synthesised as
  ``{delivery year}年{body}政府工作报告`` — the delivery year names the report (a report delivered in
  January 2024 reviewing 2023 is the 2024 report). Document numbers such as ``北辰河政发〔2024〕1号`` and
  notice titles (``关于印发…的通知``) are never used.
- **years reviewed / planned**, from the part headings (``一、2019年工作回顾``, ``二、2020年工作安排``,
  ``一、过去五年工作回顾``, ``二、今后五年的目标任务``, ``三、2022年的重点工作``). A year written in a heading
  counts as is. "Past five years" ends the year before the first planned year (or, with no plan year,
  the delivery year if delivered in the second half of the year, else the year before); "next five
  years" starts the year after the last reviewed year.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from govqa import levels
from govqa.types import DocumentMeta
from govqa.years import COUNT, DATE, count_of, figure_years
from ingest.structure import LEVEL_PART, parse_sections

log = logging.getLogger(__name__)

_FRONT_LINES = 20  # the front matter is within the first lines of a report
_DELIVERY = re.compile(rf"——\s*{DATE}|[(（]\s*{DATE}\s*在")  # ——2023年2月10日在… / （2023年2月10日在…）
_DATE_ALONE = re.compile(rf"^[(（]?{DATE}[)）]?$")  # a date line alone under the title
_MEETING = re.compile(r"日\s*在(.+?会议)上?[)）]?$")
_BODY_UNIT = rf"(?:{levels.NATIONAL_BODY}|[\u4e00-\u9fff]{{1,12}}?(?:{levels.SUFFIX_PATTERN}))"
_SPEAKER = re.compile(
    rf"^(?P<body>{_BODY_UNIT})(?:人民政府|政府|街道办事处|办事处)?(?P<role>{levels.ROLE_PATTERN})"
    r"\s*(?P<name>[\u4e00-\u9fff·]{2,5})$"
)
_ROLE_NAME = re.compile(rf"^(?P<role>{levels.ROLE_PATTERN})(?P<name>[\u4e00-\u9fff·]{{2,4}})$")
_UNIT = re.compile(rf"[\u4e00-\u9fff]+?(?:{levels.SUFFIX_PATTERN})")
_DELIVERY_PLACE = re.compile(r"日在([\u4e00-\u9fff]+?)第?[一二三四五六七八九十]+届")
_TITLE = re.compile(r"^(\d{4})\s*年(?P<body>[\u4e00-\u9fff]{0,20}?)政府工作报告$")
_TITLE_NO_YEAR = re.compile(r"^(?P<body>[\u4e00-\u9fff]{0,20}?)政府工作报告$")
# "现在，我代表东丽区人民政府，向大会报告政府工作": the body in the opening sentence
_ON_BEHALF = re.compile(r"我代表([\u4e00-\u9fff]{2,20}?)(?:人民政府|政府)?\s*[,，、]?\s*向")
_YEAR = re.compile(r"(\d{4})\s*年")
_REVIEW = re.compile(r"回顾|总结|过去|以来")
_PLAN = re.compile(r"安排|计划|目标|任务|重点工作|今后|展望")
# 过去五年 / 过去三年及2022年 / 今后五年: a heading about several years (a count, not a year like 2022年)
_SPAN_YEARS = re.compile(rf"(?:过去|今后|未来|近)(?:的)?(?P<n>{COUNT})\s*年|五年")


def _span_years(heading: str) -> int:
    """How many years a heading spans (过去三年 → 3; 五年 → 5), 0 when it names no span."""
    m = _SPAN_YEARS.search(heading)
    if not m:
        return 0
    n = m.group("n")
    if n is None:
        return 5
    return count_of(n)


_SECOND_HALF = 7  # a report delivered from July on reviews its own year


def extract_metadata(text: str, source: str = "") -> DocumentMeta:
    """Read body, title, delivery date, speaker and covered years from a cleaned report."""
    try:
        return _extract(text)
    except Exception:  # metadata is best effort: never fail ingestion over it
        log.warning("could not read metadata from %s", source or "text", exc_info=True)
        return DocumentMeta()


def _extract(text: str) -> DocumentMeta:
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    front = lines[:_FRONT_LINES]
    date = _delivery_date(front)
    body, role, speaker = _speaker(front)
    if not body:
        body = _body_from_delivery(front) or _body_from_title(front) or _body_on_behalf(front)
    reviewed, planned = _years(text, date)
    stated = figure_years(text) - ({date.year} if date else set())  # not the delivery date's year
    return DocumentMeta(
        body=body,
        title=_title(front, body, date),
        date=date.isoformat() if date else "",
        speaker=speaker,
        speaker_role=role,
        meeting=_meeting(front),
        years_reviewed=reviewed,
        years_planned=planned,
        years_stated=tuple(sorted(stated - {*reviewed, *planned})),
    )


def _delivery_date(lines: list[str]) -> dt.date | None:
    """The date of the ``——date在…会议上`` line; failing that, a date written alone on a line."""
    for pattern in (_DELIVERY, _DATE_ALONE):
        for line in lines:
            if m := pattern.match(line):
                try:
                    y, mo, d = (int(g) for g in m.groups() if g is not None)
                    return dt.date(y, mo, d)
                except ValueError:
                    log.debug("invalid delivery date in %r", line)
                    return None
    return None


def _meeting(lines: list[str]) -> str:
    """第十四届全国人民代表大会第三次会议, from the delivery line."""
    for line in lines:
        if _DELIVERY.match(line) and (m := _MEETING.search(line.replace(" ", ""))):
            return m.group(1)
    return ""


def _speaker(lines: list[str]) -> tuple[str, str, str]:
    """(body, role, name) from a speaker line such as 东丽镇人民政府镇长王明."""
    for line in lines:
        if m := _SPEAKER.match(line.replace(" ", "")):
            body = m.group("body")
            body = body if body == levels.NATIONAL_BODY else _last_unit(body)
            return body, m.group("role"), m.group("name")
    for line in lines:  # 县长 林卫东: the role and the name alone (the body comes from elsewhere)
        if m := _ROLE_NAME.match(line.replace(" ", "").replace("\u3000", "")):
            return "", m.group("role"), m.group("name")
    return "", "", ""


def _body_from_delivery(lines: list[str]) -> str:
    for line in lines:
        if not _DELIVERY.match(line):
            continue
        if (
            levels.NATIONAL_CONGRESS in line
        ):  # 在第十四届全国人民代表大会第三次会议上: the State Council's report
            return levels.NATIONAL_BODY
        if m := _DELIVERY_PLACE.search(line):
            return _last_unit(m.group(1))
    return ""


def _body_from_title(lines: list[str]) -> str:
    for line in lines:
        m = _TITLE.match(line) or _TITLE_NO_YEAR.match(line)
        if m and m.group("body"):
            return _last_unit(m.group("body"))
    return ""


def _body_on_behalf(lines: list[str]) -> str:
    """我代表国务院 / 我代表东丽区人民政府 in the opening sentence."""
    for line in lines:
        if m := _ON_BEHALF.search(line):
            name = m.group(1)
            return name if name == levels.NATIONAL_BODY else _last_unit(name)
    return ""


def _last_unit(place: str) -> str:
    """天津市北辰区河西镇 → 河西镇: the smallest administrative unit named."""
    units = _UNIT.findall(place)
    return units[-1] if units else ""


def _title(lines: list[str], body: str, date: dt.date | None) -> str:
    for line in lines:
        if _TITLE.match(line):
            return line.replace(" ", "")
    if body and date:
        return f"{date.year}年{body}政府工作报告"
    return f"{body}政府工作报告" if body else ""


def _years(text: str, date: dt.date | None) -> tuple[tuple[int, ...], tuple[int, ...]]:
    parts = [s.heading for s in parse_sections(text) if s.level == LEVEL_PART]
    reviewed: set[int] = set()
    planned: set[int] = set()
    unmarked: set[int] = set()  # years in a heading that says neither review nor plan
    n_back = n_ahead = 0  # the years a 过去三年 / 今后五年 heading spans
    for heading in parts:
        years = {int(y) for y in _YEAR.findall(heading)}
        if _REVIEW.search(heading):
            reviewed |= years
            n_back = max(n_back, _span_years(heading))
        elif _PLAN.search(heading):
            planned |= years
            n_ahead = max(n_ahead, _span_years(heading))
        else:
            unmarked |= years
    # 二、2025年经济社会发展总体要求和政策取向: a year after the reviewed ones is a year the report plans
    planned |= {y for y in unmarked if reviewed and y > max(reviewed)}
    if n_back > 1:
        end = _review_end(reviewed, planned, date)
        if end:
            reviewed |= set(range(end - n_back + 1, end + 1))
    if n_ahead > 1:
        start = max(reviewed) + 1 if reviewed else min(planned) if planned else 0
        if not start and date:
            start = date.year + 1 if date.month >= _SECOND_HALF else date.year
        if start:
            planned |= set(range(start, start + n_ahead))
    if date and not reviewed and not planned:
        # no year in the headings: a report delivered in March 2025 reviews 2024 and plans 2025
        plan_year = date.year + 1 if date.month >= _SECOND_HALF else date.year
        reviewed, planned = {plan_year - 1}, {plan_year}
    elif reviewed and not planned:
        planned = {max(reviewed) + 1}
    elif planned and not reviewed:
        reviewed = {min(planned) - 1}
    return tuple(sorted(reviewed)), tuple(sorted(planned))


def _review_end(reviewed: set[int], planned: set[int], date: dt.date | None) -> int:
    if planned:
        return min(planned) - 1
    if reviewed:
        return max(reviewed)
    if date:
        return date.year if date.month >= _SECOND_HALF else date.year - 1
    return 0
