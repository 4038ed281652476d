"""Conversations saved in the browser: what comes back is validated, bounded and shown only as text."""

from __future__ import annotations

from typing import Any

import gradio as gr

from ui.web.conversations import (
    MAX_ANSWER_CHARS,
    MAX_CONVERSATIONS,
    MAX_QUESTION_CHARS,
    MAX_TURNS,
    Conversation,
    Saved,
    SavedTurn,
    new_id,
)
from ui.web.render import pending_html
from ui.web.saved_chats import SavedChats, restore_chat

CID = "0123456789abcdef"


def conv(cid: str = CID, *turns: dict[str, Any]) -> dict[str, Any]:
    return {"id": cid, "turns": list(turns) or [{"q": "2019年精武镇税收收入是多少？", "a": "18亿元[1]。"}]}


def test_a_well_formed_copy_round_trips() -> None:
    saved = Saved.parse({"current": CID, "conversations": [conv()]})
    assert saved.current == CID and saved.get(CID) is not None
    assert Saved.parse(saved.to_json()) == saved
    assert saved.choices() == [("2019年精武镇税收收入是多少？", CID)]


def test_anything_malformed_is_dropped_never_an_error() -> None:
    file_message = {"role": "user", "content": [{"type": "file", "file": {"path": "/etc/passwd"}}]}
    for raw in (None, "x", [], 42, {"conversations": "no"}, {"conversations": [file_message]}):
        assert Saved.parse(raw) == Saved()
    saved = Saved.parse(
        {
            "current": "../../etc/passwd",
            "conversations": [
                conv("not-hex"),  # ids are hex only
                conv(
                    CID, {"q": {"path": "/etc/passwd"}, "a": "x"}, {"q": "   ", "a": "x"}, {"q": "ok", "a": 3}
                ),
                conv("f" * 16, {"q": "好", "a": "答", "r": "yes"}),
                conv("f" * 16),  # a duplicate id
            ],
        }
    )
    assert saved.current == ""
    assert [c.id for c in saved.conversations] == ["f" * 16]
    assert saved.conversations[0].turns == (SavedTurn("好", "答", False),)  # "r" must be true itself


def test_the_copy_is_bounded() -> None:
    many = {"conversations": [conv(f"{i:016x}") for i in range(MAX_CONVERSATIONS + 5)]}
    assert len(Saved.parse(many).conversations) == MAX_CONVERSATIONS
    long_turns = [{"q": f"问题{i}", "a": "答"} for i in range(MAX_TURNS + 5)]
    kept = Saved.parse({"conversations": [conv(CID, *long_turns)]}).conversations[0].turns
    assert len(kept) == MAX_TURNS and kept[-1].question == f"问题{MAX_TURNS + 4}"  # the latest are kept
    big = Saved.parse({"conversations": [conv(CID, {"q": "问" * 5000, "a": "答" * 50_000})]})
    turn = big.conversations[0].turns[0]
    assert len(turn.question) == MAX_QUESTION_CHARS and len(turn.answer) == MAX_ANSWER_CHARS
    assert turn.question.endswith("…") and Conversation(CID, (turn,)).title.endswith("…")


def test_put_saves_first_and_drop_forgets() -> None:
    saved = Saved.parse({"conversations": [conv("a" * 16), conv("b" * 16)]})
    turns = [{"question": "新问题", "answer": "新回答", "refused": False, "citations": [{"x": 1}]}]
    put = saved.put(Conversation.of_turns("b" * 16, turns))
    assert put.current == "b" * 16 and [c.id for c in put.conversations] == ["b" * 16, "a" * 16]
    assert put.get("b" * 16) == Conversation("b" * 16, (SavedTurn("新问题", "新回答"),))
    assert "citations" not in str(put.to_json())  # text only
    assert saved.put(Conversation("c" * 16)).conversations == saved.conversations  # empty: not listed
    dropped = put.drop("b" * 16)
    assert dropped.current == "" and [c.id for c in dropped.conversations] == ["a" * 16]
    assert len(new_id()) == 16 and new_id() != new_id()


