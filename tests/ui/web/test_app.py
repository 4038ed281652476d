"""``build_ui`` over a real service (sample reports, fake embedder): the wired event handlers, called
directly — asking (streamed, follow-ups, filters, refusals, errors), uploads and deletes."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pytest

from govqa.errors import GovQAError, LLMError
from govqa.types import Answer
from tests.ui.web.conftest import ui_settings
from ui.service import GovQA
from ui.web.app import build_ui
from ui.web.handlers import INTERNAL_ERROR, Handlers, make_filters, mode_label
from ui.web.render_docs import ALL


def wired(demo: gr.Blocks, api_name: str) -> Callable[..., Any]:
    """The function an event with ``api_name`` runs (what a browser triggers)."""
    fns = [f.fn for f in demo.fns.values() if f.api_name == api_name]
    assert len(fns) == 1, f"no single event named {api_name!r}"
    fn = fns[0]
    assert fn is not None
    return fn


def last(events: Iterator[tuple[Any, ...]]) -> tuple[Any, ...]:
    out = list(events)
    assert out, "the handler yielded nothing"
    return out[-1]


def bot(chat: list[dict[str, Any]]) -> str:
    assert chat[-1]["role"] == "assistant"
    content = chat[-1]["content"]
    assert isinstance(content, str)
    return content


@pytest.fixture
def demo(service: GovQA) -> gr.Blocks:
    return build_ui(service)


@pytest.fixture
def ask(demo: gr.Blocks) -> Callable[..., tuple[Any, ...]]:
    fn = wired(demo, "respond")

    def run(question: str, chat: Any = None, history: Any = None, **filters: Any) -> tuple[Any, ...]:
        shown, kept, pairs, box, _turns, _saved, _listing = last(
            fn(
                question,
                chat or [],
                history or [],
                *(filters.get(k, ALL) for k in ("body", "year", "document")),
            )
        )
        assert shown == kept  # the chat shown is the server-side state
        return shown, pairs, box

    return run


@pytest.fixture
def uploads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Gradio's upload folder for this test: the only place the upload handler reads files from."""
    folder = tmp_path / "gradio-uploads"
    folder.mkdir()
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(folder))
    return folder


class KeyedRequest:
    """What the upload and delete handlers read of a ``gr.Request``: headers, cookies, the client."""

    def __init__(self, key: str) -> None:
        self.headers = {"authorization": f"Bearer {key}"} if key else {}
        self.cookies: dict[str, str] = {}
        self.client = type("Client", (), {"host": "127.0.0.1"})()


def test_build_ui_does_no_work_and_shows_the_mode(service: GovQA) -> None:
    demo = build_ui(service)
    assert isinstance(demo, gr.Blocks)
    assert service._index is None and service._embedder is None  # the index opens on first page load
    html = " ".join(str(getattr(b, "value", "")) for b in demo.blocks.values())
    assert "extractive" in html and "<style>" in html
    for name in ("respond", "upload", "confirm_delete", "refresh"):
        wired(demo, name)
    # every event is private: the UI exposes no named API endpoint
    assert all(f.api_visibility == "private" for f in demo.fns.values() if f.name != "load_example")
    examples, kept = wired(demo, "examples")()
    assert len(kept) == 4 and [[q] for q in kept] == examples["samples"]
    assert "2021年西青区地区生产总值是多少？" in kept  # mined from the reports, one per body first
    assert wired(demo, "pick_example")(kept.index("2021年西青区地区生产总值是多少？"), kept) == kept[2]
    assert wired(demo, "pick_example")(99, kept) == ""


def test_mode_label_names_the_llm() -> None:
    class S:
        answer_mode = "openai"
        llm_model = "qwen2.5-1.5b"

    assert mode_label(S()) == "LLM · openai · qwen2.5-1.5b"
    S.answer_mode = "local"  # the bundled GGUF, not the OpenAI model setting
    assert mode_label(S()) == "LLM · local · qwen2.5-coder-1.5b-instruct-q4_k_m.gguf (on this machine)"


