"""Fixtures for the UI: a real service over the sample reports (fake embedder), built once per session
into a template folder; each test that changes documents gets its own copy."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from govqa.settings import Settings
from ui.service import GovQA


def ui_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "embedding_model": "fake",
        "rate_limit_per_minute": 0,
        "allowed_hosts": ["testserver", "127.0.0.1", "localhost"],  # TestClient's host, and loopback
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def ui_index_template(fake_sample_index: Path) -> Path:
    return fake_sample_index


@pytest.fixture
def service(ui_index_template: Path, tmp_path: Path) -> Iterator[GovQA]:
    """A service over a fresh copy of the sample index."""
    data = tmp_path / "data"
    shutil.copytree(ui_index_template, data)
    svc = GovQA(ui_settings(data))
    yield svc
    svc.close()
