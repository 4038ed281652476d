"""parse_sections: the heading tree of each sample, run-in headings, front matter, full coverage."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ingest.clean import clean_text
from ingest.structure import (
    COVER_HEADING,
    LEVEL_FRONT,
    LEVEL_PART,
    LEVEL_SECTION,
    SPEECH_HEADING,
    Section,
    parse_sections,
)


@pytest.fixture(scope="module")
def cleaned(sample_files: list[Path]) -> dict[str, str]:
    return {p.name[:3]: clean_text(p.read_text(encoding="utf-8")) for p in sample_files}


def _section_with(text: str, sections: list[Section], fact: str) -> Section:
    pos = text.index(fact)
    (hit,) = [s for s in sections if s.start <= pos and pos + len(fact) <= s.end]
    return hit


# --- the samples ----------------------------------------------------------------------------------

PARTS = {
    "000": ["一、过去五年工作的回顾", "二、今后五年的奋斗目标和主要任务", "三、2022年工作安排"],
    "001": ["一、2024年工作回顾", "二、2025年工作安排"],
    "002": ["一、过去五年工作回顾", "二、今后五年的目标任务", "三、2022年的重点工作"],
    "003": ["一、2019年工作回顾", "二、2020年工作安排"],
    "004": ["一、2023年工作回顾", "二、2024年工作安排", "三、切实加强政府自身建设"],
}
SECTION_COUNTS = {"000": 12, "001": 13, "002": 12, "003": 12, "004": 12}


@pytest.mark.parametrize("doc", sorted(PARTS))
def test_parts_and_section_counts(cleaned: dict[str, str], doc: str) -> None:
    sections = parse_sections(cleaned[doc])
    assert [s.heading for s in sections if s.level == LEVEL_PART] == PARTS[doc]
    assert sum(s.level == LEVEL_SECTION for s in sections) == SECTION_COUNTS[doc]
    for s in sections:
        if s.level == LEVEL_SECTION:
            assert len(s.heading_path) == 2 and s.heading_path[0] in PARTS[doc]


@pytest.mark.parametrize("doc", sorted(PARTS))
def test_front_matter_is_the_cover_notice_then_the_speech_header(cleaned: dict[str, str], doc: str) -> None:
    text = cleaned[doc]
    cover, header, first_part = parse_sections(text)[:3]
    assert (cover.heading_path, cover.level) == ((COVER_HEADING,), LEVEL_FRONT)
    notice = text[cover.start : cover.end]
    assert "印发给你们" in notice
    assert notice.split("\n")[-1] in ("（此件主动公开）", "(此件主动公开)")
    assert (header.heading_path, header.level) == ((SPEECH_HEADING,), LEVEL_FRONT)
    body = text[header.start : header.end]
    assert body.startswith("——") and "各位代表" in body
    assert first_part.heading_path == (PARTS[doc][0],)


def test_003_new_high_tech_firms_sit_under_their_section(cleaned: dict[str, str]) -> None:
    text = cleaned["003"]
    hit = _section_with(text, parse_sections(text), "认定国家级高新技术企业52家")
    assert hit.heading_path == ("一、2019年工作回顾", "(一)经济发展的新动能进一步集聚")
    assert hit.level == LEVEL_SECTION


def test_003_half_width_heading_run_into_its_body_after_a_space(cleaned: dict[str, str]) -> None:
    text = cleaned["003"]
    hit = _section_with(text, parse_sections(text), "持续优化创新生态。深入推进学府国家自主创新示范区建设")
    assert hit.heading_path == ("二、2020年工作安排", "(二)全力以赴抓创新,持续引育发展新动能")
    assert text[hit.start : hit.end].startswith("持续优化创新生态。")


def test_000_run_in_heading_is_the_first_sentence(cleaned: dict[str, str]) -> None:
    text = cleaned["000"]
    sections = parse_sections(text)
    hit = _section_with(text, sections, "累计实现税收收入73.3亿元")
    assert hit.heading_path == (
        "一、过去五年工作的回顾",
        "（一）这是产业结构战略性调整全面提速、综合实力显著提升的五年",
    )
    assert text[hit.start : hit.end].startswith("我们坚持新发展理念，保持高质量发展战略定力")
    assert [s.heading for s in sections if s.level == LEVEL_SECTION][4] == (
        "（五）这是政府职能加快转变、依法行政深入推进的五年"
    )


def test_001_wrapped_heading_is_whole(cleaned: dict[str, str]) -> None:
    text = cleaned["001"]
    hit = _section_with(text, parse_sections(text), "打好招商引资“组合拳”")
    assert hit.heading_path == (
        "二、2025年工作安排",
        "（一）坚持以高质量发展为主线，推进培育增量和提升质量双突破",
    )


def test_002_and_004_pinned_sections(cleaned: dict[str, str]) -> None:
    text = cleaned["002"]
    assert _section_with(text, parse_sections(text), "全区高新技术企业达到676家").heading_path == (
        "一、过去五年工作回顾",
        "（一）发展质量明显提升",
    )
    text = cleaned["004"]
    assert _section_with(text, parse_sections(text), "完成一般公共预算收入2.34亿元").heading_path == (
        "二、2024年工作安排",
    )


@pytest.mark.parametrize("doc", sorted(PARTS))
def test_every_character_is_in_a_heading_line_or_exactly_one_body(cleaned: dict[str, str], doc: str) -> None:
    text = cleaned[doc]
    sections = parse_sections(text)
    covered = [0] * len(text)
    for s in sections:
        assert 0 <= s.start <= s.end <= len(text)
        assert text[s.start : s.end] == text[s.start : s.end].strip()
        for i in range(s.start, s.end):
            covered[i] += 1
    assert max(covered) == 1
    starts = [s.start for s in sections]
    assert starts == sorted(starts)
    uncovered = "".join(c if n == 0 else "\n" for c, n in zip(text, covered, strict=True))
    pieces = [p for p in uncovered.split("\n") if p]
    headings = [s.heading for s in sections if s.heading and s.heading != COVER_HEADING]
    assert [p.rstrip("。") for p in pieces] == headings  # what no body holds is exactly the heading lines


# --- small cases ----------------------------------------------------------------------------------


def test_empty_text_has_no_sections() -> None:
    assert parse_sections("") == []
    assert parse_sections("\n\n") == []


def test_text_without_headings_is_one_section_with_an_empty_path() -> None:
    text = "这是一段没有标题的文字。\n还有第二段。"
    assert parse_sections(text) == [Section(heading_path=(), start=0, end=len(text), level=LEVEL_FRONT)]


def test_out_of_sequence_numbering_is_body_not_headings() -> None:
    text = "一、工作回顾\n（一）经济发展\n正文。\n（三）不是标题，因为跳号了。\n三、也不是标题\n二、工作安排\n正文二。"
    sections = parse_sections(text)
    assert [s.heading_path for s in sections] == [
        ("一、工作回顾",),
        ("一、工作回顾", "（一）经济发展"),
        ("二、工作安排",),
    ]
    assert "（三）不是标题" in text[sections[1].start : sections[1].end]


def test_sections_restart_in_each_part_and_parts_without_intro_have_empty_bodies() -> None:
    text = "一、回顾\n（一）甲\n甲的正文。\n二、安排\n（一）乙\n乙的正文。\n（二）丙\n"
    sections = parse_sections(text)
    assert [(s.heading_path, text[s.start : s.end]) for s in sections] == [
        (("一、回顾",), ""),
        (("一、回顾", "（一）甲"), "甲的正文。"),
        (("二、安排",), ""),
        (("二、安排", "（一）乙"), "乙的正文。"),
        (("二、安排", "（二）丙"), ""),
    ]
    assert sections[0].is_empty and not sections[1].is_empty


def test_section_before_any_part_has_a_one_element_path() -> None:
    (section,) = parse_sections("（一）只有节\n正文。")
    assert section.heading_path == ("（一）只有节",) and section.level == LEVEL_SECTION


def test_cover_without_a_notice_is_headed_by_its_first_line() -> None:
    text = "某某报告汇编\n目录略\n政府工作报告\n——2020年1月5日在某镇第一届人民代表大会第一次会议上\n各位代表：\n一、回顾\n正文。"
    sections = parse_sections(text)
    assert sections[0].heading_path == ("某某报告汇编",)
    assert text[sections[0].start : sections[0].end] == "目录略"
    assert sections[1].heading_path == ("政府工作报告",)


def test_speech_header_without_a_title_line() -> None:
    text = "——2020年1月5日在某镇第一届人民代表大会第一次会议上\n某镇镇长张三\n一、回顾\n正文。"
    sections = parse_sections(text)
    assert sections[0].heading_path == (SPEECH_HEADING,)
    assert text[sections[0].start : sections[0].end].startswith("——2020年1月5日")


def test_section_is_frozen() -> None:
    section = Section(heading_path=("一、回顾",), start=0, end=1, level=LEVEL_PART)
    with pytest.raises(dataclasses.FrozenInstanceError):
        section.start = 2  # type: ignore[misc]


def test_numbered_headings_are_the_sections_of_a_part_without_yi() -> None:
    """第一部分 … 1.经济发展稳中向好 … 2.…: the numbered lines are its sections (restarting per part);
    a numbered sentence in a body stays body text."""
    text = clean_text(
        "河西街道2022年政府工作报告\n第一部分 2021年工作回顾\n一年来成绩显著。\n1.经济发展稳中向好\n"
        "全年完成税收收入4.36亿元。\n1.完成固定资产投资12.8亿元。\n2.城市更新扎实推进\n完成改造8个。\n"
        "第二部分 2022年工作计划\n1.聚焦产业发展，壮大经济实力\n全年引进项目8个。\n"
        "2.聚焦城市更新，提升城区品质\n完成老旧小区改造6个。\n"
    )
    paths = [s.heading_path for s in parse_sections(text) if s.level]
    assert paths == [
        ("第一部分2021年工作回顾",),
        ("第一部分2021年工作回顾", "1.经济发展稳中向好"),
        ("第一部分2021年工作回顾", "2.城市更新扎实推进"),
        ("第二部分2022年工作计划",),
        ("第二部分2022年工作计划", "1.聚焦产业发展，壮大经济实力"),
        ("第二部分2022年工作计划", "2.聚焦城市更新，提升城区品质"),
    ]
    assert "2.聚焦城市更新，提升城区品质\n完成老旧小区改造6个。" in text  # the heading is not glued on


def test_numbered_lines_stay_body_text_under_yi_parts() -> None:
    text = clean_text(
        "一、2021年工作回顾\n1.经济发展稳中向好\n全年完成税收收入4.36亿元。\n2.城市更新扎实推进\n完成改造。"
    )
    assert [s.heading_path for s in parse_sections(text) if s.level] == [("一、2021年工作回顾",)]
