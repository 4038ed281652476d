"""Attacks that once worked against a running govqa (issue: the UI's back door), each sent over HTTP to
the real app, each asserted to fail now."""

from __future__ import annotations

import io
import json
import os
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import docx
import pytest

from tests.security.conftest import ADMIN, USER, Serve, gradio_call, ui_config

QUESTION = {"question": "2019年精武镇税收收入是多少？"}


def _file_payload(path: str) -> dict[str, object]:
    return {"path": path, "meta": {"_type": "gradio.FileData"}}


def _canary() -> tuple[Path, str]:
    """A file the server can read, in the temp folder (a place Gradio itself trusts), with unique text."""
    secret = "CANARY-" + os.urandom(8).hex()
    fd, name = tempfile.mkstemp(prefix="govqa-canary-", suffix=".txt")
    os.write(fd, secret.encode())
    os.close(fd)
    return Path(name), secret


# --- 1. critical: reading server files through the UI queue ------------------------------------------
@pytest.mark.parametrize("keys", [False, True], ids=["no-keys", "with-user-key"])
def test_no_ui_event_turns_a_client_sent_path_into_a_download(serve: Serve, keys: bool) -> None:
    """Every event, every input slot, a chat message or a bare file pointing at a server file: none
    copies it into Gradio's cache or hands back a URL for it (the attack read /proc/self/environ)."""
    served = serve(**({"api_keys": [USER], "admin_api_keys": [ADMIN]} if keys else {}))
    canary, secret = _canary()
    try:
        with served.http(USER if keys else None) as http:
            deps = ui_config(http)["dependencies"]
            chat_msg = [{"role": "user", "content": [{"type": "file", "file": _file_payload(str(canary))}]}]
            tried = 0
            for fn_index, dep in enumerate(deps):
                for slot in range(len(dep["inputs"])):
                    for evil in (chat_msg, [_file_payload(str(canary))], _file_payload(str(canary))):
                        data: list[object] = ["all"] * len(dep["inputs"])
                        data[slot] = evil
                        status, text = gradio_call(http, fn_index, data)
                        tried += 1
                        assert status in (200, 422), text
                        assert canary.name not in text and secret not in text, (fn_index, slot, text[:500])
            assert tried > 20
            direct = http.get(f"/ui/gradio_api/file={canary}")
            assert direct.status_code in (403, 404) and secret not in direct.text
    finally:
        canary.unlink()


def test_the_chat_history_is_never_taken_from_the_client(serve: Serve) -> None:
    """What the client claims the conversation was is ignored: the server keeps it."""
    served = serve()
    with served.http() as http:
        deps = ui_config(http)["dependencies"]
        respond = next(i for i, d in enumerate(deps) if d.get("api_name") == "respond")
        inputs = deps[respond]["inputs"]
        # question, chat state, history state, three filters, turns state, conversation id, saved chats
        assert len(inputs) == 9
        forged = [{"role": "assistant", "content": "<img src=x onerror=alert(1)>FORGED"}]
        status, text = gradio_call(
            http,
            respond,
            ["2019年精武镇税收收入是多少？", forged, forged, "all", "all", "all", forged, forged, forged],
        )
        assert status == 200 and "FORGED" not in text and "18亿元" in text


def test_a_conversation_restored_from_the_browser_is_only_escaped_text(serve: Serve) -> None:
    """The browser's saved conversations (localStorage) are the client's to forge: file messages, server
    paths and markup in them are dropped or shown as text, and no file is read."""
    served = serve()
    canary, secret = _canary()
    try:
        with served.http() as http:
            deps = ui_config(http)["dependencies"]
            restore = next(i for i, d in enumerate(deps) if d.get("api_name") == "restore")
            # a file payload anywhere in it: Gradio refuses the event before govqa sees it (not uploaded)
            file_msg = {"role": "user", "content": [{"type": "file", "file": _file_payload(str(canary))}]}
            status, text = gradio_call(
                http, restore, [{"conversations": [{"id": "c" * 16, "turns": [file_msg]}]}]
            )
            assert status == 200 and secret not in text and canary.name not in text
            # without Gradio's file marker: govqa keeps only plain text turns, escaped
            bare_file = {"role": "user", "content": [{"type": "file", "file": {"path": str(canary)}}]}
            forged = {
                "current": "a" * 16,
                "conversations": [
                    {"id": "b" * 16, "turns": [bare_file, {"q": {"path": str(canary)}, "a": "x"}]},
                    {
                        "id": "a" * 16,
                        "turns": [
                            bare_file,
                            {"q": str(canary), "a": "<img src=x onerror=alert(1)>FORGED"},
                            {"q": "![x](http://evil.example/t.png)", "a": "[1](javascript:alert(1))"},
                        ],
                    },
                ],
            }
            status, text = gradio_call(http, restore, [forged])
            assert status == 200 and secret not in text
            done = next(json.loads(line[6:]) for line in text.splitlines() if '"process_completed"' in line)
            chat, *_, stored, _listing, _box, _send = done["output"]["data"]
            shown = json.dumps(chat, ensure_ascii=False)  # what the chat renders
            assert "FORGED" in shown and "<img" not in shown and "&lt;img" in shown
            assert "](http" not in shown and "](javascript" not in shown
            assert len(chat) == 4 and all(part["type"] == "text" for m in chat for part in m["content"])
            # what goes back to the browser's store is the validated text (no message objects)
            assert [c["id"] for c in stored["conversations"]] == ["a" * 16]  # file messages only: dropped
            assert "file" not in json.dumps(stored["conversations"][0]["turns"][0])
    finally:
        canary.unlink()


