"""The UI's event handlers: thin calls into the one service layer, answers rendered by ``ui.web.render``.

``Handlers(service)`` holds no state of its own: the conversation lives in the session's ``gr.State``
values, which stay on the server. Nothing the browser sends is trusted but text: the chat shown is
never read back from the client (a client-sent Chatbot value could name files on the server), and an
upload is only read from Gradio's own upload folder. Who may change documents is decided from the
caller's key or login session by the same ``Access`` as the HTTP API. Each method is an event handler
that ``ui.web.app`` wires to components; tests call them directly.
"""

from __future__ import annotations

import functools
import logging
import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import wait
from pathlib import Path
from typing import Any

import gradio as gr

from govqa.errors import GovQAError, InputFileError
from govqa.types import Filters
from rag.examples import example_questions
from ui.access import SESSION_COOKIE, Access, KeyRing, Principal, RateLimiter
from ui.feedback import Feedback, FeedbackStore
from ui.jobs import IngestJobs, Job, QueueFull
from ui.uploads import discard_upload, in_upload_folder
from ui.web.render import answer_html, error_html, esc, pending_html, user_html
from ui.web.render_docs import ALL, Choices, doc_label, file_result_html, filter_line, keep, table_rows

log = logging.getLogger(__name__)
audit = logging.getLogger("govqa.audit")

MAX_HISTORY = 6  # conversation turns sent with a follow-up question
INTERNAL_ERROR = "an internal error occurred while answering; the server log has the details"

Message = dict[str, Any]
Pair = tuple[str, str]
Turn = dict[str, Any]  # one question and its answer (text, citations, mode), kept for feedback


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
        from rag.llm.local_model import QWEN_1_5B

        return f"LLM · local · {QWEN_1_5B.filename} (on this machine)"
    return f"LLM · {settings.answer_mode} · {settings.llm_model}"