# --- asking ----------------------------------------------------------------------------------------
def test_ask_streams_then_shows_the_answer_with_citation_cards(demo: gr.Blocks) -> None:
    steps = list(wired(demo, "respond")("2019年精武镇税收收入是多少？", [], [], ALL, ALL, ALL))
    first_chat, _, _, box, _, saved, _ = steps[0]
    assert saved == gr.skip()  # the conversation is saved with the final answer, not before
    assert box == ""  # the textbox is cleared at once
    assert first_chat[0] == {"role": "user", "content": "2019年精武镇税收收入是多少？"}
    assert "gq-pending" in bot(first_chat)
    chat, kept, history, _, turns, saved, listing = steps[-1]
    assert turns[0]["mode"] == "extractive" and turns[0]["citations"][0]["quote"]
    assert saved["conversations"][0]["turns"][0]["q"] == "2019年精武镇税收收入是多少？"
    assert listing["value"] == saved["current"]
    assert kept == chat  # what is shown is what the session keeps (on the server)
    html = bot(chat)
    assert "18亿元" in html and "gq-pending" not in html and "gq-refused" not in html
    assert re.search(r'<details class="gq-card" id="gq-c-[0-9a-f]{8}-1" open>', html) and "<mark>" in html
    assert re.search(r'<a class="gq-ref-link" href="#gq-c-[0-9a-f]{8}-1">\[1\]</a>', html)  # [1] links to it
    assert "2019年精武镇政府工作报告 › 一、2019年工作回顾" in html
    assert history == [
        ("2019年精武镇税收收入是多少？", "2019年全镇预计实现税收收入18亿元,同比增长36.8%[1]。")
    ]


def test_follow_up_uses_the_history(ask: Callable[..., tuple[Any, ...]]) -> None:
    chat, history, _ = ask("2019年精武镇税收收入是多少？")
    chat, history, _ = ask("那2024年呢？", chat, history)
    assert len(chat) == 4 and len(history) == 2
    assert "10.8亿元" in bot(chat)


def test_refusal_is_styled_with_related_passages(ask: Callable[..., tuple[Any, ...]]) -> None:
    chat, history, _ = ask("2023年精武镇税收收入是多少？")
    html = bot(chat)
    assert "gq-refused" in html and "报告中未找到依据" in html
    assert "gq-related-card" in html
    assert history[-1][1].startswith("报告中没有找到")


def test_english_comparison_cites_both_years(ask: Callable[..., tuple[Any, ...]]) -> None:
    html = bot(ask("How did Jingwu's tax revenue change from 2019 to 2024?")[0])
    assert "18亿元" in html and "10.8亿元" in html
    assert html.count('<details class="gq-card"') == 2


def test_filters_narrow_the_scope(ask: Callable[..., tuple[Any, ...]], service: GovQA) -> None:
    q = "2019年精武镇税收收入是多少？"
    # the question names 精武镇 and 2019: it wins over contradicting filters, with a visible note (issue 12.5)
    overridden = bot(ask(q, body="张家窝镇")[0])
    assert "注意：问题问的是精武镇" in overridden and "18亿元" in overridden
    assert "gq-refused" in bot(ask("税收收入是多少？", year="2030")[0])
    assert "10.8亿元" in bot(ask("精武镇税收收入是多少？", year="2024")[0])
    jingwu_2019 = next(r.doc_id for r in service.documents() if r.meta.title == "2019年精武镇政府工作报告")
    zjw_2024 = next(r.doc_id for r in service.documents() if r.meta.title == "2024年张家窝镇政府工作报告")
    assert "18亿元" in bot(ask(q, body="精武镇", year="2019", document=jingwu_2019)[0])
    assert "与筛选的文档“2024年张家窝镇政府工作报告”不一致" in bot(ask(q, document=zjw_2024)[0])


