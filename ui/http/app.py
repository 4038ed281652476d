"""The FastAPI app factory: one app for the JSON API, the OpenAI-compatible endpoint and the widget.

``create_app(settings, service)`` does no heavy work: the service loads its models lazily, and the app's
start-up warms it up in a background thread (``/readyz`` answers 503 until that is done). The Gradio UI
is mounted separately by ``mount_ui`` (``govqa serve`` does both).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import RedirectResponse, Response
from fastapi_offline import FastAPIOffline

from govqa import __version__
from govqa.settings import Settings, load_settings
from ui.access import Access
from ui.feedback import FeedbackStore
from ui.http import boundary
from ui.http.context import ApiContext, Readiness
from ui.http.errors import install_error_handlers
from ui.http.middleware import BodyLimit, CatchAll
from ui.http.routes import ask, documents, feedback, health, openai, widget
from ui.jobs import IngestJobs
from ui.uploads import use_folder
from ui.viewer import clamp_span, document_page, outline

if TYPE_CHECKING:
    from ui.service import GovQA

log = logging.getLogger(__name__)

UI_PATH = "/ui"

DESCRIPTION = """Questions about Chinese government work reports (政府工作报告), answered with verbatim
cited passages — or a clear refusal when the reports do not say.

* `POST /v1/ask` — the structured answer (JSON, or server-sent events with `stream: true`).
* `POST /v1/chat/completions` — OpenAI-compatible: point any OpenAI client at `http://HOST:PORT/v1`,
  model `govqa`.
* `/v1/documents` — list, upload and delete reports.
* `/widget.js`, `/embed` — a chat widget for any web page.

