"""The re-scoring stage after fusion.

No cross-encoder can be had offline, so the default ``FeatureReranker`` re-scores the fused candidates
with the dense similarity of each chunk, the fused rank, and exact-match features of the question (its
terms, years, body, and whether it asks for a number). ``CrossEncoderReranker`` plugs in any
sentence-transformers ``CrossEncoder`` on disk instead (``GOVQA_RERANKER=cross-encoder:/path``).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from govqa.errors import ConfigError
from govqa.types import Passage
from rag.glossary import ZH_SYNONYMS
from rag.question import QuestionInfo
from rag.scope import chunk_years

log = logging.getLogger(__name__)

_NUMBER_UNIT = re.compile(
    r"\d+(?:\.\d+)?\s*(?:%|％|亿|万|千|百|个|家|所|人|户|名|项|条|公里|千米|米|亩|平方|元|座|处|套|辆|台|倍|次|场|批|件|栋|间|张)"
)


class Reranker(Protocol):
    def rerank(self, info: QuestionInfo, passages: list[Passage]) -> list[Passage]: ...


@dataclass(frozen=True)
class FeatureWeights:
    dense: float = 1.0
    fused: float = 0.6
    terms: float = 0.8
    year: float = 0.35
    number: float = 0.25
    body: float = 0.2


def term_found(term: str, text: str) -> bool:
    """The term, or a word the reports use for it (学校 → 小学, 新建 → 建成), occurs in the text."""
    return term in text or any(syn in text for syn in ZH_SYNONYMS.get(term, ()))


def term_coverage(terms: tuple[str, ...], text: str, alternatives: tuple[tuple[str, ...], ...] = ()) -> float:
    """Length-weighted share of the question's terms found in the text (or one of their synonyms, 学校 →
    小学). A term that is absent but contains a shorter term that is present (税收收入 ⊃ 税收 in
    "完成税收10.8亿元") earns that share. Each group of ``alternatives`` (the Chinese words of one English
    phrase) counts once, as its first word, found when any of its words is."""
    if not terms:
        return 0.0
    groups = [kept for g in alternatives if len(kept := tuple(t for t in g if t in terms)) > 1]
    grouped = {t for group in groups for t in group}
    total = hit = 0.0
    for group in groups:
        total += len(group[0])
        if any(term_found(t, text) for t in group):
            hit += len(group[0])
    for t in terms:
        if t in grouped:
            continue
        total += len(t)
        if term_found(t, text):
            hit += len(t)
        else:
            hit += max((len(u) for u in terms if len(u) >= 2 and u != t and u in t and u in text), default=0)
    return hit / total if total else 0.0


class FeatureReranker:
    """Dense similarity + fused rank + exact-match features; weights tuned on the golden set."""

    def __init__(self, weights: FeatureWeights | None = None) -> None:
        self.w = weights or FeatureWeights()

    def features(self, info: QuestionInfo, p: Passage) -> dict[str, float]:
        text = p.chunk.embed_text
        years = set(info.years)
        f = {
            "dense": p.scores.get("dense", 0.0),
            "fused": p.scores.get("fused_norm", 0.0),
            "terms": term_coverage(info.terms, text, info.alternatives),
            "year": 0.0,
            "number": 1.0 if info.wants_number and _NUMBER_UNIT.search(p.chunk.text) else 0.0,
            "body": 1.0 if info.bodies and p.chunk.meta.body in info.bodies else 0.0,
        }
        if years:
            if any(str(y) in text for y in years):
                f["year"] = 1.0
            elif chunk_years(p.chunk) == years:
                f["year"] = 0.7
        return f

    def rerank(self, info: QuestionInfo, passages: list[Passage]) -> list[Passage]:
        out = []
        for p in passages:
            f = self.features(info, p)
            score = sum(getattr(self.w, k) * v for k, v in f.items())
            out.append(
                replace(
                    p,
                    score=score,
                    scores={**p.scores, **{f"f_{k}": v for k, v in f.items()}, "rerank": score},
                )
            )
        out.sort(key=lambda p: (-p.score, p.chunk.chunk_id))
        return out


class CrossEncoderReranker:
    """A sentence-transformers CrossEncoder from a local folder, loaded lazily once."""

    def __init__(self, model_path: str) -> None:
        self.model_path = model_path
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        from sentence_transformers import CrossEncoder

        try:
            return CrossEncoder(self.model_path, device="cpu", local_files_only=True)
        except OSError as e:
            raise ConfigError(f"cannot load the cross-encoder {self.model_path!r}: {e}") from e

    def rerank(self, info: QuestionInfo, passages: list[Passage]) -> list[Passage]:
        if not passages:
            return []
        with self._lock:
            if self._model is None:
                self._model = self._load()
        scores = self._model.predict([(info.text, p.chunk.embed_text) for p in passages])
        out = [
            replace(p, score=float(s), scores={**p.scores, "rerank": float(s)})
            for p, s in zip(passages, scores, strict=True)
        ]
        out.sort(key=lambda p: (-p.score, p.chunk.chunk_id))
        return out


# the rerankers by ``GOVQA_RERANKER`` spec: a name, or a prefix ending in ":" whose rest is the argument
RERANKERS: dict[str, Callable[[str], Reranker]] = {
    "features": lambda _: FeatureReranker(),
    "cross-encoder:": CrossEncoderReranker,  # the rest of the spec is the model folder
}


def build_reranker(spec: str) -> Reranker:
    """``features`` (default) or ``cross-encoder:/path/to/model``."""
    for key, make in RERANKERS.items():
        if spec == key or (key.endswith(":") and spec.startswith(key)):
            return make(spec[len(key) :])
    raise ConfigError(f"GOVQA_RERANKER must be 'features' or 'cross-encoder:/path', got {spec!r}")