def test_make_filters() -> None:
    assert make_filters(ALL, ALL, ALL) is None
    assert make_filters(None, "", None) is None
    f = make_filters("精武镇", "2019", "abc")
    assert f is not None and (f.body, f.year, f.document) == ("精武镇", 2019, "abc")
    with pytest.raises(GovQAError, match="year"):
        make_filters(ALL, "twenty", ALL)


def test_errors_are_friendly_messages_in_the_chat(ask: Callable[..., tuple[Any, ...]]) -> None:
    chat, history, _ = ask("问" * 5000)
    html = bot(chat)
    assert "gq-error" in html and "over the limit" in html and "Traceback" not in html
    assert history == []
    html = bot(ask("2019年精武镇税收收入是多少？", year="1800")[0])
    assert "gq-error" in html and "between 1949 and 2100" in html


def test_an_empty_question_changes_nothing(ask: Callable[..., tuple[Any, ...]]) -> None:
    assert ask("   ") == ([], [], "   ")


class ScriptedService:
    """Streams the given events (or raises) like ``GovQA.ask_stream``."""

    def __init__(self, events: list[Any]) -> None:
        self.settings = ui_settings(Path("unused"))
        self.events = events
        self.calls: list[tuple[Any, ...]] = []

    def ask_stream(self, question: str, history: Any, filters: Any) -> Iterator[dict[str, Any]]:
        self.calls.append((question, list(history), filters))
        for e in self.events:
            if isinstance(e, Exception):
                raise e
            yield e


def test_llm_deltas_are_provisional_and_the_final_answer_replaces_them() -> None:
    final = Answer(question="q", text="定稿答案[1]", refused=False, mode="llm")
    svc = ScriptedService(
        [
            {"type": "delta", "text": "草稿"},
            {"type": "delta", "text": "<b>"},
            {"type": "answer", "answer": final},
        ]
    )
    steps = [(c, h, t) for c, _, h, t, _ in Handlers(svc).respond("问题", [], [("旧问题", "旧答案")] * 10)]
    shown = [bot(chat) for chat, _, _ in steps]
    assert "草稿&lt;b&gt;" in shown[2] and "gq-pending" in shown[2]
    assert "定稿答案" in shown[-1] and "草稿" not in shown[-1]
    assert len(svc.calls[0][1]) == 6  # only the last turns go with a follow-up
    assert steps[-1][1][-1] == ("问题", "定稿答案[1]")


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (LLMError("the chat model at http://127.0.0.1:9 did not answer"), "did not answer"),
        (RuntimeError("secret internals"), INTERNAL_ERROR),
    ],
)
def test_a_failure_mid_stream_replaces_the_partial_answer(error: Exception, shown: str) -> None:
    svc = ScriptedService([{"type": "delta", "text": "部分"}, error])
    chat, _, history, _, _ = list(Handlers(svc).respond("问题", [], []))[-1]
    html = bot(chat)
    assert "gq-error" in html and shown in html and "部分" not in html
    assert "secret internals" not in html
    assert history == []


def test_a_stream_without_an_answer_is_an_error() -> None:
    chat, *_ = list(Handlers(ScriptedService([{"type": "delta", "text": "x"}])).respond("q", [], []))[-1]
    assert "cut off" in bot(chat)


# --- documents -------------------------------------------------------------------------------------
def test_refresh_lists_documents_and_fills_the_dropdowns(demo: gr.Blocks) -> None:
    rows, body, year, document, to_delete = wired(demo, "refresh")(ALL, ALL, ALL)
    assert len(rows) == 5
    assert {r[2] for r in rows} == {"精武镇", "西青区", "张家窝镇"}
    assert all(len(r) == 6 and r[4] > 0 for r in rows)
    assert [v for _, v in body["choices"]] == [ALL, "张家窝镇", "精武镇", "西青区"]
    assert ("2019年", "2019") in year["choices"] and year["value"] == ALL
    assert len(document["choices"]) == 6 and len(to_delete["choices"]) == 5
    assert to_delete["value"] is None


