"""Claim-by-claim faithfulness of an answer to the passages it cites (the RAGAS idea).

``split_claims`` cuts an answer into atomic claims that keep their ``[n]`` markers. A judge then gives
each claim a verdict against the evidence it cites, and ``score = supported / total``. An answer with no
claim scores 1.0 when it is a refusal (nothing was asserted) and 0.0 otherwise (nothing checkable).

- ``OfflineJudge``: deterministic, no model. A claim citing ``[n]`` is judged against the passages it
  cites; a claim citing nothing against each citation of the answer in turn (supported if one supports
  it). Hard checks (``check_facts``): every number (18亿元 = 1.8 billion yuan, 36.8%, 52家), year, place
  (X镇/X区/X街道/X村, Jingwu/Xiqing/Zhangjiawo), titled name (镇长徐海权), full date and report name of the
  claim appears in the evidence (title, heading and text); a number must also be stated there for the
  claim's year and in a passage about its place, and not contradicted by another number under the same
  label. Then a support signal must clear a threshold: the share of the claim's CJK bigrams found in the
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
from decimal import Decimal
from functools import lru_cache
from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage

from eval import prompts
from eval.metrics import CitedText, squash
from govqa.errors import ConfigError, LLMError
from govqa.models.embedders import Embedder
from govqa.types import Citation

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- data


@dataclass(frozen=True)
class Claim:
    text: str
    markers: tuple[int, ...] = ()  # the [n] citation markers that apply to the claim
    sentence: int = 0  # index of the sentence the claim came from


@dataclass(frozen=True)
class Evidence:
    """What a citation points at: the passage text and where it sits (title and heading count too)."""

    text: str
    source: str = ""
    heading: str = ""
    title: str = ""

    @property
    def context(self) -> str:
        return "\n".join(p for p in (self.title, self.heading, self.text) if p)

    @classmethod
    def from_citation(cls, c: Citation) -> Evidence:
        return cls(text=c.passage or c.quote, source=c.source, heading=c.heading, title=c.title)


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


# ---------------------------------------------------------------- splitting

_MARKER = re.compile(r"\[(\d+(?:\s*[,，、]\s*\d+)*)\]")
_SENTENCE = re.compile(r"[^。！？!?]*?(?:[。！？!?]+|\.(?=\s|$)|$)(?:\s*\[\d+(?:\s*[,，、]\s*\d+)*\])*")
_SEMI = re.compile(r"[；;]")
_COLON = re.compile(r"((?<!\d)[：:]|[：:](?!\d))")  # not a ratio or a time such as 1.3:43.3
_COMMA = re.compile(r"(，|(?<!\d),|,(?!\d))")  # not a thousands separator
_BULLET = re.compile(r"^\s*(?:[-*•·]\s|\d{1,2}(?:[.)]\s|、)|[（(]?[一二三四五六七八九十]+[）)、])\s*")
_LEADIN_END = re.compile(r"[：:]\s*$")
_BOILERPLATE = re.compile(
    r"^(?:根据|据|综上|以下|参考|来源|出处|引用|sources?|references?|citations?|according to|in summary|here)",
    re.IGNORECASE,
)
_REFUSAL = re.compile(
    r"没有找到|未找到|未提及|没有提及|未涉及|没有涉及|无法回答|无法确定|没有相关|未包含|不包含|没有给出|未给出|"
    r"not (?:mention|contain|say|state|include|provide|cover)|no (?:information|mention|data)|cannot (?:find|answer)|"
    r"could not find|don't (?:mention|say|contain)|do not (?:mention|say|contain)",
    re.IGNORECASE,
)


def _markers(text: str) -> tuple[int, ...]:
    found = [int(n) for m in _MARKER.finditer(text) for n in re.split(r"[,，、\s]+", m.group(1)) if n]
    return tuple(dict.fromkeys(found))


def _strip(text: str) -> str:
    text = _MARKER.sub("", text)
    return text.strip(" \t\u3000，,；;。.!！?？、")


def _sentences(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """(body, markers at the end of the sentence) for each sentence of each line."""
    out = []
    for line in text.replace("**", "").splitlines():
        line = _BULLET.sub("", line)
        for m in _SENTENCE.finditer(line):
            s = m.group(0).strip()
            if not _strip(s):
                continue
            tail = re.search(r"(?:\[\d+(?:\s*[,，、]\s*\d+)*\]|[\s。！？!?.])*$", s)
            out.append((s, _markers(tail.group(0) if tail else "")))
    return out


def _qualifies(clause: str, piece: str) -> bool:
    """Split a comma when both sides carry a quantity, or both carry a named place or person."""
    if _quantities(clause) and _quantities(piece):
        return True
    big = len(squash(_strip(clause))) >= 6 and len(squash(_strip(piece))) >= 6
    return big and bool(_entities(clause)) and bool(_entities(piece))


def _clauses(sentence: str) -> list[str]:
    clauses: list[str] = []
    for segment in _SEMI.split(sentence):
        pieces = _COMMA.split(segment)  # [text, comma, text, comma, ...]
        current = ""
        for i in range(0, len(pieces), 2):
            piece, comma = pieces[i], pieces[i - 1] if i else ""
            if not _strip(piece):
                continue
            if current and _qualifies(current, piece):
                clauses.append(current)
                current = piece
            else:
                current = f"{current}{comma}{piece}" if current else piece
        if current:
            clauses.append(current)
    return clauses


def _is_boilerplate(clause: str) -> bool:
    body = _strip(clause)
    if not squash(body) or not re.search(r"\w", body):
        return True  # punctuation or a bare list of markers
    if _LEADIN_END.search(clause.strip()) and not (_quantities(body) or _years(body) or _entities(body)):
        return True  # "根据报告：", "The reports quote the evidence in Chinese:"
    if _REFUSAL.search(body) and not _quantities(body):
        return True
    return bool(_BOILERPLATE.match(body)) and not _quantities(body) and not _years(body)


def split_claims(answer_text: str) -> list[Claim]:
    """Atomic claims: sentences, then clauses at ；/; and at commas between distinct facts.

    A clause keeps its own markers; a clause without any takes the markers ending its sentence.
    A lead-in ending in a colon is cut off its sentence; lead-ins, refusals and marker lists are dropped.
    """
    claims: list[Claim] = []
    for index, (sentence, end_markers) in enumerate(_sentences(answer_text)):
        parts = _COLON.split(sentence, maxsplit=1)
        if len(parts) == 3 and _strip(parts[2]) and _is_boilerplate(parts[0] + parts[1]):
            sentence = parts[2]  # a lead-in such as "根据报告：" before the claim itself
        for clause in _clauses(sentence):
            if _is_boilerplate(clause):
                continue
            own = _markers(clause)
            claims.append(Claim(text=_strip(clause), markers=own or end_markers, sentence=index))
    return claims


# ---------------------------------------------------------------- derived figures

_NUM = r"-?\d+(?:\.\d+)?"
_SUBTRACTION = re.compile(
    rf"(?<![\d.])(\d+(?:\.\d+)?)[^\d(（]{{0,12}}[(（]({_NUM})\s*[−-]\s*({_NUM})\s*=\s*({_NUM})[)）]"
)
_DIVISION = re.compile(rf"(?<![\d.])(\d+(?:\.\d+)?)\s*%\s*[(（]({_NUM})\s*÷\s*({_NUM})[)）]")


def _stated(number: str, evidence: str) -> bool:
    return re.search(rf"(?<![\d.]){re.escape(number.lstrip('-'))}(?![\d])", evidence) is not None


def check_arithmetic(claim: str, evidence: str) -> tuple[str, ...] | None:
    """A claim showing its arithmetic ("减少7.2亿元（10.8 − 18 = -7.2），下降40%（-7.2 ÷ 18）"): None when
    it shows none; else the problems (empty when every step holds and its operands are cited figures)."""
    subs, divs = list(_SUBTRACTION.finditer(claim)), list(_DIVISION.finditer(claim))
    if not subs and not divs:
        return None
    problems: list[str] = []
    found: set[str] = set()
    for m in subs:
        said, x, y, z = m.group(1), Decimal(m.group(2)), Decimal(m.group(3)), Decimal(m.group(4))
        if abs((x - y) - z) > Decimal("0.01") or abs(abs(z) - Decimal(said)) > Decimal("0.01"):
            problems.append(f"{m.group(0)} does not hold")
        for operand in (m.group(2), m.group(3)):
            if not _stated(operand, evidence):
                problems.append(f"{operand} is not stated in the cited passages")
        found.add(m.group(4).lstrip("-"))
    for m in divs:
        pct, d, x = Decimal(m.group(1)), Decimal(m.group(2)), Decimal(m.group(3))
        if x == 0 or abs(abs(d / x * 100) - pct) > Decimal("0.01"):
            problems.append(f"{m.group(0)} does not hold")
        after = format((x + d).normalize(), "f")  # d is the change from x to a cited figure
        if m.group(2).lstrip("-") not in found and not _stated(after, evidence):
            problems.append(f"{m.group(2)} is not the change from {m.group(3)} to a cited figure")
        if not _stated(m.group(3), evidence):
            problems.append(f"{m.group(3)} is not stated in the cited passages")
    return tuple(problems)


# ---------------------------------------------------------------- facts

_CJK = "\u4e00-\u9fff"
_QTY = re.compile(  # on squashed text: no whitespace, NFKC, no thousands separators
    r"(?<![\d.])(\d+(?:\.\d+)?)(?:余|多)?(亿|万|billion|million|thousand)?"
    r"(个百分点|percentage points?|%|‰|percent|美元|US dollars|dollars|USD|元|yuan|RMB|平方米|平米|"
    r"square met(?:er|re)s|公顷|hectares|兆瓦|千瓦|公里|千米|km|人次|亩|吨|tons|家|个|项|人|户|所|座|条|套|次|"
    r"倍|名|位|件|台|辆|宗|处|起|串|支|场|栋|批|份|株|米)?".replace(" ", ""),
    re.IGNORECASE,
)
_MAGNITUDE = {"亿": 10**8, "万": 10**4, "billion": 10**9, "million": 10**6, "thousand": 10**3}
_UNIT_ALIASES = {
    "percentagepoint": "个百分点", "percentagepoints": "个百分点", "percent": "%", "usdollars": "美元",
    "dollars": "美元", "usd": "美元", "yuan": "元", "rmb": "元", "平米": "平方米", "squaremeters": "平方米",
    "squaremetres": "平方米", "hectares": "公顷", "km": "公里", "tons": "吨",
}  # fmt: skip
_YEARLIKE = re.compile(r"(?:19|20)\d{2}")
_LABEL_LEFT = re.compile(rf"[{_CJK}]{{1,8}}$")
_LABEL_RIGHT = re.compile(rf"[{_CJK}]{{1,8}}")
_NAMED = re.compile(rf"(?:19|20)\d{{2}}年(?:\d{{1,2}}月\d{{1,2}}日|[{_CJK}]{{1,10}}?政府工作报告)")
_PLACE_SUFFIX = re.compile(r"街道|镇|区|村")
_PLACE_STOP = set("的和与及在了是个各全本该我两三等乡城小园社辖市地片街景商新县省中大首老旧原年月日镇区村道")
_PLACE_NEXT_STOP = set("长域庄民级志委")  # 镇长, 区域, 村庄, 村民, 村级, 村志, 区委
_ENGLISH_PLACES = {"jingwu": "精武", "xiqing": "西青", "zhangjiawo": "张家窝"}
_TITLED = re.compile(rf"(?:代理区长|副区长|副镇长|区长|镇长|书记|主任)[是为:]?([{_CJK}]{{2,3}})")
_NAME_STOP = set("作在向的和与及对为是了代表主持说指强提将把等们同")
CONTRADICTION_MIN = 0.5  # share of the claim label's bigrams a contradicting label must have ...
CONTRADICTION_MIN_BIGRAMS = 3  # ... and at least this many of them


@dataclass(frozen=True)
class Number:
    value: Decimal  # in base units: 18亿元 -> 1800000000 (元)
    unit: str  # "" for a bare number
    is_year: bool
    label: str  # the CJK words around it: "税收收入|同比" in 税收收入18亿元同比 (bigrams never cross "|")


def numbers(text: str) -> list[Number]:
    """Every number of ``text`` (citation markers ignored), in order."""
    s = squash(_MARKER.sub("", text))
    out = []
    for m in _QTY.finditer(s):
        num, mag, unit = m.group(1), (m.group(2) or "").lower(), m.group(3) or ""
        unit = _UNIT_ALIASES.get(unit.lower(), unit)
        left, right = _LABEL_LEFT.search(s, 0, m.start()), _LABEL_RIGHT.match(s, m.end())
        label = f"{left.group(0) if left else ''}|{right.group(0) if right else ''}"
        is_year = not mag and not unit and bool(_YEARLIKE.fullmatch(num))
        out.append(Number(Decimal(num) * _MAGNITUDE.get(mag, 1), unit, is_year, label))
    return out


def _quantities(text: str) -> list[Number]:
    return [n for n in numbers(text) if not n.is_year]


def _years(text: str) -> list[Number]:
    return [n for n in numbers(text) if n.is_year]


def _places(squashed: str) -> set[str]:
    found = set()
    for m in _PLACE_SUFFIX.finditer(squashed):
        i, nxt = m.start(), squashed[m.end() : m.end() + 1]
        if nxt and nxt in _PLACE_NEXT_STOP:
            continue
        run = ""
        while (
            i > 0
            and len(run) < 2
            and re.match(rf"[{_CJK}]", squashed[i - 1])
            and squashed[i - 1] not in _PLACE_STOP
        ):
            run = squashed[i - 1] + run
            i -= 1
        if run:
            found.add(run + m.group(0))
    lower = squashed.lower()
    found.update(zh for en, zh in _ENGLISH_PLACES.items() if en in lower)
    return found


def _names(squashed: str) -> set[str]:
    return {m.group(1)[:2] for m in _TITLED.finditer(squashed) if m.group(1)[0] not in _NAME_STOP}


def _entities(text: str) -> set[str]:
    s = squash(_MARKER.sub("", text))
    return _places(s) | _names(s)


@dataclass(frozen=True)
class Facts:
    """The checkable facts of a claim."""

    quantities: tuple[Number, ...]
    years: frozenset[int]
    places: frozenset[str]  # 精武镇, 家窝镇 (the last two characters and the suffix), 精武 (from Jingwu)
    names: frozenset[str]  # first two characters of a name after a title
    named: frozenset[str]  # full dates (2019年12月28日) and report names (2019年精武镇政府工作报告)

    @property
    def count(self) -> int:
        return len(self.quantities) + len(self.years) + len(self.places) + len(self.names) + len(self.named)


def extract_facts(text: str) -> Facts:
    s = squash(_MARKER.sub("", text))
    named = [m.group(0) for m in _NAMED.finditer(s)]
    unnamed = _NAMED.sub("", s)  # the year of "2024年张家窝镇政府工作报告" names a report, not a fact's year
    return Facts(
        quantities=tuple(_quantities(text)),
        years=frozenset(int(n.value) for n in _years(unnamed)),
        places=frozenset(_places(s)),
        names=frozenset(_names(s)),
        named=frozenset(named),
    )


def _bigrams(squashed: str) -> set[str]:
    return {run[i : i + 2] for run in re.findall(rf"[{_CJK}]+", squashed) for i in range(len(run) - 1)}


def bigram_overlap(claim: str, evidence: str) -> float | None:
    """Share of the claim's CJK bigrams found in the evidence; None when the claim has none."""
    grams = _bigrams(squash(_MARKER.sub("", claim)))
    if not grams:
        return None
    return len(grams & _bigrams(squash(evidence))) / len(grams)