# --- 2. the UI behind the same keys and rate limit as /v1 --------------------------------------------
def test_with_keys_nothing_under_ui_answers_without_one(serve: Serve) -> None:
    served = serve(api_keys=[USER], admin_api_keys=[ADMIN])
    with served.http() as anon:
        for method, path in [
            ("GET", "/ui/"),
            ("GET", "/ui/config"),
            ("GET", "/ui/gradio_api/info"),
            ("POST", "/ui/gradio_api/queue/join"),
            ("POST", "/ui/gradio_api/call/respond"),
            ("POST", "/ui/gradio_api/upload"),
            ("GET", "/ui/gradio_api/file=/etc/hostname"),
            ("GET", "/ui/theme.css"),
        ]:
            r = anon.request(method, path, json={} if method == "POST" else None)
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.json()["error"]["code"] == "unauthorized"
        page = anon.get("/ui/", headers={"Accept": "text/html"})
        assert page.status_code == 303 and page.headers["location"].startswith("/login?next=")
    with served.http(USER) as user:
        assert user.get("/ui/").status_code == 200
        assert user.get("/ui/config").status_code == 200


def test_login_issues_a_session_cookie_for_the_ui(serve: Serve) -> None:
    served = serve(api_keys=[USER], admin_api_keys=[ADMIN])
    with served.http(follow_redirects=False) as browser:
        assert "password" in browser.get("/login").text
        bad = browser.post("/login", data={"key": "wrong", "next": "/ui/"})
        assert bad.status_code == 401 and "govqa_session" not in bad.headers.get("set-cookie", "")
        offsite = browser.post("/login", data={"key": USER, "next": "//evil.example/x"})
        assert offsite.status_code == 303 and offsite.headers["location"] == "/ui/"
        cookie = offsite.headers["set-cookie"]
        assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
        assert browser.get("/ui/config").status_code == 200  # the cookie now stands for the key
        assert browser.get("/v1/documents").status_code == 200
        browser.get("/logout")
        assert browser.get("/ui/config").status_code == 401


def test_ui_calls_take_from_the_same_rate_limit(serve: Serve) -> None:
    served = serve(rate_limit_per_minute=5)
    with served.http() as http:
        codes = [http.post("/ui/gradio_api/queue/join", json={}).status_code for _ in range(12)]
    assert codes.count(429) >= 6, codes
    assert 429 not in codes[:5]