**Auth**: when the server has API keys (`GOVQA_API_KEYS`, `GOVQA_ADMIN_API_KEYS`), every `/v1` route
and everything under `/ui` needs `Authorization: Bearer <key>` (or the session cookie `/login` issues),
and changing documents needs an admin key. Wrong keys count against a per-client limit (429). Errors are
always `{"error": {"code", "message"}}`.
"""

TAGS = [
    {"name": "ask", "description": "Questions in, cited answers out."},
    {"name": "openai", "description": "OpenAI-compatible chat completions."},
    {"name": "documents", "description": "The ingested reports."},
    {"name": "feedback", "description": "What people thought of the answers."},
    {"name": "health", "description": "Liveness and readiness probes."},
    {"name": "widget", "description": "The embeddable chat widget."},
]


def create_app(
    settings: Settings | None = None, service: GovQA | None = None, *, warm_up: bool = True
) -> FastAPI:
    """The HTTP app over ``service`` (built from ``settings`` when not given).

    ``warm_up``: load the models and open the index in the background at start-up; ``/readyz`` is 503
    until then. A service given by the caller is not closed at shutdown.
    """
    settings = settings or (service.settings if service is not None else load_settings())
    owns_service = service is None
    if service is None:
        from ui.service import GovQA

        service = GovQA(settings)
    ctx = ApiContext(
        settings=settings,
        service=service,
        readiness=Readiness(),
        access=Access.from_settings(settings),
        jobs=IngestJobs(max_queued=settings.ingest_queue, stuck_after_s=settings.ingest_budget_s),
        feedback=FeedbackStore(settings.data_dir / "feedback.sqlite"),
        owns_service=owns_service,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm_up:
            ctx.readiness.start(ctx.service)
        yield
        ctx.shutdown_workers()
        ctx.jobs.shutdown()
        ctx.feedback.close()
        if ctx.owns_service:
            ctx.service.close()

    # Swagger UI and ReDoc from the fastapi-offline package's own copies: /docs works with no network
    app = FastAPIOffline(
        title="govqa",
        version=__version__,
        summary="Cited answers from government work reports",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        favicon_url="/favicon.ico",
    )
    app.state.govqa = ctx
    install_error_handlers(app)
    for module in (ask, openai, documents, feedback, health, widget):
        app.include_router(module.router)

    @app.get("/", include_in_schema=False)
    async def root(request: Request) -> RedirectResponse:
        return RedirectResponse(UI_PATH + "/" if ctx.ui_mounted else "/embed", status_code=307)

    # the document viewer lives under /ui, so the UI's gate (keys, rate limit) covers it
    @app.get(UI_PATH + "/documents/{doc_id}", include_in_schema=False)
    async def view_document(request: Request, doc_id: str) -> Response:
        return await ctx.run(viewer_response, ctx.service, doc_id, request.query_params, UI_PATH + "/")

    @app.get(boundary.LOGIN_PATH, include_in_schema=False)
    async def login_form(request: Request) -> Response:
        return await boundary.login_get(request, ctx.access, UI_PATH)

    @app.post(boundary.LOGIN_PATH, include_in_schema=False)
    async def login(request: Request) -> Response:
        return await boundary.login_post(request, ctx.access, UI_PATH)

    @app.get(boundary.LOGOUT_PATH, include_in_schema=False)
    async def logout(request: Request) -> Response:
        return await boundary.logout(request, ctx.access)

    # added inner to outer: the UI's auth before its body is read; CORS is outermost so even 413s and
    # 500s carry its headers
    app.add_middleware(
        BodyLimit,
        max_body=settings.max_body_kb * 1024,
        max_upload=int(settings.max_upload_mb * 1024 * 1024),
        upload_paths=("/v1/documents", UI_PATH + "/gradio_api/upload"),
        skip_prefixes=(),
    )
    app.add_middleware(
        boundary.UiGate, access=ctx.access, prefix=UI_PATH, max_body=settings.max_body_kb * 1024
    )
    app.add_middleware(CatchAll)
    app.add_middleware(
        boundary.SameSite, allowed_hosts=allowed_hosts(settings), cors_origins=settings.cors_origins
    )
    app.add_middleware(boundary.SecurityHeaders, embed_ancestors=settings.embed_origins, ui_prefix=UI_PATH)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "Accept"],
            expose_headers=["Retry-After"],
            max_age=600,
        )
    if settings.api_keys or settings.admin_api_keys:
        log.info(
            "API keys required on /v1 and /ui (%d user, %d admin)",
            len(settings.api_keys),
            len(settings.admin_api_keys),
        )
    return app


def allowed_hosts(settings: Settings) -> list[str]:
    """``GOVQA_ALLOWED_HOSTS``, or by default: the loopback names when serving on loopback (a page on
    another site cannot reach a local govqa through DNS rebinding), any host otherwise."""
    if settings.allowed_hosts:
        return settings.allowed_hosts
    return list(boundary.LOOPBACK_NAMES) if boundary.is_loopback(settings.host) else ["*"]


def viewer_response(service: Any, doc_id: str, query: Any, back: str) -> Response:
    """The viewer page for ``doc_id`` with ``?start=&end=`` highlighted; a plain 404 page if unknown."""
    from fastapi.responses import HTMLResponse

    from govqa.errors import NotFoundError

    try:
        record, text, chunks = service.document_view(doc_id[:200])
    except NotFoundError:
        return HTMLResponse("<!doctype html><title>404</title><p>没有这份文档 · No such document.</p>", 404)

    def number(name: str) -> int | None:
        value = str(query.get(name, ""))
        return int(value) if value.isdigit() and len(value) < 10 else None

    span = clamp_span(text, number("start"), number("end"))
    page = document_page(
        record.meta.title or record.source, record.source, text, outline(text, chunks), span, back
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


# what govqa keeps in its data folder besides the upload folder (also blocked before it exists)
DATA_ENTRIES = (
    "index",
    "models",
    "milvus",
    "backups",
    "feedback.sqlite",
    "feedback.sqlite-wal",
    "feedback.sqlite-shm",
    "feedback.sqlite-journal",
)


def blocked_paths(settings: Settings, uploads: Path) -> list[str]:
    """Where Gradio may never read a file from: everything in the data folder but the upload folder
    (the index, the models, the feedback), the models and index wherever they are, and any other entry
    the data folder holds. Blocking the whole data folder blocked the uploads too (no UI upload could
    be ingested)."""
    data = settings.data_dir.resolve()
    uploads = uploads.resolve()
    found = {data / name for name in DATA_ENTRIES}
    if data.is_dir():
        found |= {p.resolve() for p in data.iterdir()}
    found |= {settings.resolved_models_dir.resolve(), settings.index_dir.resolve()}
    if not uploads.is_relative_to(data):
        found.add(data)
    return sorted(str(p) for p in found if p != uploads and not uploads.is_relative_to(p))


def mount_ui(app: FastAPI, service: Any) -> bool:
    """Mount the Gradio UI at /ui if ``ui.web.app`` provides ``build_ui``; False (logged) if not.

    ``gr.mount_gradio_app`` alone leaves the Blocks in its "not launched" state, in which Gradio skips
    its checks of the file paths an event hands it: mounted, we set what ``launch()`` would (launched,
    no extra allowed paths, the data folder blocked, uploads capped at the API's limit, errors not
    shown to the client).
    """
    try:
        from ui.web.app import build_ui  # type: ignore[import-not-found,unused-ignore]
    except ImportError as e:
        log.warning("no Gradio UI (ui.web.app.build_ui is not available: %s); serving the API only", e)
        return False
    import gradio as gr

    ctx: ApiContext = app.state.govqa
    settings = ctx.settings
    uploads = use_folder(settings.data_dir / "ui-uploads")  # govqa's own, so leftovers can be swept
    blocks = build_ui(service, access=ctx.access, jobs=ctx.jobs, feedback=ctx.feedback)
    gr.mount_gradio_app(
        app,
        blocks,
        path=UI_PATH,
        allowed_paths=[],
        blocked_paths=blocked_paths(settings, uploads),
        max_file_size=int(settings.max_upload_mb * 1024 * 1024),
        show_error=False,
        footer_links=[],
        run_history=False,
        mcp_server=False,
    )
    blocks.has_launched = True  # Gradio's path checks apply only to a launched Blocks
    ctx.ui_mounted = True
    log.info("Gradio UI mounted at %s", UI_PATH)
    return True
