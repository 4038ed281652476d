"""``/healthz`` (the process is up) and ``/readyz`` (models loaded, index open)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from ui.http.context import api_context
from ui.http.errors import ApiError
from ui.http.schemas import Health, IngestStatus, Ready, error_responses

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process is up", response_model=Health)
async def healthz() -> Health:
    return Health()


@router.get(
    "/readyz",
    summary="Readiness: models loaded and index open",
    response_model=Ready,
    responses=error_responses(503),
)
async def readyz(request: Request) -> Ready:
    ctx = api_context(request)
    if not ctx.readiness.ready:
        why = ctx.readiness.error or "warming up: loading the models and opening the index"
        raise ApiError(503, "not_ready", why, {"Retry-After": "5"})
    documents = await run_in_threadpool(ctx.service.documents)
    ingest = IngestStatus.model_validate(ctx.jobs.status())
    if ingest.stuck:
        log.warning("an upload has been ingesting for %.0f s (over its budget)", ingest.longest_s)
    return Ready(documents=len(documents), ingest=ingest)
