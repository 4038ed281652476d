"""The one boundary in front of everything mounted under the app: the web UI's auth and rate limit, the
security headers on every response, and the login page that issues a UI session.

``UiGate`` covers every route under ``/ui`` — the page, Gradio's queue, upload and file routes — with the
same ``Access`` as ``/v1``: with keys configured nothing there answers without a key (Bearer) or a login
session cookie; every POST (a question, an upload, a refresh) takes a token from the client's rate-limit
bucket. Both are plain ASGI so Gradio's streams pass through untouched.
"""

from __future__ import annotations

import html
import ipaddress
import json
import logging
import re
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ui.access import SESSION_COOKIE, Access, Decision
from ui.http.errors import error_body
from ui.http.middleware import ASGIApp, Message, Receive, Scope, Send
from ui.uploads import sweep_now_and_then

log = logging.getLogger(__name__)

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# a Gradio file value naming a URL: Gradio would download it (unbounded) before any handler runs
_URL_FILE = re.compile(rb'"(?:path|url)"\s*:\s*"\s*(?:[a-zA-Z][a-zA-Z0-9+.-]*:)?//')
_URL_PATH = re.compile(r"\s*(?:[a-zA-Z][a-zA-Z0-9+.-]*:)?//")


def without_file_urls(body: bytes) -> bytes | None:
    """A Gradio event body with the ``url`` of every file value dropped; None when a file's ``path`` is
    itself a URL (Gradio would fetch it) or the body is not JSON and names a URL as a file.

    Gradio's page sends an uploaded file as ``{"path": <upload folder path>, "url": <this server's
    /gradio_api/file= route>, …}``; only the path is needed (the handlers read the upload folder only),
    and a url is what Gradio would download. Anything else in the body is kept as sent."""
    try:
        data = json.loads(body)
    except ValueError:
        return None if _URL_FILE.search(body) else body
    changed = False

    def walk(node: Any) -> bool:
        nonlocal changed
        if isinstance(node, dict):
            if isinstance(node.get("path"), str) and _URL_PATH.match(node["path"]):
                return False
            if "url" in node and ("path" in node or isinstance(node.get("meta"), dict)):
                node.pop("url")
                changed = True
            return all(walk(v) for v in node.values())
        if isinstance(node, list):
            return all(walk(v) for v in node)
        return True

    if not walk(data):
        return None
    return json.dumps(data, ensure_ascii=False).encode() if changed else body


LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"
MAX_LOGIN_BODY = 4096

# Gradio needs inline scripts and styles; everything else comes from this server only (no external
# images from Markdown, no beacons), and no other site may frame these pages.
UI_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; media-src 'self' blob:; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def frame_ancestors(origins: list[str]) -> str:
    """Who may frame ``/embed``: this server and ``GOVQA_EMBED_ORIGINS`` (``*``: any site)."""
    if "*" in origins:
        return "*"
    return " ".join(["'self'", *(o for o in origins if o != "none")])


