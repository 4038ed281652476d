"""Shared fixtures. Unit tests never touch the network (pytest-socket: loopback only)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from govqa.settings import DEFAULT_EMBEDDING_MODEL, Settings

if TYPE_CHECKING:
    from ui.service import GovQA

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
    return Settings(  # type: ignore[call-arg]
        data_dir=tmp_path / "data",
        embedding_model="fake",
        allowed_hosts=["testserver", "127.0.0.1", "localhost"],  # TestClient's host, and loopback
        _env_file=None,
    )


def _dir_from_env(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


@pytest.fixture(scope="session")
def real_service() -> Iterator[GovQA]:
    """The service with the real embedding model over the five sample reports, built once per session.

    Models come from ``$GOVQA_TEST_MODELS_DIR`` (default ``var/models``; ``prepare_models`` builds them
    from the installed packages when missing and only checks them otherwise). The index lives under
    ``$GOVQA_TEST_DATA_DIR`` (default ``var/test-data``, the folder ``make test-data`` fills) and is
    reused between runs: ingest is incremental, so unchanged samples embed nothing. For tests marked
    ``model``.
    """
    from govqa.models.prepare import prepare_models
    from ui.service import GovQA, sample_reports

    models = _dir_from_env("GOVQA_TEST_MODELS_DIR", REPO / "var" / "models")
    data = _dir_from_env("GOVQA_TEST_DATA_DIR", REPO / "var" / "test-data")
    prepare_models(models)
    settings = Settings(  # type: ignore[call-arg]
        data_dir=data,
        models_dir=models,
        embedding_model=DEFAULT_EMBEDDING_MODEL,
        answer_mode="extractive",
        _env_file=None,
    )
    service = GovQA(settings)
    report = service.ingest(sample_reports())
    assert not report.failed, report.summary()
    service.warm_up()
    yield service
    service.close()


@pytest.fixture(scope="session")
def fake_sample_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding the index of the five sample reports built with the fake embedder, once per
    session; copy it (shutil.copytree) before changing it."""
    from ui.service import GovQA, sample_reports

    data = tmp_path_factory.mktemp("fake-sample-index") / "data"
    service = GovQA(Settings(data_dir=data, embedding_model="fake", _env_file=None))  # type: ignore[call-arg]
    report = service.ingest(sample_reports())
    service.close()
    assert not report.failed, report.summary()
    return data
