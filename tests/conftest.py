"""Shared fixtures. Unit tests never touch the network (pytest-socket: loopback only)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from govqa.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "data" / "samples"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def sample_files() -> list[Path]:
    return sorted(SAMPLES.glob("*.txt"))


@pytest.fixture
def fake_settings(tmp_path: Path) -> Settings:
    """Settings for a throwaway data folder with the deterministic hashing embedder."""
    return Settings(data_dir=tmp_path / "data", embedding_model="fake", _env_file=None)  # type: ignore[call-arg]
