"""rag.front_matter: questions about a report itself, answered from its cover notice and speech header."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from govqa.types import Chunk, DocumentMeta
from ingest.chunking import split_document
from ingest.document import make_document
from rag.front_matter import (
    DELIVERY,
    DOC_NUMBER,
    SPEAKER,
    answer_spans,
    find,
    intents,
    pick_document,
)
from rag.question import QuestionInfo, analyze_question
from rag.scope import DocInfo

KNOWN = ("精武镇", "西青区", "张家窝镇")


def ask(question: str) -> QuestionInfo:
    return analyze_question(question, known_bodies=KNOWN)


@pytest.fixture(scope="module")
def chunks_by_source(sample_files: list[Path]) -> dict[str, list[Chunk]]:
    """Each sample report cleaned and chunked as ingest does it (no embedding)."""
    out = {}
    for path in sample_files:
        doc = make_document(path.name, path.read_text(encoding="utf-8"), "sha")
        out[path.name[:3]] = split_document(doc)
    return out


# ---------------------------------------------------------------------------------------- intents


@pytest.mark.parametrize(
    ("question", "wanted"),
    [
        ("2019年精武镇政府工作报告是由谁代表镇政府作的？", (SPEAKER,)),
        ("2024年精武镇政府工作报告由谁作？", (SPEAKER,)),
        ("西青区政府工作报告的报告人是哪位区长？", (SPEAKER,)),
        ("2019年精武镇政府工作报告是在哪天、哪次会议上作的？", (DELIVERY,)),
        ("张家窝镇政府工作报告是什么时候作的？", (DELIVERY,)),
        ("印发张家窝镇政府工作报告的文件文号是什么？", (DOC_NUMBER,)),
        ("2021年精武镇政府工作报告由谁在哪次会议上作的？", (SPEAKER, DELIVERY)),
        ("Who delivered the 2019 government work report of Jingwu town?", (SPEAKER,)),
        ("By whom was the Xiqing report delivered?", (SPEAKER,)),
        ("On what date did Zhangjiawo's mayor Zhao Lin deliver the government work report?", (DELIVERY,)),
        ("At which meeting was the 2024 Jingwu report delivered?", (DELIVERY,)),
        ("What is the document number of the Zhangjiawo report?", (DOC_NUMBER,)),
    ],
)
def test_intents_of_questions_about_a_report(question: str, wanted: tuple[str, ...]) -> None:
    assert intents(ask(question)) == wanted


@pytest.mark.parametrize(
    "question",
    [
        "第一小学何时开学",  # 何时, but not about a report
        "张家窝镇第一小学计划何时开学投用？",
        "精武镇党委书记是谁？",
        "2019年精武镇税收收入是多少？",
        "2024年精武镇政府工作报告提出了哪些目标？",  # about the report's content, not the report itself
        "Who is the party secretary of Jingwu?",
        "When will the new school open?",
    ],
)
def test_no_intent_for_ordinary_questions(question: str) -> None:
    assert intents(ask(question)) == ()


# ---------------------------------------------------------------------------------- pick_document


def doc(doc_id: str, title: str, date: str) -> DocInfo:
    return DocInfo(doc_id, f"{doc_id}.txt", DocumentMeta(body="精武镇", title=title, date=date))


def test_pick_document_prefers_the_year_in_the_title_over_the_delivery_date() -> None:
    delivered_2024 = doc("a", "2023年精武镇政府工作报告", "2024-01-08")
    titled_2024 = doc("b", "2024年精武镇政府工作报告", "2025-01-10")
    for docs in ([delivered_2024, titled_2024], [titled_2024, delivered_2024]):
        assert pick_document(ask("2024年精武镇政府工作报告由谁作？"), docs) == titled_2024


def test_pick_document_falls_back_to_the_delivery_year() -> None:
    zjw = DocInfo(
        "z", "z.txt", DocumentMeta(body="张家窝镇", title="张家窝镇政府工作报告", date="2024-01-18")
    )
    other = DocInfo(
        "o", "o.txt", DocumentMeta(body="张家窝镇", title="张家窝镇政府工作报告", date="2023-01-10")
    )
    assert pick_document(ask("张家窝镇2024年1月的政府工作报告由谁作？"), [other, zjw]) == zjw


def test_pick_document_without_a_year_takes_the_earliest_and_none_without_documents() -> None:
    early, late = doc("e", "2019年精武镇政府工作报告", "2019-12-28"), doc("l", "2024年", "2024-12-30")
    assert pick_document(ask("精武镇政府工作报告由谁作？"), [late, early]) == early
    assert pick_document(ask("精武镇政府工作报告由谁作？"), []) is None


# ------------------------------------------------------------------------- answer_spans and find


@pytest.mark.parametrize(
    ("report", "speaker_line", "delivery_line"),
    [
        ("003", "精武镇人民政府镇长徐海权", "——2019年12月28日在精武镇第十八届人民代表大会第九次会议上"),
        # in the raw file this line is wrapped before 人民代表大会: the cleaned text joins it
        ("000", "精武镇镇长乔金星", "——2021年11月9日在精武镇第十九届人民代表大会第一次会议上"),
        ("001", "精武镇镇长张艳红", "——2024年12月30日在精武镇第十九届人民代表大会第十次会议上"),
        (
            "002",
            "西青区人民政府代理区长殷学武",
            "——2021年12月12日在天津市西青区第十八届人民代表大会第一次会议上",
        ),
        (
            "004",
            "张家窝镇镇长赵林",
            "——2024年1月18日在天津市西青区张家窝镇第十九届人民代表大会第八次会议上",
        ),
    ],
)
def test_answer_spans_in_the_real_speech_header(
    chunks_by_source: dict[str, list[Chunk]], report: str, speaker_line: str, delivery_line: str
) -> None:
    header = next(c for c in chunks_by_source[report] if c.heading_path == ("政府工作报告",))

    def lines(wanted: tuple[str, ...]) -> list[str]:
        return [header.text[s:e] for s, e in answer_spans(wanted, header)]

    assert lines((SPEAKER,)) == [speaker_line]
    assert lines((DELIVERY,)) == [delivery_line]
    assert lines((DOC_NUMBER,)) == []
    assert lines((SPEAKER, DELIVERY)) == [delivery_line, speaker_line]  # in document order


def test_answer_spans_of_the_document_number_in_the_cover_notice(
    chunks_by_source: dict[str, list[Chunk]],
) -> None:
    notice = next(c for c in chunks_by_source["004"] if c.heading_path == ("印发通知",))
    assert [notice.text[s:e] for s, e in answer_spans((DOC_NUMBER,), notice)] == ["西青张政发〔2024〕1号"]
    for report in ("000", "001", "002", "003"):  # the other notices carry no document number
        other = next(c for c in chunks_by_source[report] if c.heading_path == ("印发通知",))
        assert answer_spans((DOC_NUMBER,), other) == []


def test_a_long_line_naming_the_speaker_is_not_the_speaker_line() -> None:
    meta = DocumentMeta(body="精武镇", speaker="张艳红")
    text = "镇长张艳红在会上指出，要坚持稳中求进工作总基调，全面推进高质量发展，确保各项工作取得新成效。"
    assert len(text) > 40
    assert (
        answer_spans((SPEAKER,), Chunk("c", "d", "d.txt", text, ("一、工作回顾",), 0, len(text), meta)) == []
    )


def test_find_reads_the_first_front_matter_chunks_in_document_order(
    chunks_by_source: dict[str, list[Chunk]],
) -> None:
    chunks = list(chunks_by_source["003"])
    random.Random(7).shuffle(chunks)
    found = find((SPEAKER,), chunks)
    assert found is not None
    chunk, spans = found
    assert chunk.heading_path == ("政府工作报告",) and chunk.ordinal == 1
    assert [chunk.text[s:e] for s, e in spans] == ["精武镇人民政府镇长徐海权"]
    assert find((DOC_NUMBER,), chunks) is None


def test_find_ignores_lines_deep_in_the_report() -> None:
    meta = DocumentMeta(body="精武镇", speaker="徐海权")
    late = Chunk(
        "late", "d", "d.txt", "——2019年12月28日在镇人民代表大会会议上", ("一、回顾",), 0, 20, meta, 9
    )
    body = [Chunk(f"b{i}", "d", "d.txt", "正文", ("一、回顾",), 0, 2, meta, i) for i in range(4)]
    assert find((DELIVERY,), [late, *body]) is None


def test_a_header_without_a_meeting_line_answers_with_its_date_line() -> None:
    """Speaker line, then the date alone (no '——…会议上'): the date line that is the delivery date."""
    meta = DocumentMeta(body="河西街道", date="2022-01-14", speaker="李静")
    text = (
        "河西街道2022年政府工作报告\n河西街道办事处主任 李静\n2022年1月14日\n各位代表：\n印发于2022年1月20日"
    )
    chunk = Chunk("c", "d", "d.txt", text, ("河西街道2022年政府工作报告",), 0, len(text), meta)
    assert [text[s:e] for s, e in answer_spans((DELIVERY,), chunk)] == ["2022年1月14日"]
    other = DocumentMeta(body="河西街道", date="2022-01-20")  # a date line that is not the delivery date
    assert answer_spans((DELIVERY,), Chunk("c", "d", "d.txt", text, (), 0, len(text), other)) == []
    with_meeting = "——2022年1月14日在河西街道第三届居民代表大会第一次会议上\n2022年1月14日"
    chunk = Chunk("c", "d", "d.txt", with_meeting, (), 0, len(with_meeting), meta)
    assert [with_meeting[s:e] for s, e in answer_spans((DELIVERY,), chunk)] == [with_meeting.split("\n")[0]]
