"""``/v1/documents``: list, upload (multipart) and delete the ingested reports.

An upload is never written to disk under its own name: only the base name of what the client sent
becomes the document's ``source`` (a label in the index), and the bytes go through the same loaders
as ``govqa ingest``. A file the loaders refuse is rejected before the index is touched.
"""

from __future__ import annotations

import logging
import unicodedata
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Path, Request, UploadFile
from fastapi.responses import JSONResponse

from govqa.api.context import api_context
from govqa.api.middleware import too_large
from govqa.api.schemas import DeletedOut, DocumentList, DocumentOut, UploadOut, error_responses
from govqa.api.security import require_admin, require_user
from govqa.errors import InputFileError
from ingest.loaders import SUPPORTED_SUFFIXES, load_bytes

log = logging.getLogger(__name__)

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
    description="Multipart form with one `file` field. Ingests it at once (201 when added; 200 when it "
    "replaced or matched a document of the same name). A file that cannot be read as a report is "
    "refused with 400 and the index is left as it was. Needs an admin key when keys are configured.",
    status_code=201,
    response_model=UploadOut,
    responses={
        200: {"model": UploadOut, "description": "Updated or unchanged document of the same name"},
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
    max_file = int(ctx.settings.max_file_mb * 1024 * 1024)
    loaded = await ctx.run(load_bytes, name, data, max_bytes=max_file)
    outcome = await ctx.run(ctx.service.ingest_loaded, loaded)
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
        }
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=201 if outcome.status == "added" else 200)


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
    log.info("deleted %s (%s)", record.doc_id, record.source)
    return DeletedOut(deleted=_document_out(record))