def _shared_bigrams(label: str, other: str) -> int:
    return len(_bigrams(label) & _bigrams(other))


@dataclass(frozen=True)
class _Located:
    """A number of a cited passage with the years it is stated for and the passage's context."""

    number: Number
    years: frozenset[int]
    context: str  # squashed title + heading + text of its passage


@lru_cache(maxsize=512)
def _locate(ev: Evidence) -> tuple[_Located, ...]:
    """Numbers of a passage, each with the years of its sentence and heading (else of the title)."""

    def years(text: str) -> frozenset[int]:
        return frozenset(int(n.value) for n in numbers(text) if n.is_year)

    title_years, heading_years = years(ev.title), years(ev.heading)
    context = squash(ev.context)
    out = []
    for part in (ev.title, ev.heading, *re.split(r"(?<=。)", ev.text)):
        governing = (years(part) | heading_years) or title_years
        out += [_Located(n, governing, context) for n in numbers(part) if not n.is_year]
    return tuple(out)


def _show(n: Number) -> str:
    """18亿元 for 1800000000 元; other units as they are."""
    for word, size in (("亿", 10**8), ("万", 10**4)):
        if n.unit in ("元", "美元") and n.value >= size:
            return f"{(n.value / size).normalize():f}{word}{n.unit}"
    return f"{n.value.normalize():f}{n.unit}"