def test_upload_good_and_bad_files_each_get_a_result(demo: gr.Blocks, uploads: Path) -> None:
    tmp_path = uploads
    good = tmp_path / "2025年测试镇政府工作报告.txt"
    good.write_text(
        "2025年测试镇政府工作报告\n\n一、2025年工作回顾\n\n2025年全镇实现税收收入3亿元，同比增长5%。\n",
        encoding="utf-8",
    )
    binary = tmp_path / "bad.txt"
    binary.write_bytes(b"\x00\x01" * 50)
    unsupported = tmp_path / "report.exe"
    unsupported.write_bytes(b"MZ" * 50)
    empty = tmp_path / "empty.md"
    empty.write_bytes(b"")
    result, rows, body, *_ = wired(demo, "upload")([str(binary), str(good), str(unsupported), str(empty)])
    assert result.count("gq-file") == 4
    assert "✖ <b>bad.txt</b> — the file looks binary" in result
    assert "✔ <b>2025年测试镇政府工作报告.txt</b> — added: " in result
    assert "✖ <b>report.exe</b> — unsupported file type" in result
    assert "✖ <b>empty.md</b> — the file is empty" in result
    assert len(rows) == 6 and ("测试镇", "测试镇") in body["choices"]
    assert not any(uploads.iterdir())  # every upload is deleted once ingested (or refused)
    good.write_text(
        "2025年测试镇政府工作报告\n\n2025年全镇实现税收收入3亿元，同比增长5%。\n", encoding="utf-8"
    )
    again, *_ = wired(demo, "upload")([str(good)])
    assert "updated" in again


def test_upload_reads_only_gradio_upload_folder(demo: gr.Blocks, uploads: Path, tmp_path: Path) -> None:
    """A server path handed to the upload event (not an upload) is refused, and left where it is."""
    outside = tmp_path / "secret.txt"
    outside.write_text("2025年测试镇政府工作报告\n\n机密：全镇税收收入3亿元。\n" * 3, encoding="utf-8")
    for path in (str(outside), str(uploads / ".." / "secret.txt"), "/etc/hostname"):
        result, rows, *_ = wired(demo, "upload")([path])
        assert "not an uploaded file" in result and len(rows) == 5
    assert outside.exists()


def test_filters_narrow_each_other(demo: gr.Blocks, service: GovQA) -> None:
    years, documents = wired(demo, "narrow")("张家窝镇", ALL, ALL)
    assert [v for _, v in years["choices"]] == [ALL, "2023", "2024"]  # reviews 2023, plans 2024
    assert len(documents["choices"]) == 2  # "all" and the one report of that body
    years, documents = wired(demo, "narrow")("精武镇", "2019", ALL)
    own = sorted({y for r in service.documents() if r.meta.body == "精武镇" for y in r.meta.years})
    assert [v for _, v in years["choices"]] == [ALL, *map(str, own)] and years["value"] == "2019"
    assert [label for label, _ in documents["choices"][1:]] == [
        "2019年精武镇政府工作报告 · 003_7659820794adfa4e.txt",
        "2021年精武镇政府工作报告 · 000_09e983e223e49bd2.txt",
    ]
    years, _ = wired(demo, "narrow")("张家窝镇", "2019", ALL)  # a year the body has no report for
    assert years["value"] == ALL


def test_upload_nothing_says_what_to_do(demo: gr.Blocks) -> None:
    result, rows, *_ = wired(demo, "upload")(None)
    assert "choose one or more" in result and len(rows) == 5


def test_delete_asks_for_confirmation_first(demo: gr.Blocks, service: GovQA) -> None:
    handlers = Handlers(service)
    doc = next(r for r in service.documents() if r.meta.title == "2019年精武镇政府工作报告")
    note, row = handlers.ask_delete(doc.doc_id)
    assert "Delete 2019年精武镇政府工作报告" in note and row["visible"] is True
    assert len(service.documents()) == 5  # nothing deleted yet
    note, row = handlers.cancel_delete()
    assert "Nothing deleted" in note and row["visible"] is False
    note, row, rows, *_, to_delete = wired(demo, "confirm_delete")(doc.doc_id, ALL, ALL, doc.doc_id)
    assert "Deleted 2019年精武镇政府工作报告" in note and row["visible"] is False
    assert len(rows) == 4 and doc.doc_id not in {r[0] for r in rows}
    assert len(to_delete["choices"]) == 4


