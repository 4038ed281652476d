"""Meta-evaluation of a faithfulness judge: does it pass faithful answers and catch fabricated ones?

From golden items with sources, ``build_cases`` writes labelled answers. Each sentence of the correct
answer is ``{title}显示，{quote}[n]。`` citing the passage around the gold quote; the others change one
thing in it:

- ``correct``: as above (label: faithful). Every other kind is labelled unfaithful.
- ``number_changed``: one number of the quote, an answer value first (18亿元 → 19亿元, 36.8% → 38.6%).
- ``year_swapped``: one year, in the quote if it has one, else in the title (2019 → 2020).
- ``place_swapped``: the first place named (X镇, X区 ...) gets another name (东丽镇 → 北辰镇), in the quote
  if it names one, else in the title.
- ``unsupported_added``: a plausible fabricated sentence with a number, citing the same passage.
- ``wrong_passage``: the correct text citing another item's passage (one that lacks the quote).

A kind that does not apply to an item (no number to change, no year ...) is skipped. The judge's verdict
on an answer is "faithful" when every claim is supported (score 1.0).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.facts import PLACE_SUFFIX, places_in
from eval.faithfulness import Evidence, FaithfulnessJudge
from eval.golden import GoldenItem, GoldenSource, read_report
from eval.metrics import answer_values, as_golden, is_answerable, squash

log = logging.getLogger(__name__)

KINDS = ("correct", "number_changed", "year_swapped", "place_swapped", "unsupported_added", "wrong_passage")
# stems a swapped place is given: the first one the text does not already hold (data, not any corpus's)
SWAP_STEMS = ("北辰", "东丽", "南开")
FABRICATED = (
    "全年新增城镇就业岗位3260个",
    "建成5G基站126座",
    "引进外资企业27家，实际利用外资4.6亿美元",
    "城镇居民人均可支配收入增长6.4%",
    "新建公共停车场14处，新增停车位2180个",
    "完成老旧供水管网改造38公里",
)
_NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?![\d.])")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?=年)")

PassageLookup = Callable[[GoldenSource], Evidence | None]


@dataclass(frozen=True)
class MetaCase:
    item_id: str
    kind: str
    answer: str
    citations: tuple[Evidence, ...]
    faithful: bool  # the label
    detail: str = ""  # what was changed


@dataclass(frozen=True)
class MetaOutcome:
    case: MetaCase
    score: float
    reasons: tuple[str, ...]

    @property
    def judged_faithful(self) -> bool:
        return self.score >= 1.0

    @property
    def agrees(self) -> bool:
        return self.judged_faithful == self.case.faithful


@dataclass(frozen=True)
class MetaReport:
    outcomes: tuple[MetaOutcome, ...]

    @property
    def n(self) -> int:
        return len(self.outcomes)

    @property
    def agreement(self) -> float:
        return sum(o.agrees for o in self.outcomes) / self.n if self.n else 0.0

    @property
    def fabricated_pass_rate(self) -> float:
        """Share of unfaithful answers the judge passed (lower is better)."""
        bad = [o for o in self.outcomes if not o.case.faithful]
        return sum(o.judged_faithful for o in bad) / len(bad) if bad else 0.0

    @property
    def correct_pass_rate(self) -> float:
        good = [o for o in self.outcomes if o.case.faithful]
        return sum(o.judged_faithful for o in good) / len(good) if good else 0.0

    def by_kind(self) -> dict[str, tuple[int, float]]:
        """``{kind: (cases, share judged faithful)}``."""
        out = {}
        for kind in KINDS:
            os_ = [o for o in self.outcomes if o.case.kind == kind]
            if os_:
                out[kind] = (len(os_), sum(o.judged_faithful for o in os_) / len(os_))
        return out

    def disagreements(self) -> list[MetaOutcome]:
        return [o for o in self.outcomes if not o.agrees]

    def format(self) -> str:
        kinds = " ".join(f"{k}={n}:{rate:.2f}" for k, (n, rate) in self.by_kind().items())
        return (
            f"cases={self.n} agreement={self.agreement:.3f} fabricated_pass={self.fabricated_pass_rate:.3f} "
            f"correct_pass={self.correct_pass_rate:.3f} passed_by_kind[{kinds}]"
        )


# ---------------------------------------------------------------- passages


def report_passage_lookup(
    reports_dir: str | Path, titles: Mapping[str, str] | None = None, window: int = 200
) -> PassageLookup:
    """Evidence for a gold source: the report text around its quote (``window`` chars each side, cut
    at sentence ends), with the gold heading and the report title from ``titles`` (file name → title).
    """
    reports: dict[str, tuple[str, str, list[int]]] = {}  # file -> (text, flat text, offsets)
    titles = dict(titles or {})

    def lookup(source: GoldenSource) -> Evidence | None:
        if source.file not in reports:
            path = Path(reports_dir) / source.file
            if not path.is_file():
                log.warning("report %s not found in %s", source.file, reports_dir)
                return None
            text = read_report(path)
            reports[source.file] = (text, *_flatten(text))
        text, flat, offsets = reports[source.file]
        target = _flatten(source.quote)[0]
        at = flat.find(target) if target else -1
        if at < 0:
            log.warning("quote not found in %s: %r", source.file, source.quote)
            return None
        first, last = offsets[at], offsets[at + len(target) - 1]
        start = text.rfind("。", 0, max(0, first - window)) + 1
        stop = text.find("。", last + window)
        passage = text[start : stop + 1 if stop >= 0 else len(text)].strip()
        return Evidence(
            passage, source=source.file, heading=source.heading, title=titles.get(source.file, "")
        )

    return lookup


def _flatten(text: str) -> tuple[str, list[int]]:
    """``text`` NFKC-normalised without whitespace and ``*``, and the offset in ``text`` of each char."""
    chars: list[str] = []
    offsets: list[int] = []
    for i, c in enumerate(text):
        for k in unicodedata.normalize("NFKC", c):
            if not k.isspace() and k != "*":
                chars.append(k)
                offsets.append(i)
    return "".join(chars), offsets


# ---------------------------------------------------------------- perturbations


def _clean(quote: str) -> str:
    return re.sub(r"\s+", "", quote.replace("**", "")).strip("，,；;。")


def change_number(text: str, prefer: Sequence[str] = ()) -> tuple[str, str] | None:
    """Change one number that is not a year: inside an answer value first. 18 → 19, 36.8 → 38.6."""
    spans = [m for m in _NUMBER.finditer(text) if not _YEAR.match(text, m.start())]
    if not spans:
        return None
    preferred = [m for m in spans if any(m.group(0) in squash(v) for v in prefer)]
    m = (preferred or spans)[0]
    old = m.group(0)
    if "." in old:
        whole, frac = old.split(".")
        if whole[-1] != frac[0]:
            new = f"{whole[:-1]}{frac[0]}.{whole[-1]}{frac[1:]}"
        else:
            new = f"{whole}.{frac[:-1]}{(int(frac[-1]) + 1) % 10}"
    else:
        new = str(int(old) + 1)
    return text[: m.start()] + new + text[m.end() :], f"{old} → {new}"


def swap_year(text: str) -> tuple[str, str] | None:
    m = _YEAR.search(text)
    if m is None:
        return None
    new = str(int(m.group(0)) + 1)
    return text[: m.start()] + new + text[m.end() :], f"{m.group(0)} → {new}"


def swap_place(text: str) -> tuple[str, str] | None:
    hits = sorted((text.find(p), p) for p in places_in(text) if p in text)
    if not hits:
        return None
    at, old = hits[0]
    stem = next(s for s in SWAP_STEMS if s not in text)
    suffix = next(m.group(0) for m in PLACE_SUFFIX.finditer(old) if m.end() == len(old))
    new = stem + suffix
    return text[:at] + new + text[at + len(old) :], f"{old} → {new}"


def _sentence(title: str, quote: str, n: int) -> str:
    return f"{title}显示，{quote}[{n}]。" if title else f"{quote}[{n}]。"


def _perturb_first(
    title: str, quote: str, change: Callable[[str], tuple[str, str] | None]
) -> tuple[str, str] | None:
    """Apply ``change`` to the quote, or failing that to the title; return (sentence text, detail)."""
    changed = change(quote)
    if changed is not None:
        return _sentence(title, changed[0], 1), changed[1]
    changed = change(title) if title else None
    if changed is not None:
        return _sentence(changed[0], quote, 1), changed[1]
    return None


def build_cases(
    items: Iterable[GoldenItem | Mapping[str, Any]], passage_lookup: PassageLookup
) -> list[MetaCase]:
    """Labelled answers (see the module doc) for every answerable golden item with sources."""
    prepared: list[tuple[GoldenItem, list[tuple[str, Evidence]]]] = []
    for raw in items:
        item = as_golden(raw)
        if not is_answerable(item) or not item.sources:
            continue
        found = [(_clean(s.quote), passage_lookup(s)) for s in item.sources]
        if any(ev is None for _, ev in found):
            log.warning("meta-eval skips %s: a source passage could not be found", item.id)
            continue
        prepared.append((item, [(q, ev) for q, ev in found if ev is not None]))

    cases: list[MetaCase] = []
    for index, (item, sources) in enumerate(prepared):
        fabricated = FABRICATED[index % len(FABRICATED)]
        cases += _item_cases(item, sources, fabricated, _other_passage(prepared, index, sources[0][0]))
    return cases


def _item_cases(
    item: GoldenItem, sources: Sequence[tuple[str, Evidence]], fabricated: str, other: Evidence | None
) -> list[MetaCase]:
    """The correct answer and its perturbations; every change is made in the first sentence."""
    evidence = tuple(ev for _, ev in sources)
    sentences = [_sentence(ev.title, q, n) for n, (q, ev) in enumerate(sources, start=1)]
    rest = "".join(sentences[1:])
    quote, title = sources[0][0], evidence[0].title

    def case(kind: str, first: str, detail: str = "", citations: tuple[Evidence, ...] = evidence) -> MetaCase:
        return MetaCase(item.id, kind, first + rest, citations, faithful=kind == "correct", detail=detail)

    cases = [case("correct", sentences[0])]
    changes: tuple[tuple[str, Callable[[str], tuple[str, str] | None]], ...] = (
        ("number_changed", lambda t: change_number(t, answer_values(item))),
        ("year_swapped", swap_year),
        ("place_swapped", swap_place),
    )
    for kind, change in changes:
        perturbed = _perturb_first(title, quote, change)
        if perturbed is not None:
            cases.append(case(kind, *perturbed))
    cases.append(case("unsupported_added", f"{sentences[0]}此外，{fabricated}[1]。", fabricated))
    if other is not None:
        cases.append(case("wrong_passage", sentences[0], other.source, (other, *evidence[1:])))
    return cases


def _other_passage(
    prepared: Sequence[tuple[GoldenItem, list[tuple[str, Evidence]]]], index: int, quote: str
) -> Evidence | None:
    """The first passage of a later item (cyclically) that does not contain ``quote``."""
    target = squash(quote)
    for step in range(1, len(prepared)):
        _, sources = prepared[(index + step) % len(prepared)]
        ev = sources[0][1]
        if target not in squash(ev.text):
            return ev
    return None


def run_meta_eval(
    items: Iterable[GoldenItem | Mapping[str, Any]], judge: FaithfulnessJudge, passage_lookup: PassageLookup
) -> MetaReport:
    """Judge every labelled answer built from ``items``; report agreement and fabricated passes."""
    outcomes = []
    for c in build_cases(items, passage_lookup):
        result = judge.judge(c.answer, c.citations)
        reasons = tuple(f"{v.claim.text}: {'; '.join(v.reasons)}" for v in result.verdicts if not v.supported)
        outcomes.append(MetaOutcome(c, result.score, reasons))
    report = MetaReport(tuple(outcomes))
    log.info("meta-eval: %s", report.format())
    return report
