"""The events of the conversations kept in the browser: restore on load, save after each answer, switch,
start a new one, forget one.

The browser's copy (a ``gr.BrowserState``) is untrusted: it is read only through
``ui.web.conversations.Saved.parse`` (plain, bounded text) and shown only through the escaping renderers.
The session's server-side state (chat, history, turns) stays the source of truth: a restored
conversation is rebuilt into it from that text, marked ``restored`` (so a rating of it is not stored as
the server's answer), and what is saved back is written from the turns state, never echoed from the
browser.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import gradio as gr

from ui.web.conversations import Conversation, Saved, new_id
from ui.web.handlers import Message, Pair, Turn, guess_lang
from ui.web.render import is_pending, restored_answer_html, user_html

log = logging.getLogger(__name__)

# (chat shown, chat kept, history, turns, open conversation id, the browser's copy, the list's update)
Opened = tuple[list[Message], list[Message], list[Pair], list[Turn], str, dict[str, Any], Any]


def restore_chat(conversation: Conversation) -> tuple[list[Message], list[Pair], list[Turn]]:
    """A saved conversation as the session's state: the chat (escaped text), the history, the turns."""
    chat: list[Message] = []
    pairs: list[Pair] = []
    turns: list[Turn] = []
    for t in conversation.turns:
        lang = guess_lang(t.question)
        chat.append({"role": "user", "content": user_html(t.question)})
        chat.append({"role": "assistant", "content": restored_answer_html(t.answer, t.refused, lang)})
        if t.answer:
            pairs.append((t.question, t.answer))
        turns.append(
            {
                "question": t.question,
                "answer": t.answer,
                "citations": [],
                "mode": "",
                "refused": t.refused,
                "restored": True,
            }
        )
    return chat, pairs, turns


def _listing(saved: Saved) -> Any:
    choices = saved.choices()
    value = saved.current if saved.get(saved.current) else None
    return gr.update(choices=choices, value=value)


def _open(saved: Saved, conversation: Conversation) -> Opened:
    chat, pairs, turns = restore_chat(conversation)
    saved = saved.opened(conversation.id)
    return chat, list(chat), pairs, turns, conversation.id, saved.to_json(), _listing(saved)


class SavedChats:
    """Event handlers over the browser's saved conversations (no state of their own)."""

    @staticmethod
    def restore(raw: Any) -> tuple[Any, ...]:
        """On page load: the conversation that was open, or a new one; then the input is enabled.

        The question box and the send button start disabled so nothing is asked before the restored
        conversation is in place (its update would otherwise replace the first answer).
        """
        saved = Saved.parse(raw)
        current = saved.get(saved.current)
        ready = gr.update(interactive=True)
        return (*_open(saved, current or Conversation(new_id())), ready, ready)

    @staticmethod
    def answering(
        respond: Callable[..., Iterator[tuple[Any, ...]]],
    ) -> Callable[..., Iterator[tuple[Any, ...]]]:
        """``respond`` (the chat's answer event) that also saves the conversation with its final update.

        Its inputs gain (open conversation id, the browser's copy) and its outputs (the browser's copy,
        the list's update). Updates of an answer still being written pass at once (streaming); the
        one that ends it (the answer, or an error) carries the save, so no later event (a "New" click
        right after the answer) can be overtaken by a queued save.
        """

        def respond_and_save(
            message: str,
            chat: Any,
            history: Any,
            body: Any = None,
            year: Any = None,
            document: Any = None,
            turns: Any = None,
            conversation_id: str | None = None,
            raw: Any = None,
        ) -> Iterator[tuple[Any, ...]]:
            skip = (gr.skip(), gr.skip())
            asked = list(turns or [])
            for update in respond(message, chat, history, body, year, document, turns):
                shown, new_turns = update[0], update[-1]
                if (shown and is_pending(shown[-1])) or not new_turns or new_turns == asked:
                    yield (*update, *skip)  # still being written, or nothing asked: nothing to save
                else:
                    yield (*update, *SavedChats.save(conversation_id, new_turns, raw))

        respond_and_save.__name__ = "respond"  # the event's name (the UI's events are all private)
        return respond_and_save

    @staticmethod
    def save(
        conversation_id: str | None, turns: Sequence[Turn] | None, raw: Any
    ) -> tuple[dict[str, Any], Any]:
        """After an answer: the open conversation, from the server's turns, saved first in the list."""
        cid = conversation_id or new_id()
        saved = Saved.parse(raw).put(Conversation.of_turns(cid, list(turns or [])))
        return saved.to_json(), _listing(saved)

    @staticmethod
    def switch(chosen: str | None, raw: Any) -> Opened:
        """Open the conversation chosen in the list (looked up in the validated copy by its id)."""
        saved = Saved.parse(raw)
        conversation = saved.get(chosen)
        if conversation is None:
            log.debug("no saved conversation %r", chosen)
            return _open(saved, Conversation(new_id()))
        return _open(saved, conversation)

    @staticmethod
    def new(raw: Any) -> Opened:
        """新对话: an empty conversation; the others stay in the list."""
        return _open(Saved.parse(raw), Conversation(new_id()))

    @staticmethod
    def forget(conversation_id: str | None, raw: Any) -> Opened:
        """The chat's trash button: the open conversation is removed from the browser too."""
        saved = Saved.parse(raw)
        if conversation_id:
            saved = saved.drop(conversation_id)
        return _open(saved, Conversation(new_id()))
