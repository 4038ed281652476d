"""``govqa serve``: a real process that prepares, ingests the samples into an empty index, warms up,
prints its URLs and serves the API on the given port."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from ui.cli import _url_host

REPO = Path(__file__).resolve().parents[3]


def _models_dir() -> Path:
    env = os.environ.get("GOVQA_TEST_MODELS_DIR")
    return Path(env).expanduser() if env else REPO / "var" / "models"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_url_host() -> None:
    assert _url_host("0.0.0.0") == "127.0.0.1"
    assert _url_host("::") == "[::1]"
    assert _url_host("::1") == "[::1]"
    assert _url_host("example.cn") == "example.cn"


@pytest.mark.slow
def test_serve_end_to_end(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "GOVQA_DATA_DIR": str(tmp_path / "data"),
        "GOVQA_MODELS_DIR": str(_models_dir()),
        "GOVQA_EMBEDDING_MODEL": "fake",
        "GOVQA_RATE_LIMIT_PER_MINUTE": "0",
        "PYTHONUNBUFFERED": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in proc.stdout or ():
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    out: list[str] = []
    try:
        deadline = time.monotonic() + 600  # the first run may build the embedding model
        while not any("Ctrl-C" in line for line in out):
            assert proc.poll() is None, "".join(out)
            assert time.monotonic() < deadline, "".join(out)
            with contextlib.suppress(queue.Empty):
                out.append(lines.get(timeout=1))
        text = "".join(out)
        base = f"http://127.0.0.1:{port}"
        assert f"{base}/docs" in text and f'<script src="{base}/widget.js"' in text
        assert "5 added" in text  # the samples went into the empty index
        with httpx.Client(base_url=base, timeout=60) as http:
            assert http.get("/readyz").json() == {
                "status": "ready",
                "documents": 5,
                "ingest": {"running": 0, "queued": 0, "longest_s": 0.0, "stuck": False},
            }
            answer = http.post("/v1/ask", json={"question": "2019年精武镇税收收入是多少？"}).json()
            assert answer["citations"]
            home = http.get("/", follow_redirects=False)
            assert home.headers["location"] in ("/ui/", "/embed")
            assert (f"{base}/ui/" in text) == (home.headers["location"] == "/ui/")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