def is_loopback(host: str) -> bool:
    if host.strip("[]") in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _hostname(host_header: str) -> str:
    """``example.org:8000`` → ``example.org``; ``[::1]:8000`` → ``::1``."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def refuse(scope: Scope, receive: Receive, send: Send, status: int, code: str, message: str) -> Any:
    return JSONResponse(error_body(code, message), status_code=status)(scope, receive, send)


class SameSite:
    """Requests from elsewhere are refused: a ``Host`` not in ``allowed_hosts`` (DNS rebinding), and an
    unsafe method (POST/PUT/PATCH/DELETE) whose ``Origin`` is another site not in ``cors_origins`` (a page
    the user visits posting to a local govqa). Clients that send no ``Origin`` (curl, SDKs) are not
    browsers' cross-site requests and pass."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: list[str], cors_origins: list[str]) -> None:
        self.app = app
        self.any_host = "*" in allowed_hosts
        self.hosts = {h.lower().strip("[]") for h in allowed_hosts}
        self.any_origin = "*" in cors_origins
        self.origins = {o.rstrip("/").lower() for o in cors_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = _header(scope, b"host") or ""
        if not self.any_host and _hostname(host) not in self.hosts:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            log.warning("refused a request for host %r (GOVQA_ALLOWED_HOSTS)", host[:100])
            await refuse(scope, receive, send, 400, "bad_host", "unknown host: set GOVQA_ALLOWED_HOSTS")
            return
        origin = _header(scope, b"origin")
        unsafe = scope.get("method") in UNSAFE_METHODS or scope["type"] == "websocket"
        if unsafe and origin and not self._trusted(origin, host):
            log.warning(
                "refused a cross-site %s %s from %s", scope.get("method"), scope.get("path"), origin[:100]
            )
            await refuse(scope, receive, send, 403, "cross_site", "cross-site requests are not accepted")
            return
        await self.app(scope, receive, send)

    def _trusted(self, origin: str, host: str) -> bool:
        o = origin.rstrip("/").lower()
        if self.any_origin or o in self.origins:
            return True
        return urlsplit(o).netloc == host.strip().lower()


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def deny(decision: Decision) -> Response:
    """The 401/429 response for a refused decision, in the API's error shape."""
    code = "rate_limited" if decision.status == 429 else "unauthorized"
    headers = {"Retry-After": str(decision.retry_after)} if decision.status == 429 else {}
    if decision.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(error_body(code, decision.message), status_code=decision.status, headers=headers)


class UiGate:
    """Auth and the rate limit for every route under ``prefix`` (HTTP and websocket)."""

    def __init__(
        self, app: ASGIApp, *, access: Access, prefix: str = "/ui", max_body: int = 64 * 1024
    ) -> None:
        self.app = app
        self.access = access
        self.prefix = prefix
        self.max_body = max_body

    def _covers(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix + "/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not self._covers(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        decision = self.access.authenticate(
            _client(scope), bearer=_bearer(scope), session=request.cookies.get(SESSION_COOKIE)
        )
        if decision.principal is not None and scope.get("method") == "POST":
            decision = self.access.throttle(decision.principal)
        if decision.principal is not None:
            path = scope.get("path", "")
            if scope.get("method") == "POST" and path.endswith("/gradio_api/upload"):
                if not decision.principal.admin:  # only an admin's upload can ever be ingested
                    await refuse(scope, receive, send, 403, "forbidden", "uploading needs an admin key")
                    return
                sweep_now_and_then()
            elif scope.get("method") == "POST":
                body = await _read_body(receive, self.max_body)
                if body is None:
                    await refuse(
                        scope, receive, send, 413, "payload_too_large", "the request body is too large"
                    )
                    return
                cleaned = without_file_urls(body)
                if cleaned is None:
                    await refuse(
                        scope, receive, send, 400, "bad_request", "files are uploaded, never fetched by URL"
                    )
                    return
                if cleaned is not body:
                    scope = _with_length(scope, len(cleaned))
                receive = _replay(cleaned, receive)
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        response: Response = deny(decision)
        if decision.status == 401 and scope.get("method") == "GET" and _wants_html(scope):
            target = scope.get("path", self.prefix)
            response = RedirectResponse(f"{LOGIN_PATH}?next={quote(target)}", status_code=303)
        await response(scope, receive, send)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None once it is over ``limit`` bytes."""
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return body
        body += message.get("body", b"")
        if len(body) > limit:
            return None
        if not message.get("more_body"):
            return body


def _with_length(scope: Scope, length: int) -> Scope:
    """``scope`` with its content-length set to ``length`` (the body was rewritten)."""
    headers = [(k, v) for k, v in scope.get("headers", ()) if k.lower() != b"content-length"]
    return {**scope, "headers": [*headers, (b"content-length", str(length).encode())]}


def _replay(body: bytes, original: Receive) -> Receive:
    """The body read already, then whatever the client sends next (its disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await original()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _wants_html(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"accept":
            return b"text/html" in value
    return False


class SecurityHeaders:
    """nosniff everywhere; no framing but for ``/embed`` (by ``embed_ancestors``: the widget's iframe); a
    CSP on pages. ``/embed`` may be framed by any site by default: it only asks, and the framing page can
    neither read nor drive it (same-origin policy)."""

    def __init__(self, app: ASGIApp, *, embed_ancestors: list[str], ui_prefix: str = "/ui") -> None:
        self.app = app
        self.embed_csp = f"frame-ancestors {frame_ancestors(embed_ancestors)}".encode()
        self.ui_prefix = ui_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        extra: list[tuple[bytes, bytes]] = [(b"x-content-type-options", b"nosniff")]
        if path == "/embed":
            extra.append((b"content-security-policy", self.embed_csp))
        else:
            extra.append((b"x-frame-options", b"DENY"))
            csp = UI_CSP if path == self.ui_prefix or path.startswith(self.ui_prefix + "/") else None
            extra.append((b"content-security-policy", (csp or "frame-ancestors 'none'").encode()))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                have = {name.lower() for name, _ in headers}
                headers.extend((k, v) for k, v in extra if k not in have)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


# --- the login page ------------------------------------------------------------------------------
def _safe_next(target: str | None, default: str) -> str:
    """Only a path on this server (``/ui/``), never ``//host`` or a full URL."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def login_page(message: str = "", next_path: str = "/ui/", status: int = 200) -> HTMLResponse:
    note = f'<p class="err" role="alert">{html.escape(message)}</p>' if message else ""
    body = f"""<!doctype html><html lang="zh"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>登录 · govqa</title>
<style>body{{font-family:system-ui,sans-serif;max-width:26rem;margin:12vh auto;padding:0 1rem;
color:#1f2937;background:#fff}}@media (prefers-color-scheme:dark){{body{{color:#e5e7eb;background:#111827}}
input{{background:#1f2937;color:#e5e7eb;border-color:#4b5563}}}}h1{{font-size:1.3rem}}
input{{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;border:1px solid #9ca3af;
border-radius:.4rem}}button{{margin-top:.8rem;padding:.6rem 1.2rem;font-size:1rem;border:0;border-radius:.4rem;
background:#1d4ed8;color:#fff;cursor:pointer}}.err{{color:#b91c1c}}@media (prefers-color-scheme:dark)
{{.err{{color:#fca5a5}}}}</style></head><body><h1>政府工作报告问答 · govqa</h1>
<p>请输入访问密钥 · Enter your API key to use the chat.</p>{note}
<form method="post" action="{LOGIN_PATH}"><input type="hidden" name="next" value="{html.escape(next_path)}">
<label for="key">密钥 · API key</label>
<input id="key" name="key" type="password" autocomplete="current-password" autofocus required>
<button type="submit">登录 · Log in</button></form></body></html>"""
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


async def login_get(request: Request, access: Access, ui_path: str) -> Response:
    next_path = _safe_next(request.query_params.get("next"), ui_path + "/")
    if not access.enabled:
        return RedirectResponse(next_path, status_code=303)
    return login_page(next_path=next_path)


async def login_post(request: Request, access: Access, ui_path: str) -> Response:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_LOGIN_BODY:
            return login_page("请求过大 · The form is too large.", status=413)
    form = parse_qs(body.decode("utf-8", "replace"))
    next_path = _safe_next((form.get("next") or [""])[0], ui_path + "/")
    if not access.enabled:
        return RedirectResponse(next_path, status_code=303)
    client = request.client.host if request.client else "unknown"
    decision, token = access.login(client, (form.get("key") or [""])[0].strip())
    if not token:
        message = (
            "尝试次数过多，请稍后再试 · Too many attempts: " + decision.message
            if decision.status == 429
            else "密钥无效 · Unknown key."
        )
        page = login_page(message, next_path, status=decision.status)
        if decision.retry_after:
            page.headers["Retry-After"] = str(decision.retry_after)
        return page
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(access.sessions.ttl_s),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


async def logout(request: Request, access: Access) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        access.sessions.drop(token)
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
