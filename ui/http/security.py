"""FastAPI dependencies for the ``/v1`` routes: an API key (Bearer) or a UI login session, rate-limited.

The decisions themselves are ``ui.access.Access``'s, shared with the web UI (one boundary for every
surface). With no keys configured the API is open and every client may change documents (a local
install). With keys, every ``/v1`` route needs one (401 otherwise), document changes need an admin key
(403), wrong keys count against the client's failed-attempt limit (429 once over it).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ui.access import SESSION_COOKIE, Decision, Principal
from ui.http.context import api_context
from ui.http.errors import ApiError

bearer = HTTPBearer(
    auto_error=False,
    description="An API key from GOVQA_API_KEYS (or GOVQA_ADMIN_API_KEYS), when keys are configured.",
)

Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def raise_for(decision: Decision) -> Principal:
    """The decision's principal, or the ``ApiError`` (401/429) it stands for."""
    if decision.principal is not None:
        return decision.principal
    if decision.status == 429:
        raise ApiError(429, "rate_limited", decision.message, {"Retry-After": str(decision.retry_after)})
    raise ApiError(401, "unauthorized", decision.message, {"WWW-Authenticate": "Bearer"})


def _authenticate(request: Request, creds: HTTPAuthorizationCredentials | None) -> Principal:
    access = api_context(request).access
    decision = access.authenticate(
        client_address(request),
        bearer=creds.credentials if creds is not None else None,
        session=request.cookies.get(SESSION_COOKIE),
    )
    return raise_for(decision)


def _limit(request: Request, principal: Principal) -> None:
    raise_for(api_context(request).access.throttle(principal))


def require_user(request: Request, creds: Credentials) -> Principal:
    """Any valid key or session (or none needed); rate-limited."""
    principal = _authenticate(request, creds)
    _limit(request, principal)
    return principal


def require_admin(request: Request, creds: Credentials) -> Principal:
    """An admin key when keys are configured; rate-limited."""
    principal = _authenticate(request, creds)
    if not principal.admin:
        keys = api_context(request).access.keys
        hint = "" if keys.has_admin_keys else " (none is configured: set GOVQA_ADMIN_API_KEYS)"
        raise ApiError(403, "forbidden", "changing documents needs an admin API key" + hint)
    _limit(request, principal)
    return principal