def _contradiction(q: Number, same: Sequence[Number], located: Sequence[_Located]) -> str | None:
    """The cited text gives another number (same unit) under a label matching the claim's better."""
    own = max(_shared_bigrams(q.label, n.label) for n in same)
    need = max(CONTRADICTION_MIN_BIGRAMS, CONTRADICTION_MIN * len(_bigrams(q.label)), own + 1)
    for loc in located:
        n = loc.number
        if n.unit == q.unit and n.value != q.value and _shared_bigrams(q.label, n.label) >= need:
            return (
                f"the cited text gives {_show(n)} for {q.label.strip('|').replace('|', '…')}, not {_show(q)}"
            )
    return None


def check_facts(facts: Facts, evidence: Sequence[Evidence]) -> list[str]:
    """Reasons, one per fact of the claim that the cited passages lack or contradict.

    Years, places, names, dates and report names must appear in the passages. A number must appear
    (same value and unit; a bare number matches any unit), stated in one passage for a year of the
    claim (one in its sentence or heading, else in the title) and in a passage naming the claim's places.
    It is contradicted when a passage gives a different number under a label that matches the claim's
    label better (claim 限上批零销售额186亿元; cited 限上批零销售额185亿元 ... 规模工业总产值186亿元).
    """
    located = [loc for ev in evidence for loc in _locate(ev)]
    text = "\n".join(squash(ev.context) for ev in evidence)
    years = {int(n.value) for ev in evidence for n in numbers(ev.context) if n.is_year}
    reasons = []
    for q in facts.quantities:
        shown = _show(q)
        found = [
            loc
            for loc in located
            if loc.number.value == q.value and (loc.number.unit == q.unit or not q.unit)
        ]
        if not found:
            reasons.append(f"number {shown} not in the cited text")
            continue
        contradiction = _contradiction(q, [loc.number for loc in found], located)
        if contradiction:
            reasons.append(contradiction)
        elif facts.years and not any(facts.years & loc.years for loc in found):
            reasons.append(f"number {shown} is not stated for {sorted(facts.years)} in the cited text")
        elif facts.places and not any(p in loc.context for p in facts.places for loc in found):
            reasons.append(f"number {shown} is not in a cited passage about {'/'.join(sorted(facts.places))}")
    reasons += [f"year {y} not in the cited text" for y in sorted(facts.years) if y not in years]
    for kind, found_ in (("place", facts.places), ("name", facts.names), ("date or report", facts.named)):
        reasons += [f"{kind} {x} not in the cited text" for x in sorted(found_) if x not in text]
    return reasons


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
            return ClaimVerdict(claim, True, (f"no CJK text; its {facts.count} facts were found",), None)
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
        q = self.embedder.encode_queries([_MARKER.sub("", claim)])[0]
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
        claims = [Claim(_strip(s), _markers(s), i) for i, s in enumerate(statements) if _strip(s)]
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
