"""The Gradio chat UI: ``build_ui(service) -> gr.Blocks``.

Layout and wiring only: every event goes to ``ui.web.handlers.Handlers``, which calls the service; answers
are rendered by ``ui.web.render``. Nothing happens at import, and building the Blocks does not touch the
index (the dropdowns and the document list are filled when a page loads).

``govqa serve`` mounts the Blocks at /ui with ``gr.mount_gradio_app``, which resets ``Blocks.css``:
the stylesheet therefore travels inside the page as a ``<style>`` element of an HTML component. The
default theme uses fonts shipped with Gradio and the stylesheet names only system fonts, so the page
loads nothing from outside the server.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import gradio as gr

from ui.access import Access
from ui.feedback import FeedbackStore
from ui.jobs import IngestJobs
from ui.web.conversations import Saved
from ui.web.handlers import Handlers, mode_label
from ui.web.render_docs import ALL, ALL_LABEL, TABLE_HEADERS, filter_line
from ui.web.saved_chats import SavedChats

log = logging.getLogger(__name__)

TITLE = "政府工作报告问答 · govqa"
SUPPORTED = ".txt, .md, .pdf, .docx, .png, .jpg"


@cache
def stylesheet() -> str:
    return (files("ui.web") / "style.css").read_text(encoding="utf-8")


@cache
def page_script() -> str:
    """The page's own script (citation links, copy buttons), run once when the page loads."""
    return (files("ui.web") / "page.js").read_text(encoding="utf-8")


STORAGE_KEY = "govqa-conversations"
# not a secret (Gradio sends it to the page): a fixed value only keeps the saved conversations readable
# after the server restarts, where Gradio's random default would lose them
STORAGE_SECRET = "govqa-conversations-v1"


def _header(settings: Any) -> str:
    llm = settings.answer_mode != "extractive"
    return (
        '<div id="gq-header"><div><h1>政府工作报告问答</h1>'
        '<div class="gq-sub">Answers quote the government work reports and cite where each quote comes '
        "from; questions the reports do not answer are refused. 回答引自报告原文，并标注出处。</div></div>"
        f'<span class="gq-mode{" gq-llm" if llm else ""}" id="gq-mode">{mode_label(settings)}</span></div>'
    )


@dataclass
class AskTab:
    body: gr.Dropdown
    year: gr.Dropdown
    document: gr.Dropdown
    chatbot: gr.Chatbot
    question: gr.Textbox
    send: gr.Button
    examples: gr.Dataset
    conversations: gr.Dropdown
    new: gr.Button
    filter_line: gr.HTML

    @property
    def filters(self) -> list[Any]:
        return [self.body, self.year, self.document]


@dataclass
class DocumentsTab:
    uploads: gr.File
    ingest: gr.Button
    upload_result: gr.HTML
    table: gr.Dataframe
    refresh: gr.Button
    to_delete: gr.Dropdown
    delete: gr.Button
    delete_note: gr.HTML
    confirm_row: gr.Row
    confirm: gr.Button
    cancel: gr.Button


