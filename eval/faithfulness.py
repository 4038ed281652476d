"""Claim-by-claim faithfulness of an answer to the passages it cites (the RAGAS idea).

``split_claims`` (``eval.claims``) cuts an answer into atomic claims that keep their ``[n]`` markers. A judge then gives
each claim a verdict against the evidence it cites, and ``score = supported / total``. An answer with no
claim scores 1.0 when it is a refusal (nothing was asserted) and 0.0 otherwise (nothing checkable).

- ``OfflineJudge``: deterministic, no model. A claim citing ``[n]`` is judged against the passages it
  cites; a claim citing nothing against each citation of the answer in turn (supported if one supports
  it). Hard checks (``check_facts``, ``eval.facts``): every number (18亿元 = 1.8 billion yuan, 36.8%,
  52家), year, place (X镇/X区/X街道/X村; in English a pinyin name before a level word or 's, checked
  against the pinyin of the evidence), titled name (镇长王明), full date and report name of the claim
  appears in the evidence (title, heading and text); a number must also be stated there for the claim's
  year and in a passage about its place, and not contradicted by another number under the same label.
  Then a support signal must clear a threshold: the share of the claim's CJK bigrams found in the
  evidence, or with an embedder the dense cosine. An English claim is supported by its checked facts.
- ``LLMJudge``: the two-step RAGAS algorithm (statements, then verdicts) with the prompts of
  ``eval.prompts``, for any LangChain chat model.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage

from eval import prompts
from eval.arithmetic import check_arithmetic
from eval.claims import Claim, split_claims
from eval.facts import (
    MARKER,
    Evidence,
    bigram_overlap,
    check_facts,
    extract_facts,
    has_content_words,
    marker_numbers,
    strip_markers,
)
from eval.metrics import CitedText
from govqa.errors import ConfigError, LLMError
from govqa.models.embedders import Embedder

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- data


@dataclass(frozen=True)
class ClaimVerdict:
    claim: Claim
    supported: bool
    reasons: tuple[str, ...] = ()
    signal: float | None = None  # the support signal that was compared with the threshold


@dataclass(frozen=True)
class FaithfulnessResult:
    verdicts: tuple[ClaimVerdict, ...]
    refused: bool = False

    @property
    def score(self) -> float:
        if not self.verdicts:
            return 1.0 if self.refused else 0.0
        return sum(v.supported for v in self.verdicts) / len(self.verdicts)

    @property
    def unsupported(self) -> tuple[ClaimVerdict, ...]:
        return tuple(v for v in self.verdicts if not v.supported)


Citations = Sequence[Evidence] | Mapping[int, Evidence]


class FaithfulnessJudge(Protocol):
    def judge(
        self, answer_text: str, citations: Citations, refused: bool = False, question: str = ""
    ) -> FaithfulnessResult: ...


def evidence_for(citations: Iterable[CitedText], titles: Mapping[str, str] | None = None) -> list[Evidence]:
    """Evidence for the citations of a results-file row (the i-th is ``[i]``), titled by source file."""
    return [Evidence(c.text, c.source, c.heading, (titles or {}).get(c.source, "")) for c in citations]


def _numbered(citations: Citations) -> dict[int, Evidence]:
    return dict(citations) if isinstance(citations, Mapping) else dict(enumerate(citations, start=1))


# ---------------------------------------------------------------- the offline judge


@dataclass(frozen=True)
class OfflineJudge:
    """Deterministic judge: hard fact checks, then a lexical (or dense) support signal."""

    embedder: Embedder | None = None
    min_overlap: float = 0.25  # bigram share needed when a number, name or date of the claim was found
    min_overlap_plain: float = 0.5  # bigram share needed otherwise (only years and places, or no fact)
    min_cosine: float = 0.85  # dense cosine that supports a claim on its own (with an embedder)

    def judge(
        self, answer_text: str, citations: Citations, refused: bool = False, question: str = ""
    ) -> FaithfulnessResult:
        numbered = _numbered(citations)
        return FaithfulnessResult(
            tuple(self.judge_claim(c, numbered) for c in split_claims(answer_text)), refused
        )

    def judge_claim(self, claim: Claim, numbered: Mapping[int, Evidence]) -> ClaimVerdict:
        if not numbered:
            return ClaimVerdict(claim, False, ("the answer has no citations",))
        if claim.markers:
            dangling = [n for n in claim.markers if n not in numbered]
            if dangling:
                return ClaimVerdict(claim, False, (f"cites {dangling}, which the answer's citations lack",))
            derived = check_arithmetic(claim.text, "\n".join(numbered[n].context for n in claim.markers))
            if derived is not None:
                return ClaimVerdict(
                    claim, not derived, derived or ("derived: shown arithmetic on cited figures",)
                )
            return self._against(claim, [numbered[n] for n in claim.markers])
        verdicts = [self._against(claim, [ev]) for ev in numbered.values()]
        supported = [v for v in verdicts if v.supported]
        if supported:
            return supported[0]
        closest = min(verdicts, key=lambda v: (len(v.reasons), -(v.signal or 0.0)))
        return ClaimVerdict(
            claim, False, ("no marker, and no citation supports it", *closest.reasons), closest.signal
        )

    def _against(self, claim: Claim, cited: Sequence[Evidence]) -> ClaimVerdict:
        facts = extract_facts(claim.text)
        evidence = "\n".join(ev.context for ev in cited)
        overlap = bigram_overlap(claim.text, evidence)
        missing = check_facts(facts, cited)
        if missing:
            return ClaimVerdict(claim, False, tuple(missing), overlap)
        if overlap is not None and facts.quantities and not has_content_words(claim.text):
            overlap = None  # only figures and years, each checked above: nothing else to compare
        specific = facts.quantities or facts.names or facts.named
        threshold = self.min_overlap if specific else self.min_overlap_plain
        if overlap is not None and overlap >= threshold:
            return ClaimVerdict(
                claim, True, (f"{facts.count} facts found; bigram overlap {overlap:.2f}",), overlap
            )
        cosine = self._cosine(claim.text, evidence)
        if cosine is not None and cosine >= self.min_cosine:
            return ClaimVerdict(claim, True, (f"{facts.count} facts found; cosine {cosine:.2f}",), cosine)
        if overlap is None and facts.count:
            return ClaimVerdict(
                claim, True, (f"no words but figures; its {facts.count} facts were found",), None
            )
        why = [
            f"bigram overlap {overlap:.2f} < {threshold}" if overlap is not None else "no CJK text to compare"
        ]
        if cosine is not None:
            why.append(f"cosine {cosine:.2f} < {self.min_cosine}")
        if not facts.count:
            why.append("no checkable fact")
        return ClaimVerdict(claim, False, tuple(why), overlap if overlap is not None else cosine)

    def _cosine(self, claim: str, evidence: str) -> float | None:
        if self.embedder is None:
            return None
        q = self.embedder.encode_queries([MARKER.sub("", claim)])[0]
        p = self.embedder.encode_passages([evidence])[0]
        return float(q @ p)


# ---------------------------------------------------------------- the LLM judge


class JudgeOutputError(LLMError):
    """The judge model's reply is not the JSON its prompt asks for."""

    code = "judge_bad_output"