def test_delete_unknown_or_none(demo: gr.Blocks, service: GovQA) -> None:
    note, *_ = wired(demo, "confirm_delete")("nope", ALL, ALL, ALL)
    assert "Not deleted" in note and "no document with id" in note
    note, row = Handlers(service).ask_delete(None)
    assert "Choose a document" in note and row["visible"] is False
    assert "No document with id" in Handlers(service).ask_delete("nope")[0]


def test_a_filter_on_a_deleted_document_falls_back_to_all(demo: gr.Blocks, service: GovQA) -> None:
    doc = service.documents()[0]
    *_, document, _ = wired(demo, "confirm_delete")(doc.doc_id, ALL, ALL, doc.doc_id)
    assert document["value"] == ALL


def test_with_keys_document_changes_need_an_admin_key(service: GovQA, uploads: Path) -> None:
    service.settings = ui_settings(service.settings.data_dir, api_keys="user-key", admin_api_keys="admin-key")
    demo = build_ui(service)
    note_box = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "gq-admin-note")
    assert note_box.visible is True

    def report() -> str:
        good = uploads / "report.txt"
        good.write_text(
            "2025年测试镇政府工作报告\n\n2025年全镇实现税收收入3亿元，同比增长5%。\n", encoding="utf-8"
        )
        return str(good)

    doc_id = service.documents()[0].doc_id
    for key in ("", "user-key", "wrong"):
        result, rows, *_ = wired(demo, "upload")([report()], ALL, ALL, ALL, KeyedRequest(key))
        assert "needs an admin API key" in result and len(rows) == 5
        note, *_ = wired(demo, "confirm_delete")(doc_id, ALL, ALL, ALL, KeyedRequest(key))
        assert "needs an admin API key" in note
    assert len(service.documents()) == 5
    assert not any(uploads.iterdir())  # refused uploads are deleted too
    result, rows, *_ = wired(demo, "upload")([report()], ALL, ALL, ALL, KeyedRequest("admin-key"))
    assert "added" in result and len(rows) == 6
    note, *_ = wired(demo, "confirm_delete")(doc_id, ALL, ALL, ALL, KeyedRequest("admin-key"))
    assert "Deleted" in note and len(service.documents()) == 5


def test_without_keys_the_admin_note_is_hidden(demo: gr.Blocks) -> None:
    note_box = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "gq-admin-note")
    assert note_box.visible is False


def test_thumbs_are_stored_with_the_answer_they_rate(service: GovQA, tmp_path: Path) -> None:
    from ui.feedback import FeedbackStore

    store = FeedbackStore(tmp_path / "feedback.sqlite")
    demo = build_ui(service, feedback=store)
    *_, turns, _, _ = last(wired(demo, "respond")("2019年精武镇税收收入是多少？", [], [], ALL, ALL, ALL, []))
    *_, turns, _, _ = last(
        wired(demo, "respond")("2023年精武镇税收收入是多少？", [], [], ALL, ALL, ALL, turns)
    )
    rate = wired(demo, "rate")
    rate(turns, gr.LikeData(target=None, data={"index": 1, "value": "", "liked": True}))
    rate(turns, gr.LikeData(target=None, data={"index": 3, "value": "", "liked": False}))
    rate(turns, gr.LikeData(target=None, data={"index": 99, "value": "", "liked": True}))  # no such turn
    down, up = store.list()
    assert up.rating == "up" and "18亿元" in up.answer and up.citations and up.mode == "extractive"
    assert down.rating == "down" and down.refused and down.question == "2023年精武镇税收收入是多少？"


