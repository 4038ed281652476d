"""``/v1/feedback``: 👍/👎 on an answer with an optional comment (anyone who may ask), listed for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from ui.access import Principal
from ui.feedback import Feedback
from ui.http.context import api_context
from ui.http.schemas import FeedbackIn, FeedbackList, FeedbackOut, error_responses
from ui.http.security import require_admin, require_user

router = APIRouter(prefix="/v1", tags=["feedback"])


@router.post(
    "/feedback",
    summary="Rate an answer",
    description="`rating` up or down, with the question, the answer text and its citations as /v1/ask "
    "returned them, and an optional comment. Stored on the server for the maintainers.",
    status_code=201,
    response_model=FeedbackOut,
    responses=error_responses(400, 401, 413, 422, 429),
)
def add_feedback(
    request: Request, body: FeedbackIn, principal: Annotated[Principal, Depends(require_user)]
) -> FeedbackOut:
    stored = api_context(request).feedback.add(
        Feedback(
            rating=body.rating,
            question=body.question,
            answer=body.answer,
            citations=[c.model_dump() for c in body.citations],
            mode=body.mode,
            refused=body.refused,
            comment=body.comment,
            who=principal.identity,
        )
    )
    return FeedbackOut.model_validate(stored.to_dict())


@router.get(
    "/feedback",
    summary="The feedback given, newest first (admins)",
    response_model=FeedbackList,
    responses=error_responses(401, 403, 422, 429),
    dependencies=[Depends(require_admin)],
)
def list_feedback(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> FeedbackList:
    items = api_context(request).feedback.list(limit, offset)
    return FeedbackList(feedback=[FeedbackOut.model_validate(f.to_dict()) for f in items])
