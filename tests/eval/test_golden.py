"""The shipped golden set is valid and covers the corpus; the validator catches each kind of defect."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from eval.golden import GoldenItem, GoldenSource, load_golden, main, normalize_ws, validate_golden
from govqa.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "eval" / "golden.jsonl"
SAMPLES = REPO / "data" / "samples"

MINIMUMS = {"disambiguation": 12, "multi_hop": 10, "crosslingual": 10, "unanswerable": 12}


@pytest.fixture(scope="module")
def shipped() -> list[GoldenItem]:
    return load_golden(GOLDEN)


# --- the shipped set -----------------------------------------------------------------------------------


def test_shipped_set_has_no_problems(shipped: list[GoldenItem]) -> None:
    assert validate_golden(shipped, SAMPLES) == []


def test_shipped_set_meets_the_minimum_counts(shipped: list[GoldenItem]) -> None:
    by_type = Counter(item.type for item in shipped)
    assert len(shipped) >= 90
    for item_type, minimum in MINIMUMS.items():
        assert by_type[item_type] >= minimum, item_type
    assert all(item.lang == "en" for item in shipped if item.type == "crosslingual")
    assert [item.id for item in shipped] == [f"g{i:03d}" for i in range(1, len(shipped) + 1)]


def test_every_report_is_covered_in_its_review_and_its_plan(shipped: list[GoldenItem]) -> None:
    reports = sorted(p.name for p in SAMPLES.glob("*.txt"))
    assert len(reports) == 5
    for name in reports:
        cited = [item for item in shipped if any(s.file == name for s in item.sources)]
        assert len(cited) >= 8, name
        fact_headings = [
            s.heading for item in cited if item.type == "fact" for s in item.sources if s.file == name
        ]
        assert len(fact_headings) >= 8, name
        assert any(h.startswith("一、") for h in fact_headings), f"{name}: no fact from the review part"
        assert any(h and not h.startswith("一、") for h in fact_headings), f"{name}: no fact from the plan"


def test_multi_hop_cites_two_reports_or_two_passages(shipped: list[GoldenItem]) -> None:
    for item in shipped:
        if item.type == "multi_hop":
            assert len({(s.file, s.quote) for s in item.sources}) >= 2, item.id


def test_shipped_quotes_are_short_and_unanswerables_are_proven_absent(shipped: list[GoldenItem]) -> None:
    for item in shipped:
        assert all(len(normalize_ws(s.quote)) <= 60 for s in item.sources), item.id
        if item.type == "unanswerable":
            assert item.absent, f"{item.id}: list the checked terms in 'absent'"


def test_cli_reports_no_problems_for_the_shipped_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(GOLDEN), "--reports", str(SAMPLES)]) == 0
    assert "no problems" in capsys.readouterr().out


# --- defects the validator must catch ------------------------------------------------------------------

REPORT = "town.txt"
REPORT_TEXT = """2019 年某镇政府工作报告

一、2019年工作回顾

2019年全镇预计实现税收收入 18 亿元, 同比增长 36.8%;
规模工业总产值 **151 亿元**。

二、2020年工作安排

