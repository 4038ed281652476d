"""``POST /v1/chat/completions`` and ``GET /v1/models``: govqa as an OpenAI-compatible "model".

Any OpenAI client or chat front-end can talk to govqa: the last user message is the question, earlier
user/assistant turns are the history. Citations come twice: as footnotes appended to the text
(``[1] title › heading: “quote”``) for front-ends that show only text, and structured in the extra
``citations`` field (on the completion, or on the final chunk of a stream).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from govqa.errors import BadQuestionError
from govqa.types import Answer, Citation
from ui.http.context import api_context
from ui.http.errors import ApiError, error_of
from ui.http.openai_schemas import (
    MODEL_ID,
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatMessageIn,
    Choice,
    ChunkChoice,
    Delta,
    Model,
    ModelList,
    Usage,
    chunk_json,
)
from ui.http.schemas import ChatTurn, CitationOut, error_responses, sse_event_schema, turns_to_pairs
from ui.http.security import require_user
from ui.http.sse import SSE_HEADERS, ThreadedIterator, is_end, sse

router = APIRouter(prefix="/v1", tags=["openai"])

_FOOTNOTES = re.compile(r"(?:\n\n(?:\[\d+\] [^\n]*(?:\n|$))+)$")


def footnotes(citations: Sequence[Citation]) -> str:
    """``\\n\\n[1] title › heading: “quote”`` lines, or "" when there is nothing to cite."""
    lines = []
    for c in citations:
        where = " › ".join(p for p in (c.title, c.heading) if p) or c.source
        lines.append(f"[{c.n}] {where}: “{c.quote}”")
    return "\n\n" + "\n".join(lines) if lines else ""


def strip_footnotes(text: str) -> str:
    """An earlier answer sent back as history, without the footnotes we appended to it."""
    return _FOOTNOTES.sub("", text)


def split_messages(messages: Sequence[ChatMessageIn]) -> tuple[str, list[tuple[str, str]]]:
    """The question (the last user message) and the (user, assistant) pairs before it."""
    last_user = max((i for i, m in enumerate(messages) if m.role == "user"), default=None)
    if last_user is None:
        raise BadQuestionError("messages holds no user message: the last user message is the question")
    turns = [
        ChatTurn(role=m.role, content=strip_footnotes(m.text) if m.role == "assistant" else m.text)
        for m in messages[:last_user]
        if m.role in ("user", "assistant")
    ]
    return messages[last_user].text, turns_to_pairs(turns)


def _usage(answer: Answer) -> Usage:
    prompt = int(answer.tokens.get("prompt", answer.tokens.get("context", 0)))
    completion = int(answer.tokens.get("completion", answer.tokens.get("answer", 0)))
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)


def _citations(answer: Answer) -> list[CitationOut]:
    return [CitationOut.model_validate(c.to_dict()) for c in answer.citations]


@router.get(
    "/models",
    summary="List the models (just 'govqa')",
    response_model=ModelList,
    responses=error_responses(401, 429),
    dependencies=[Depends(require_user)],
)
async def list_models() -> ModelList:
    return ModelList(data=[Model()])


@router.get(
    "/models/{model_id}",
    summary="Describe a model",
    response_model=Model,
    responses=error_responses(401, 404, 429),
    dependencies=[Depends(require_user)],
)
async def get_model(model_id: str) -> Model:
    if model_id != MODEL_ID:
        raise ApiError(404, "not_found", f"no model {model_id!r}: the only model is {MODEL_ID!r}")
    return Model()


@router.post(
    "/chat/completions",
    summary="OpenAI-compatible chat completion",
    description="Use govqa from any OpenAI client (`base_url=http://host:8000/v1`, model `govqa`). "
    "`stream: true` returns `chat.completion.chunk` server-sent events ending with `data: [DONE]`. "
    "Citations are appended to the text as footnotes and given structured in `citations` "
    "(on the final chunk when streaming); `refused` tells whether the reports answer the question.",
    response_model=ChatCompletion,
    responses={
        200: {
            "description": "A chat.completion, or its chat.completion.chunk events when `stream` is true.",
            "content": {
                "text/event-stream": {
                    "schema": sse_event_schema(None, "a chat.completion.chunk as JSON; finally [DONE]")
                }
            },
        },
        **error_responses(400, 401, 413, 422, 429, 500, 503),
    },
    dependencies=[Depends(require_user)],
)
async def chat_completions(body: ChatCompletionRequest, request: Request) -> Any:
    ctx = api_context(request)
    service = ctx.service
    question, history = split_messages(body.messages)
    filters = body.filters.to_filters() if body.filters else None
    completion_id = "chatcmpl-" + uuid.uuid4().hex
    created = int(time.time())
    if not body.stream:
        answer: Answer = await ctx.run(service.ask, question, history, filters)
        return ChatCompletion(
            id=completion_id,
            created=created,
            choices=[Choice(message=AssistantMessage(content=answer.text + footnotes(answer.citations)))],
            usage=_usage(answer),
            citations=_citations(answer),
            refused=answer.refused,
        )
    events: ThreadedIterator[dict[str, Any]] = ThreadedIterator(
        lambda: service.ask_stream(question, history, filters), executor=ctx.workers
    )
    first = await events.next()
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    return StreamingResponse(
        _chunks(first, events, completion_id, created, include_usage),
        media_type="text/event-stream",
        headers=SSE_HEADERS,
    )


async def _chunks(
    first: Any, events: ThreadedIterator[dict[str, Any]], cid: str, created: int, include_usage: bool
) -> AsyncIterator[str]:
    def chunk(delta: Delta, finish: bool = False, **extra: Any) -> str:
        c = ChatCompletionChunk(
            id=cid,
            created=created,
            choices=[ChunkChoice(delta=delta, finish_reason="stop" if finish else None)],
            **extra,
        )
        return sse(chunk_json(c))

    item = first
    try:
        yield chunk(Delta(role="assistant", content=""))
        while not is_end(item):
            if item["type"] == "delta" and item["text"]:
                yield chunk(Delta(content=item["text"]))
            elif item["type"] == "answer":
                answer: Answer = item["answer"]
                notes = footnotes(answer.citations)
                if notes:
                    yield chunk(Delta(content=notes))
                yield chunk(Delta(), finish=True, citations=_citations(answer), refused=answer.refused)
                if include_usage:
                    c = ChatCompletionChunk(id=cid, created=created, choices=[], usage=_usage(answer))
                    yield sse(c.model_dump(mode="json", exclude_none=True))
            item = await events.next()
        yield sse("[DONE]")
    except Exception as e:
        _, body = error_of(e)
        yield sse(body)
    finally:
        events.cancel()
