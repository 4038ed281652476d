"""API keys (Bearer) and a per-client token-bucket rate limit.

With no keys configured the API is open and every client may change documents (a local install).
With keys, every ``/v1`` route needs one (401 otherwise) and document changes need an admin key (403).
Keys are only ever compared by their SHA-256 digests, in constant time, and never logged or echoed.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ui.http.context import api_context
from ui.http.errors import ApiError

bearer = HTTPBearer(
    auto_error=False,
    description="An API key from GOVQA_API_KEYS (or GOVQA_ADMIN_API_KEYS), when keys are configured.",
)

Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key fingerprint or, without keys, the client address."""

    identity: str
    admin: bool


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


class KeyRing:
    def __init__(self, user_keys: Iterable[str], admin_keys: Iterable[str]) -> None:
        self._admin = [_digest(k) for k in admin_keys if k]
        self._user = [_digest(k) for k in user_keys if k]

    @property
    def enabled(self) -> bool:
        return bool(self._admin or self._user)

    @property
    def has_admin_keys(self) -> bool:
        return bool(self._admin)

    def lookup(self, key: str) -> Principal | None:
        d = _digest(key)
        # compare against every key, so timing does not tell which (or whether an earlier one) matched
        admin = any([hmac.compare_digest(d, a) for a in self._admin])
        user = any([hmac.compare_digest(d, u) for u in self._user])
        if not (admin or user):
            return None
        return Principal(identity="key:" + d.hex()[:16], admin=admin)


class RateLimiter:
    """One token bucket per client: ``per_minute`` tokens, refilled continuously. Thread-safe."""

    def __init__(
        self, per_minute: int, *, clock: Callable[[], float] = time.monotonic, max_clients: int = 10_000
    ) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}  # identity -> (tokens, last refill time)
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def acquire(self, identity: str) -> float:
        """Take one token: 0.0 if allowed, else the seconds until a token is available."""
        if not self.enabled:
            return 0.0
        with self._lock:
            now = self.clock()
            tokens, last = self._buckets.get(identity, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                tokens -= 1.0
                wait = 0.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[identity] = (tokens, now)
            if len(self._buckets) > self.max_clients:
                self._prune(now)
        return wait

    def _prune(self, now: float) -> None:
        """Forget clients whose bucket has refilled: they are indistinguishable from new ones."""
        full = [k for k, (t, last) in self._buckets.items() if t + (now - last) * self.rate >= self.capacity]
        for k in full:
            del self._buckets[k]


def _authenticate(request: Request, creds: HTTPAuthorizationCredentials | None) -> Principal:
    keys = api_context(request).keys
    if not keys.enabled:
        host = request.client.host if request.client else "unknown"
        return Principal(identity="ip:" + host, admin=True)
    challenge = {"WWW-Authenticate": "Bearer"}
    if creds is None or not creds.credentials:
        raise ApiError(
            401, "unauthorized", "an API key is required: send 'Authorization: Bearer <key>'", challenge
        )
    principal = keys.lookup(creds.credentials)
    if principal is None:
        raise ApiError(401, "unauthorized", "unknown API key", challenge)
    return principal


def _limit(request: Request, principal: Principal) -> None:
    wait = api_context(request).limiter.acquire(principal.identity)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise ApiError(
            429,
            "rate_limited",
            f"too many requests: retry in {seconds} s (limit GOVQA_RATE_LIMIT_PER_MINUTE per client)",
            {"Retry-After": str(seconds)},
        )


def require_user(request: Request, creds: Credentials) -> Principal:
    """Any valid key (or none needed); rate-limited."""
    principal = _authenticate(request, creds)
    _limit(request, principal)
    return principal


def require_admin(request: Request, creds: Credentials) -> Principal:
    """An admin key when keys are configured; rate-limited."""
    principal = _authenticate(request, creds)
    if not principal.admin:
        keys = api_context(request).keys
        hint = "" if keys.has_admin_keys else " (none is configured: set GOVQA_ADMIN_API_KEYS)"
        raise ApiError(403, "forbidden", "changing documents needs an admin API key" + hint)
    _limit(request, principal)
    return principal
