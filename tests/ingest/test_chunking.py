"""chunk_document / split_document / make_document: invariants over every sample, pinned chunks, rules."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import pytest

from govqa.errors import ConfigError
from govqa.models.tokens import count_tokens
from govqa.settings import Settings
from govqa.types import HEADING_SEP, Chunk, Document, DocumentMeta
from ingest.chunking import (
    DEFAULT_MAX_TOKENS,
    DEFAULT_OVERLAP_TOKENS,
    chunk_document,
    chunk_id,
    split_document,
    split_span,
)
from ingest.clean import clean_text
from ingest.document import doc_id_for, make_document
from ingest.structure import Section, parse_sections

NUMBERISH = set("0123456789.%‰")


@pytest.fixture(scope="module")
def docs(sample_files: list[Path]) -> dict[str, Document]:
    return {
        p.name[:3]: make_document(
            str(p), p.read_text(encoding="utf-8"), hashlib.sha256(p.read_bytes()).hexdigest()
        )
        for p in sample_files
    }


@pytest.fixture(scope="module")
def chunks(docs: dict[str, Document]) -> dict[str, list[Chunk]]:
    return {name: split_document(doc) for name, doc in docs.items()}


def _chunk_with(chunks: list[Chunk], fact: str) -> Chunk:
    hits = [c for c in chunks if fact in c.text]
    assert hits, f"{fact!r} is in no chunk (or is cut between two)"
    return hits[0]


# --- invariants over every sample -----------------------------------------------------------------


def test_every_sample_is_chunked(chunks: dict[str, list[Chunk]]) -> None:
    assert sorted(chunks) == ["000", "001", "002", "003", "004"]
    assert all(len(cs) > 20 for cs in chunks.values())


def test_chunk_text_is_exactly_the_document_slice(
    docs: dict[str, Document], chunks: dict[str, list[Chunk]]
) -> None:
    for name, doc in docs.items():
        for c in chunks[name]:
            assert c.text == doc.text[c.start : c.end], (name, c.ordinal)
            assert c.text and c.text == c.text.strip()


def test_chunks_fit_the_default_budget(chunks: dict[str, list[Chunk]]) -> None:
    for cs in chunks.values():
        assert all(count_tokens(c.text) <= DEFAULT_MAX_TOKENS for c in cs)


def test_no_chunk_spans_two_sections(docs: dict[str, Document], chunks: dict[str, list[Chunk]]) -> None:
    for name, doc in docs.items():
        sections = parse_sections(doc.text)
        for c in chunks[name]:
            (home,) = [s for s in sections if s.start <= c.start and c.end <= s.end]
            assert home.heading_path == c.heading_path


def test_chunks_cover_every_non_empty_section(
    docs: dict[str, Document], chunks: dict[str, list[Chunk]]
) -> None:
    for name, doc in docs.items():
        for s in parse_sections(doc.text):
            covered = [c for c in chunks[name] if s.start <= c.start and c.end <= s.end]
            if s.is_empty:
                assert not covered
                continue
            assert covered[0].start == s.start and covered[-1].end == s.end
            for a, b in itertools.pairwise(covered):  # contiguous or overlapping, never a gap
                assert b.start <= a.end or doc.text[a.end : b.start].isspace()


def test_no_number_is_cut_at_a_chunk_boundary(
    docs: dict[str, Document], chunks: dict[str, list[Chunk]]
) -> None:
    for name, doc in docs.items():
        for c in chunks[name]:
            for pos in (c.start, c.end):
                if 0 < pos < len(doc.text):
                    left, right = doc.text[pos - 1], doc.text[pos]
                    assert not (left in NUMBERISH and right in NUMBERISH), (
                        name,
                        c.ordinal,
                        left + "|" + right,
                    )


def test_ids_are_stable_unique_and_content_hashes(
    docs: dict[str, Document], chunks: dict[str, list[Chunk]]
) -> None:
    again = {name: split_document(doc) for name, doc in docs.items()}
    all_ids = [c.chunk_id for cs in chunks.values() for c in cs]
    assert len(set(all_ids)) == len(all_ids)
    for name, cs in chunks.items():
        assert [c.chunk_id for c in cs] == [c.chunk_id for c in again[name]]
        for c in cs:
            payload = "\x1f".join((c.doc_id, HEADING_SEP.join(c.heading_path), c.text)).encode()
            assert c.chunk_id == hashlib.sha256(payload).hexdigest()[:32]


def test_chunks_carry_the_document(docs: dict[str, Document], chunks: dict[str, list[Chunk]]) -> None:
    for name, doc in docs.items():
        cs = chunks[name]
        assert [c.ordinal for c in cs] == list(range(len(cs)))
        assert all(c.doc_id == doc.doc_id and c.source == doc.source and c.meta == doc.meta for c in cs)
        assert [c.start for c in cs] == sorted(c.start for c in cs)


# --- pinned chunks, one or more per sample --------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "fact", "path"),
    [
        ("003", "认定国家级高新技术企业52家", ("一、2019年工作回顾", "(一)经济发展的新动能进一步集聚")),
        ("001", "全年预计完成税收10.8亿元", ("一、2024年工作回顾",)),
        ("001", "新增注册企业861个，注册资本累计46.3亿元。", ("一、2024年工作回顾",)),
        (
            "000",
            "累计实现税收收入73.3亿元、固定资产投资505.6亿元、规模工业总产值797.6亿元",
            ("一、过去五年工作的回顾", "（一）这是产业结构战略性调整全面提速、综合实力显著提升的五年"),
        ),
        ("002", "全区高新技术企业达到676家", ("一、过去五年工作回顾", "（一）发展质量明显提升")),
        ("002", "地区生产总值增长6.6%", ("三、2022年的重点工作",)),
        ("004", "完成一般公共预算收入2.34亿元，固定资产投资31.4亿元。", ("二、2024年工作安排",)),
        ("004", "张家窝镇镇长赵林", ("政府工作报告",)),
    ],
)
def test_pinned_fact_sits_whole_in_a_chunk_under_its_heading(
    chunks: dict[str, list[Chunk]], doc: str, fact: str, path: tuple[str, ...]
) -> None:
    assert _chunk_with(chunks[doc], fact).heading_path == path


def test_pinned_chunk_text_003(chunks: dict[str, list[Chunk]]) -> None:
    chunk = _chunk_with(chunks["003"], "认定国家级高新技术企业52家")
    assert chunk.text.startswith(
        '创新能力快速提升。实施"新时代、新作为精武镇经济服务1511行动",认定国家级高新技术企业52家'
    )
    assert chunk.embed_text.startswith(
        "2019年精武镇政府工作报告 › 一、2019年工作回顾 › (一)经济发展的新动能进一步集聚\n创新能力快速提升。"
    )


def test_pinned_chunk_text_001(chunks: dict[str, list[Chunk]]) -> None:
    chunk = _chunk_with(chunks["001"], "全年预计完成税收10.8亿元")
    assert chunk.text.startswith(
        "经济发展稳中有进。税收基础持续夯实，全年预计完成税收10.8亿元；规模工业总产值186亿元"
    )
    assert chunk.text.endswith("新增注册企业861个，注册资本累计46.3亿元。")


def test_front_matter_chunks(chunks: dict[str, list[Chunk]]) -> None:
    cover, header = chunks["002"][:2]
    assert cover.heading_path == ("印发通知",)
    assert cover.text.startswith("天津市西青区人民政府关于印发政府工作报告的通知\n")
    assert header.text.startswith(
        "——2021年12月12日在天津市西青区第十八届人民代表大会第一次会议上\n西青区人民政府代理区长殷学武"
    )


# --- the rules, with a character-counting tokenizer -------------------------------------------------


def _doc(text: str) -> Document:
    return Document(doc_id="d", source="t.txt", text=text, meta=DocumentMeta(title="T"), sha256="0")


def _spans(text: str, max_tokens: int, overlap: int = 0) -> list[str]:
    return [text[a:b] for a, b in split_span(text, 0, len(text), max_tokens, overlap, len)]


def test_a_section_that_fits_is_one_chunk() -> None:
    assert _spans("  甲乙丙。丁戊己。\n", 20) == ["甲乙丙。丁戊己。"]


def test_long_text_splits_at_sentence_ends() -> None:
    assert _spans("一二三四。五六七八！九十一二？三四五六；", 10) == [
        "一二三四。五六七八！",
        "九十一二？三四五六；",
    ]


def test_half_width_sentence_ends_but_not_decimal_points() -> None:
    assert _spans("增长36.8%.同比持平;完成了!", 9) == ["增长36.8%.", "同比持平;完成了!"]


def test_sentence_over_budget_falls_back_to_commas() -> None:
    assert _spans("甲乙丙丁，戊己庚辛，壬癸子丑，寅卯辰巳。", 10) == [
        "甲乙丙丁，戊己庚辛，",
        "壬癸子丑，寅卯辰巳。",
    ]


def test_a_comma_between_digits_is_not_a_clause_end() -> None:
    assert _spans("投资1,000万元，建成厂房", 10) == ["投资1,000万元，", "建成厂房"]


def test_hard_cut_never_splits_a_number() -> None:
    text = "甲乙丙丁戊己庚辛壬癸1234.5亿元子丑寅卯"
    pieces = _spans(text, 12)
    assert "".join(pieces) == text
    assert all(len(p) <= 12 for p in pieces)
    assert any("1234.5亿元" in p for p in pieces)


def test_overlap_repeats_whole_sentences_within_a_paragraph() -> None:
    text = "一二三。四五六。七八九。十一二。三四五。"
    pieces = _spans(text, 9, overlap=4)
    assert pieces == ["一二三。四五六。", "四五六。七八九。", "七八九。十一二。", "十一二。三四五。"]


def test_no_overlap_across_a_paragraph_break() -> None:
    text = "一二三。四五六。\n七八九。十一二。"
    assert _spans(text, 9, overlap=4) == ["一二三。四五六。", "七八九。十一二。"]


def test_a_nearly_full_chunk_ends_at_a_paragraph_break() -> None:
    text = "甲乙丙丁。戊己。\n庚辛壬癸。子丑寅卯。"
    # greedy would put 庚辛壬癸。 into the first chunk; the paragraph starts a chunk instead
    assert _spans(text, 14) == ["甲乙丙丁。戊己。", "庚辛壬癸。子丑寅卯。"]


def test_the_last_chunk_is_not_a_scrap() -> None:
    text = "一二三四五六七八九。" * 5  # 50 characters, budget 40: two chunks of 30 and 20, not 40 and 10
    assert [len(p) for p in _spans(text, 40)] == [30, 20]


def test_empty_sections_produce_no_chunk() -> None:
    doc = _doc("一、回顾\n\n二、安排\n正文。")
    sections = [Section(("一、回顾",), 5, 5, 1), Section(("二、安排",), 11, 14, 1)]
    (only,) = chunk_document(doc, sections, max_tokens=10, overlap_tokens=0, count_tokens=len)
    assert only.text == "正文。" and only.heading_path == ("二、安排",) and only.ordinal == 0


def test_chunk_fields() -> None:
    doc = _doc("一、回顾\n正文一句。")
    (c,) = chunk_document(doc, parse_sections(doc.text), max_tokens=50, overlap_tokens=0, count_tokens=len)
    assert (c.doc_id, c.source, c.start, c.end, c.meta) == ("d", "t.txt", 5, 10, doc.meta)
    assert c.chunk_id == chunk_id("d", ("一、回顾",), "正文一句。")
    assert c.embed_text == "T › 一、回顾\n正文一句。"


@pytest.mark.parametrize(("max_tokens", "overlap"), [(0, 0), (-5, 0), (10, 10), (10, -1)])
def test_bad_budget_is_a_config_error(max_tokens: int, overlap: int) -> None:
    with pytest.raises(ConfigError, match="tokens"):
        chunk_document(_doc("正文。"), [], max_tokens=max_tokens, overlap_tokens=overlap, count_tokens=len)


def test_sections_from_another_text_are_refused() -> None:
    with pytest.raises(ValueError, match="outside the document text"):
        chunk_document(
            _doc("短。"), [Section((), 0, 99, 0)], max_tokens=10, overlap_tokens=0, count_tokens=len
        )


# --- make_document and split_document -------------------------------------------------------------


def test_make_document(samples_dir: Path) -> None:
    (path,) = samples_dir.glob("003_*.txt")
    raw = path.read_text(encoding="utf-8")
    doc = make_document(str(path), raw, "abc")
    assert doc.source == path.name
    assert doc.doc_id == hashlib.sha256(path.name.encode()).hexdigest()[:16] == doc_id_for(path.name)
    assert doc.text == clean_text(raw)
    assert doc.sha256 == "abc"
    assert doc.meta.title == "2019年精武镇政府工作报告"


def test_split_document_defaults_are_the_settings_defaults() -> None:
    fields = Settings.model_fields
    assert DEFAULT_MAX_TOKENS == fields["chunk_max_tokens"].default == 320
    assert DEFAULT_OVERLAP_TOKENS == fields["chunk_overlap_tokens"].default == 40


def test_split_document_follows_a_smaller_budget(docs: dict[str, Document]) -> None:
    small = split_document(docs["003"], max_tokens=120, overlap_tokens=20)
    assert len(small) > len(split_document(docs["003"]))
    assert all(count_tokens(c.text) <= 120 for c in small)
    assert (
        _chunk_with(small, "认定国家级高新技术企业52家").heading_path[-1] == "(一)经济发展的新动能进一步集聚"
    )