def _load_json(raw: str) -> Any:
    """``json.loads`` of the reply, which may be wrapped in one ```json fence and nothing else."""
    text = raw.strip()
    fence = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, re.DOTALL)
    try:
        return json.loads(fence.group(1) if fence else text)
    except json.JSONDecodeError as e:
        raise JudgeOutputError(
            f"the judge's reply is not JSON ({e.msg} at char {e.pos}): {raw[:200]!r}"
        ) from e


def parse_statements(raw: str) -> list[str]:
    data = _load_json(raw)
    items = data.get("statements") if isinstance(data, dict) else None
    if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
        raise JudgeOutputError(f'expected {{"statements": ["..."]}}, got {raw[:200]!r}')
    return [s.strip() for s in items if s.strip()]


def parse_verdicts(raw: str, n: int) -> list[tuple[bool, str]]:
    data = _load_json(raw)
    items = data.get("verdicts") if isinstance(data, dict) else None
    if not isinstance(items, list) or len(items) != n:
        raise JudgeOutputError(f'expected {{"verdicts": [...]}} with {n} entries, got {raw[:200]!r}')
    out = []
    for item in items:
        verdict = item.get("verdict") if isinstance(item, dict) else None
        if verdict not in (0, 1) or isinstance(verdict, float):
            raise JudgeOutputError(f"each verdict must be 0 or 1, got {item!r}")
        out.append((bool(verdict), str(item.get("reason", ""))))
    return out


class LLMJudge:
    """The RAGAS faithfulness algorithm: extract statements, then a 0/1 verdict per statement.

    Every citation of the answer is the context of every statement. A reply that is not the JSON the
    prompt asks for is asked again once (``retries``), then raises ``JudgeOutputError``.
    """

    def __init__(self, chat_model: BaseChatModel, retries: int = 1, max_tokens: int | None = None) -> None:
        if retries < 0:
            raise ConfigError(f"retries must be >= 0, got {retries}")
        self.chat_model = chat_model
        self.retries = retries
        # the JSON replies are longer than an answer: a small local model's answer cap (256) cuts them
        self.max_tokens = max_tokens

    def judge(
        self, answer_text: str, citations: Citations, refused: bool = False, question: str = ""
    ) -> FaithfulnessResult:
        statements = self._ask(prompts.STATEMENTS, parse_statements, question=question, answer=answer_text)
        claims = [
            Claim(strip_markers(s), marker_numbers(s), i)
            for i, s in enumerate(statements)
            if strip_markers(s)
        ]
        if not claims:
            return FaithfulnessResult((), refused)
        numbered = _numbered(citations)
        context = "\n\n".join(f"[{n}] {ev.context}" for n, ev in sorted(numbered.items())) or "(no citations)"
        verdicts = self._ask(
            prompts.VERDICTS,
            lambda raw: parse_verdicts(raw, len(claims)),
            context=context,
            statements=json.dumps([c.text for c in claims], ensure_ascii=False),
        )
        return FaithfulnessResult(
            tuple(
                ClaimVerdict(c, ok, (why,) if why else ())
                for c, (ok, why) in zip(claims, verdicts, strict=True)
            ),
            refused,
        )

    def _ask(self, prompt: prompts.Prompt, parse: Callable[[str], Any], **values: str) -> Any:
        message = prompts.render(prompt, **values)
        error: JudgeOutputError | None = None
        for attempt in range(1 + self.retries):
            try:
                messages = [HumanMessage(content=message)]
                reply = (
                    self.chat_model.invoke(messages, max_tokens=self.max_tokens)
                    if self.max_tokens
                    else self.chat_model.invoke(messages)
                )
            except Exception as e:  # the model's own errors (connection, rate limit ...) become LLMError
                raise LLMError(f"the judge model failed on {prompt.name}: {e}") from e
            try:
                return parse(reply.text)
            except JudgeOutputError as e:
                error = e
                log.warning(
                    "%s: bad judge reply (attempt %d of %d): %s",
                    prompt.name,
                    attempt + 1,
                    1 + self.retries,
                    e,
                )
        raise JudgeOutputError(
            f"{prompt.name}: no valid reply after {1 + self.retries} attempts; last: {error}"
        )
