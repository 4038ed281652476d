"""API keys (401/403), the per-client rate limit (429 + Retry-After), CORS and body limits."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.ui.http.helpers import Api, MakeApi, assert_error
from ui.access import KeyRing, RateLimiter

USER = "user-key-0123456789"
ADMIN = "admin-key-9876543210"
QUESTION = {"question": "2019年精武镇税收收入是多少？"}


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def keyed(make_api: MakeApi) -> Api:
    return make_api(api_keys=[USER], admin_api_keys=[ADMIN])


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/ask", QUESTION),
        ("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "税收"}]}),
        ("GET", "/v1/models", None),
        ("GET", "/v1/documents", None),
        ("DELETE", "/v1/documents/abc", None),
    ],
)
def test_every_v1_route_needs_a_key(
    keyed: Api, method: str, path: str, body: dict[str, object] | None
) -> None:
    c = keyed.client
    for headers in (
        {},
        _bearer("wrong-key"),
        {"Authorization": f"Basic {USER}"},
        {"Authorization": "Bearer "},
    ):
        r = c.request(method, path, json=body, headers=headers)
        err = assert_error(r, 401, "unauthorized")
        assert r.headers["www-authenticate"] == "Bearer"
        assert USER not in r.text and ADMIN not in r.text and "wrong-key" not in err["message"]


def test_user_keys_ask_and_list_admin_keys_change_documents(keyed: Api) -> None:
    c = keyed.client
    assert c.post("/v1/ask", json=QUESTION, headers=_bearer(USER)).status_code == 200
    assert c.post("/v1/ask", json=QUESTION, headers=_bearer(ADMIN)).status_code == 200
    docs = c.get("/v1/documents", headers=_bearer(USER)).json()["documents"]
    doc_id = docs[0]["doc_id"]
    assert_error(c.delete(f"/v1/documents/{doc_id}", headers=_bearer(USER)), 403, "forbidden")
    files = {"file": ("x.txt", "2025年某镇政府工作报告，税收收入增长了很多很多。".encode(), "text/plain")}
    assert_error(c.post("/v1/documents", files=files, headers=_bearer(USER)), 403, "forbidden")
    assert len(keyed.sources()) == 5
    assert c.delete(f"/v1/documents/{doc_id}", headers=_bearer(ADMIN)).status_code == 200
    assert len(keyed.sources()) == 4


def test_without_admin_keys_nobody_changes_documents(make_api: MakeApi) -> None:
    api = make_api(api_keys=[USER])
    err = assert_error(api.client.delete("/v1/documents/x", headers=_bearer(USER)), 403, "forbidden")
    assert "GOVQA_ADMIN_API_KEYS" in err["message"]


def test_probes_widget_and_docs_need_no_key(keyed: Api) -> None:
    c = keyed.client
    for path in ("/healthz", "/readyz", "/widget.js", "/embed", "/openapi.json", "/docs"):
        assert c.get(path).status_code == 200, path


def test_openapi_documents_the_bearer_scheme(keyed: Api) -> None:
    schema = keyed.client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert USER not in str(schema) and ADMIN not in str(schema)


def test_key_ring_compares_digests() -> None:
    ring = KeyRing(["u1", "u2"], ["a1"])
    assert ring.enabled and ring.has_admin_keys
    user, admin = ring.lookup("u2"), ring.lookup("a1")
    assert user is not None and not user.admin
    assert admin is not None and admin.admin
    assert ring.lookup("u3") is None and ring.lookup("") is None
    assert "u2" not in user.identity and user.identity != ring.lookup("u1").identity  # type: ignore[union-attr]
    assert not KeyRing([], []).enabled


# --- rate limit ----------------------------------------------------------------------------------------
class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_refills_over_time() -> None:
    clock = _Clock()
    limiter = RateLimiter(60, clock=clock)  # one token per second, burst of 60
    assert all(limiter.acquire("a") == 0 for _ in range(60))
    wait = limiter.acquire("a")
    assert 0.9 < wait <= 1.0
    assert limiter.acquire("b") == 0  # clients have their own buckets
    clock.now += 2.0
    assert limiter.acquire("a") == 0 and limiter.acquire("a") == 0
    assert limiter.acquire("a") > 0
    assert RateLimiter(0).acquire("a") == 0  # 0 = off


def test_token_bucket_is_thread_safe() -> None:
    limiter = RateLimiter(100, clock=_Clock())  # frozen clock: exactly 100 tokens to share
    granted: list[int] = []

    def worker() -> None:
        granted.append(sum(1 for _ in range(50) if limiter.acquire("k") == 0))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(granted) == 100


def test_token_bucket_forgets_idle_clients() -> None:
    clock = _Clock()
    limiter = RateLimiter(60, clock=clock, max_clients=10)
    for i in range(11):
        limiter.acquire(f"c{i}")
    clock.now += 120
    limiter.acquire("new")
    assert len(limiter._buckets) <= 2


def test_rate_limit_is_429_with_retry_after(make_api: MakeApi) -> None:
    api = make_api(rate_limit_per_minute=3, api_keys=[USER, "other-user-key"])
    c = api.client
    for _ in range(3):
        assert c.get("/v1/models", headers=_bearer(USER)).status_code == 200
    r = c.get("/v1/models", headers=_bearer(USER))
    assert_error(r, 429, "rate_limited")
    assert int(r.headers["retry-after"]) >= 1
    assert c.get("/v1/models", headers=_bearer("other-user-key")).status_code == 200  # per key
    assert c.get("/healthz").status_code == 200  # probes are not limited


def test_rate_limit_per_client_without_keys(make_api: MakeApi) -> None:
    api = make_api(rate_limit_per_minute=2)
    assert [api.client.get("/v1/models").status_code for _ in range(3)] == [200, 200, 429]


# --- CORS ----------------------------------------------------------------------------------------------
def test_cors_allows_only_the_allowlist(make_api: MakeApi) -> None:
    api = make_api(cors_origins=["https://gov.example.cn"])
    c = api.client
    ok = c.post("/v1/ask", json=QUESTION, headers={"Origin": "https://gov.example.cn"})
    assert ok.headers["access-control-allow-origin"] == "https://gov.example.cn"
    other = c.post("/v1/ask", json=QUESTION, headers={"Origin": "https://evil.example.com"})
    assert "access-control-allow-origin" not in other.headers
    pre = c.options(
        "/v1/ask",
        headers={
            "Origin": "https://gov.example.cn",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert pre.status_code == 200
    assert "authorization" in pre.headers["access-control-allow-headers"].lower()
    bad = c.options(
        "/v1/ask", headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"}
    )
    assert bad.status_code == 400


def test_no_cors_headers_without_an_allowlist(client: TestClient) -> None:
    r = client.post("/v1/ask", json=QUESTION, headers={"Origin": "https://gov.example.cn"})
    assert "access-control-allow-origin" not in r.headers


def test_file_values_lose_their_url_and_a_url_path_is_refused() -> None:
    """Gradio's page sends an uploaded file with a url of this server's file route: dropped (only the
    upload-folder path is used); a file whose path is a URL would be fetched: refused."""
    import json

    from ui.http.boundary import without_file_urls

    upload = {
        "path": "/data/ui-uploads/ab/测试镇.pdf",
        "url": "http://127.0.0.1:8000/ui/gradio_api/file=/data/ui-uploads/ab/测试镇.pdf",
        "meta": {"_type": "gradio.FileData"},
    }
    body = json.dumps({"data": [[upload], "all", "all", "all"], "fn_index": 3}).encode()
    cleaned = without_file_urls(body)
    assert cleaned is not None
    value = json.loads(cleaned)["data"][0][0]
    assert "url" not in value and value["path"] == upload["path"]
    remote = json.dumps({"data": [[{"path": "https://evil.example/x.pdf", "meta": {}}]]}).encode()
    assert without_file_urls(remote) is None
    assert without_file_urls(b'{"data": ["plain text"]}') == b'{"data": ["plain text"]}'  # untouched
    assert without_file_urls(b'not json "url": "//evil.example/x"') is None


def test_gradio_may_read_the_upload_folder_but_nothing_else_of_the_data_folder(tmp_path: Path) -> None:
    from govqa.settings import Settings
    from ui.http.app import blocked_paths

    data = tmp_path / "data"
    (data / "index").mkdir(parents=True)
    (data / "notes.txt").write_text("x", encoding="utf-8")
    uploads = data / "ui-uploads"
    uploads.mkdir()
    blocked = blocked_paths(Settings(data_dir=data, _env_file=None), uploads)  # type: ignore[call-arg]
    assert str(uploads.resolve()) not in blocked and str(data.resolve()) not in blocked
    for name in ("index", "models", "feedback.sqlite", "notes.txt"):
        assert str((data / name).resolve()) in blocked
    elsewhere = blocked_paths(Settings(data_dir=data, _env_file=None), tmp_path / "up")  # type: ignore[call-arg]
    assert str(data.resolve()) in elsewhere  # uploads outside it: the whole data folder is blocked
