"""The UI's event handlers: thin calls into the one service layer, answers rendered by ``ui.render``.

``Handlers(service)`` holds no state of its own (the conversation lives in the browser session's
``gr.State``), so one instance serves every visitor. Each method is an event handler that ``ui.app``
wires to components; tests call them directly.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from govqa.api.security import KeyRing
from govqa.errors import GovQAError, InputFileError
from govqa.types import page_ranges
from ingest.loaders import load_bytes
from rag.scope import Filters
from ui.render import answer_html, error_html, esc, pending_html, user_html
from ui.render_docs import ALL, Choices, file_result_html, keep, table_rows

log = logging.getLogger(__name__)

MAX_HISTORY = 6  # conversation turns sent with a follow-up question
INTERNAL_ERROR = "an internal error occurred while answering; the server log has the details"

Message = dict[str, Any]
Pair = tuple[str, str]


def guess_lang(text: str) -> str:
    return "zh" if re.search(r"[\u4e00-\u9fff]", text) else "en"


def make_filters(body: str | None, year: str | int | None, document: str | None) -> Filters | None:
    """The dropdowns' values as ``Filters`` ("all" or empty = no filter); None when nothing is set."""

    def chosen(v: Any) -> str | None:
        s = str(v).strip() if v is not None else ""
        return None if not s or s == ALL else s

    b, y, d = chosen(body), chosen(year), chosen(document)
    if b is None and y is None and d is None:
        return None
    try:
        year_value = int(y) if y is not None else None
    except ValueError:
        raise GovQAError(f"the year filter must be a year like 2019, got {y!r}") from None
    return Filters(body=b, year=year_value, document=d)


def mode_label(settings: Any) -> str:
    if settings.answer_mode == "extractive":
        return "抽取式回答 · extractive (quotes from the reports, no LLM)"
    if settings.answer_mode == "local":
        from govqa.models.local_llm import QWEN_1_5B

        return f"LLM · local · {QWEN_1_5B.filename} (on this machine)"
    return f"LLM · {settings.answer_mode} · {settings.llm_model}"