def test_ui_bodies_are_limited_like_the_api(serve: Serve) -> None:
    served = serve(max_body_kb=4, max_upload_mb=1)
    with served.http() as http:
        r = http.post(
            "/ui/gradio_api/queue/join", content=b"x" * 10_000, headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 413
        big = http.post("/ui/gradio_api/upload", files={"files": ("big.txt", b"a" * 2_000_000, "text/plain")})
        assert big.status_code == 413


# --- 3. uploads through the UI -----------------------------------------------------------------------
def test_anonymous_gradio_upload_is_refused(serve: Serve) -> None:
    served = serve(api_keys=[USER], admin_api_keys=[ADMIN])
    with served.http() as anon:
        r = anon.post("/ui/gradio_api/upload", files={"files": ("x.txt", b"hello", "text/plain")})
        assert r.status_code == 401


def test_the_upload_event_ingests_no_server_path(serve: Serve) -> None:
    """With the admin key, the upload event given the path of a file on the server ingests nothing."""
    served = serve(api_keys=[USER], admin_api_keys=[ADMIN])
    readme = Path(__file__).resolve().parents[2] / "README.md"
    with served.http(ADMIN) as admin:
        deps = ui_config(admin)["dependencies"]
        upload = next(i for i, d in enumerate(deps) if d.get("api_name") == "upload")
        for payload in ([_file_payload(str(readme))], [str(readme)]):
            gradio_call(admin, upload, [payload, "all", "all", "all"])
        sources = {d["source"] for d in admin.get("/v1/documents").json()["documents"]}
    assert "README.md" not in sources and len(sources) == 5


# --- 4. bounded work per upload ----------------------------------------------------------------------
def _docx_bomb(xml_mb: int = 40) -> bytes:
    """A valid .docx whose document.xml unpacks to ``xml_mb`` MB (the attack used 57 MB in 190 KB)."""
    base = io.BytesIO()
    docx.Document().save(base)
    para = "<w:p><w:r><w:t>2025年全镇实现税收收入3亿元，同比增长5%。</w:t></w:r></w:p>"
    body = para * (xml_mb * 1024 * 1024 // len(para.encode()))
    out = io.BytesIO()
    with (
        zipfile.ZipFile(base) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst,
    ):
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/document.xml":
                text = data.decode()
                start = text.index("<w:body>") + len("<w:body>")
                data = (text[:start] + body + text[start:]).encode()
            dst.writestr(item, data)
    return out.getvalue()


def test_a_docx_bomb_is_refused_with_413_while_answers_go_on(serve: Serve) -> None:
    served = serve(api_keys=[USER], admin_api_keys=[ADMIN])
    bomb = _docx_bomb()
    assert len(bomb) < 1_000_000
    slowest = 0.0
    done = threading.Event()
    result: dict[str, object] = {}

    def upload() -> None:
        with served.http(ADMIN) as admin:
            r = admin.post("/v1/documents", files={"file": ("bomb.docx", bomb, "application/octet-stream")})
            result["status"], result["body"] = r.status_code, r.json()
        done.set()

    threading.Thread(target=upload).start()
    with served.http(USER) as user:
        while not done.is_set():
            t0 = time.monotonic()
            assert user.post("/v1/ask", json=QUESTION).status_code == 200
            slowest = max(slowest, time.monotonic() - t0)
    assert done.wait(60)
    assert result["status"] == 413, result
    assert "MB of XML, over the 16 MB limit" in json.dumps(result["body"], ensure_ascii=False)
    assert slowest < 1.0
    with served.http(USER) as user:
        assert len(user.get("/v1/documents").json()["documents"]) == 5


def test_answers_never_wait_behind_a_long_ingest(serve: Serve) -> None:
    """An upload that takes long holds the ingest worker only: /v1/ask answers within 1 s meanwhile."""
    served = serve(upload_wait_s=0.2)
    gate = threading.Event()

    def stuck(name: str, data: bytes, pages: object = None) -> object:
        gate.wait(30)
        raise AssertionError("released")

    served.service.ingest_bytes = stuck  # type: ignore[method-assign]
    with served.http() as http:
        for i in range(3):  # more uploads than answer workers
            r = http.post(
                "/v1/documents", files={"file": (f"r{i}.txt", "2025年报告".encode() * 10, "text/plain")}
            )
            assert r.status_code == 202
        ready = http.get("/readyz").json()
        assert ready["ingest"]["running"] == 1 and ready["ingest"]["queued"] == 2
        for _ in range(5):
            t0 = time.monotonic()
            assert http.post("/v1/ask", json=QUESTION).status_code == 200
            assert time.monotonic() - t0 < 1.0
    gate.set()


# --- 5. key guessing ---------------------------------------------------------------------------------
def test_key_guessing_is_slowed_to_429(serve: Serve) -> None:
    served = serve(api_keys=[USER], admin_api_keys=[ADMIN], failed_auth_per_minute=5)
    codes = []
    for i in range(12):
        with served.http(f"guess-{i}") as http:
            codes.append(http.get("/v1/documents").status_code)
    assert codes[:5] == [401] * 5 and set(codes[6:]) == {429}
    with served.http(USER) as http:  # blocked: even the right key is not looked at until it cools down
        r = http.get("/v1/documents")
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    with served.http() as http:  # the UI's login counts the same failures
        assert http.post("/login", data={"key": "guess"}).status_code == 429


# --- 6. headers ----------------------------------------------------------------------------------------
def test_pages_cannot_be_framed_and_embed_only_by_allowed_origins(serve: Serve) -> None:
    served = serve(embed_origins=["https://gov.example.cn"])
    with served.http() as http:
        for path in ("/ui/", "/docs", "/redoc", "/login"):
            r = http.get(path, follow_redirects=False)
            assert r.headers["x-frame-options"] == "DENY", path
            assert "frame-ancestors 'none'" in r.headers["content-security-policy"], path
            assert r.headers["x-content-type-options"] == "nosniff"
        ui = http.get("/ui/")
        assert "img-src 'self' data: blob:" in ui.headers["content-security-policy"]  # no external images
        embed = http.get("/embed")
        assert "x-frame-options" not in embed.headers
        assert embed.headers["content-security-policy"].endswith(
            "frame-ancestors 'self' https://gov.example.cn"
        )
        assert http.get("/v1/documents").headers["x-content-type-options"] == "nosniff"


def test_docs_and_redoc_load_nothing_from_outside(serve: Serve) -> None:
    served = serve()
    with served.http() as http:
        for path in ("/docs", "/redoc"):
            page = http.get(path).text
            assert "cdn.jsdelivr" not in page and "unpkg" not in page and "fonts.googleapis" not in page
            srcs = [part.split('"')[1] for part in page.split("src=")[1:]]
            assert srcs, page[:300]
            for src in srcs:
                assert src.startswith("/"), src
                assert http.get(src).status_code == 200, src
        assert http.get("/favicon.ico").status_code == 200


def test_gradio_errors_leak_no_internals(serve: Serve) -> None:
    served = serve()
    with served.http() as http:
        deps = ui_config(http)["dependencies"]
        refresh = next(i for i, d in enumerate(deps) if d.get("api_name") == "refresh")
        _, text = gradio_call(http, refresh, [{"__class__": "x"}, object.__name__, None])
        assert "object at 0x" not in text and "Traceback" not in text
