"""Conversations saved in the browser (``gr.BrowserState``, i.e. localStorage): the data and its bounds.

Pure functions, no Gradio. What is saved is text only — each question, its answer's text and whether
it was a refusal — written by the server from its own turns state after every answer. What comes back
from the browser is untrusted: ``Saved.parse`` keeps only well-formed conversations of plain strings,
cut to the bounds below, and drops everything else (file messages, paths, markup are only ever text,
rendered escaped by ``ui.web.render.restored_answer_html`` and ``user_html``).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_CONVERSATIONS = 20  # kept in the browser; the oldest goes first
MAX_TURNS = 30  # per conversation; the oldest turns go first
MAX_QUESTION_CHARS = 1_000
MAX_ANSWER_CHARS = 4_000
TITLE_CHARS = 24  # a conversation is listed by its first question, cut to this

_ID = re.compile(r"[0-9a-f]{8,32}")


def new_id() -> str:
    return secrets.token_hex(8)


def _text(value: Any, limit: int) -> str | None:
    """A string cut to ``limit`` characters (with "…"), or None for anything that is not a string."""
    if not isinstance(value, str):
        return None
    return value if len(value) <= limit else value[: limit - 1] + "…"


@dataclass(frozen=True)
class SavedTurn:
    question: str
    answer: str
    refused: bool = False

    @classmethod
    def parse(cls, raw: Any) -> SavedTurn | None:
        if not isinstance(raw, Mapping):
            return None
        question = _text(raw.get("q"), MAX_QUESTION_CHARS)
        answer = _text(raw.get("a", ""), MAX_ANSWER_CHARS)
        if not question or not question.strip() or answer is None:
            return None
        return cls(question, answer, raw.get("r") is True)

    def to_json(self) -> dict[str, Any]:
        return {"q": self.question, "a": self.answer, "r": self.refused}


@dataclass(frozen=True)
class Conversation:
    id: str
    turns: tuple[SavedTurn, ...] = ()

    @property
    def title(self) -> str:
        first = " ".join(self.turns[0].question.split()) if self.turns else ""
        return first if len(first) <= TITLE_CHARS else first[: TITLE_CHARS - 1] + "…"

    @classmethod
    def parse(cls, raw: Any) -> Conversation | None:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str):
            return None
        if not _ID.fullmatch(raw["id"]) or not isinstance(raw.get("turns"), list):
            return None
        turns = [t for t in (SavedTurn.parse(x) for x in raw["turns"][-MAX_TURNS:]) if t is not None]
        return cls(raw["id"], tuple(turns)) if turns else None

    @classmethod
    def of_turns(cls, conversation_id: str, turns: Sequence[Mapping[str, Any]]) -> Conversation:
        """The saved form of the server's turns state (question, answer text, refused)."""
        saved = (
            SavedTurn.parse({"q": t.get("question"), "a": t.get("answer", ""), "r": bool(t.get("refused"))})
            for t in turns[-MAX_TURNS:]
        )
        return cls(conversation_id, tuple(t for t in saved if t is not None))

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "turns": [t.to_json() for t in self.turns]}


@dataclass(frozen=True)
class Saved:
    """Every saved conversation, the most recent first, and which one is open."""

    current: str = ""
    conversations: tuple[Conversation, ...] = field(default_factory=tuple)

    @classmethod
    def parse(cls, raw: Any) -> Saved:
        """What the browser sent, validated and bounded; anything malformed is dropped (never an error)."""
        if not isinstance(raw, Mapping):
            return cls()
        items = raw.get("conversations")
        found: list[Conversation] = []
        for item in items[:MAX_CONVERSATIONS] if isinstance(items, list) else []:
            c = Conversation.parse(item)
            if c is not None and all(c.id != f.id for f in found):
                found.append(c)
        current = raw.get("current")
        current = current if isinstance(current, str) and _ID.fullmatch(current) else ""
        return cls(current, tuple(found))

    def get(self, conversation_id: str | None) -> Conversation | None:
        return next((c for c in self.conversations if c.id == conversation_id), None)

    def put(self, conversation: Conversation) -> Saved:
        """``conversation`` saved (first in the list) and open; an empty one is not listed."""
        others = [c for c in self.conversations if c.id != conversation.id]
        kept = [conversation, *others] if conversation.turns else others
        return Saved(conversation.id, tuple(kept[:MAX_CONVERSATIONS]))

    def drop(self, conversation_id: str) -> Saved:
        return Saved(
            "" if self.current == conversation_id else self.current,
            tuple(c for c in self.conversations if c.id != conversation_id),
        )

    def opened(self, conversation_id: str) -> Saved:
        return Saved(conversation_id, self.conversations)

    def choices(self) -> list[tuple[str, str]]:
        """(title, id) of each saved conversation, for the list to switch between them."""
        return [(c.title, c.id) for c in self.conversations]

    def to_json(self) -> dict[str, Any]:
        return {"current": self.current, "conversations": [c.to_json() for c in self.conversations]}