class Handlers:
    def __init__(self, service: Any) -> None:
        self.service = service
        # the API's policy: with keys configured, changing documents needs an admin key
        self._keys = KeyRing(service.settings.api_keys, service.settings.admin_api_keys)

    @property
    def needs_admin_key(self) -> bool:
        return self._keys.enabled

    def _forbidden(self, admin_key: str | None) -> str | None:
        """Why a document change is refused (as a note), or None when it is allowed."""
        if not self._keys.enabled:
            return None
        principal = self._keys.lookup(admin_key or "")
        if principal is not None and principal.admin:
            return None
        hint = "" if self._keys.has_admin_keys else " (none is configured: set GOVQA_ADMIN_API_KEYS)"
        return _note("Changing documents needs an admin API key" + hint + ".", "gq-fail")

    # --- chat ----------------------------------------------------------------------------------
    def respond(
        self,
        message: str,
        chat: list[Message] | None,
        history: Sequence[Sequence[str]] | None,
        body: str | None = ALL,
        year: str | None = ALL,
        document: str | None = ALL,
    ) -> Iterator[tuple[list[Message], list[Pair], str]]:
        """Ask ``message`` with the conversation so far; yields (chat, history, textbox) as it streams.

        The LLM's deltas are provisional: the final ``Answer`` replaces them (its text is checked against
        the citations). A ``GovQAError`` becomes a friendly message in the chat.
        """
        question = (message or "").strip()
        chat = list(chat or [])
        pairs: list[Pair] = [(str(q), str(a)) for q, a in (history or [])]
        if not question:
            yield list(chat), list(pairs), message or ""
            return
        lang = guess_lang(question)
        chat.append({"role": "user", "content": user_html(question)})
        chat.append({"role": "assistant", "content": pending_html(lang=lang)})
        yield list(chat), list(pairs), ""
        try:
            filters = make_filters(body, year, document)
            streamed, answer = "", None
            for event in self.service.ask_stream(question, pairs[-MAX_HISTORY:], filters):
                if event["type"] == "delta":
                    streamed += event["text"]
                    chat[-1] = {"role": "assistant", "content": pending_html(streamed, lang)}
                    yield list(chat), list(pairs), ""
                elif event["type"] == "answer":
                    answer = event["answer"]
            if answer is None:
                raise GovQAError("the answer was cut off before it finished; ask again")
        except GovQAError as e:
            log.info("question failed: %s", e)
            chat[-1] = {"role": "assistant", "content": error_html(str(e), lang)}
            yield list(chat), list(pairs), ""
            return
        except Exception:
            log.exception("answering %r failed", question)
            chat[-1] = {"role": "assistant", "content": error_html(INTERNAL_ERROR, lang)}
            yield list(chat), list(pairs), ""
            return
        chat[-1] = {"role": "assistant", "content": answer_html(answer)}
        pairs.append((question, answer.text))
        yield list(chat), list(pairs), ""

    @staticmethod
    def clear() -> tuple[list[Message], list[Pair]]:
        return [], []

    # --- documents -----------------------------------------------------------------------------
    def refresh(
        self, body: str | None = ALL, year: str | None = ALL, document: str | None = ALL
    ) -> tuple[Any, ...]:
        """(table rows, body, year, document and delete dropdown updates), selections kept if still valid."""
        records = self.service.documents()
        c = Choices.of(records)
        return (
            table_rows(records),
            gr.update(choices=c.bodies, value=keep(body, c.bodies)),
            gr.update(choices=c.years, value=keep(year, c.years)),
            gr.update(choices=c.documents, value=keep(document, c.documents)),
            gr.update(choices=c.documents[1:], value=None),
        )

    def upload(
        self,
        files: Sequence[str | Path] | None,
        admin_key: str | None = "",
        body: str | None = ALL,
        year: str | None = ALL,
        document: str | None = ALL,
        progress: Any = gr.Progress(),  # noqa: B008 (Gradio injects the tracker through this default)
    ) -> tuple[Any, ...]:
        """Ingest each uploaded file; one result line per file (a bad file never stops the others)."""
        refused = self._forbidden(admin_key)
        if refused is not None:
            return (refused, *self.refresh(body, year, document))
        paths = [Path(f) for f in files or []]
        lines: list[str] = []
        limit = int(self.service.settings.max_file_mb * 1024 * 1024)
        for i, path in enumerate(paths):
            progress((i, len(paths)), desc=f"{path.name}", unit="files")

            def pages(
                done: int, total: int, name: str = path.name
            ) -> None:  # per page of a PDF (OCR included)
                progress((done, total), desc=f"{name}: page {done}/{total}", unit="pages")

            lines.append(self._ingest_one(path, limit, pages))
        if not paths:
            lines.append(
                file_result_html("", False, "choose one or more .txt, .md, .pdf, .docx, .png or .jpg files")
            )
        return ("".join(lines), *self.refresh(body, year, document))

    def _ingest_one(self, path: Path, limit: int, pages: Any = None) -> str:
        name = path.name
        try:
            if path.stat().st_size > limit:  # refuse before reading a huge file into memory
                raise InputFileError(name, f"the file is over the {limit / 1e6:.1f} MB limit")
            loaded = load_bytes(name, path.read_bytes(), max_bytes=limit, progress=pages)
            outcome = self.service.ingest_loaded(loaded)
        except InputFileError as e:
            return file_result_html(name, False, e.reason)
        except GovQAError as e:
            return file_result_html(name, False, str(e))
        except OSError as e:
            log.warning("cannot read upload %s: %s", path, e)
            return file_result_html(name, False, "the uploaded file could not be read; upload it again")
        if outcome.status == "failed":
            return file_result_html(outcome.source, False, outcome.reason)
        detail = {
            "added": f"added: {outcome.chunks} chunks (id {outcome.doc_id})",
            "updated": f"updated: {outcome.chunks} chunks (id {outcome.doc_id})",
            "unchanged": f"unchanged: already ingested (id {outcome.doc_id})",
        }.get(outcome.status, outcome.status)
        if loaded.ocr_pages:
            detail += f"; OCR of page(s) {page_ranges(loaded.ocr_pages)} ({loaded.ocr_engine})"
        if outcome.warnings:
            detail += "; " + "; ".join(outcome.warnings)
        return file_result_html(outcome.source, True, detail)

    def ask_delete(self, doc_id: str | None) -> tuple[str, Any]:
        """The first step of a delete: name the document and show the confirm buttons."""
        if not doc_id:
            return _note("Choose a document to delete first."), gr.update(visible=False)
        record = next((r for r in self.service.documents() if r.doc_id == doc_id), None)
        if record is None:
            return _note(f"No document with id {doc_id} (refresh the list)."), gr.update(visible=False)
        return (
            _note(
                f"Delete {record.meta.title or record.source} ({record.source}, {record.chunk_count} "
                "chunks)? This cannot be undone.",
                "gq-warn",
            ),
            gr.update(visible=True),
        )

    def confirm_delete(
        self,
        doc_id: str | None,
        admin_key: str | None = "",
        body: str | None = ALL,
        year: str | None = ALL,
        document: str | None = ALL,
    ) -> tuple[Any, ...]:
        """Delete ``doc_id``; (message, confirm row, table and dropdown updates)."""
        refused = self._forbidden(admin_key)
        if refused is not None:
            message = refused
        elif not doc_id:
            message = _note("Choose a document to delete first.")
        else:
            try:
                record = self.service.delete_document(doc_id)
                message = _note(f"Deleted {record.meta.title or record.source} ({record.source}).", "gq-ok")
            except GovQAError as e:
                message = _note(f"Not deleted: {e}", "gq-fail")
        return (message, gr.update(visible=False), *self.refresh(body, year, document))

    @staticmethod
    def cancel_delete() -> tuple[str, Any]:
        return _note("Nothing deleted."), gr.update(visible=False)


def _note(text: str, cls: str = "") -> str:
    return f'<div class="gq-note {cls}">{esc(text)}</div>'
