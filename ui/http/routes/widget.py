"""The embeddable chat: ``/widget.js`` (a floating bubble for any page) and ``/embed`` (a full page).

Both are static files shipped in ``ui/http/static``. The bubble opens ``/embed`` in an iframe, so the
widget needs no CORS set-up on any site; ``/embed`` may be framed by ``GOVQA_EMBED_ORIGINS`` (any site by
default) and loads nothing but this server's own script.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ui.http.boundary import frame_ancestors
from ui.http.context import api_context

router = APIRouter(tags=["widget"])


@cache
def _static(name: str) -> bytes:
    return (files("ui.http") / "static" / name).read_bytes()


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    return Response(
        _static("favicon.svg"), media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"}
    )


@router.get(
    "/widget.js",
    summary="The chat widget script",
    description='Add `<script src="http://HOST:8000/widget.js" data-title="…" data-lang="zh"></script>` to '
    "any page for a floating chat bubble. Optional: `data-api-key` (a user key, visible to visitors), "
    "`data-api` (the API's base URL; default: where the script came from).",
    response_class=Response,
    responses={200: {"content": {"application/javascript": {}}}},
)
async def widget_js() -> Response:
    return Response(
        _static("widget.js"),
        media_type="application/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


@router.get(
    "/embed",
    summary="The chat as a full page, for an iframe",
    description="Query parameters `title` and `lang` (zh|en); an API key, if needed, goes in the URL "
    "fragment (`/embed#key=...`) so it never reaches a server log. Any site may frame it (the widget "
    "does), unless GOVQA_EMBED_ORIGINS lists the ones that may.",
    response_class=HTMLResponse,
)
async def embed(request: Request) -> HTMLResponse:
    origins = api_context(request).settings.embed_origins
    csp = (
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; "
        f"img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors {frame_ancestors(origins)}"
    )
    return HTMLResponse(
        _static("embed.html"),
        headers={
            "Content-Security-Policy": csp,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        },
    )