class Handlers:
    def __init__(
        self,
        service: Any,
        access: Access | None = None,
        jobs: IngestJobs | None = None,
        feedback: FeedbackStore | None = None,
    ) -> None:
        self.service = service
        self.feedback_store = feedback
        settings = service.settings
        # the API's policy: with keys configured, changing documents needs an admin key
        self.access = access or Access(KeyRing(settings.api_keys, settings.admin_api_keys), RateLimiter(0))
        self.jobs = jobs or IngestJobs(max_queued=settings.ingest_queue)

    @property
    def needs_admin_key(self) -> bool:
        return self.access.enabled

    def principal(self, request: gr.Request | None) -> Principal | None:
        """Who sent this event: from its Bearer key or login cookie (everyone is admin without keys)."""
        if not self.access.enabled:
            return Principal(identity="local", admin=True)
        if request is None:
            return None
        headers = getattr(request, "headers", None) or {}
        cookies = getattr(request, "cookies", None) or {}
        auth = str(headers.get("authorization", "") or "")
        scheme, _, token = auth.partition(" ")
        client = getattr(getattr(request, "client", None), "host", None) or "unknown"
        decision = self.access.authenticate(
            client,
            bearer=token.strip() if scheme.lower() == "bearer" else None,
            session=cookies.get(SESSION_COOKIE),
        )
        return decision.principal

    def _forbidden(self, request: gr.Request | None) -> str | None:
        """Why a document change is refused (as a note), or None when it is allowed."""
        principal = self.principal(request)
        if principal is not None and principal.admin:
            return None
        hint = (
            "log in with an admin key (/logout, then /login)"
            if self.access.keys.has_admin_keys
            else "none is configured: set GOVQA_ADMIN_API_KEYS"
        )
        return _note(f"Changing documents needs an admin API key: {hint}.", "gq-fail")

    # --- chat ----------------------------------------------------------------------------------
    def respond(
        self,
        message: str,
        chat: list[Message] | None,
        history: Sequence[Sequence[str]] | None,
        body: str | None = ALL,
        year: str | None = ALL,
        document: str | None = ALL,
        turns: list[Turn] | None = None,
    ) -> Iterator[tuple[list[Message], list[Message], list[Pair], str, list[Turn]]]:
        """Ask ``message`` with the conversation so far; yields (chat shown, chat kept, history, textbox,
        turns).

        ``chat``, ``history`` and ``turns`` (one record per question, for feedback) are the session's
        server-side state, never the client's copy of the chat. The LLM's deltas are provisional: the final ``Answer`` replaces them (its text is checked
        against the citations). A ``GovQAError`` becomes a friendly message in the chat.
        """
        question = (message if isinstance(message, str) else "").strip()
        chat = [m for m in chat or [] if isinstance(m, dict)]
        pairs: list[Pair] = [(str(q), str(a)) for q, a in (history or [])]
        records: list[Turn] = list(turns or [])

        def out(text: str = "") -> tuple[list[Message], list[Message], list[Pair], str, list[Turn]]:
            return list(chat), list(chat), list(pairs), text, list(records)

        if not question:
            yield out(message if isinstance(message, str) else "")
            return
        lang = guess_lang(question)
        records.append({"question": question, "answer": "", "citations": [], "mode": "", "refused": True})
        chat.append({"role": "user", "content": user_html(question)})
        chat.append({"role": "assistant", "content": pending_html(lang=lang)})
        yield out()
        try:
            filters = make_filters(body, year, document)
            streamed, answer = "", None
            for event in self.service.ask_stream(question, pairs[-MAX_HISTORY:], filters):
                if event["type"] == "delta":
                    streamed += event["text"]
                    chat[-1] = {"role": "assistant", "content": pending_html(streamed, lang)}
                    yield out()
                elif event["type"] == "answer":
                    answer = event["answer"]
            if answer is None:
                raise GovQAError("the answer was cut off before it finished; ask again")
        except GovQAError as e:
            log.info("question failed: %s", e)
            chat[-1] = {"role": "assistant", "content": error_html(str(e), lang)}
            yield out()
            return
        except Exception:
            log.exception("answering %r failed", question)
            chat[-1] = {"role": "assistant", "content": error_html(INTERNAL_ERROR, lang)}
            yield out()
            return
        # the key names this answer's cards, so its [n] markers can link to them in the page
        chat[-1] = {"role": "assistant", "content": answer_html(answer, key=secrets.token_hex(4))}
        pairs.append((question, answer.text))
        records[-1] = {
            "question": question,
            "answer": answer.text,
            "citations": [c.to_dict() for c in answer.citations],
            "mode": answer.mode,
            "refused": answer.refused,
        }
        yield out()

    def rate(self, turns: list[Turn] | None, data: gr.LikeData, request: gr.Request | None = None) -> None:
        """👍/👎 on an answer: stored with its question, text, citations and mode (looked up server-side).

        An answer restored from the browser's saved conversation is not rated: the server did not give
        it in this session, and its text came from the browser."""
        index = data.index if isinstance(data.index, int) else (data.index or [0])[0]
        items = list(turns or [])
        turn = index // 2  # each turn is a user message, then the answer
        if self.feedback_store is None or not 0 <= turn < len(items) or data.liked is None:
            return
        record = items[turn]
        if record.get("restored"):
            return
        principal = self.principal(request)
        self.feedback_store.add(
            Feedback(
                rating="up" if data.liked is True or data.liked == "Like" else "down",
                question=str(record.get("question", "")),
                answer=str(record.get("answer", "")),
                citations=list(record.get("citations", [])),
                mode=str(record.get("mode", "")),
                refused=bool(record.get("refused")),
                who=principal.identity if principal else "",
            )
        )

    def examples(self) -> tuple[Any, list[str]]:
        """Example questions taken from the ingested reports: (the examples' update, the list kept)."""
        questions = example_questions(self.service.documents(), self.service.index.document_text)
        return gr.update(samples=[[q] for q in questions]), questions

    @staticmethod
    def pick_example(index: int | None, questions: Sequence[str] | None) -> str:
        """The clicked example's text, looked up in the server's own list (the client sends an index)."""
        items = list(questions or [])
        return items[index] if isinstance(index, int) and 0 <= index < len(items) else ""

    # --- documents -----------------------------------------------------------------------------
    def refresh(
        self, body: str | None = ALL, year: str | None = ALL, document: str | None = ALL
    ) -> tuple[Any, ...]:
        """(table rows, body, year, document and delete dropdown updates), selections kept if still valid."""
        records = self.service.documents()
        everything = Choices.of(records)
        body = keep(body, everything.bodies)
        year = keep(year, Choices.of(records, body).years)
        c = Choices.of(records, body, year)
        return (
            table_rows(records),
            gr.update(choices=c.bodies, value=body),
            gr.update(choices=c.years, value=year),
            gr.update(choices=c.documents, value=keep(document, c.documents)),
            gr.update(choices=everything.documents[1:], value=None),
        )

    def narrow(
        self, body: str | None = ALL, year: str | None = ALL, document: str | None = ALL
    ) -> tuple[Any, ...]:
        """The filters narrow each other: a body offers its own years, a body and year their reports."""
        records = self.service.documents()
        years = Choices.of(records, body).years
        year = keep(year, years)
        documents = Choices.of(records, body, year).documents
        return gr.update(choices=years, value=year), gr.update(
            choices=documents, value=keep(document, documents)
        )

    def filter_summary(
        self, body: str | None = ALL, year: str | None = ALL, document: str | None = ALL
    ) -> str:
        """The line beside the input naming the active filters (the report by its title, not its id)."""
        label = None
        if document and document != ALL:
            record = next((r for r in self.service.documents() if r.doc_id == document), None)
            label = (record.meta.title or doc_label(record)) if record else None
        return filter_line(body, year, label)

    def upload(
        self,
        files: Sequence[str | Path] | None,
        body: str | None = ALL,
        year: str | None = ALL,
        document: str | None = ALL,
        request: gr.Request | None = None,
        progress: Any = gr.Progress(),  # noqa: B008 (Gradio injects the tracker through this default)
    ) -> tuple[Any, ...]:
        """Ingest each uploaded file; one result line per file (a bad file never stops the others).

        Only files in Gradio's upload folder are read (a path anywhere else is refused, whoever sends
        it), on the ingest worker, and each is deleted once ingested.
        """
        paths = [Path(f) for f in files or [] if isinstance(f, (str, Path))]
        try:
            refused = self._forbidden(request)
            if refused is not None:
                return (refused, *self.refresh(body, year, document))
            lines: list[str] = []
            for i, path in enumerate(paths):
                progress((i, len(paths)), desc=f"{path.name}", unit="files")
                lines.append(self._ingest_one(path, functools.partial(_show_pages, progress, path.name)))
            if not paths:
                lines.append(
                    file_result_html(
                        "", False, "choose one or more .txt, .md, .pdf, .docx, .png or .jpg files"
                    )
                )
            return ("".join(lines), *self.refresh(body, year, document))
        finally:
            for path in paths:
                discard_upload(path)

    def _ingest_one(self, path: Path, pages: Callable[[Job], None] = lambda job: None) -> str:
        name = path.name
        limit = int(self.service.settings.max_upload_mb * 1024 * 1024)
        try:
            if not in_upload_folder(path):
                log.warning("refused a UI upload outside the upload folder: %s", path)
                raise InputFileError(name, "not an uploaded file")
            if path.stat().st_size > limit:  # refuse before reading a huge file into memory
                raise InputFileError(name, f"the file is over the {limit / 1e6:.1f} MB upload limit")
            data = path.read_bytes()
            job = self.jobs.submit(name, functools.partial(self.service.ingest_bytes, name, data))
            assert job.future is not None
            # the worker reads the pages; this thread shows how far it got (a scan takes seconds a page)
            while not job.future.done():
                pages(job)
                wait([job.future], timeout=PROGRESS_EVERY_S)
            outcome = job.future.result()
        except (InputFileError, QueueFull) as e:
            return file_result_html(name, False, getattr(e, "reason", str(e)))
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
        detail = "; ".join([detail, *([outcome.ocr_note] if outcome.ocr_note else []), *outcome.warnings])
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
        body: str | None = ALL,
        year: str | None = ALL,
        document: str | None = ALL,
        request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """Delete ``doc_id``; (message, confirm row, table and dropdown updates)."""
        refused = self._forbidden(request)
        if refused is not None:
            message = refused
        elif not doc_id:
            message = _note("Choose a document to delete first.")
        else:
            try:
                record = self.service.delete_document(doc_id)
                audit.info("deleted %s (%s) from the UI", record.doc_id, record.source)
                message = _note(f"Deleted {record.meta.title or record.source} ({record.source}).", "gq-ok")
            except GovQAError as e:
                message = _note(f"Not deleted: {e}", "gq-fail")
        return (message, gr.update(visible=False), *self.refresh(body, year, document))

    @staticmethod
    def cancel_delete() -> tuple[str, Any]:
        return _note("Nothing deleted."), gr.update(visible=False)


def _note(text: str, cls: str = "") -> str:
    return f'<div class="gq-note {cls}">{esc(text)}</div>'


PROGRESS_EVERY_S = 0.5  # how often an upload's page progress is shown while it is read


def _show_pages(progress: Any, name: str, job: Job) -> None:
    """An upload's progress line: its PDF pages read so far (OCR'd pages are the slow ones)."""
    if job.status == "queued":
        progress(None, desc=f"{name}: 排队中 · waiting for the uploads before it")
    elif job.pages_total:
        progress(
            (job.pages_done, job.pages_total),
            desc=f"{name}: 已读 {job.pages_done}/{job.pages_total} 页 · pages read",
            unit="pages",
        )
