"""The real app — API and the Gradio UI mounted at /ui — under a real uvicorn on 127.0.0.1, over a copy of
the sample index (fake embedder), for the attack suite: each attack is sent over HTTP as an outsider
would send it."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ui.http.helpers import LiveServer, make_settings
from ui.http import create_app, mount_ui
from ui.service import GovQA

USER = "user-key-0123456789"
ADMIN = "admin-key-9876543210"


class Served:
    def __init__(self, server: LiveServer, service: GovQA, app: Any) -> None:
        self.server = server
        self.service = service
        self.app = app
        self.url = server.url

    def http(self, key: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)


Serve = Callable[..., Served]


@pytest.fixture
def serve(fake_sample_index: Path, tmp_path: Path) -> Iterator[Serve]:
    """``serve(**settings)``: the whole app with its UI on a free loopback port."""
    opened: list[tuple[LiveServer, GovQA]] = []

    def start(**overrides: Any) -> Served:
        data = tmp_path / f"data{len(opened)}"
        shutil.copytree(fake_sample_index, data)
        settings = make_settings(data, **overrides)
        service = GovQA(settings)
        app = create_app(settings, service, warm_up=False)
        service.warm_up()
        app.state.govqa.readiness.mark_ready()
        assert mount_ui(app, service)
        server = LiveServer(app).__enter__()
        opened.append((server, service))
        return Served(server, service, app)

    yield start
    for server, service in opened:
        server.__exit__(None, None, None)
        service.close()


def ui_config(http: httpx.Client) -> dict[str, Any]:
    r = http.get("/ui/config")
    assert r.status_code == 200, r.text
    config: dict[str, Any] = r.json()
    return config


def gradio_call(http: httpx.Client, fn_index: int, data: list[Any]) -> tuple[int, str]:
    """Run one UI event through Gradio's queue as the browser does: (status of the join, event stream)."""
    session = uuid.uuid4().hex[:12]
    r = http.post(
        "/ui/gradio_api/queue/join",
        json={"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None},
    )
    if r.status_code != 200:
        return r.status_code, r.text
    stream = http.get(f"/ui/gradio_api/queue/data?session_hash={session}", timeout=60)
    return r.status_code, stream.text
