"""Helpers for the API tests: settings over a data folder, a live uvicorn server, SSE parsing, the error shape."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from govqa.settings import Settings
from ui.service import GovQA


@dataclass
class Api:
    app: FastAPI
    client: TestClient
    service: GovQA
    settings: Settings

    def sources(self) -> list[str]:
        """What the index holds, straight from the service."""
        return sorted(r.source for r in self.service.documents())


MakeApi = Callable[..., Api]


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "embedding_model": "fake",
        "rate_limit_per_minute": 0,
        "allowed_hosts": ["testserver", "127.0.0.1", "localhost"],  # TestClient's host, and loopback
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class LiveServer:
    """The app under a real uvicorn on 127.0.0.1, in a background thread."""

    def __init__(self, app: FastAPI) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, name="uvicorn-test", daemon=True
        )

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


def parse_sse(text: str) -> list[tuple[str, str]]:
    """(event, data) pairs of a server-sent event stream; ``event`` is "message" when absent."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        event, data = "message", []
        for line in block.split("\n"):
            if line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                event = value
            elif field == "data":
                data.append(value)
        events.append((event, "\n".join(data)))
    return events


def sse_json(text: str) -> list[tuple[str, Any]]:
    return [(e, json.loads(d) if d != "[DONE]" else d) for e, d in parse_sse(text)]


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is ``status`` with the one error shape; returns the error object."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    err: dict[str, Any] = body["error"]
    assert isinstance(err["code"], str) and isinstance(err["message"], str)
    assert "Traceback" not in response.text
    if code is not None:
        assert err["code"] == code, err
    return err
