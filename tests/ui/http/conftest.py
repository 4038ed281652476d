"""Fixtures for the HTTP API: a real index of the sample reports (fake embedder), the app over it through
TestClient, and the same app served by a real uvicorn on 127.0.0.1 (a free port, a background thread).

The samples are ingested once per session into a template folder; each test that needs an app gets its
own copy, so uploads and deletes never leak between tests.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.ui.http.helpers import Api, LiveServer, MakeApi, make_settings
from ui.http import create_app
from ui.service import GovQA


@pytest.fixture(scope="session")
def index_template(fake_sample_index: Path) -> Path:
    return fake_sample_index


@pytest.fixture
def make_api(index_template: Path, tmp_path: Path) -> Iterator[MakeApi]:
    """``make_api(**settings_overrides)``: an app over a fresh copy of the sample index, warmed up."""
    opened: list[Api] = []

    def make(*, warm: bool = True, **overrides: Any) -> Api:
        data = tmp_path / f"data{len(opened)}"
        shutil.copytree(index_template, data)
        settings = make_settings(data, **overrides)
        service = GovQA(settings)
        app = create_app(settings, service, warm_up=warm)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        api = Api(app, client, service, settings)
        opened.append(api)
        if warm:
            assert app.state.govqa.readiness.wait(120), app.state.govqa.readiness.error
        return api

    yield make
    for api in opened:
        api.client.__exit__(None, None, None)
        api.service.close()


@pytest.fixture
def api(make_api: MakeApi) -> Api:
    return make_api()


@pytest.fixture
def client(api: Api) -> TestClient:
    return api.client


@pytest.fixture
def live(make_api: MakeApi) -> Iterator[LiveServer]:
    """A live server over its own copy of the sample index (no keys, no rate limit)."""
    api = make_api()
    with LiveServer(api.app) as server:
        yield server
