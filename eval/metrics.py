"""The scoring core of the evaluation harness: pure functions over golden items and result rows.

Text is compared after ``squash``: NFKC (full-width ``％``/``１８``/``，`` become ``%``/``18``/``,``),
markdown ``**`` removed, all whitespace removed ("18 亿元" == "18亿元"), thousands separators dropped.

Definitions (an item is *answerable* unless its type is ``unanswerable``):

- A gold source is *hit* by a retrieved passage of the same ``source`` file (``same_report``: the same
  name up to the suffix, so ``003_….txt`` gold sources are found in ``003_….pdf``) when the passage contains the
  whole quote, or a prefix or suffix of it that is at least 60% of the quote (or at least
  ``MIN_PART_CHARS`` long and holding one of the item's answer values), or when two retrieved passages of
  that file together cover the quote (a prefix in one, the rest in the other: a quote straddling a chunk
  boundary). The rank of a two-passage hit is the worse of the two ranks.
- ``hit@k`` (all): every gold source is hit within the first k passages. ``hit@k_any``: at least one is.
  ``mrr``: reciprocal rank of the first passage hitting any gold source (0 when none does).
  Retrieval metrics cover answerable items that have gold sources.
- ``correct``: the answer is not a refusal, holds every ``must_include`` value and at least one value of
  each ``must_include_any`` group. Answerable items only; a refused answerable item is incorrect.
- ``refusal_acc``: fraction of unanswerable items refused. ``false_refusal``: fraction of answerable
  items refused.
- ``cite_recall``: fraction of gold sources covered by a citation of the same file whose text overlaps the
  quote (holds it, lies inside it with >= ``MIN_OVERLAP_CHARS``, or shares a run of at least half the
  shorter text). Answered (not refused) answerable items with gold sources; citing nothing gives 0.
- ``cite_precision``: fraction of citations that overlap some gold quote (same file) or contain one of
  the item's answer values (``must_include`` and ``must_include_any`` members). Answered answerable items
  with at least one citation.
- A metric with no qualifying item is ``None`` (shown as ``n/a``), never a made-up 0.
- A golden item without a result row is scored as an empty, unrefused answer and listed in ``missing``.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import PurePath
from typing import Any

from eval.golden import GoldenItem, GoldenSource
from eval.overview_metrics import COMPARISON, KEY_POINT_PASS, OVERVIEW, key_point_recall, states_derived

log = logging.getLogger(__name__)

UNANSWERABLE = "unanswerable"
PART_FRACTION = 0.6  # a quote prefix/suffix this long counts as a hit
MIN_PART_CHARS = 10  # a shorter prefix/suffix counts only when it holds an answer value (and is this long)
OVERLAP_FRACTION = 0.5  # citation overlap: common run >= this share of the shorter text
MIN_OVERLAP_CHARS = 8

_WS = re.compile(r"\s+")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")


def same_report(source: str, gold_file: str) -> bool:
    """Is ``source`` (an ingested file name) the report ``gold_file`` names, in any format?

    The golden set names the .txt samples; the same report as .pdf, scanned .pdf or .docx
    (``eval.real_files``) has the same name up to its suffix.
    """
    return source == gold_file or PurePath(source).stem == PurePath(gold_file).stem


def squash(text: str) -> str:
    """Canonical form for comparisons: NFKC, no ``**``, no whitespace, no thousands separators."""
    t = unicodedata.normalize("NFKC", text).replace("**", "")
    return _THOUSANDS.sub("", _WS.sub("", t))


# ---------------------------------------------------------------- data


def as_golden(obj: GoldenItem | Mapping[str, Any]) -> GoldenItem:
    """An ``eval.golden.GoldenItem`` as is, or one built from a golden-set JSON dict (not validated)."""
    if isinstance(obj, GoldenItem):
        return obj
    return GoldenItem(
        id=str(obj["id"]),
        lang=str(obj.get("lang", "zh")),
        type=str(obj.get("type", "fact")),
        question=str(obj.get("question", "")),
        answer=str(obj.get("answer", "")),
        must_include=tuple(str(v) for v in obj.get("must_include") or ()),
        must_include_any=tuple(tuple(str(v) for v in g) for g in obj.get("must_include_any") or ()),
        sources=tuple(
            GoldenSource(str(s.get("file", "")), str(s.get("heading", "")), str(s.get("quote", "")))
            for s in obj.get("sources") or ()
        ),
    )


def is_answerable(item: GoldenItem) -> bool:
    return item.type != UNANSWERABLE


def answer_values(item: GoldenItem) -> tuple[str, ...]:
    """Every expected answer string: the ``must_include`` ones and each ``must_include_any`` member."""
    return item.must_include + tuple(v for group in item.must_include_any for v in group)


@dataclass(frozen=True)
class RetrievedPassage:
    text: str
    source: str
    heading: str = ""
    score: float = 0.0


@dataclass(frozen=True)
class CitedText:
    text: str
    source: str
    heading: str = ""


@dataclass(frozen=True)
class ResultRow:
    """One line of the results file."""

    id: str
    question: str = ""
    answer: str = ""
    refused: bool = False
    retrieved: tuple[RetrievedPassage, ...] = ()
    citations: tuple[CitedText, ...] = ()
    latency_ms: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ResultRow:
        def texts(key: str) -> list[dict[str, str]]:
            return [{f: str(p.get(f, "")) for f in ("text", "source", "heading")} for p in d.get(key) or ()]

        scores = [float(p.get("score", 0.0)) for p in d.get("retrieved") or ()]
        return cls(
            id=str(d["id"]),
            question=str(d.get("question", "")),
            answer=str(d.get("answer", "")),
            refused=bool(d.get("refused", False)),
            retrieved=tuple(
                RetrievedPassage(**p, score=sc) for p, sc in zip(texts("retrieved"), scores, strict=True)
            ),
            citations=tuple(CitedText(**c) for c in texts("citations")),
            latency_ms={str(k): float(v) for k, v in (d.get("latency_ms") or {}).items()},
        )


# ---------------------------------------------------------------- retrieval


def _longest_prefix_in(quote: str, text: str) -> int:
    """Length of the longest prefix of ``quote`` inside ``text`` (containment is monotone: bisect)."""
    lo, hi = 0, len(quote)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if quote[:mid] in text else (lo, mid - 1)
    return lo


def _longest_suffix_in(quote: str, text: str) -> int:
    return _longest_prefix_in(quote[::-1], text[::-1])


def _part_counts(part: str, quote_len: int, values: Sequence[str]) -> bool:
    if len(part) >= PART_FRACTION * quote_len:
        return bool(part)
    return len(part) >= MIN_PART_CHARS and any(v in part for v in values)


def source_hit_rank(
    source: GoldenSource, retrieved: Sequence[RetrievedPassage], values: Sequence[str] = ()
) -> int | None:
    """1-based rank at which ``source`` is first hit by ``retrieved`` (see the module doc), or None.

    ``values`` are the item's answer values: a short quote prefix/suffix counts when it holds one.
    """
    quote = squash(source.quote)
    if not quote:
        return None
    n = len(quote)
    vals = [v for v in (squash(v) for v in values) if v and v in quote]
    seen: list[tuple[int, int]] = []  # (longest quote prefix, longest quote suffix) in earlier passages
    for rank, p in enumerate(retrieved, start=1):
        if not same_report(p.source, source.file):
            continue
        text = squash(p.text)
        pre, suf = _longest_prefix_in(quote, text), _longest_suffix_in(quote, text)
        if pre == n or _part_counts(quote[:pre], n, vals) or _part_counts(quote[n - suf :], n, vals):
            return rank
        if any(pre + s >= n or p_ + suf >= n for p_, s in seen):  # straddles two chunks
            return rank
        seen.append((pre, suf))
    return None


@dataclass(frozen=True)
class RetrievalScore:
    hit_at_1: bool
    hit_at_5: bool
    hit_at_1_any: bool
    hit_at_5_any: bool
    reciprocal_rank: float


def retrieval_score(item: GoldenItem, retrieved: Sequence[RetrievedPassage]) -> RetrievalScore | None:
    """hit@1/@5 (all sources and any source) and the reciprocal rank; None for items with no sources
    and for overviews (an outline is read from the heading tree, not retrieved) and comparisons (their
    retrieval is that of the multi_hop items whose sources they share)."""
    if not item.sources or item.type in (OVERVIEW, COMPARISON):
        return None
    ranks = [source_hit_rank(s, retrieved, answer_values(item)) for s in item.sources]
    found = [r for r in ranks if r is not None]
    all_rank = max(found) if len(found) == len(ranks) else None
    first = min(found) if found else None
    return RetrievalScore(
        hit_at_1=all_rank is not None and all_rank <= 1,
        hit_at_5=all_rank is not None and all_rank <= 5,
        hit_at_1_any=first is not None and first <= 1,
        hit_at_5_any=first is not None and first <= 5,
        reciprocal_rank=1.0 / first if first else 0.0,
    )


# ---------------------------------------------------------------- answer and citations


def answer_correct(item: GoldenItem, answer: str, refused: bool) -> bool | None:
    """All ``must_include`` present and each ``must_include_any`` group met; None for unanswerable items."""
    if not is_answerable(item):
        return None
    if refused:
        return False
    recall = key_point_recall(item, answer, refused)
    if recall is not None:  # an overview: enough of its key points
        return recall >= KEY_POINT_PASS
    if not states_derived(item, answer):  # a comparison: its direction and difference
        return False
    text = squash(answer)
    if not all(squash(v) in text for v in item.must_include):
        return False
    return all(any(squash(v) in text for v in group) for group in item.must_include_any)


def texts_overlap(cited: str, quote: str) -> bool:
    """The cited text holds the quote, lies inside it (>= ``MIN_OVERLAP_CHARS``), or shares with it a
    common run of at least half the shorter text (and ``MIN_OVERLAP_CHARS``), after ``squash``."""
    c, q = squash(cited), squash(quote)
    if not c or not q:
        return False
    if q in c or (c in q and len(c) >= MIN_OVERLAP_CHARS):
        return True
    m = SequenceMatcher(None, c, q, autojunk=False).find_longest_match(0, len(c), 0, len(q))
    return m.size >= max(MIN_OVERLAP_CHARS, OVERLAP_FRACTION * min(len(c), len(q)))


def citation_recall(item: GoldenItem, citations: Sequence[CitedText]) -> float | None:
    """Fraction of gold sources covered by a citation of the same file overlapping the quote."""
    if not item.sources:
        return None
    covered = sum(
        any(same_report(c.source, s.file) and texts_overlap(c.text, s.quote) for c in citations)
        for s in item.sources
    )
    return covered / len(item.sources)


def citation_precision(item: GoldenItem, citations: Sequence[CitedText]) -> float | None:
    """Fraction of citations overlapping a gold quote (same file) or holding an answer value."""
    if not citations:
        return None
    values = [squash(v) for v in answer_values(item) if squash(v)]

    def supports(c: CitedText) -> bool:
        if any(same_report(c.source, s.file) and texts_overlap(c.text, s.quote) for s in item.sources):
            return True
        text = squash(c.text)
        return any(v in text for v in values)

    return sum(supports(c) for c in citations) / len(citations)


# ---------------------------------------------------------------- latency


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between ranks (numpy's default)."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def latency_percentiles(rows: Iterable[ResultRow]) -> dict[str, dict[str, float]]:
    """``{key: {"p50": ..., "p95": ..., "n": ...}}`` for every key of ``latency_ms`` seen."""
    by_key: dict[str, list[float]] = {}
    for row in rows:
        for key, ms in row.latency_ms.items():
            by_key.setdefault(key, []).append(ms)
    return {
        key: {"p50": percentile(v, 50) or 0.0, "p95": percentile(v, 95) or 0.0, "n": float(len(v))}
        for key, v in sorted(by_key.items())
    }


# ---------------------------------------------------------------- per item and summary


@dataclass(frozen=True)
class ItemScore:
    id: str
    type: str
    answerable: bool
    refused: bool
    missing: bool  # no result row: scored as an empty, unrefused answer
    retrieval: RetrievalScore | None
    correct: bool | None
    cite_recall: float | None
    cite_precision: float | None
    faithfulness: float | None
    key_points: float | None = None  # overview items: key-point recall


def score_item(
    item: GoldenItem, row: ResultRow, faithfulness: float | None = None, missing: bool = False
) -> ItemScore:
    answered = is_answerable(item) and not row.refused
    return ItemScore(
        id=item.id,
        type=item.type,
        answerable=is_answerable(item),
        refused=row.refused,
        missing=missing,
        retrieval=retrieval_score(item, row.retrieved),
        correct=answer_correct(item, row.answer, row.refused),
        cite_recall=citation_recall(item, row.citations) if answered else None,
        cite_precision=citation_precision(item, row.citations) if answered else None,
        faithfulness=faithfulness,
        key_points=key_point_recall(item, row.answer, row.refused),
    )


@dataclass(frozen=True)
class Metric:
    """A mean over the items it applies to; ``value`` is None when it applies to none."""

    value: float | None
    n: int

    @classmethod
    def mean(cls, xs: Iterable[float | bool | None]) -> Metric:
        vals = [float(x) for x in xs if x is not None]
        return cls(sum(vals) / len(vals) if vals else None, len(vals))

    def __str__(self) -> str:
        return "n/a" if self.value is None else f"{self.value:.2f}"


@dataclass(frozen=True)
class GroupStats:
    n: int
    hit_at_1: Metric
    hit_at_5: Metric
    hit_at_1_any: Metric
    hit_at_5_any: Metric
    mrr: Metric
    correct: Metric
    refusal_acc: Metric
    false_refusal: Metric
    cite_recall: Metric
    cite_precision: Metric
    faithfulness: Metric
    key_points: Metric = Metric(None, 0)

    @classmethod
    def of(cls, scores: Sequence[ItemScore]) -> GroupStats:
        ret = [s.retrieval for s in scores if s.retrieval is not None]
        return cls(
            n=len(scores),
            hit_at_1=Metric.mean(r.hit_at_1 for r in ret),
            hit_at_5=Metric.mean(r.hit_at_5 for r in ret),
            hit_at_1_any=Metric.mean(r.hit_at_1_any for r in ret),
            hit_at_5_any=Metric.mean(r.hit_at_5_any for r in ret),
            mrr=Metric.mean(r.reciprocal_rank for r in ret),
            correct=Metric.mean(s.correct for s in scores),
            refusal_acc=Metric.mean(s.refused for s in scores if not s.answerable),
            false_refusal=Metric.mean(s.refused for s in scores if s.answerable),
            cite_recall=Metric.mean(s.cite_recall for s in scores),
            cite_precision=Metric.mean(s.cite_precision for s in scores),
            faithfulness=Metric.mean(s.faithfulness for s in scores),
            key_points=Metric.mean(s.key_points for s in scores),
        )

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"n": self.n}
        for name, m in vars(self).items():
            if isinstance(m, Metric):
                d[name] = {"value": m.value, "n": m.n}
        return d


@dataclass(frozen=True)
class Summary:
    overall: GroupStats
    by_type: dict[str, GroupStats]
    latency: dict[str, dict[str, float]]
    items: tuple[ItemScore, ...]
    missing: tuple[str, ...] = ()  # golden ids with no result row
    unknown: tuple[str, ...] = ()  # result ids not in the golden set (ignored)

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.to_dict(),
            "by_type": {t: g.to_dict() for t, g in self.by_type.items()},
            "latency_ms": self.latency,
            "missing": list(self.missing),
            "unknown": list(self.unknown),
        }


def summarize(
    golden_items: Iterable[GoldenItem | Mapping[str, Any]],
    results: Iterable[ResultRow | Mapping[str, Any]],
    faithfulness: Mapping[str, float] | None = None,
) -> Summary:
    """Score every golden item against its result row; aggregate overall and per question type.

    ``golden_items``: ``eval.golden.GoldenItem``s or dicts in the golden-set schema.
    ``results``: ``ResultRow``s or results-file dicts. ``faithfulness``: optional score per item id.
    """
    rows: dict[str, ResultRow] = {}
    for r in results:
        row = r if isinstance(r, ResultRow) else ResultRow.from_dict(r)
        if row.id in rows:
            log.warning("result %s appears twice; the last row is scored", row.id)
        rows[row.id] = row
    items = [as_golden(g) for g in golden_items]
    faith = faithfulness or {}
    scores = []
    for item in items:
        found = rows.get(item.id)
        row = found or ResultRow(id=item.id)
        scores.append(score_item(item, row, faith.get(item.id), missing=found is None))
    missing = tuple(s.id for s in scores if s.missing)
    known = {i.id for i in items}
    unknown = tuple(sorted(set(rows) - known))
    if missing:
        log.warning(
            "%d golden items have no result row (scored as empty answers): %s", len(missing), missing[:10]
        )
    if unknown:
        log.warning("%d result rows match no golden item (ignored): %s", len(unknown), unknown[:10])
    types = sorted({s.type for s in scores})
    return Summary(
        overall=GroupStats.of(scores),
        by_type={t: GroupStats.of([s for s in scores if s.type == t]) for t in types},
        latency=latency_percentiles(rows[i] for i in sorted(known & set(rows))),
        items=tuple(scores),
        missing=missing,
        unknown=unknown,
    )


def format_summary(summary: Summary | GroupStats, latency_key: str = "total") -> str:
    """One line, e.g. ``n=50 hit@5=0.96 mrr=0.90 correct=0.91 refusal_acc=0.92 ... p50=820ms p95=2100ms``."""
    g = summary.overall if isinstance(summary, Summary) else summary
    parts = [
        f"n={g.n}",
        f"hit@1={g.hit_at_1}",
        f"hit@5={g.hit_at_5}",
        f"mrr={g.mrr}",
        f"correct={g.correct}",
        f"refusal_acc={g.refusal_acc}",
        f"false_refusal={g.false_refusal}",
        f"faithfulness={g.faithfulness}",
        f"cite_recall={g.cite_recall}",
        f"cite_precision={g.cite_precision}",
    ]
    if isinstance(summary, Summary):
        lat = summary.latency.get(latency_key)
        if lat is None and len(summary.latency) == 1:
            latency_key, lat = next(iter(summary.latency.items()))
        if lat is not None:
            parts.append(f"p50={lat['p50']:.0f}ms p95={lat['p95']:.0f}ms ({latency_key})")
    return " ".join(parts)
