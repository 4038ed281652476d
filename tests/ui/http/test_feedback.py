"""/v1/feedback: anyone who may ask can rate an answer; admins list it; the CLI exports it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.ui.http.helpers import MakeApi, assert_error

USER = {"Authorization": "Bearer user-key-1"}
ADMIN = {"Authorization": "Bearer admin-key-1"}


def test_rate_an_answer_then_list_and_export_it(make_api: MakeApi) -> None:
    api = make_api(api_keys=["user-key-1"], admin_api_keys=["admin-key-1"])
    c = api.client
    answer = c.post("/v1/ask", json={"question": "2019年精武镇税收收入是多少？"}, headers=USER).json()
    body = {
        "rating": "down",
        "question": answer["question"],
        "answer": answer["answer"],
        "citations": answer["citations"],
        "mode": answer["mode"],
        "comment": "想要2019年全年的数字",
    }
    r = c.post("/v1/feedback", json=body, headers=USER)
    assert r.status_code == 201, r.text
    stored = r.json()
    assert stored["rating"] == "down" and stored["citations"][0]["quote"] == answer["citations"][0]["quote"]
    assert stored["who"].startswith("key:") and "user-key-1" not in json.dumps(stored)
    assert_error(c.get("/v1/feedback", headers=USER), 403, "forbidden")
    listed = c.get("/v1/feedback", headers=ADMIN).json()["feedback"]
    assert [f["comment"] for f in listed] == ["想要2019年全年的数字"]
    assert_error(
        c.post("/v1/feedback", json={**body, "rating": "meh"}, headers=USER), 422, "validation_error"
    )
    assert_error(
        c.post("/v1/feedback", json={**body, "comment": "x" * 3000}, headers=USER), 422, "validation_error"
    )

    api.client.__exit__(None, None, None)  # closes the store: the CLI reads the file
    out = Path(api.settings.data_dir) / "fb.jsonl"
    env = {**os.environ, "GOVQA_EMBEDDING_MODEL": "fake"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ui.cli",
            "--data-dir",
            str(api.settings.data_dir),
            "feedback",
            "export",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert (
        len(rows) == 1
        and rows[0]["comment"] == "想要2019年全年的数字"
        and rows[0]["question"] == answer["question"]
    )
