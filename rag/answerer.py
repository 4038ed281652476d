"""The chain's answerer seam: what an answerer is given (``Turn``) and what it gives back.

``AnswerChain`` condenses the question, splits it into parts and retrieves for each; then it hands the
``Turn`` to its ``Answerer``, which yields the answer's text as it is produced and then the ``Answer``.
Two implementations: ``rag.extractive_answerer.ExtractiveAnswerer`` (quotes the report sentences that
answer each part; no model, the default) and ``rag.llm.answerer.LLMAnswerer`` (a chat model writes the
answer from the packed passages, its citations checked).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from govqa.types import Answer, Citation, Passage
from rag import extractive
from rag.question import QuestionInfo
from rag.retrieval import Retrieval


@dataclass
class Part:
    """One sub-question with what was retrieved for it (and, once looked for, the sentence that answers it)."""

    info: QuestionInfo
    retrieval: Retrieval
    pick: extractive.Scored | None = None
    citations: list[Citation] = field(default_factory=list)


@dataclass
class Turn:
    """A question ready to answer: as asked, as condensed with the history, analysed, split in parts."""

    question: str
    standalone: str
    info: QuestionInfo
    parts: list[Part]


class Answerer(Protocol):
    @property
    def mode(self) -> str:
        """What the answer's ``mode`` says: ``extractive``, ``openai`` or ``local``."""
        ...

    def answer(self, turn: Turn) -> Iterator[str | Answer]:
        """The answer's text as it is produced (zero or more ``str``), then the ``Answer`` itself."""
        ...


def merge_ranked(lists: Sequence[Sequence[Passage]]) -> list[Passage]:
    """Interleave ranked lists (one per sub-question), dropping duplicates."""
    out: list[Passage] = []
    seen: set[str] = set()
    for rank in range(max((len(x) for x in lists), default=0)):
        for lst in lists:
            if rank < len(lst) and lst[rank].chunk.chunk_id not in seen:
                seen.add(lst[rank].chunk.chunk_id)
                out.append(lst[rank])
    return out
