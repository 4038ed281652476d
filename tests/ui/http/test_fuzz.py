"""Schemathesis fuzzing of the OpenAPI schema: whatever the input, no 5xx, and responses match the schema.

Bounded: ``MAX_EXAMPLES`` valid and as many invalid generated requests per operation (about a minute in
all), sent in-process (ASGI) to an app over its own copy of the sample index. (schemathesis'
``from_fixture`` does not work with pytest 9, so each test builds the strategy itself.)
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.ui.http.helpers import make_settings
from ui.http import create_app
from ui.service import GovQA

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 25
OPERATIONS = [
    ("POST", "/v1/ask"),
    ("POST", "/v1/chat/completions"),
    ("GET", "/v1/models"),
    ("GET", "/v1/models/{model_id}"),
    ("GET", "/v1/documents"),
    ("POST", "/v1/documents"),
    ("DELETE", "/v1/documents/{doc_id}"),
    ("GET", "/v1/documents/jobs/{job_id}"),
    ("GET", "/v1/documents/{doc_id}/text"),
    ("POST", "/v1/feedback"),
    ("GET", "/v1/feedback"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/widget.js"),
    ("GET", "/embed"),
]
WITH_INPUT = {
    ("POST", "/v1/ask"),
    ("POST", "/v1/chat/completions"),
    ("GET", "/v1/models/{model_id}"),
    ("POST", "/v1/documents"),
    ("DELETE", "/v1/documents/{doc_id}"),
    ("GET", "/v1/documents/jobs/{job_id}"),
    ("GET", "/v1/documents/{doc_id}/text"),
    ("POST", "/v1/feedback"),
    ("GET", "/v1/feedback"),
}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def fuzz_schema(index_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One warmed-up app over its own copy of the index, shared by every operation's fuzzing."""
    data = tmp_path_factory.mktemp("fuzz") / "data"
    shutil.copytree(index_template, data)
    settings = make_settings(data, max_upload_mb=0.05)
    service = GovQA(settings)
    service.warm_up()
    app = create_app(settings, service, warm_up=False)
    app.state.govqa.readiness.mark_ready()
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    service.close()


def test_every_operation_is_fuzzed(fuzz_schema: Any) -> None:
    listed = {(op.ok().method.upper(), op.ok().path) for op in fuzz_schema.get_all_operations()}
    assert listed == set(OPERATIONS)


CASES = [(m, p, GenerationMode.POSITIVE) for m, p in OPERATIONS] + [
    (m, p, GenerationMode.NEGATIVE) for m, p in OPERATIONS if (m, p) in WITH_INPUT
]


@pytest.mark.parametrize(("method", "path", "mode"), CASES, ids=[f"{m} {p} {g.value}" for m, p, g in CASES])
def test_no_server_errors(fuzz_schema: Any, method: str, path: str, mode: GenerationMode) -> None:
    operation = fuzz_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def run(case: Any) -> None:
        case.call_and_validate(checks=CHECKS)

    run()
