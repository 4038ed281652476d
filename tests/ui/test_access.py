"""The shared auth boundary: sessions, the failed-key limit, the rate limit (pure, no server)."""

from __future__ import annotations

from ui.access import Access, KeyRing, Principal, RateLimiter, SessionStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_without_keys_everyone_is_an_admin_known_by_address() -> None:
    access = Access(KeyRing([], []), RateLimiter(0))
    decision = access.authenticate("10.0.0.1", bearer="anything")
    assert decision.principal == Principal("ip:10.0.0.1", admin=True)


def test_bearer_then_session_then_refusal() -> None:
    access = Access(KeyRing(["u"], ["a"]), RateLimiter(0))
    assert access.authenticate("c", bearer="u").principal.admin is False  # type: ignore[union-attr]
    assert access.authenticate("c", bearer="a").principal.admin is True  # type: ignore[union-attr]
    decision, token = access.login("c", "a")
    assert token and access.authenticate("c", session=token).principal == decision.principal
    assert access.authenticate("c").status == 401
    assert access.authenticate("c", session="forged").status == 401
    assert access.login("c", "")[1] == ""


def test_wrong_keys_lead_to_429_before_any_key_is_checked() -> None:
    access = Access(KeyRing(["u"], []), RateLimiter(0), failures_per_minute=3)
    codes = [access.authenticate("guesser", bearer=f"g{i}").status for i in range(5)]
    assert codes == [401, 401, 401, 429, 429]
    blocked = access.authenticate("guesser", bearer="u")
    assert blocked.principal is None and blocked.status == 429 and blocked.retry_after >= 1
    assert access.authenticate("someone-else", bearer="u").principal is not None  # per client


def test_sessions_expire_and_stay_bounded() -> None:
    clock = Clock()
    store = SessionStore(ttl_s=60, max_sessions=3, clock=clock)
    p = Principal("key:x", admin=False)
    first = store.create(p)
    assert store.get(first) == p
    clock.now += 61
    assert store.get(first) is None
    tokens = [store.create(p) for _ in range(5)]
    assert len(store._sessions) == 3 and store.get(tokens[-1]) == p and store.get(tokens[0]) is None
    store.drop(tokens[-1])
    assert store.get(tokens[-1]) is None


def test_blocked_peeks_without_taking() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock=clock)
    assert limiter.blocked("a") == 0.0
    for _ in range(60):
        limiter.acquire("a")
    assert limiter.blocked("a") > 0 and limiter.blocked("a") == limiter.blocked("a")
    clock.now += 1
    assert limiter.blocked("a") == 0.0


def test_one_keys_logins_only_push_out_its_own_sessions() -> None:
    store = SessionStore(per_identity=3)
    admin = store.create(Principal("key:admin", admin=True))
    user_tokens = [store.create(Principal("key:user", admin=False)) for _ in range(50)]
    assert store.get(admin) is not None
    assert sum(store.get(t) is not None for t in user_tokens) == 3
    assert store.get(user_tokens[-1]) is not None and store.get(user_tokens[0]) is None


def test_logins_are_counted_per_client() -> None:
    access = Access(KeyRing(["u"], []), RateLimiter(0), failures_per_minute=2)
    results = [access.login("c", "u")[1] != "" for _ in range(4)]
    assert results == [True, True, False, False]
    assert access.login("other", "u")[1]
