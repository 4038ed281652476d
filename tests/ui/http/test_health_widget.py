"""Probes, the widget script, the /embed page and the root redirect."""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.ui.http.helpers import MakeApi, assert_error
from ui.http import create_app
from ui.http.boundary import frame_ancestors


def test_healthz_and_readyz(make_api: MakeApi) -> None:
    api = make_api(warm=False)
    c = api.client
    assert c.get("/healthz").json() == {"status": "ok"}
    r = c.get("/readyz")
    assert_error(r, 503, "not_ready")
    assert r.headers["retry-after"]
    readiness = api.app.state.govqa.readiness
    readiness.start(api.service)
    assert readiness.wait(120)
    assert c.get("/readyz").json() == {
        "status": "ready",
        "documents": 5,
        "ingest": {"running": 0, "queued": 0, "longest_s": 0.0, "stuck": False},
    }


class _FailingWarmUp:
    def __init__(self, settings: Any) -> None:
        self.settings = settings

    def warm_up(self) -> None:
        raise RuntimeError("no model here")

    def close(self) -> None:
        pass


def test_readyz_tells_why_warm_up_failed(fake_settings: Any) -> None:
    app = create_app(fake_settings, _FailingWarmUp(fake_settings))  # type: ignore[arg-type]
    with TestClient(app) as c:
        app.state.govqa.readiness.wait(10)
        err = assert_error(c.get("/readyz"), 503, "not_ready")
        assert "warm-up failed" in err["message"] and "no model" not in err["message"]
        assert c.get("/healthz").status_code == 200


def test_create_app_does_no_work_until_started(fake_settings: Any) -> None:
    app = create_app(fake_settings)
    service = app.state.govqa.service
    assert service._embedder is None and service._index is None  # lazily built, not at creation


def test_widget_script(client: TestClient) -> None:
    r = client.get("/widget.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/javascript")
    js = r.text
    for needed in ("attachShadow", "/v1/ask", "getReader", "data-api-key", "refused", "isComposing"):
        assert needed in js, needed
    code = re.sub(r"/\*.*?\*/", "", js, flags=re.S)  # the header comment shows an example URL
    assert not re.search(r"https?://", code), "the widget must not load anything from elsewhere"
    assert "innerHTML = ICON" in code and code.count("innerHTML") == 1  # only a constant icon


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_widget_script_parses(client: TestClient, tmp_path: Any) -> None:
    path = tmp_path / "widget.js"
    path.write_bytes(client.get("/widget.js").content)
    subprocess.run(["node", "--check", str(path)], check=True, capture_output=True, timeout=60)


def test_embed_page_can_be_framed_only_by_allowed_origins(make_api: MakeApi) -> None:
    assert "frame-ancestors *" in make_api().client.get("/embed").headers["content-security-policy"]
    api = make_api(embed_origins=["https://gov.example.cn"])
    r = api.client.get("/embed")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'self' https://gov.example.cn" in csp
    assert "connect-src 'self'" in csp
    assert '<script src="/widget.js" data-mode="page">' in r.text
    assert frame_ancestors([]) == "'self'" and frame_ancestors(["*"]) == "*"
    assert frame_ancestors(["none"]) == "'self'"


def test_root_redirects_to_the_chat_without_a_ui(client: TestClient) -> None:
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/embed"


def test_openapi_is_documented(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path, method in [
        ("/v1/ask", "post"),
        ("/v1/chat/completions", "post"),
        ("/v1/models", "get"),
        ("/v1/documents", "get"),
        ("/v1/documents", "post"),
        ("/v1/documents/{doc_id}", "delete"),
        ("/healthz", "get"),
        ("/readyz", "get"),
    ]:
        op = paths[path][method]
        assert op["summary"], (path, method)
        assert "200" in op["responses"] or "201" in op["responses"]
    ask = paths["/v1/ask"]["post"]
    assert "text/event-stream" in ask["responses"]["200"]["content"]
    assert ask["responses"]["429"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorResponse")