def test_an_upload_shows_its_pages_as_they_are_read(
    service: GovQA, uploads: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scanned PDF takes seconds a page: the progress line follows the pages the worker has read."""
    import time

    from govqa.errors import InputFileError

    def slow_read(name: str, data: bytes, pages: Any = None) -> Any:
        for done in (1, 2, 3):
            pages(done, 3)
            time.sleep(0.7)  # longer than the handler's polling interval
        raise InputFileError(name, "stopped by the test after three pages")

    monkeypatch.setattr(service, "ingest_bytes", slow_read)
    scan = uploads / "扫描件.pdf"
    scan.write_bytes(b"%PDF-1.4 stand-in")
    shown: list[tuple[Any, str]] = []
    result, *_ = wired(build_ui(service), "upload")(
        [str(scan)], progress=lambda value=None, desc="", **_: shown.append((value, desc))
    )
    assert "stopped by the test" in result
    pages = [(value, desc) for value, desc in shown if "页" in desc]
    assert ((1, 3), "扫描件.pdf: 已读 1/3 页 · pages read") in pages
    assert ((2, 3), "扫描件.pdf: 已读 2/3 页 · pages read") in pages
    assert [v for v, _ in pages] == sorted(v for v, _ in pages)  # never backwards


@pytest.mark.ocr
@pytest.mark.slow
def test_scanned_pdf_upload_answers_with_an_ocr_note(demo: gr.Blocks, uploads: Path, tmp_path: Path) -> None:
    from eval.real_files import scanned_pdf, text_pdf

    pytest.importorskip("reportlab")
    text = (
        "2025年测试镇政府工作报告\n——2025年1月10日在测试镇第一届人民代表大会第三次会议上\n测试镇镇长 张三\n"
        "各位代表：\n一、2024年工作回顾\n2024年全镇实现税收收入3.6亿元，同比增长8%。\n"
        "二、2025年工作安排\n2025年全镇税收收入力争达到4亿元。"
    )
    scan = scanned_pdf(text_pdf(text, tmp_path / "t.pdf"), uploads / "测试镇扫描件.pdf", dpi=150)
    shown: list[tuple[Any, str]] = []
    result, *_ = wired(demo, "upload")(
        [str(scan)], progress=lambda value=None, desc="", **_: shown.append((value, desc))
    )
    assert shown[0] == ((0, 1), "测试镇扫描件.pdf")
    assert "✔ <b>测试镇扫描件.pdf</b> — added: " in result and "read by OCR (tesseract" in result
    chat, *_ = last(wired(demo, "respond")("测试镇2024年税收收入是多少？", [], [], ALL, ALL, ALL, []))
    html = bot(chat)
    assert "3.6亿元" in html and "gq-refused" not in html
    assert "read by OCR (tesseract" in html


def test_a_restored_answer_is_not_rated(service: GovQA, tmp_path: Path) -> None:
    """Its text came from the browser: a thumb on it stores nothing."""
    from ui.feedback import FeedbackStore
    from ui.web.conversations import Saved
    from ui.web.saved_chats import restore_chat

    store = FeedbackStore(tmp_path / "feedback.sqlite")
    raw = {"conversations": [{"id": "a" * 16, "turns": [{"q": "2019年精武镇税收收入是多少？", "a": "伪造"}]}]}
    _, _, turns = restore_chat(Saved.parse(raw).conversations[0])
    wired(build_ui(service, feedback=store), "rate")(
        turns, gr.LikeData(target=None, data={"index": 1, "value": "", "liked": True})
    )
    assert store.list() == []


def test_the_filter_line_names_the_report_by_its_title(demo: gr.Blocks, service: GovQA) -> None:
    summary = wired(demo, "filter_summary")
    assert "全部报告" in summary(ALL, ALL, ALL)
    doc = next(r for r in service.documents() if r.meta.title == "2019年精武镇政府工作报告")
    assert summary("精武镇", "2019", doc.doc_id).endswith(
        "筛选：精武镇 · 2019年 · 2019年精武镇政府工作报告</div>"
    )
    assert summary(ALL, ALL, "no-such-doc") == summary(ALL, ALL, ALL)