def _ask_tab(with_feedback: bool) -> AskTab:
    """The chat first: the conversation, then the examples and the input, the filters folded away; the
    saved conversations and a new one on the line above the chat."""
    all_choice = [(ALL_LABEL, ALL)]
    with gr.Row(equal_height=False, elem_id="gq-top"):
        with (
            gr.Column(scale=3, min_width=280),
            gr.Accordion("筛选 · Filters (机构 / 年份 / 文档)", open=False, elem_id="gq-filters"),
            gr.Row(equal_height=True),
        ):
            body = gr.Dropdown(all_choice, value=ALL, label="机构 · Body", scale=1)
            year = gr.Dropdown(all_choice, value=ALL, label="年份 · Year", scale=1)
            document = gr.Dropdown(all_choice, value=ALL, label="文档 · Document", scale=2)
        with gr.Column(scale=2, min_width=300), gr.Row(elem_id="gq-convs-row"):
            conversations = gr.Dropdown(
                [],
                value=None,
                label="对话记录 · Saved conversations",
                show_label=False,
                container=False,
                scale=3,
                min_width=200,
                elem_id="gq-convs",
            )
            new = gr.Button("新对话 · New", size="sm", scale=1, min_width=90, elem_id="gq-new")
    chatbot = gr.Chatbot(
        label="对话 · Conversation",
        show_label=False,  # the label sat on top of the first message
        elem_id="gq-chat",
        height="calc(100vh - 430px)",  # the examples, the filter line and the input stay on the first screen
        min_height=220,
        latex_delimiters=[],
        feedback_options=("Like", "Dislike") if with_feedback else None,
        buttons=[],  # no share (HF Spaces) and no copy: it would copy the HTML source
        placeholder="问一个关于政府工作报告的问题 · Ask about the reports",
    )
    # filled from the ingested reports when the page loads; a click asks the question
    examples = gr.Dataset(
        components=[gr.Textbox(visible=False)],
        samples=[],
        type="index",
        label="示例问题 · Examples",
        elem_id="gq-examples",
    )
    line = gr.HTML(filter_line(ALL, ALL), elem_id="gq-filter-line", padding=False, js_on_load=None)
    with gr.Row(elem_id="gq-input-row"):
        question = gr.Textbox(
            placeholder="输入问题，例如：某年某地的税收收入是多少？（Enter 发送）",
            show_label=False,
            lines=1,
            max_lines=4,
            scale=6,
            elem_id="gq-question",
            interactive=False,  # enabled once the saved conversation is restored (page load)
            autofocus=False,  # on a phone, focusing scrolled the title away
        )
        send = gr.Button(
            "发送 · Ask", variant="primary", scale=1, min_width=80, elem_id="gq-send", interactive=False
        )
    return AskTab(body, year, document, chatbot, question, send, examples, conversations, new, line)


def _documents_tab(needs_admin_key: bool) -> DocumentsTab:
    uploads = gr.File(
        label=f"上传报告 · Upload reports ({SUPPORTED}; several at once)",
        file_count="multiple",
        elem_id="gq-upload",
    )
    gr.HTML(
        '<div class="gq-note">导入和删除需要以管理密钥登录 · Adding or deleting documents needs '
        'a login with an admin key (<a href="/logout">log in again</a>).</div>',
        visible=needs_admin_key,
        elem_id="gq-admin-note",
        js_on_load=None,
    )
    ingest = gr.Button("导入 · Ingest", variant="primary", elem_id="gq-ingest")
    upload_result = gr.HTML(elem_id="gq-upload-result", js_on_load=None)
    table = gr.Dataframe(
        headers=TABLE_HEADERS,
        label="已导入的报告 · Ingested reports",
        interactive=False,
        wrap=True,
        elem_id="gq-docs",
    )
    refresh = gr.Button("刷新 · Refresh", size="sm", elem_id="gq-refresh")
    with gr.Row():
        to_delete = gr.Dropdown([], label="删除文档 · Delete a document", scale=3)
        delete = gr.Button("删除… · Delete…", variant="stop", scale=1, min_width=120, elem_id="gq-delete")
    delete_note = gr.HTML(elem_id="gq-delete-note", js_on_load=None)
    with gr.Row(visible=False) as confirm_row:
        confirm = gr.Button("确认删除 · Confirm delete", variant="stop", elem_id="gq-confirm")
        cancel = gr.Button("取消 · Cancel", elem_id="gq-cancel")
    return DocumentsTab(
        uploads,
        ingest,
        upload_result,
        table,
        refresh,
        to_delete,
        delete,
        delete_note,
        confirm_row,
        confirm,
        cancel,
    )


PRIVATE: dict[str, Any] = {"api_visibility": "private"}  # no named API endpoint for any UI event
QUIET: dict[str, Any] = {**PRIVATE, "show_progress": "hidden"}  # instant bookkeeping: no spinner


