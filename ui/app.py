"""The Gradio chat UI: ``build_ui(service) -> gr.Blocks``.

Layout and wiring only: every event goes to ``ui.handlers.Handlers``, which calls the service; answers
are rendered by ``ui.render``. Nothing happens at import, and building the Blocks does not touch the
index (the dropdowns and the document list are filled when a page loads).

``govqa serve`` mounts the Blocks at /ui with ``gr.mount_gradio_app``, which resets ``Blocks.css``:
the stylesheet therefore travels inside the page as a ``<style>`` element of an HTML component. The
default theme uses fonts shipped with Gradio and the stylesheet names only system fonts, so the page
loads nothing from outside the server.
"""

from __future__ import annotations

import logging
from functools import cache
from importlib.resources import files
from typing import Any

import gradio as gr

from ui.access import Access
from ui.feedback import FeedbackStore
from ui.handlers import Handlers, mode_label
from ui.jobs import IngestJobs
from ui.render_docs import ALL, ALL_LABEL, TABLE_HEADERS

log = logging.getLogger(__name__)

TITLE = "政府工作报告问答 · govqa"
SUPPORTED = ".txt, .md, .pdf, .docx"


@cache
def stylesheet() -> str:
    return (files("ui") / "style.css").read_text(encoding="utf-8")


def _header(settings: Any) -> str:
    llm = settings.answer_mode != "extractive"
    return (
        '<div id="gq-header"><div><h1>政府工作报告问答</h1>'
        '<div class="gq-sub">Answers quote the government work reports and cite where each quote comes '
        "from; questions the reports do not answer are refused. 回答引自报告原文，并标注出处。</div></div>"
        f'<span class="gq-mode{" gq-llm" if llm else ""}" id="gq-mode">{mode_label(settings)}</span></div>'
    )


def build_ui(
    service: Any,
    *,
    access: Access | None = None,
    jobs: IngestJobs | None = None,
    feedback: FeedbackStore | None = None,
) -> gr.Blocks:
    """The chat and documents UI over ``service`` (a ``govqa.service.GovQA``).

    ``access`` and ``jobs`` are the server's (shared with the HTTP API): who may change documents, and
    the ingest worker uploads go to. Every event is private (no named API endpoint), and the only
    values taken from the browser are text, dropdown choices and uploaded files: the conversation is
    kept in server-side ``gr.State``.
    """
    h = Handlers(service, access, jobs, feedback)
    all_choice = [(ALL_LABEL, ALL)]
    # uploads that were never ingested (an abandoned form) are deleted within the hour
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(900, 3600)) as demo:
        gr.HTML(f"<style>{stylesheet()}</style>", elem_id="gq-style", padding=False, js_on_load=None)
        gr.HTML(_header(service.settings), padding=False, js_on_load=None)
        history = gr.State([])
        chat_state = gr.State([])
        turns = gr.State([])
        with gr.Tabs():
            with gr.Tab("问答 · Ask", id="ask"):
                with gr.Row(equal_height=True):
                    body = gr.Dropdown(all_choice, value=ALL, label="机构 · Body", scale=1)
                    year = gr.Dropdown(all_choice, value=ALL, label="年份 · Year", scale=1)
                    document = gr.Dropdown(all_choice, value=ALL, label="文档 · Document", scale=2)
                chatbot = gr.Chatbot(
                    label="对话 · Conversation",
                    elem_id="gq-chat",
                    height="66vh",
                    min_height=420,
                    latex_delimiters=[],
                    feedback_options=("Like", "Dislike") if feedback is not None else None,
                    buttons=[],  # no share (HF Spaces) and no copy: it would copy the HTML source
                    placeholder="问一个关于政府工作报告的问题 · Ask about the reports",
                )
                with gr.Row():
                    question = gr.Textbox(
                        placeholder="输入问题，例如：某年某地的税收收入是多少？（Enter 发送）",
                        show_label=False,
                        lines=1,
                        max_lines=4,
                        scale=6,
                        elem_id="gq-question",
                        autofocus=True,
                    )
                    send = gr.Button("发送 · Ask", variant="primary", scale=1, elem_id="gq-send")
                    clear = gr.Button("清空 · Clear", scale=1, elem_id="gq-clear")
                # filled from the ingested reports when the page loads; a click asks the question
                examples = gr.Dataset(
                    components=[gr.Textbox(visible=False)],
                    samples=[],
                    type="index",
                    label="示例问题 · Examples",
                    elem_id="gq-examples",
                )
                example_list = gr.State([])
            with gr.Tab("文档 · Documents", id="documents"):
                uploads = gr.File(
                    label=f"上传报告 · Upload reports ({SUPPORTED}; several at once)",
                    file_count="multiple",
                    elem_id="gq-upload",
                )
                gr.HTML(
                    '<div class="gq-note">导入和删除需要以管理密钥登录 · Adding or deleting documents needs '
                    'a login with an admin key (<a href="/logout">log in again</a>).</div>',
                    visible=h.needs_admin_key,
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
                    delete = gr.Button(
                        "删除… · Delete…", variant="stop", scale=1, min_width=120, elem_id="gq-delete"
                    )
                delete_note = gr.HTML(elem_id="gq-delete-note", js_on_load=None)
                with gr.Row(visible=False) as confirm_row:
                    confirm = gr.Button("确认删除 · Confirm delete", variant="stop", elem_id="gq-confirm")
                    cancel = gr.Button("取消 · Cancel", elem_id="gq-cancel")

        filters = [body, year, document]
        listing = [table, body, year, document, to_delete]
        chat_in = [question, chat_state, history, *filters, turns]
        chat_out = [chatbot, chat_state, history, question, turns]
        private: dict[str, Any] = {"api_visibility": "private"}
        question.submit(h.respond, chat_in, chat_out, **private)
        send.click(h.respond, chat_in, chat_out, **private)
        clear.click(h.clear, None, [chatbot, chat_state, history, turns], **private)
        # the chat's own trash button empties the chat: the history must go with it
        chatbot.clear(h.clear, None, [chatbot, chat_state, history, turns], **private)
        chatbot.like(h.rate, [turns], None, **private)
        ingest.click(h.upload, [uploads, *filters], [upload_result, *listing], **private).then(
            lambda: None, None, uploads, **private
        )
        refresh.click(h.refresh, filters, listing, **private)
        body.input(h.narrow, filters, [year, document], **private)
        year.input(h.narrow, filters, [year, document], **private)
        delete.click(h.ask_delete, [to_delete], [delete_note, confirm_row], **private)
        confirm.click(
            h.confirm_delete, [to_delete, *filters], [delete_note, confirm_row, *listing], **private
        )
        cancel.click(h.cancel_delete, None, [delete_note, confirm_row], **private)
        demo.load(h.refresh, filters, listing, **private)
        demo.load(h.examples, None, [examples, example_list], **private)
        examples.click(h.pick_example, [examples, example_list], question, **private).then(
            h.respond, chat_in, chat_out, **private
        )
    log.debug("UI built (%s)", service.settings.answer_mode)
    return demo
