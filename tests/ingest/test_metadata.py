"""extract_metadata: the README table for the five samples, the title rule, no crash on odd text."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from govqa.types import DocumentMeta
from ingest.clean import clean_text
from ingest.metadata import extract_metadata

FIVE_2017 = (2017, 2018, 2019, 2020, 2021)
FIVE_2022 = (2022, 2023, 2024, 2025, 2026)

# data/samples/README.md, with the titles the rule in ingest.metadata gives: as written when the report
# has a ``YYYY年X政府工作报告`` title, else the delivery year + body (never the document number).
EXPECTED = {
    "003": DocumentMeta(
        "精武镇",
        "2019年精武镇政府工作报告",
        "2019-12-28",
        "徐海权",
        "镇长",
        (2019,),
        (2020,),
        years_stated=(2018,),  # 2018年度经济责任审计
    ),
    "000": DocumentMeta(
        "精武镇", "2021年精武镇政府工作报告", "2021-11-09", "乔金星", "镇长", FIVE_2017, FIVE_2022
    ),
    "002": DocumentMeta(
        "西青区", "2021年西青区政府工作报告", "2021-12-12", "殷学武", "代理区长", FIVE_2017, FIVE_2022
    ),
    "004": DocumentMeta(
        "张家窝镇", "2024年张家窝镇政府工作报告", "2024-01-18", "赵林", "镇长", (2023,), (2024,)
    ),
    "001": DocumentMeta(
        "精武镇",
        "2024年精武镇政府工作报告",
        "2024-12-30",
        "张艳红",
        "镇长",
        (2024,),
        (2025,),
        years_stated=(2023,),  # 2023年天津市新时代文明实践示范所 (not the 2026 of 2024-2026年)
    ),
}


def _meta(samples_dir: Path, prefix: str) -> DocumentMeta:
    (path,) = samples_dir.glob(f"{prefix}_*.txt")
    return extract_metadata(clean_text(path.read_text(encoding="utf-8")), path.name)


@pytest.mark.parametrize("prefix", sorted(EXPECTED))
def test_sample_metadata(samples_dir: Path, prefix: str) -> None:
    meta = _meta(samples_dir, prefix)
    assert meta.meeting.endswith("人民代表大会第" + meta.meeting.split("人民代表大会第")[-1])
    assert dataclasses.replace(meta, meeting="") == EXPECTED[prefix]


def _readme_rows(samples_dir: Path) -> dict[str, dict[str, str]]:
    rows = {}
    for line in (samples_dir / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0].endswith(".txt"):
            rows[cells[0][:3]] = dict(
                zip(("file", "body", "report", "delivered", "reviews", "plans"), cells, strict=True)
            )
    return rows


def test_readme_table_agrees(samples_dir: Path) -> None:
    """Cross-check against the README itself, so the expectations above cannot drift from it."""
    rows = _readme_rows(samples_dir)
    assert sorted(rows) == sorted(EXPECTED)
    for prefix, row in rows.items():
        meta = _meta(samples_dir, prefix)
        assert meta.body == row["body"]
        assert row["delivered"] == f"{meta.date}, {meta.speaker_role} {meta.speaker}"
        assert meta.body in row["report"]
        reviews = {int(y) for y in re.findall(r"\d{4}", row["reviews"])}
        plans = {int(y) for y in re.findall(r"\d{4}", row["plans"])}
        assert set(meta.years_reviewed) >= reviews and min(meta.years_reviewed) == min(reviews)
        assert set(meta.years_planned) >= plans and max(meta.years_reviewed) < min(meta.years_planned)


def test_title_keeps_the_document_number_out(samples_dir: Path) -> None:
    meta = _meta(samples_dir, "004")
    assert "〔" not in meta.title and "发" not in meta.title


# --- the rules on small texts ---------------------------------------------------------------------

HEADER = "政府工作报告\n——{date}在天津市西青区{place}第一届人民代表大会第一次会议上\n{speaker}\n各位代表：\n"


def _report(
    date: str = "2022年1月10日", place: str = "某某镇", speaker: str = "某某镇镇长王五", parts: str = ""
) -> str:
    return HEADER.format(date=date, place=place, speaker=speaker) + parts


def test_title_is_synthesised_from_delivery_year_and_body() -> None:
    meta = extract_metadata(_report(parts="一、2021年工作回顾\n正文。\n二、2022年工作安排\n正文。"))
    assert meta.title == "2022年某某镇政府工作报告"
    assert (meta.body, meta.date, meta.speaker, meta.speaker_role) == ("某某镇", "2022-01-10", "王五", "镇长")
    assert (meta.years_reviewed, meta.years_planned) == ((2021,), (2022,))


def test_a_written_title_is_used_as_is() -> None:
    meta = extract_metadata("2021年某某镇政府工作报告\n" + _report())
    assert meta.title == "2021年某某镇政府工作报告"


@pytest.mark.parametrize(
    ("speaker", "body", "role", "name"),
    [
        ("精武镇人民政府镇长徐海权", "精武镇", "镇长", "徐海权"),
        ("西青区人民政府代理区长殷学武", "西青区", "代理区长", "殷学武"),
        ("张家窝镇镇长 赵林", "张家窝镇", "镇长", "赵林"),
        ("天津市西青区人民政府区长李四", "西青区", "区长", "李四"),
        ("杨柳青街道办事处主任赵六", "杨柳青街道", "主任", "赵六"),
    ],
)
def test_speaker_line(speaker: str, body: str, role: str, name: str) -> None:
    meta = extract_metadata(_report(speaker=speaker))
    assert (meta.body, meta.speaker_role, meta.speaker) == (body, role, name)


def test_body_falls_back_to_the_delivery_line() -> None:
    meta = extract_metadata(_report(place="张家窝镇", speaker="各位代表："))
    assert (meta.body, meta.speaker) == ("张家窝镇", "")


def test_past_five_years_end_before_the_first_planned_year() -> None:
    parts = "一、过去五年工作回顾\n正文。\n二、今后五年的目标任务\n正文。\n三、2022年的重点工作\n正文。"
    meta = extract_metadata(_report(date="2021年12月12日", parts=parts))
    assert (meta.years_reviewed, meta.years_planned) == (FIVE_2017, FIVE_2022)


@pytest.mark.parametrize(("date", "last_reviewed"), [("2021年11月9日", 2021), ("2022年1月10日", 2021)])
def test_past_five_years_without_a_plan_year_follow_the_delivery_date(date: str, last_reviewed: int) -> None:
    meta = extract_metadata(_report(date=date, parts="一、过去五年工作的回顾\n正文。"))
    assert meta.years_reviewed == tuple(range(last_reviewed - 4, last_reviewed + 1))
    assert meta.years_planned == (last_reviewed + 1,)  # a report plans the year after the one it reviews


def test_invalid_delivery_date_is_left_empty() -> None:
    assert extract_metadata(_report(date="2021年13月40日")).date == ""


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello world",
        "一、\n（一）\n二、",
        "——2019年13月40日在",
        "精武镇镇长",
        "政府工作报告\n" * 50,
        "".join(chr(c) for c in range(0x20, 0x3000, 7)),
        "一、过去五年工作回顾\n二、今后五年",
        "\x00\ufffd" * 10,
    ],
)
def test_arbitrary_text_gives_empty_fields_not_errors(text: str) -> None:
    meta = extract_metadata(text, "odd.txt")
    assert isinstance(meta, DocumentMeta)
    assert meta.date == "" and meta.speaker == ""
