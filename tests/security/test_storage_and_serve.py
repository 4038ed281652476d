"""Storage failures say what to do, a backup is consistent, and an open server is never exposed by
accident — each through the real ``govqa`` command in its own process."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ui.http.helpers import make_settings
from ui.service import GovQA

REPO = Path(__file__).resolve().parents[2]


def govqa(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "GOVQA_EMBEDDING_MODEL": "fake", **env},
        check=False,
    )


@pytest.fixture
def data(fake_sample_index: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(fake_sample_index, folder)
    for wal in (folder / "index").glob("index.sqlite-*"):
        wal.unlink()
    return folder


def test_a_corrupt_database_stops_with_one_clear_message(data: Path) -> None:
    (data / "index" / "index.sqlite").write_bytes(b"not a database " * 500)
    for args in (["docs", "list"], ["ask", "2019年精武镇税收收入是多少？"]):
        r = govqa("--data-dir", str(data), *args)
        assert r.returncode == 2, r.stderr
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert "damaged" in r.stderr and "govqa backup" in r.stderr and "--reindex" in r.stderr


def test_an_emptied_database_is_not_silently_started_over(data: Path) -> None:
    (data / "index" / "index.sqlite").write_bytes(b"")
    r = govqa("--data-dir", str(data), "docs", "list")
    assert r.returncode == 2 and "is empty" in r.stderr and "manifest.json says" in r.stderr
    assert (data / "index" / "index.sqlite").stat().st_size == 0  # nothing was written over it


def test_backup_is_a_consistent_copy_that_opens(data: Path, tmp_path: Path) -> None:
    r = govqa("--data-dir", str(data), "backup", str(tmp_path / "bak"))
    assert r.returncode == 0, r.stderr
    restored = tmp_path / "restored"
    (restored / "index").mkdir(parents=True)
    for name in ("index.sqlite", "manifest.json"):
        shutil.copy(tmp_path / "bak" / name, restored / "index" / name)
    listed = govqa("--data-dir", str(restored), "docs", "list")
    assert listed.returncode == 0 and listed.stdout.count("chunks") == 5, listed.stderr
    again = govqa("--data-dir", str(data), "backup", str(tmp_path / "bak"))
    assert again.returncode == 2 and "exists already" in again.stderr


def test_closing_folds_the_wal_into_the_database(data: Path, tmp_path: Path) -> None:
    """After a clean shutdown index.sqlite alone holds every upload (the WAL is checkpointed)."""
    service = GovQA(make_settings(data))
    outcome = service.ingest_bytes(
        "新报告.txt", "2025年新镇政府工作报告\n\n2025年全镇税收收入3亿元。\n".encode()
    )
    assert outcome.status == "added"
    service.close()
    alone = tmp_path / "alone.sqlite"
    shutil.copy(data / "index" / "index.sqlite", alone)
    with sqlite3.connect(alone) as conn:
        sources = {row[0] for row in conn.execute("SELECT source FROM documents")}
    assert "新报告.txt" in sources and len(sources) == 6


def test_serve_refuses_to_listen_beyond_loopback_without_keys(data: Path) -> None:
    r = govqa("--data-dir", str(data), "serve", "--host", "0.0.0.0", "--port", "1", timeout=60)
    assert r.returncode == 2
    assert "refusing to serve on 0.0.0.0 with no API keys" in r.stderr and "GOVQA_ALLOW_NO_AUTH" in r.stderr


def test_uploads_deletes_and_refused_keys_are_audited(data: Path, caplog: pytest.LogCaptureFixture) -> None:
    from fastapi.testclient import TestClient

    from ui.http import create_app

    settings = make_settings(data, api_keys=["user-key-1"], admin_api_keys=["admin-key-1"])
    service = GovQA(settings)
    caplog.set_level(logging.INFO, logger="govqa.audit")
    with TestClient(create_app(settings, service)) as client:
        assert client.app.state.govqa.readiness.wait(60)  # type: ignore[attr-defined]
        admin = {"Authorization": "Bearer admin-key-1"}
        up = client.post(
            "/v1/documents",
            files={
                "file": (
                    "审计.txt",
                    "2025年审计镇政府工作报告\n\n全镇税收收入3亿元。\n".encode(),
                    "text/plain",
                )
            },
            headers=admin,
        )
        assert up.status_code == 201
        assert client.delete(f"/v1/documents/{up.json()['doc_id']}", headers=admin).status_code == 200
        assert (
            client.get("/v1/documents", headers={"Authorization": "Bearer wrong-secret"}).status_code == 401
        )
    service.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "govqa.audit"]
    assert any(m.startswith("upload 审计.txt: done") for m in lines), lines
    assert any(m.startswith("deleted ") and "审计.txt" in m for m in lines), lines
    assert any(m.startswith("refused key from") for m in lines), lines
    assert not any("wrong-secret" in m or "admin-key-1" in m for m in lines)
