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

from ui.handlers import Handlers, mode_label
from ui.render_docs import ALL, ALL_LABEL, TABLE_HEADERS

log = logging.getLogger(__name__)

TITLE = "政府工作报告问答 · govqa"
EXAMPLES = [
    "2019年精武镇税收收入是多少？",
    "张家窝镇2024年计划新建几所学校？",
    "How did Jingwu's tax revenue change from 2019 to 2024?",
    "2023年精武镇税收收入是多少？",
]
SUPPORTED = ".txt, .md, .pdf, .docx, .png, .jpg"


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


def build_ui(service: Any) -> gr.Blocks:
    """The chat and documents UI over ``service`` (a ``govqa.service.GovQA``)."""
    h = Handlers(service)
    all_choice = [(ALL_LABEL, ALL)]
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.HTML(f"<style>{stylesheet()}</style>", elem_id="gq-style", padding=False, js_on_load=None)
        gr.HTML(_header(service.settings), padding=False, js_on_load=None)
        history = gr.State([])
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
                    feedback_options=None,
                    buttons=[],  # no share (HF Spaces) and no copy: it would copy the HTML source
                    placeholder="问一个关于政府工作报告的问题 · Ask about the reports",
                )
                with gr.Row():
                    question = gr.Textbox(
                        placeholder="输入问题，例如：2019年精武镇税收收入是多少？（Enter 发送）",
                        show_label=False,
                        lines=1,
                        max_lines=4,
                        scale=6,
                        elem_id="gq-question",
                        autofocus=True,
                    )
                    send = gr.Button("发送 · Ask", variant="primary", scale=1, elem_id="gq-send")
                    clear = gr.Button("清空 · Clear", scale=1, elem_id="gq-clear")
                gr.Examples(EXAMPLES, inputs=[question], label="示例问题 · Examples")
            with gr.Tab("文档 · Documents", id="documents"):
                uploads = gr.File(
                    label=f"上传报告 · Upload reports ({SUPPORTED}; several at once)",
                    file_count="multiple",
                    elem_id="gq-upload",
                )
                admin_key = gr.Textbox(
                    label="管理密钥 · Admin API key (needed to add or delete documents on this server)",
                    type="password",
                    visible=h.needs_admin_key,
                    elem_id="gq-admin-key",
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
        chat_in = [question, chatbot, history, *filters]
        chat_out = [chatbot, history, question]
        question.submit(h.respond, chat_in, chat_out, api_name="ask")
        send.click(h.respond, chat_in, chat_out, api_visibility="private")
        clear.click(h.clear, None, [chatbot, history], api_visibility="private")
        # the chat's own trash button empties the chat: the history must go with it
        chatbot.clear(h.clear, None, [chatbot, history], api_visibility="private")
        ingest.click(
            h.upload, [uploads, admin_key, *filters], [upload_result, *listing], api_name="upload"
        ).then(lambda: None, None, uploads, api_visibility="private")
        refresh.click(h.refresh, filters, listing, api_name="refresh")
        delete.click(h.ask_delete, [to_delete], [delete_note, confirm_row], api_visibility="private")
        confirm.click(
            h.confirm_delete,
            [to_delete, admin_key, *filters],
            [delete_note, confirm_row, *listing],
            api_name="delete",
        )
        cancel.click(h.cancel_delete, None, [delete_note, confirm_row], api_visibility="private")
        demo.load(h.refresh, filters, listing, api_visibility="private")
    log.debug("UI built (%s)", service.settings.answer_mode)
    return demo
