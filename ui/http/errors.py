"""Every error leaves the API as JSON ``{"error": {"code", "message"}}``.

``GovQAError``s keep their own status and code; request validation becomes 422; HTTP errors raised by
the framework or by the guards keep their status; anything else is logged and becomes a bare 500 —
never a stack trace (``middleware.CatchAll``).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from govqa.errors import GovQAError

log = logging.getLogger(__name__)

INTERNAL = {"code": "internal", "message": "internal error"}

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "not_ready",
}


class ApiError(StarletteHTTPException):
    """An HTTP error with a stable code, raised by the API's own guards and routes."""

    def __init__(
        self, status_code: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status_code=status_code, detail=message, headers=headers)
        self.code = code


def error_body(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        err["details"] = details
    return {"error": err}


def error_of(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """Status and JSON body for an exception; used by the handlers and by streams that fail mid-way."""
    if isinstance(exc, GovQAError):
        return exc.http_status, error_body(exc.code, str(exc))
    if isinstance(exc, ApiError):
        return exc.status_code, error_body(exc.code, str(exc.detail))
    if isinstance(exc, StarletteHTTPException):
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        return exc.status_code, error_body(code, str(exc.detail))
    log.error("unexpected error", exc_info=(type(exc), exc, exc.__traceback__))
    return 500, {"error": dict(INTERNAL)}


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": [str(x) for x in err.get("loc", ())], "msg": str(err.get("msg", "")), "type": err.get("type")}
        for err in exc.errors()
    ]


def install_error_handlers(app: FastAPI) -> None:
    async def on_govqa(request: Request, exc: Exception) -> JSONResponse:
        status, body = error_of(exc)
        return JSONResponse(body, status_code=status)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        status, body = error_of(exc)
        headers = getattr(exc, "headers", None)
        return JSONResponse(body, status_code=status, headers=headers)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        details = _validation_details(exc)
        first = details[0] if details else {"loc": [], "msg": "invalid request"}
        where = ".".join(first["loc"][1:] if len(first["loc"]) > 1 else first["loc"]) or "request"
        message = f"{where}: {first['msg']}"
        return JSONResponse(error_body("validation_error", message, details), status_code=422)

    app.add_exception_handler(GovQAError, on_govqa)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
