"""Prompts of the LLM faithfulness judge, kept as data (the two RAGAS steps).

Each prompt is a named ``Prompt`` with the variables it takes; ``render`` is the one way to fill one in.
Literal braces in a template (the JSON examples) are doubled, as in ``str.format``.
"""

from __future__ import annotations

import string
from dataclasses import dataclass


@dataclass(frozen=True)
class Prompt:
    name: str
    template: str
    input_variables: tuple[str, ...]

    def placeholders(self) -> set[str]:
        """The ``{names}`` the template actually uses."""
        return {f for _, f, _, _ in string.Formatter().parse(self.template) if f}


def render(prompt: Prompt, **values: str) -> str:
    """Fill ``prompt`` with exactly its input variables (a missing or unexpected one is an error)."""
    missing = set(prompt.input_variables) - set(values)
    extra = set(values) - set(prompt.input_variables)
    if missing or extra:
        raise ValueError(
            f"prompt {prompt.name!r} takes {sorted(prompt.input_variables)}; "
            f"missing {sorted(missing)}, unexpected {sorted(extra)}"
        )
    return prompt.template.format(**values)


STATEMENTS = Prompt(
    name="faithfulness_statements",
    input_variables=("question", "answer"),
    template="""\
You are given a QUESTION and an ANSWER written from Chinese government work reports.
Break the ANSWER into atomic, self-contained statements: one fact per statement.
- Keep every number, unit, percentage, year, place and person name exactly as the answer writes it.
- Replace pronouns and "it"/"该镇"/"同比" context with the explicit subject and year from the answer.
- Keep a citation marker such as [1] on each statement it belongs to.
- Leave out refusals ("the reports do not say"), lead-ins ("根据报告：") and bare lists of sources.
- Write each statement in the language of the answer.
Return only JSON, no prose: {{"statements": ["<statement>", "..."]}}

QUESTION: {question}
ANSWER: {answer}
""",
)

VERDICTS = Prompt(
    name="faithfulness_verdicts",
    input_variables=("context", "statements"),
    template="""\
Judge each STATEMENT against the CONTEXT only, never against what you know.
verdict 1: the statement follows directly from the CONTEXT, and every number, unit, year, place and
person name in it matches the CONTEXT. verdict 0: anything else (contradicted, not stated, or a number,
year, place or name that differs or is missing).
Return only JSON, no prose, one entry per statement in the given order:
{{"verdicts": [{{"statement": "<statement>", "reason": "<short reason>", "verdict": 0}}]}}

CONTEXT:
{context}

STATEMENTS (JSON list):
{statements}
""",
)