2020 年实现税收收入 18 亿元,同比持平。
"""


@pytest.fixture
def reports_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / REPORT).write_text(REPORT_TEXT, encoding="utf-8")
    return folder


def good(**overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": "t1",
        "lang": "zh",
        "type": "fact",
        "question": "某镇2019年税收收入是多少？",
        "answer": "18亿元。",
        "must_include": ["18亿元"],
        "must_include_any": [["36.8%", "36.8％"]],
        "sources": [
            {"file": REPORT, "heading": "一、2019年工作回顾", "quote": "预计实现税收收入18亿元,同比增长36.8%"}
        ],
    }
    item.update(overrides)
    return item


def write(tmp_path: Path, *objs: dict[str, Any] | str) -> Path:
    path = tmp_path / "golden.jsonl"
    lines = [o if isinstance(o, str) else json.dumps(o, ensure_ascii=False) for o in objs]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def problems_for(tmp_path: Path, reports_dir: Path, *objs: dict[str, Any]) -> list[str]:
    return validate_golden(load_golden(write(tmp_path, *objs)), reports_dir)


def test_normalize_ws_deletes_whitespace_and_bold() -> None:
    assert normalize_ws("税收收入 18 亿元,\n同比 **增长** 36.8 %") == "税收收入18亿元,同比增长36.8%"


def test_a_good_item_matches_across_spaces_line_breaks_and_bold(tmp_path: Path, reports_dir: Path) -> None:
    bold = good(
        id="t2",
        must_include=["151亿元"],
        must_include_any=[],
        sources=[
            {"file": REPORT, "heading": "一、2019年工作回顾", "quote": "同比增长36.8%;规模工业总产值151亿元"}
        ],
    )
    assert problems_for(tmp_path, reports_dir, good(), bold) == []


def test_quote_not_in_the_file(tmp_path: Path, reports_dir: Path) -> None:
    item = good(sources=[{"file": REPORT, "heading": "一、2019年工作回顾", "quote": "税收收入19亿元"}])
    problem, *consequences = problems_for(tmp_path, reports_dir, item)
    assert problem.startswith("t1 (line 1): sources[0]: quote not found in town.txt")
    assert "税收收入19亿元" in problem
    assert all("must_include" in p for p in consequences)  # nothing in the item is backed any more


def test_unknown_file(tmp_path: Path, reports_dir: Path) -> None:
    item = good(sources=[{"file": "nope.txt", "heading": "", "quote": "税收收入18亿元"}])
    found = problems_for(tmp_path, reports_dir, item)
    assert any("unknown file 'nope.txt'" in p for p in found)


def test_must_include_not_backed_by_a_quote(tmp_path: Path, reports_dir: Path) -> None:
    item = good(must_include=["18亿元", "151亿元"])
    [problem] = problems_for(tmp_path, reports_dir, item)
    assert "must_include '151亿元'" in problem


def test_must_include_any_needs_one_member_in_a_quote(tmp_path: Path, reports_dir: Path) -> None:
    english_ok = good(
        lang="en", type="crosslingual", must_include=[], must_include_any=[["18亿", "1.8 billion"]]
    )
    assert problems_for(tmp_path, reports_dir, english_ok) == []
    english_only = good(lang="en", type="crosslingual", must_include=[], must_include_any=[["1.8 billion"]])
    [problem] = problems_for(tmp_path, reports_dir, english_only)
    assert "must_include_any group ['1.8 billion']" in problem


def test_duplicate_id(tmp_path: Path, reports_dir: Path) -> None:
    found = problems_for(tmp_path, reports_dir, good(), good())
    assert any("t1: duplicate id" in p and "lines 1, 2" in p for p in found)


def test_bad_type_and_lang(tmp_path: Path, reports_dir: Path) -> None:
    found = problems_for(tmp_path, reports_dir, good(type="facts", lang="fr"))
    assert any("type must be one of" in p and "'facts'" in p for p in found)
    assert any("lang must be one of" in p and "'fr'" in p for p in found)


def test_heading_from_the_wrong_part(tmp_path: Path, reports_dir: Path) -> None:
    quote = "预计实现税收收入18亿元,同比增长36.8%"
    wrong_part = good(sources=[{"file": REPORT, "heading": "二、2020年工作安排", "quote": quote}])
    [problem] = problems_for(tmp_path, reports_dir, wrong_part)
    assert "does not come before the quote" in problem
    no_such = good(sources=[{"file": REPORT, "heading": "三、2021年工作安排", "quote": quote}])
    [problem] = problems_for(tmp_path, reports_dir, no_such)
    assert "heading part not found" in problem


def test_unanswerable_with_sources_and_absent_term_present(tmp_path: Path, reports_dir: Path) -> None:
    with_sources = good(id="u1", type="unanswerable", answer="", must_include=[], must_include_any=[])
    found = problems_for(tmp_path, reports_dir, with_sources)
    assert found == ["u1 (line 1): unanswerable item must have no sources"]

    present = {
        "id": "u2",
        "lang": "zh",
        "type": "unanswerable",
        "question": "某镇2021年规模工业总产值是多少？",
        "answer": "",
        "must_include": [],
        "sources": [],
        "absent": ["2021年规模工业", "规模工业总产值151亿元"],
    }
    [problem] = problems_for(tmp_path, reports_dir, present)
    assert "absent term '规模工业总产值151亿元' occurs in town.txt" in problem


def test_multi_hop_needs_two_sources(tmp_path: Path, reports_dir: Path) -> None:
    [problem] = problems_for(tmp_path, reports_dir, good(type="multi_hop"))
    assert "multi_hop item needs at least 2 sources" in problem


def test_malformed_json_line_names_its_line_number(tmp_path: Path) -> None:
    path = write(tmp_path, good(id="t1"), good(id="t2"), '{"id": "t3", "lang": "zh",')
    with pytest.raises(ConfigError, match=r"golden\.jsonl:3: not valid JSON"):
        load_golden(path)


def test_missing_or_mistyped_field_names_line_and_field(tmp_path: Path) -> None:
    missing = good()
    del missing["sources"]
    with pytest.raises(ConfigError, match=r":2: missing field\(s\) sources"):
        load_golden(write(tmp_path, good(id="t0"), missing))
    with pytest.raises(ConfigError, match=r":1: field 'must_include' must be a list"):
        load_golden(write(tmp_path, good(must_include="18亿元")))
    with pytest.raises(ConfigError, match=r":1: unknown field\(s\) must_inculde"):
        load_golden(write(tmp_path, good(must_inculde=["18亿元"])))
    with pytest.raises(ConfigError, match=r":1: field 'sources\[0\]\.quote' must be a string"):
        load_golden(write(tmp_path, good(sources=[{"file": REPORT, "heading": ""}])))


def test_missing_golden_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_golden(tmp_path / "missing.jsonl")


def test_cli_prints_problems_and_exits_1(
    tmp_path: Path, reports_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, good(), good())
    assert main([str(path), "--reports", str(reports_dir)]) == 1
    assert "duplicate id" in capsys.readouterr().out
    bad_json = write(tmp_path, "not json")
    assert main([str(bad_json), "--reports", str(reports_dir)]) == 1
    assert ":1: not valid JSON" in capsys.readouterr().err


def test_a_docx_report_is_read_as_ingest_reads_it(tmp_path: Path) -> None:
    """Gold quotes against a .docx: validation and the judge's evidence read it through the loader
    (it once crashed reading the .docx as UTF-8)."""
    import docx

    from eval.golden import load_reports, read_report
    from eval.meta import report_passage_lookup

    d = docx.Document()
    d.add_paragraph("2023年北辰区政府工作报告")
    d.add_paragraph("2022年全区实现税收收入38.2亿元，增长6%。")
    d.save(str(tmp_path / "北辰区.docx"))
    (tmp_path / "README.md").write_text("not a report", encoding="utf-8")
    assert "税收收入38.2亿元" in read_report(tmp_path / "北辰区.docx")
    assert list(load_reports(tmp_path)) == ["北辰区.docx"]
    lookup = report_passage_lookup(tmp_path)
    source = GoldenSource(file="北辰区.docx", heading="", quote="税收收入38.2亿元")
    evidence = lookup(source)
    assert evidence is not None and "38.2亿元" in evidence.text
