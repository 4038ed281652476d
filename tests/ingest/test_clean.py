"""clean_text: each kind of PDF-extraction damage, English kept, paragraphs kept, idempotent."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from ingest.clean import clean_text, display_width, is_heading_line, normalize_spaces
from ingest.structure import parse_sections


def _clean_sample(samples_dir: Path, prefix: str) -> str:
    (path,) = samples_dir.glob(f"{prefix}_*.txt")
    return clean_text(path.read_text(encoding="utf-8"))


# --- spaces ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("18 亿元", "18亿元"),
        ("2024年 12月", "2024年12月"),
        ("2021 年 11 月 30 日", "2021年11月30日"),
        ("政 府 工 作 报 告", "政府工作报告"),
        ("增长 36.8%", "增长36.8%"),
        ("增长 36.8 %", "增长36.8%"),
        ("税收收入 18 亿元, 同比增长 36.8%; 固定资产", "税收收入18亿元,同比增长36.8%;固定资产"),
        ("第十八届 人民代表大会", "第十八届人民代表大会"),
        ("精武镇镇长 张艳红", "精武镇镇长张艳红"),
        ("15 个社区 LED 屏", "15个社区LED屏"),
        ("规划 (2018—2022)》", "规划(2018—2022)》"),
        ("主要预期目标是: 2020 年", "主要预期目标是:2020年"),
        ("中 , 2", "中,2"),
        ("全镇\u3000优质\u00a0学位", "全镇优质学位"),
    ],
)
def test_spaces_dropped_around_cjk_and_in_numbers(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Jingwu town report", "Jingwu town report"),
        ("Jingwu   town\treport", "Jingwu town report"),
        ("Annual report 2019, Jingwu", "Annual report 2019, Jingwu"),
        ("精武镇 Jingwu town report", "精武镇Jingwu town report"),
    ],
)
def test_spaces_inside_english_text_are_kept(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


def test_english_words_split_across_lines_get_one_space() -> None:
    assert clean_text("In 2019, the Jingwu town government work\n\nreport was delivered.") == (
        "In 2019, the Jingwu town government work report was delivered."
    )


# --- line breaks ----------------------------------------------------------------------------------


def test_blank_line_after_every_wrapped_line_is_rejoined() -> None:
    raw = (
        "2024年是中华人民共和国成立 75周年，是实施“十四五”规\n\n"
        "划的关键一年。一年来，我们坚持以习近平新时代中国特色社会\n\n"
        "主义思想为指导，精武镇经济社会发展取得新成效。\n\n"
    )
    assert clean_text(raw) == (
        "2024年是中华人民共和国成立75周年，是实施“十四五”规划的关键一年。"
        "一年来，我们坚持以习近平新时代中国特色社会主义思想为指导，精武镇经济社会发展取得新成效。"
    )


def _wrap(text: str, width: int) -> str:
    """Lay ``text`` out like the PDF extraction of 001/002: fixed-width lines, each followed by a blank."""
    return "".join(text[i : i + width] + "\n\n" for i in range(0, len(text), width))


def test_full_width_wrapped_line_without_punctuation_is_rejoined() -> None:
    paragraph = "深入开展城市更新行动" * 3 + "，" + "推动经济社会高质量发展，加快建设现代化新城。" * 30
    raw = "政府工作报告\n\n" + _wrap(paragraph, 28)
    first_wrapped = raw.split("\n")[2]
    assert len(first_wrapped) == 28 and "，" not in first_wrapped
    assert clean_text(raw) == "政府工作报告\n" + paragraph


def test_short_line_without_punctuation_is_a_label_when_text_is_not_wrapped() -> None:
    # a title, a signature or a date: without a common wrap width, a short line with no sentence
    # punctuation is not joined with the next one
    assert clean_text("精武镇人民政府\n\n2024年 12月 31日") == "精武镇人民政府\n2024年12月31日"


def test_a_number_broken_across_lines_is_rejoined() -> None:
    raw = "大力推动消费扶贫、旅游扶贫，投入各类帮扶资金 950 余万\n\n元，选派4名党政干部开展人才交流支援。"
    assert (
        clean_text(raw)
        == "大力推动消费扶贫、旅游扶贫，投入各类帮扶资金950余万元，选派4名党政干部开展人才交流支援。"
    )


def test_real_paragraph_breaks_are_kept_as_one_newline() -> None:
    raw = "第一段说完了。\n\n\n\n第二段开始，\n\n接着写完。\n第三段！\n\n"
    assert clean_text(raw) == "第一段说完了。\n第二段开始，接着写完。\n第三段！"


@pytest.mark.parametrize("end", ["。", "！", "？", "：", "；", "!", "?", ":", ";", "。”", "！」"])
def test_sentence_end_ends_a_paragraph(end: str) -> None:
    assert clean_text(f"工作取得新成效{end}\n\n下一段开始。") == f"工作取得新成效{end}\n下一段开始。"


def test_closing_quote_alone_does_not_end_a_paragraph() -> None:
    raw = "开展“一包二联三服务”特色行动、园区企业“大走访大调研大服务”\n\n活动，每位班子成员至少包联一个园区。"
    assert clean_text(raw) == (
        "开展“一包二联三服务”特色行动、园区企业“大走访大调研大服务”活动，每位班子成员至少包联一个园区。"
    )


def test_heading_lines_end_paragraphs_and_start_new_ones() -> None:
    raw = "各位代表：\n\n一、2019年工作回顾\n\n2019年，是关键一年。\n\n(一)经济发展的新动能进一步集聚\n\n产业基础更加扎实。"
    assert clean_text(raw).split("\n") == [
        "各位代表：",
        "一、2019年工作回顾",
        "2019年，是关键一年。",
        "(一)经济发展的新动能进一步集聚",
        "产业基础更加扎实。",
    ]


def test_a_line_that_runs_into_a_heading_is_not_joined_with_it() -> None:
    assert clean_text("这一段没有句号\n（二）下一节") == "这一段没有句号\n（二）下一节"


def test_heading_run_into_its_paragraph_after_a_space_is_split() -> None:
    raw = "(二)全力以赴抓创新,持续引育发展新动能 持续优化创新生态。深入推进学府国家自主创新示范区建设。"
    assert clean_text(raw).split("\n") == [
        "(二)全力以赴抓创新,持续引育发展新动能",
        "持续优化创新生态。深入推进学府国家自主创新示范区建设。",
    ]


def test_heading_run_into_its_paragraph_without_a_space_is_left_as_written() -> None:
    raw = "（一）这是综合实力显著提升的五年。我们坚持新发展理念，保持战略定力。"
    assert clean_text(raw) == raw


def test_cover_block_labels_are_not_joined() -> None:
    raw = (
        " 2024年精武镇政府工作报告\n\n各村（居）及相关部门单位：\n\n现将报告印发给你们，请认真贯彻落实。\n\n"
        "精武镇人民政府\n\n2024年 12月 31日\n\n（此件主动公开）\n\n 政 府 工 作 报 告\n\n"
        "——2024年 12月 30日在精武镇第十九届\n\n人民代表大会第十次会议上\n\n精武镇镇长 张艳红\n\n各位代表：\n\n"
    )
    assert clean_text(raw).split("\n") == [
        "2024年精武镇政府工作报告",
        "各村（居）及相关部门单位：",
        "现将报告印发给你们，请认真贯彻落实。",
        "精武镇人民政府",
        "2024年12月31日",
        "（此件主动公开）",
        "政府工作报告",
        "——2024年12月30日在精武镇第十九届人民代表大会第十次会议上",
        "精武镇镇长张艳红",
        "各位代表：",
    ]


def test_notice_title_set_on_two_lines_is_joined() -> None:
    raw = " 天津市西青区人民政府关于印发\n\n政府工作报告的通知\n\n各镇人民政府：\n"
    assert clean_text(raw) == "天津市西青区人民政府关于印发政府工作报告的通知\n各镇人民政府："


# --- artefacts ------------------------------------------------------------------------------------


def test_markdown_bold_is_dropped() -> None:
    raw = "完成205亿元。**优势产业发展强劲。**正威国际集团项目投产运营。"
    assert clean_text(raw) == "完成205亿元。优势产业发展强劲。正威国际集团项目投产运营。"


def test_latex_subscripts_are_flattened() -> None:
    assert clean_text("全镇 PM_{2.5} 年均浓度下降 16.4%。") == "全镇PM2.5年均浓度下降16.4%。"


@pytest.mark.parametrize("page", ["3", "- 3 -", "— 12 —", "第 3 页", "3 / 12", "第2页 共 9 页"])
def test_lone_page_numbers_are_dropped(page: str) -> None:
    assert clean_text(f"持续深化改革，\n{page}\n扩大开放。") == "持续深化改革，扩大开放。"


def test_a_lone_url_line_is_dropped_and_the_sentence_rejoined() -> None:
    raw = "优质教育资源合作办学，25个社区卫生服务站\n\nhttp://www.baidu.com/link?url=N4d9qEIDMw-1_4dPb\n\n 顺利开诊。"
    assert clean_text(raw) == "优质教育资源合作办学，25个社区卫生服务站顺利开诊。"


def test_trailing_running_header_is_dropped() -> None:
    raw = "——2024年12月30日在精武镇第十九届\n人民代表大会第十次会议上\n各位代表：\n接续奋斗！\n\n\n\t——2024年12月30日在精武镇第十九届\n"
    assert clean_text(raw).split("\n")[-1] == "接续奋斗！"


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\f", "\n\f\n", "\u2028"])
def test_line_endings_and_form_feeds_are_normalised(newline: str) -> None:
    assert clean_text(f"第一段。{newline}第二段。") == "第一段。\n第二段。"


def test_bom_zero_width_and_surrounding_space_are_removed() -> None:
    assert clean_text("\ufeff  \t政府\u200b工作报告  \n\n  ") == "政府工作报告"


def test_punctuation_width_is_kept_as_in_the_source() -> None:
    raw = '实施"新时代、新作为精武镇经济服务 1511 行动",认定国家级高新技术企业 52 家。'
    assert clean_text(raw) == '实施"新时代、新作为精武镇经济服务1511行动",认定国家级高新技术企业52家。'


@pytest.mark.parametrize("raw", ["", "   ", "\n\n\n", "\f", "**"])
def test_empty_input_gives_empty_text(raw: str) -> None:
    assert clean_text(raw) == ""


# --- idempotence and the samples ------------------------------------------------------------------

_SMALL_CASES = [
    "政 府 工 作 报 告",
    "第一段说完了。\n\n第二段开始，\n\n接着写完。",
    "(二)全力以赴抓创新,持续引育发展新动能 持续优化创新生态。深入推进。",
    "——2024年 12月 30日在精武镇第十九届\n\n人民代表大会第十次会议上",
    "Jingwu town report\n\n精武镇 18 亿元",
    "增长 36.8 %；\n\n同比",
]


@pytest.mark.parametrize("raw", _SMALL_CASES)
def test_clean_is_idempotent_on_small_cases(raw: str) -> None:
    once = clean_text(raw)
    assert clean_text(once) == once


_FUZZ_ALPHABET = [
    *"政府工作报告精武镇年月日亿元0123456789，。；：！？、,.;:!?%“”()（）《》—",
    *[" ", " ", "\n", "\n\n", "一、", "（一）", "(二)", "**", "ab", "Jingwu", "——", "http://x.cn/a"],
]


def test_clean_is_idempotent_on_random_text() -> None:
    rng = random.Random(20240101)
    for _ in range(3000):
        raw = "".join(rng.choice(_FUZZ_ALPHABET) for _ in range(rng.randint(0, 60)))
        once = clean_text(raw)
        assert clean_text(once) == once, raw


def test_clean_is_idempotent_on_every_sample(sample_files: list[Path]) -> None:
    for path in sample_files:
        once = clean_text(path.read_text(encoding="utf-8"))
        assert clean_text(once) == once, path.name


def test_cleaned_samples_have_one_paragraph_per_line(sample_files: list[Path]) -> None:
    for path in sample_files:
        text = clean_text(path.read_text(encoding="utf-8"))
        lines = text.split("\n")
        assert all(line and line == line.strip() for line in lines), path.name
        assert "**" not in text and "\r" not in text and "http" not in text and "_{" not in text


@pytest.mark.parametrize(
    ("prefix", "fact"),
    [
        ("001", "全年预计完成税收10.8亿元；规模工业总产值186亿元，在全区各街镇中位列第一；"),
        ("001", "（一）坚持以高质量发展为主线，推进培育增量和提升质量双突破"),
        ("003", "2019年全镇预计实现税收收入18亿元,同比增长36.8%;固定资产投入118亿元"),
        ("003", "认定国家级高新技术企业52家"),
        ("003", "坚决关闭高污染高能耗企业"),
        ("003", "投入各类帮扶资金950余万元,选派4名党政干部"),
        ("000", "（一）这是产业结构战略性调整全面提速、综合实力显著提升的五年。我们坚持新发展理念"),
        ("000", "限上批零销售额完成205亿元。优势产业发展强劲。正威国际集团"),
        ("002", "2021年三次产业比重预计达到1.3:43.3:55.4。"),
        ("002", "25个社区卫生服务站顺利开诊"),
        ("004", "联东U谷等京冀项目22个"),
        ("004", "PM2.5主要污染物指标"),
    ],
)
def test_sample_facts_survive_unbroken(samples_dir: Path, prefix: str, fact: str) -> None:
    assert fact in _clean_sample(samples_dir, prefix)


def test_sample_front_matter_lines(samples_dir: Path) -> None:
    lines = _clean_sample(samples_dir, "002").split("\n")
    assert lines[:8] == [
        "天津市西青区人民政府关于印发政府工作报告的通知",
        "各镇人民政府、街道办事处，区政府各委、办、局，各区属机构：",
        "现将天津市西青区第十八届人民代表大会第一次会议审议通过的《政府工作报告》印发给你们，"
        "请按照报告中确定的目标和任务，结合各自实际，认真贯彻落实。",
        "2021年12月20日",
        "（此件主动公开）",
        "政府工作报告",
        "——2021年12月12日在天津市西青区第十八届人民代表大会第一次会议上",
        "西青区人民政府代理区长殷学武",
    ]


def test_sample_001_loses_its_trailing_running_header(samples_dir: Path) -> None:
    text = _clean_sample(samples_dir, "001")
    assert text.endswith("为加快建设社会主义现代化活力新精武接续奋斗！")


# --- helpers --------------------------------------------------------------------------------------


def test_display_width_counts_cjk_double() -> None:
    assert display_width("政府") == 4
    assert display_width("2024") == 4
    assert display_width("“年”") == 6


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("一、2019年工作回顾", True),
        ("（一）全力稳增长，产业发展势头强劲", True),
        ("(一)经济发展的新动能进一步集聚", True),
        ("（一）这是综合实力显著提升的五年。我们坚持", False),
        ("一是新发展理念贯彻力度不够", False),
        ("2019年，是关键一年。", False),
    ],
)
def test_is_heading_line(line: str, expected: bool) -> None:
    assert is_heading_line(line) is expected


def test_normalize_spaces_is_the_per_line_rule() -> None:
    assert normalize_spaces("  投资 286万元对 5 个社区  ") == "投资286万元对5个社区"


def test_markdown_headings_lose_their_marks_and_stand_alone() -> None:
    """A .md report: '## 一、…' is the part heading, not glued to the paragraph under it."""
    raw = (
        "# 2024年北辰市政府工作报告\n\n"
        "——2024年1月16日在北辰市第十五届人民代表大会第四次会议上\n\n"
        "## 一、2023年工作回顾\n\n"
        "过去一年，全市地区生产总值增长5.1%，其中税收收入108亿元\n\n"
        "### 重点项目 ###\n"
        "实施重点项目286个。\n"
        "###未空格的标题\n"
        "实施重点项目286个。\n"
        "#话题不是标题也保留文字\n"
    )
    assert clean_text(raw).split("\n") == [
        "2024年北辰市政府工作报告",
        "——2024年1月16日在北辰市第十五届人民代表大会第四次会议上",
        "一、2023年工作回顾",
        "过去一年，全市地区生产总值增长5.1%，其中税收收入108亿元",
        "重点项目",
        "实施重点项目286个。",
        "未空格的标题",
        "实施重点项目286个。",
        "话题不是标题也保留文字",
    ]
    # idempotent where the paragraph before an unnumbered heading ends its sentence
    numbered = raw.replace("### 重点项目 ###", "## 二、2024年工作安排")
    assert clean_text(clean_text(numbered)) == clean_text(numbered)
    heads = [s.heading_path for s in parse_sections(clean_text(raw))]
    assert ("一、2023年工作回顾",) in heads


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("全市地区生产总值达到2 186亿元", "全市地区生产总值达到2186亿元"),
        ("收入分别达到46 820元和19 350元", "收入分别达到46820元和19350元"),
        ("新增就业5 000 人", "新增就业5000人"),
        ("1 234 567元", "1234567元"),
        ("in 2023 186 projects were built", "in 2023 186 projects were built"),  # a year, then a count
        ("2019 2020 2021", "2019 2020 2021"),
        ("12 345.6 tons", "12 345.6 tons"),  # a decimal after the group: not a thousands group here
    ],
)
def test_thousands_written_with_a_space_are_one_number(raw: str, expected: str) -> None:
    assert normalize_spaces(raw) == expected
