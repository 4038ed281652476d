"""The FastAPI app factory: one app for the JSON API, the OpenAI-compatible endpoint and the widget.

``create_app(settings, service)`` does no heavy work: the service loads its models lazily, and the app's
start-up warms it up in a background thread (``/readyz`` answers 503 until that is done). The Gradio UI
is mounted separately by ``mount_ui`` (``govqa serve`` does both).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import RedirectResponse

from govqa import __version__
from govqa.settings import Settings, load_settings
from ui.http.context import ApiContext, Readiness
from ui.http.errors import install_error_handlers
from ui.http.middleware import BodyLimit, CatchAll
from ui.http.routes import ask, documents, health, openai, widget
from ui.http.security import KeyRing, RateLimiter

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
needs `Authorization: Bearer <key>`, and changing documents needs an admin key. Errors are always
`{"error": {"code", "message"}}`.
"""

TAGS = [
    {"name": "ask", "description": "Questions in, cited answers out."},
    {"name": "openai", "description": "OpenAI-compatible chat completions."},
    {"name": "documents", "description": "The ingested reports."},
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
        keys=KeyRing(settings.api_keys, settings.admin_api_keys),
        limiter=RateLimiter(settings.rate_limit_per_minute),
        owns_service=owns_service,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm_up:
            ctx.readiness.start(ctx.service)
        yield
        ctx.shutdown_workers()
        if ctx.owns_service:
            ctx.service.close()

    app = FastAPI(
        title="govqa",
        version=__version__,
        summary="Cited answers from government work reports",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.govqa = ctx
    install_error_handlers(app)
    for module in (ask, openai, documents, health, widget):
        app.include_router(module.router)

    @app.get("/", include_in_schema=False)
    async def root(request: Request) -> RedirectResponse:
        return RedirectResponse(UI_PATH + "/" if ctx.ui_mounted else "/embed", status_code=307)

    # added inner to outer: CORS is outermost so even 413s and 500s carry its headers
    app.add_middleware(
        BodyLimit,
        max_body=settings.max_body_kb * 1024,
        max_upload=int(settings.max_upload_mb * 1024 * 1024),
        skip_prefixes=(UI_PATH,),
    )
    app.add_middleware(CatchAll)
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
            "API keys required on /v1 (%d user, %d admin)",
            len(settings.api_keys),
            len(settings.admin_api_keys),
        )
    return app


def mount_ui(app: FastAPI, service: Any) -> bool:
    """Mount the Gradio UI at /ui if ``ui.web.app`` provides ``build_ui(service)``; False (logged) if not."""
    try:
        from ui.web.app import build_ui  # type: ignore[import-not-found,unused-ignore]
    except ImportError as e:
        log.warning("no Gradio UI (ui.web.app.build_ui is not available: %s); serving the API only", e)
        return False
    import gradio as gr

    blocks = build_ui(service)
    gr.mount_gradio_app(app, blocks, path=UI_PATH)
    app.state.govqa.ui_mounted = True
    log.info("Gradio UI mounted at %s", UI_PATH)
    return True
