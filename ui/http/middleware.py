"""Pure ASGI middleware: request body size limits and the last-resort 500.

Both are plain ASGI (not ``BaseHTTPMiddleware``) so streaming responses pass through untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.responses import JSONResponse

from ui.http.errors import INTERNAL, ApiError, error_body

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MULTIPART_SLACK = 64 * 1024  # room for multipart boundaries and part headers around an upload


def too_large(limit: int, what: str, setting: str) -> ApiError:
    return ApiError(
        413,
        "payload_too_large",
        f"the {what} is over the limit of {limit:,} bytes (the server's {setting} setting)",
    )


class BodyLimit:
    """Refuse bodies over a size: at once from Content-Length, else while reading (chunked bodies).

    Uploads (``POST`` to ``upload_paths``) get ``max_upload`` bytes, every other request ``max_body``;
    paths under ``skip_prefixes`` (the mounted UI) are left alone.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int,
        max_upload: int,
        upload_paths: tuple[str, ...] = ("/v1/documents",),
        skip_prefixes: tuple[str, ...] = ("/ui",),
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload
        self.upload_paths = upload_paths
        self.skip_prefixes = skip_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(self.skip_prefixes):
            await self.app(scope, receive, send)
            return
        if scope.get("method") == "POST" and path.rstrip("/") in self.upload_paths:
            limit, what, setting = self.max_upload + MULTIPART_SLACK, "upload", "GOVQA_MAX_UPLOAD_MB"
        else:
            limit, what, setting = self.max_body, "request body", "GOVQA_MAX_BODY_KB"
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            err = too_large(limit, what, setting)
            await JSONResponse(error_body(err.code, str(err.detail)), status_code=413)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise too_large(limit, what, setting)  # an HTTPException: FastAPI passes it through
            return message

        await self.app(scope, limited_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class CatchAll:
    """Anything unexpected is logged with its stack trace and answered with a bare JSON 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        except Exception:
            log.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise  # the response is under way: nothing left but to cut it
            await JSONResponse({"error": dict(INTERNAL)}, status_code=500)(scope, receive, send)