def test_a_restored_conversation_is_escaped_text_and_marked_restored() -> None:
    evil = "<img src=x onerror=alert(1)>![x](http://evil.example/x.png)"
    conversation = Saved.parse(
        {"conversations": [conv(CID, {"q": evil, "a": evil + "[1]", "r": True}, {"q": "无回答", "a": ""})]}
    ).conversations[0]
    chat, pairs, turns = restore_chat(conversation)
    html = " ".join(m["content"] for m in chat)
    assert "<img" not in html and "&lt;img" in html and "](http" not in html
    assert "gq-restored" in chat[1]["content"] and "gq-refused" in chat[1]["content"]
    assert "gq-ref-link" not in html and "<details" not in html  # no links, no cards from the browser
    assert pairs == [(evil, evil + "[1]")]  # the answerless turn is not history
    assert all(t["restored"] and t["citations"] == [] for t in turns)


def test_saved_chat_events() -> None:
    chats = SavedChats()
    raw = {"current": CID, "conversations": [conv()]}
    chat, kept, pairs, turns, cid, stored, listing, box, send = chats.restore(raw)
    assert box["interactive"] and send["interactive"]  # the input opens only after the restore
    assert pairs == [("2019年精武镇税收收入是多少？", "18亿元[1]。")] and turns[0]["restored"]
    assert cid == CID and len(chat) == 2 and kept == chat and stored == Saved.parse(raw).to_json()
    assert listing["value"] == CID and listing["choices"] == [("2019年精武镇税收收入是多少？", CID)]
    chat, *_, cid, stored, listing, _, _ = chats.restore({"conversations": "garbage"})
    assert chat == [] and len(cid) == 16 and listing["value"] is None
    chat, *_, new, stored, _ = chats.new(raw)
    assert (
        chat == [] and new != CID and stored["conversations"] == Saved.parse(raw).to_json()["conversations"]
    )
    stored, listing = chats.save(new, [{"question": "那2024年呢？", "answer": "10.8亿元"}], stored)
    assert [c["id"] for c in stored["conversations"]] == [new, CID] and listing["value"] == new
    chat, *_, cid, _, _ = chats.switch(CID, stored)
    assert cid == CID and "18亿元" in chat[1]["content"]
    assert chats.switch("f" * 16, stored)[4] not in (CID, new, "f" * 16)  # unknown: a fresh one
    *_, stored, listing = chats.forget(CID, stored)
    assert [c["id"] for c in stored["conversations"]] == [new]


def test_the_answer_event_saves_with_its_final_update_only() -> None:
    """The save rides on the final answer's update: intermediate updates leave the browser's copy alone."""

    pending = {"role": "assistant", "content": pending_html("18")}
    final = {"role": "assistant", "content": "<div class='gq-answer'>18亿元</div>"}

    def respond(question: str, *_: Any) -> Any:
        record = {"question": question, "answer": "", "refused": True}
        yield [pending], [record]
        yield [final], [{**record, "answer": "18亿元[1]。", "refused": False}]

    answer = SavedChats.answering(respond)
    updates = list(answer("2019年某镇税收收入是多少？", [], [], "all", "all", "all", [], CID, {}))
    assert [u[0] for u in updates] == [[pending], [final]]
    first, last = updates
    assert first[-2] == gr.skip() and first[-1] == gr.skip()
    stored, listing = last[-2], last[-1]
    assert [c["id"] for c in stored["conversations"]] == [CID] and listing["value"] == CID
    assert Saved.parse(stored).get(CID).turns[0].answer == "18亿元[1]。"


def test_an_empty_question_saves_nothing() -> None:
    def respond(question: str, *_: Any) -> Any:
        yield [], []

    (only,) = SavedChats.answering(respond)("", [], [], "all", "all", "all", [], CID, {})
    assert only[-2] == gr.skip() and only[-1] == gr.skip()
