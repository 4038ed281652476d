"""Who may do what, for every surface: API keys, login sessions, per-client rate limits, key-guess limits.

One ``Access`` object is built per server and shared by the HTTP API and the web UI, so both sit behind
the same boundary: the same keys, the same rate-limit buckets, the same count of failed key attempts.
Pure Python (no web framework): the HTTP layer turns its answers into 401/403/429 responses.

With no keys configured govqa is a local single-user tool: every client is an admin, identified by its
address (``govqa serve`` then refuses to listen beyond loopback unless ``GOVQA_ALLOW_NO_AUTH`` is set).
With keys, a client presents one as ``Authorization: Bearer <key>`` or logs in once with it at
``/login`` and gets a session cookie. Keys are only compared by their SHA-256 digests, in constant time,
and never logged or echoed; sessions are random tokens kept in memory (a restart logs everyone out).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

audit = logging.getLogger("govqa.audit")

SESSION_COOKIE = "govqa_session"


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

    def _tokens(self, identity: str, now: float) -> float:
        tokens, last = self._buckets.get(identity, (self.capacity, now))
        return min(self.capacity, tokens + (now - last) * self.rate)

    def acquire(self, identity: str) -> float:
        """Take one token: 0.0 if allowed, else the seconds until a token is available."""
        if not self.enabled:
            return 0.0
        with self._lock:
            now = self.clock()
            tokens = self._tokens(identity, now)
            if tokens >= 1.0:
                tokens -= 1.0
                wait = 0.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[identity] = (tokens, now)
            if len(self._buckets) > self.max_clients:
                self._prune(now)
        return wait

    def blocked(self, identity: str) -> float:
        """Seconds until ``identity`` has a token again (0.0: it has one); takes nothing."""
        if not self.enabled:
            return 0.0
        with self._lock:
            tokens = self._tokens(identity, self.clock())
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def _prune(self, now: float) -> None:
        """Forget clients whose bucket has refilled: they are indistinguishable from new ones."""
        full = [k for k, (t, last) in self._buckets.items() if t + (now - last) * self.rate >= self.capacity]
        for k in full:
            del self._buckets[k]


class SessionStore:
    """Login sessions: random tokens → principal, expiring after ``ttl_s``; bounded in number."""

    def __init__(
        self,
        ttl_s: float = 12 * 3600,
        *,
        max_sessions: int = 10_000,
        per_identity: int = 20,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_sessions = max_sessions
        self.per_identity = per_identity
        self.clock = clock
        self._sessions: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def create(self, principal: Principal) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = self.clock()
            # one key's logins only ever push out that key's own oldest sessions
            mine = [t for t, (p, _) in self._sessions.items() if p.identity == principal.identity]
            for old in mine[: max(0, len(mine) - self.per_identity + 1)]:
                del self._sessions[old]
            if len(self._sessions) >= self.max_sessions:
                self._sessions = {t: v for t, v in self._sessions.items() if v[1] > now}
                while len(self._sessions) >= self.max_sessions:  # still full: drop the oldest
                    self._sessions.pop(next(iter(self._sessions)))
            self._sessions[token] = (principal, now + self.ttl_s)
        return token

    def get(self, token: str) -> Principal | None:
        if not token:
            return None
        with self._lock:
            entry = self._sessions.get(token)
            if entry is None:
                return None
            if entry[1] <= self.clock():
                del self._sessions[token]
                return None
            return entry[0]

    def drop(self, token: str) -> None:
        with self._lock:
            self._sessions.pop(token, None)


@dataclass(frozen=True)
class Decision:
    """The outcome of checking a request: a principal, or why not (``status`` 401/429) and a message."""

    principal: Principal | None
    status: int = 200
    message: str = ""
    retry_after: int = 0


class Access:
    """The one auth boundary: keys, sessions, the request rate limit and the failed-key limit."""

    def __init__(
        self,
        keys: KeyRing,
        limiter: RateLimiter,
        *,
        failures_per_minute: int = 10,
        sessions: SessionStore | None = None,
    ) -> None:
        self.keys = keys
        self.limiter = limiter
        self.failures = RateLimiter(failures_per_minute)
        self.logins = RateLimiter(failures_per_minute)  # successful logins too: sessions cost memory
        self.sessions = sessions or SessionStore()

    @classmethod
    def from_settings(cls, settings: object) -> Access:
        return cls(
            KeyRing(getattr(settings, "api_keys", []), getattr(settings, "admin_api_keys", [])),
            RateLimiter(int(getattr(settings, "rate_limit_per_minute", 0))),
            failures_per_minute=int(getattr(settings, "failed_auth_per_minute", 10)),
        )

    @property
    def enabled(self) -> bool:
        return self.keys.enabled

    def authenticate(self, client: str, *, bearer: str | None = None, session: str | None = None) -> Decision:
        """Who ``client`` (an address) is, from a Bearer key or a session cookie; not rate-limited here.

        A client that sent too many wrong keys gets 429 before its key is even looked at, so guessing is
        slowed to ``failures_per_minute`` whatever it sends.
        """
        if not self.keys.enabled:
            return Decision(Principal(identity="ip:" + client, admin=True))
        wait = self.failures.blocked("ip:" + client)
        if wait > 0:
            return _too_many(wait, "too many failed key attempts")
        if bearer:
            principal = self.keys.lookup(bearer)
            if principal is not None:
                return Decision(principal)
            return self.failed(client, "unknown API key")
        if session:
            principal = self.sessions.get(session)
            if principal is not None:
                return Decision(principal)
            return Decision(None, 401, "the login session has expired: log in again")
        return Decision(None, 401, "an API key is required: send 'Authorization: Bearer <key>' or log in")

    def failed(self, client: str, message: str) -> Decision:
        """Count a wrong key against ``client``; 401, or 429 once it is over the limit."""
        audit.warning("refused key from %s", client)
        wait = self.failures.acquire("ip:" + client)
        if wait > 0:
            return _too_many(wait, "too many failed key attempts")
        return Decision(None, 401, message)

    def login(self, client: str, key: str) -> tuple[Decision, str]:
        """Check ``key`` for a login form; (decision, new session token or "")."""
        decision = self.authenticate(client, bearer=key or "\0")
        if decision.principal is None:
            return decision, ""
        wait = self.logins.acquire("ip:" + client)
        if wait > 0:
            return _too_many(wait, "too many logins"), ""
        audit.info("login %s from %s", decision.principal.identity, client)
        return decision, self.sessions.create(decision.principal)

    def throttle(self, principal: Principal) -> Decision:
        """Take a token from ``principal``'s request bucket: the principal, or 429."""
        wait = self.limiter.acquire(principal.identity)
        if wait > 0:
            return _too_many(wait, "too many requests (limit GOVQA_RATE_LIMIT_PER_MINUTE per client)")
        return Decision(principal)


def _too_many(wait: float, why: str) -> Decision:
    seconds = max(1, int(wait + 0.999))
    return Decision(None, 429, f"{why}: retry in {seconds} s", retry_after=seconds)