def _wire_chat(demo: gr.Blocks, h: Handlers, ask: AskTab) -> None:
    history, chat_state, turns, example_list = gr.State([]), gr.State([]), gr.State([]), gr.State([])
    conversation_id = gr.State("")
    # the browser's copy of the conversations (localStorage): untrusted, read through SavedChats only
    saved = gr.BrowserState(Saved().to_json(), storage_key=STORAGE_KEY, secret=STORAGE_SECRET)
    chats = SavedChats()
    # the answer event saves the conversation with its final update (no separate, later save event)
    chat_in = [ask.question, chat_state, history, *ask.filters, turns, conversation_id, saved]
    chat_out = [ask.chatbot, chat_state, history, ask.question, turns, saved, ask.conversations]
    opened = [ask.chatbot, chat_state, history, turns, conversation_id, saved, ask.conversations]
    respond = chats.answering(h.respond)
    # every session's answers run at once (the service bounds the CPU work): Gradio's default of one
    # at a time for all users queued every question behind the one being answered
    answering = {**PRIVATE, "concurrency_limit": None, "concurrency_id": "answer"}
    asking = [
        ask.question.submit(respond, chat_in, chat_out, **answering),
        ask.send.click(respond, chat_in, chat_out, **answering),
        ask.examples.click(h.pick_example, [ask.examples, example_list], ask.question, **PRIVATE).then(
            respond, chat_in, chat_out, **answering
        ),
    ]
    # opening another conversation stops an answer still being written into the one left
    ask.new.click(chats.new, [saved], opened, cancels=asking, **QUIET)
    ask.conversations.input(chats.switch, [ask.conversations, saved], opened, cancels=asking, **QUIET)
    # the chat's own trash button: the conversation goes, from the browser too
    ask.chatbot.clear(chats.forget, [conversation_id, saved], opened, cancels=asking, **QUIET)
    ask.chatbot.like(h.rate, [turns], None, **PRIVATE)
    # the examples come after the restore: a click on one is never overtaken by it
    demo.load(chats.restore, [saved], [*opened, ask.question, ask.send], **QUIET).then(
        h.examples, None, [ask.examples, example_list], **PRIVATE
    )
    for dropdown in ask.filters:  # also when narrowing or a refresh changes another filter
        dropdown.change(h.filter_summary, ask.filters, ask.filter_line, **QUIET)


def _wire_documents(demo: gr.Blocks, h: Handlers, ask: AskTab, docs: DocumentsTab) -> None:
    filters = ask.filters
    listing = [docs.table, ask.body, ask.year, ask.document, docs.to_delete]
    docs.ingest.click(h.upload, [docs.uploads, *filters], [docs.upload_result, *listing], **PRIVATE).then(
        lambda: None, None, docs.uploads, **PRIVATE
    )
    docs.refresh.click(h.refresh, filters, listing, **PRIVATE)
    ask.body.input(h.narrow, filters, [ask.year, ask.document], **PRIVATE)
    ask.year.input(h.narrow, filters, [ask.year, ask.document], **PRIVATE)
    docs.delete.click(h.ask_delete, [docs.to_delete], [docs.delete_note, docs.confirm_row], **PRIVATE)
    docs.confirm.click(
        h.confirm_delete,
        [docs.to_delete, *filters],
        [docs.delete_note, docs.confirm_row, *listing],
        **PRIVATE,
    )
    docs.cancel.click(h.cancel_delete, None, [docs.delete_note, docs.confirm_row], **PRIVATE)
    demo.load(h.refresh, filters, listing, **PRIVATE)


def build_ui(
    service: Any,
    *,
    access: Access | None = None,
    jobs: IngestJobs | None = None,
    feedback: FeedbackStore | None = None,
) -> gr.Blocks:
    """The chat and documents UI over ``service`` (a ``ui.service.GovQA``).

    ``access``, ``jobs`` and ``feedback`` are the server's (shared with the HTTP API): who may change
    documents, the ingest worker uploads go to, where ratings are kept. Every event is private (no named
    API endpoint), and the only values taken from the browser are text, dropdown choices, uploaded files
    and the index of a clicked example or rated message: the conversation is kept in server-side
    ``gr.State``.
    """
    h = Handlers(service, access, jobs, feedback)
    # uploads that were never ingested (an abandoned form) are deleted within the hour
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(900, 3600)) as demo:
        gr.HTML(f"<style>{stylesheet()}</style>", elem_id="gq-style", padding=False, js_on_load=None)
        gr.HTML("", elem_id="gq-script", padding=False, js_on_load=page_script())
        gr.HTML(_header(service.settings), padding=False, js_on_load=None)
        with gr.Tabs():
            with gr.Tab("问答 · Ask", id="ask"):
                ask = _ask_tab(with_feedback=feedback is not None)
            with gr.Tab("文档 · Documents", id="documents"):
                docs = _documents_tab(h.needs_admin_key)
        _wire_chat(demo, h, ask)
        _wire_documents(demo, h, ask, docs)
    log.debug("UI built (%s)", service.settings.answer_mode)
    return demo
