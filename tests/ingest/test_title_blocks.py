"""Title blocks in layouts the samples do not use: the national report, no body name, a date line alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from govqa.errors import InputFileError
from govqa.types import DocumentMeta
from ingest.clean import clean_text
from ingest.document import make_document
from ingest.metadata import extract_metadata
from ingest.overrides import apply_overrides, read_sidecar, sidecar_for
from ingest.structure import parse_sections

NATIONAL = """政府工作报告
——2025 年 3 月 5 日在第十四届全国人民代表大会第三次会议上
国务院总理 李强
各位代表:
现在,我代表国务院,向大会报告政府工作,请予审议。
一、2024 年工作回顾
过去一年,国内生产总值达到 134.9 万亿元、增长 5%。
二、2025 年经济社会发展总体要求和政策取向
今年发展主要预期目标是:国内生产总值增长5%左右。
"""

SPEAKER_FIRST = """东丽区人民政府区长 王某某
2022年东丽区政府工作报告
——2022年1月10日在东丽区第十八届人民代表大会第二次会议上
一、2021年工作回顾
地区生产总值增长6%。
二、2022年主要工作
"""

NO_BODY = """政府工作报告
2023年2月15日
各位代表：
现在，我代表镇人民政府，向大会报告工作，请予审议。
一、过去一年工作
全镇税收收入完成3.2亿元。
二、今年工作安排
"""


def _meta(text: str) -> DocumentMeta:
    return extract_metadata(clean_text(text))


def test_national_title_block() -> None:
    meta = _meta(NATIONAL)
    assert meta.body == "国务院"
    assert meta.date == "2025-03-05"
    assert (meta.speaker, meta.speaker_role) == ("李强", "总理")
    assert meta.meeting == "第十四届全国人民代表大会第三次会议"
    assert meta.years_reviewed == (2024,)
    assert meta.years_planned == (2025,)
    assert meta.title == "2025年国务院政府工作报告"
    assert meta.missing == ()


def test_speaker_line_before_the_title() -> None:
    meta = _meta(SPEAKER_FIRST)
    assert (meta.body, meta.speaker, meta.speaker_role) == ("东丽区", "王某某", "区长")
    assert meta.title == "2022年东丽区政府工作报告"
    assert (meta.years_reviewed, meta.years_planned) == ((2021,), (2022,))


def test_no_body_name_is_recorded_as_missing_and_years_follow_the_date() -> None:
    meta = _meta(NO_BODY)
    assert meta.body == ""
    assert meta.date == "2023-02-15"  # a date line alone
    assert (meta.years_reviewed, meta.years_planned) == ((2022,), (2023,))
    assert meta.missing == ("body",)


def test_user_set_metadata_replaces_what_was_read() -> None:
    meta = apply_overrides(_meta(NO_BODY), {"body": "河口镇", "year": 2023})
    assert meta.body == "河口镇"
    assert meta.title == "2023年河口镇政府工作报告"
    assert (meta.years_reviewed, meta.years_planned) == ((2022,), (2023,))
    assert meta.missing == ()


def test_sidecar_file(tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    report.write_text(NO_BODY, encoding="utf-8")
    sidecar_for(report).write_text(json.dumps({"body": "河口镇", "speaker": "李某"}), encoding="utf-8")
    doc = make_document(report.name, NO_BODY, "x", read_sidecar(report))
    assert (doc.meta.body, doc.meta.speaker) == ("河口镇", "李某")
    assert read_sidecar(tmp_path / "other.txt") == {}


def test_bad_sidecar_is_an_input_error(tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    sidecar_for(report).write_text(json.dumps({"bodee": "x"}), encoding="utf-8")
    with pytest.raises(InputFileError, match="unknown metadata fields"):
        read_sidecar(report)


def test_a_delivery_line_in_parentheses_and_a_speaker_without_the_body() -> None:
    """（2023年2月10日在…会议上） instead of a —— line; '县长 林卫东' without the body's name."""
    text = clean_text(
        "北辰县政府工作报告\n（2023年2月10日在北辰县第十八届人民代表大会第二次会议上）\n县长 王明\n各位代表：\n"
        "现在，我代表县人民政府向大会报告工作。\n一、2022年工作回顾\n全年实现地区生产总值328.6亿元。\n"
        "二、2023年工作安排\n力争增长6%。"
    )
    meta = extract_metadata(text)
    assert (meta.body, meta.date, meta.speaker_role, meta.speaker) == ("北辰县", "2023-02-10", "县长", "王明")
    assert meta.meeting == "北辰县第十八届人民代表大会第二次会议"
    assert parse_sections(text)[0].heading_path == ("北辰县政府工作报告",)  # the header has its title


def test_a_review_of_the_past_three_years_covers_them() -> None:
    text = clean_text(
        "——2023年1月6日在东丽镇第十九届人民代表大会第三次会议上\n镇长 王明\n一、过去三年及2022年工作回顾\n"
        "三年来成绩显著。\n二、2023年工作安排\n力争增长6%。"
    )
    meta = extract_metadata(text)
    assert meta.years_reviewed == (2020, 2021, 2022) and meta.years_planned == (2023,)
