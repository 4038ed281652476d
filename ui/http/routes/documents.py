"""``/v1/documents``: list, upload (multipart) and delete the ingested reports.

An upload is never written to disk under its own name: only the base name of what the client sent
becomes the document's ``source`` (a label in the index), and the bytes go through the same loaders
as ``govqa ingest``. A file the loaders refuse is rejected before the index is touched.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import unicodedata
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Path, Request, UploadFile
from fastapi.responses import JSONResponse

from govqa.errors import InputFileError, NotFoundError
from ingest.loaders import SUPPORTED_SUFFIXES
from ui.http.context import api_context
from ui.http.errors import ApiError
from ui.http.middleware import too_large
from ui.http.schemas import (
    DeletedOut,
    DocumentList,
    DocumentOut,
    DocumentTextOut,
    HeadingOut,
    JobOut,
    UploadOut,
    error_responses,
)
from ui.http.security import require_admin, require_user
from ui.jobs import Job, QueueFull
from ui.viewer import outline

log = logging.getLogger(__name__)
audit = logging.getLogger("govqa.audit")

router = APIRouter(prefix="/v1", tags=["documents"])

MAX_NAME_CHARS = 200


def safe_basename(name: str | None) -> str:
    """The last component of an upload's name under either separator, without control characters.

    ``../../etc/passwd.txt`` → ``passwd.txt``; ``..\\x.txt`` → ``x.txt``; names that leave nothing
    usable (``..``, empty) are refused.
    """
    raw = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    clean = "".join(ch for ch in raw if unicodedata.category(ch)[0] != "C").strip()
    if clean in ("", ".", ".."):
        raise InputFileError(repr(name or ""), "the upload has no usable file name (send e.g. report.txt)")
    if len(clean) > MAX_NAME_CHARS:
        raise InputFileError(clean[:40] + "…", f"the file name is over {MAX_NAME_CHARS} characters")
    return clean


def _document_out(record: Any) -> DocumentOut:
    return DocumentOut.model_validate(record.to_dict())


@router.get(
    "/documents",
    summary="List the ingested reports",
    response_model=DocumentList,
    responses=error_responses(401, 429),
    dependencies=[Depends(require_user)],
)
def list_documents(request: Request) -> DocumentList:
    records = api_context(request).service.documents()
    return DocumentList(documents=[_document_out(r) for r in records])


@router.post(
    "/documents",
    summary="Upload a report (.txt .md .pdf .docx .png .jpg)",
    description="Multipart form with one `file` field. Ingests it on the server's ingest worker (201 when "
    "added; 200 when it replaced or matched a document of the same name). An upload still being ingested "
    "after GOVQA_UPLOAD_WAIT_S answers 202 with a job to poll at `/v1/documents/jobs/{id}`. A file that "
    "cannot be read as a report is refused with 400 (413 when it would unpack or run beyond the limits: "
    "a zip bomb, too many pages) and the index is left as it was. Needs an admin key when keys are "
    "configured.",
    status_code=201,
    response_model=UploadOut,
    responses={
        200: {"model": UploadOut, "description": "Updated or unchanged document of the same name"},
        202: {"model": JobOut, "description": "Still being ingested: poll the job"},
        **error_responses(400, 401, 403, 413, 422, 429, 500, 503),
    },
    dependencies=[Depends(require_admin)],
)
async def upload_document(
    request: Request,
    file: Annotated[UploadFile, File(description=f"The report; one of {', '.join(SUPPORTED_SUFFIXES)}")],
) -> Any:
    ctx = api_context(request)
    name = safe_basename(file.filename)
    limit = int(ctx.settings.max_upload_mb * 1024 * 1024)
    data = await file.read(limit + 1)
    await file.close()
    if len(data) > limit:
        raise too_large(limit, "upload", "GOVQA_MAX_UPLOAD_MB")
    try:
        job = ctx.jobs.submit(name, functools.partial(ctx.service.ingest_bytes, name, data))
    except QueueFull as e:
        raise ApiError(503, "busy", str(e), {"Retry-After": "30"}) from None
    assert job.future is not None
    try:
        outcome = await asyncio.wait_for(
            asyncio.shield(asyncio.wrap_future(job.future)), timeout=ctx.settings.upload_wait_s
        )
    except TimeoutError:
        return JSONResponse(_job_out(job).model_dump(mode="json"), status_code=202)
    if outcome.status == "failed":
        raise InputFileError(outcome.source or name, outcome.reason)
    log.info("upload %s: %s, %d chunks", outcome.source, outcome.status, outcome.chunks)
    body = UploadOut.model_validate(
        {
            "doc_id": outcome.doc_id,
            "source": outcome.source,
            "status": outcome.status,
            "chunks": outcome.chunks,
            "embedded": outcome.embedded,
            "job_id": job.id,
        }
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=201 if outcome.status == "added" else 200)


def _job_out(job: Job) -> JobOut:
    outcome = job.result
    return JobOut(
        job_id=job.id,
        source=job.source,
        status=job.status,
        error=job.error,
        seconds=round(job.running_for, 2),
        pages_done=job.pages_done,
        pages_total=job.pages_total,
        result=None
        if outcome is None or outcome.status == "failed"
        else UploadOut(
            doc_id=outcome.doc_id,
            source=outcome.source,
            status=outcome.status,
            chunks=outcome.chunks,
            embedded=outcome.embedded,
            job_id=job.id,
        ),
        url=f"/v1/documents/jobs/{job.id}",
    )


@router.get(
    "/documents/jobs/{job_id}",
    summary="The state of an upload that is still being ingested",
    description="An upload that takes longer than GOVQA_UPLOAD_WAIT_S answers 202 with a job id; this "
    "says whether that job is queued, running, done or failed (with the reason).",
    response_model=JobOut,
    responses=error_responses(401, 404, 422, 429),
    dependencies=[Depends(require_admin)],
)
def get_job(request: Request, job_id: Annotated[str, Path(max_length=64, pattern=r"^[0-9a-f]+$")]) -> JobOut:
    job = api_context(request).jobs.get(job_id)
    if job is None:
        raise NotFoundError(f"no upload job with id {job_id!r} (jobs are kept in memory until restart)")
    return _job_out(job)


@router.get(
    "/documents/{doc_id}/text",
    summary="A report's cleaned text and its heading tree",
    description="The text citations quote (their `start`/`end` are offsets into it) and the headings with "
    "their positions. The web UI shows the same at `/ui/documents/{doc_id}?start=&end=`.",
    response_model=DocumentTextOut,
    responses=error_responses(401, 404, 422, 429),
    dependencies=[Depends(require_user)],
)
def document_text(
    request: Request, doc_id: Annotated[str, Path(max_length=200, description="An id from GET /v1/documents")]
) -> DocumentTextOut:
    record, text, chunks = api_context(request).service.document_view(doc_id)
    return DocumentTextOut(
        doc_id=record.doc_id,
        title=record.meta.title,
        source=record.source,
        text=text,
        headings=[HeadingOut(**h.to_dict()) for h in outline(text, chunks)],  # type: ignore[arg-type]
    )


@router.delete(
    "/documents/{doc_id}",
    summary="Delete a report and its chunks",
    response_model=DeletedOut,
    responses=error_responses(401, 403, 404, 422, 429),
    dependencies=[Depends(require_admin)],
)
def delete_document(
    request: Request, doc_id: Annotated[str, Path(max_length=200, description="An id from GET /v1/documents")]
) -> DeletedOut:
    record = api_context(request).service.delete_document(doc_id)
    audit.info("deleted %s (%s)", record.doc_id, record.source)
    return DeletedOut(deleted=_document_out(record))
