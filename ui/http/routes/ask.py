"""``POST /v1/ask``: one question → the structured answer, as JSON or as server-sent events."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from ui.http.context import api_context
from ui.http.errors import error_of
from ui.http.schemas import AnswerOut, AskRequest, error_responses, sse_event_schema
from ui.http.security import require_user
from ui.http.sse import SSE_HEADERS, ThreadedIterator, is_end, sse

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", tags=["ask"])

_STREAM_DOC = """`event: delta` with `{"text": "..."}` (repeated; concatenate them), then `event: citations`
with the list of citations, then `event: done` with the whole answer (the JSON response's shape). If the
answer fails part-way: `event: error` with `{"error": {"code", "message"}}`."""


@router.post(
    "/ask",
    summary="Ask a question about the reports",
    description="Answers from the ingested reports with verbatim cited passages, or refuses "
    "(`refused: true`) when the reports do not say. With `stream: true` the answer comes as "
    "server-sent events (`text/event-stream`):\n\n" + _STREAM_DOC,
    response_model=AnswerOut,
    responses={
        200: {
            "description": "The answer (JSON), or its event stream when `stream` is true.",
            "content": {
                "text/event-stream": {
                    "schema": sse_event_schema(
                        ["delta", "citations", "done", "error"], "JSON; see the operation's description"
                    )
                }
            },
        },
        **error_responses(400, 401, 413, 422, 429, 500, 503),
    },
    dependencies=[Depends(require_user)],
)
async def ask(body: AskRequest, request: Request) -> Any:
    ctx = api_context(request)
    service = ctx.service
    filters = body.filters.to_filters() if body.filters else None
    history = body.history_pairs()
    if not body.stream:
        answer = await ctx.run(service.ask, body.question, history, filters)
        return AnswerOut.model_validate(answer.to_dict())
    events: ThreadedIterator[dict[str, Any]] = ThreadedIterator(
        lambda: service.ask_stream(body.question, history, filters), executor=ctx.workers
    )
    first = await events.next()  # errors before the first event are plain JSON errors
    return StreamingResponse(
        _answer_events(first, events), media_type="text/event-stream", headers=SSE_HEADERS
    )


async def _answer_events(first: Any, events: ThreadedIterator[dict[str, Any]]) -> AsyncIterator[str]:
    item = first
    try:
        while not is_end(item):
            if item["type"] == "delta":
                yield sse({"text": item["text"]}, "delta")
            elif item["type"] == "answer":
                answer = AnswerOut.model_validate(item["answer"].to_dict()).model_dump(mode="json")
                yield sse(answer["citations"], "citations")
                yield sse(answer, "done")
            item = await events.next()
    except Exception as e:
        _, body = error_of(e)
        yield sse(body, "error")
    finally:
        events.cancel()
