"""Request and response models of the OpenAI-compatible chat completions endpoint.

Only what a chat front-end sends and reads is modelled; other request fields (temperature, max_tokens,
...) are accepted and ignored. govqa adds ``citations`` and ``refused`` to the completion (and to the
final chunk of a stream), and accepts an optional ``filters`` object in the request.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ui.http.schemas import MAX_TEXT_CHARS, CitationOut, FiltersIn

MODEL_ID = "govqa"


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str = Field(max_length=50)
    text: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = Field(default=None)

    @property
    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text or "" for p in self.content if p.type == "text")


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "model": MODEL_ID,
                    "messages": [{"role": "user", "content": "2024年某镇税收收入是多少？"}],
                    "stream": False,
                }
            ]
        },
    )

    model: str = Field(default=MODEL_ID, max_length=200, description="Any value; govqa answers as 'govqa'.")
    messages: list[ChatMessageIn] = Field(
        min_length=1,
        max_length=100,
        description="The last user message is the question; earlier user/assistant turns are the history.",
    )
    stream: bool = False
    stream_options: StreamOptions | None = None
    filters: FiltersIn | None = Field(default=None, description="govqa extension: restrict to some reports.")


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str = Field(
        description="The answer, then its citations as footnotes: [n] title › heading: “quote”."
    )


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str = MODEL_ID
    choices: list[Choice]
    usage: Usage
    citations: list[CitationOut] = Field(description="govqa extension: the evidence behind each [n].")
    refused: bool = Field(description="govqa extension: true when the reports do not answer the question.")


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: Literal["stop"] | None = None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    """One ``data:`` line of a stream; the last one with a ``finish_reason`` carries the citations."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str = MODEL_ID
    choices: list[ChunkChoice]
    usage: Usage | None = None
    citations: list[CitationOut] | None = None
    refused: bool | None = None


class Model(BaseModel):
    id: str = MODEL_ID
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "govqa"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Model]


def chunk_json(chunk: ChatCompletionChunk) -> dict[str, Any]:
    return chunk.model_dump(mode="json", exclude_none=True) | {
        "choices": [
            c.model_dump(mode="json", exclude_none=True) | {"finish_reason": c.finish_reason}
            for c in chunk.choices
        ]
    }
