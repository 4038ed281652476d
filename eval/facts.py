"""The facts of a claim and the evidence it cites: numbers with their units and years, places, titled
names, dates and report names (``extract_facts``), checked against the cited passages (``check_facts``),
and the bigram overlap that is the offline judge's support signal (``bigram_overlap``)."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from eval.metrics import squash
from govqa import levels
from govqa.types import Citation

log = logging.getLogger(__name__)


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


# ---------------------------------------------------------------- citation markers

MARKER = re.compile(r"\[(\d+(?:\s*[,，、]\s*\d+)*)\]")  # [1], [1,2], [1、2]


def marker_numbers(text: str) -> tuple[int, ...]:
    found = [int(n) for m in MARKER.finditer(text) for n in re.split(r"[,，、\s]+", m.group(1)) if n]
    return tuple(dict.fromkeys(found))


def strip_markers(text: str) -> str:
    text = MARKER.sub("", text)
    return text.strip(" \t\u3000，,；;。.!！?？、")


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
PLACE_SUFFIX = re.compile(r"街道|镇|区|村")
_PLACE_STOP = set("的和与及在了是个各全本该我两三等乡城小园社辖市地片街景商新县省中大首老旧原年月日镇区村道")
_PLACE_NEXT_STOP = set("长域庄民级志委")  # 镇长, 区域, 村庄, 村民, 村级, 村志, 区委
# an English place name: a capitalised word of pinyin syllables before a level word or "'s" (Dongli
# District, Hexi's); it is checked against the pinyin of the cited text, so no place is listed here
_EN_LEVEL_WORDS = "|".join(re.escape(lv.english) for lv in levels.LEVELS)
_EN_PLACE = re.compile(rf"\b([A-Z][a-z]+(?:[ -]?[a-z]+)?)(?:'s\b|\s+(?:{_EN_LEVEL_WORDS}|Street)\b)")
_EN_NOT_PLACES = {a.lower() for a in levels.NATIONAL_ALIASES_EN}
PINYIN_PREFIX = "py:"  # a place written in pinyin, e.g. py:dongli
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
    s = squash(MARKER.sub("", text))
    out = []
    for m in _QTY.finditer(s):
        num, mag, unit = m.group(1), (m.group(2) or "").lower(), m.group(3) or ""
        unit = _UNIT_ALIASES.get(unit.lower(), unit)
        left, right = _LABEL_LEFT.search(s, 0, m.start()), _LABEL_RIGHT.match(s, m.end())
        label = f"{left.group(0) if left else ''}|{right.group(0) if right else ''}"
        is_year = not mag and not unit and bool(_YEARLIKE.fullmatch(num))
        out.append(Number(Decimal(num) * _MAGNITUDE.get(mag, 1), unit, is_year, label))
    return out


def quantities(text: str) -> list[Number]:
    return [n for n in numbers(text) if not n.is_year]


def years_in(text: str) -> list[Number]:
    return [n for n in numbers(text) if n.is_year]


def _places(squashed: str) -> set[str]:
    found = set()
    for m in PLACE_SUFFIX.finditer(squashed):
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
    return found


@lru_cache(maxsize=1)
def _syllables() -> frozenset[str]:
    from pypinyin.contrib.tone_convert import to_normal
    from pypinyin.pinyin_dict import pinyin_dict

    return frozenset(to_normal(p) for v in pinyin_dict.values() for p in v.split(","))


def _is_pinyin(word: str) -> bool:
    """Whether ``word`` (lower case, no spaces) splits into pinyin syllables: dongli, hexi."""
    syl = _syllables()
    ok = [True] + [False] * len(word)
    for end in range(1, len(word) + 1):
        ok[end] = any(ok[start] and word[start:end] in syl for start in range(max(0, end - 6), end))
    return ok[-1]


def _english_places(text: str) -> set[str]:
    out = set()
    for m in _EN_PLACE.finditer(text):
        word = re.sub(r"[ -]", "", m.group(1)).lower()
        if word not in _EN_NOT_PLACES and len(word) >= 4 and _is_pinyin(word):
            out.add(PINYIN_PREFIX + word)
    return out


@lru_cache(maxsize=4096)
def pinyin_of(text: str) -> str:
    """The toneless pinyin of ``text``'s Chinese characters, run together (东丽镇 → donglizhen)."""
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(text, style=Style.NORMAL, errors="ignore")).lower()


def mentions(place: str, text: str) -> bool:
    """Whether ``text`` names ``place`` (a Chinese place, or py:<pinyin> for one written in English)."""
    if place.startswith(PINYIN_PREFIX):
        return place[len(PINYIN_PREFIX) :] in pinyin_of(text)
    return place in text


def places_in(text: str) -> set[str]:
    """The Chinese places ``text`` names, as the last two characters of the name and the level (家窝镇)."""
    return _places(text)


# what is left of a claim that only restates figures: 从2019年的1468人到2021年的750人
_CONNECTIVES = frozenset("从到的比和与及至由为是在了共约近达")
_YEAR_WORD = re.compile(r"(?:19|20)\d{2}年")


def has_content_words(text: str) -> bool:
    """Whether ``text`` says anything in Chinese besides its figures, years and connectives: a claim
    that only restates cited figures has no words to compare with the evidence (its facts are checked)."""
    s = _QTY.sub("|", _YEAR_WORD.sub("|", squash(MARKER.sub("", text))))
    return any(ch not in _CONNECTIVES for ch in re.findall(rf"[{_CJK}]", s))


def _names(squashed: str) -> set[str]:
    return {m.group(1)[:2] for m in _TITLED.finditer(squashed) if m.group(1)[0] not in _NAME_STOP}


def entities(text: str) -> set[str]:
    raw = MARKER.sub("", text)
    s = squash(raw)
    return _places(s) | _english_places(raw) | _names(s)


@dataclass(frozen=True)
class Facts:
    """The checkable facts of a claim."""

    quantities: tuple[Number, ...]
    years: frozenset[int]
    places: frozenset[str]  # 东丽区, 家窝镇 (the last two characters and the suffix), py:dongli (Dongli's)
    names: frozenset[str]  # first two characters of a name after a title
    named: frozenset[str]  # full dates (2019年12月28日) and report names (2019年东丽镇政府工作报告)

    @property
    def count(self) -> int:
        return len(self.quantities) + len(self.years) + len(self.places) + len(self.names) + len(self.named)


def extract_facts(text: str) -> Facts:
    raw = MARKER.sub("", text)
    s = squash(raw)
    named = [m.group(0) for m in _NAMED.finditer(s)]
    unnamed = _NAMED.sub("", s)  # the year of "2024年河西镇政府工作报告" names a report, not a fact's year
    return Facts(
        quantities=tuple(quantities(text)),
        years=frozenset(int(n.value) for n in years_in(unnamed)),
        places=frozenset(_places(s) | _english_places(raw)),
        names=frozenset(_names(s)),
        named=frozenset(named),
    )


def _bigrams(squashed: str) -> set[str]:
    return {run[i : i + 2] for run in re.findall(rf"[{_CJK}]+", squashed) for i in range(len(run) - 1)}


def bigram_overlap(claim: str, evidence: str) -> float | None:
    """Share of the claim's CJK bigrams found in the evidence; None when the claim has none."""
    grams = _bigrams(squash(MARKER.sub("", claim)))
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


def _shown_place(place: str) -> str:
    return place[len(PINYIN_PREFIX) :].capitalize() if place.startswith(PINYIN_PREFIX) else place


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
        elif facts.places and not any(mentions(p, loc.context) for p in facts.places for loc in found):
            reasons.append(f"number {shown} is not in a cited passage about {'/'.join(sorted(facts.places))}")
    reasons += [f"year {y} not in the cited text" for y in sorted(facts.years) if y not in years]
    reasons += [
        f"place {_shown_place(p)} not in the cited text"
        for p in sorted(facts.places)
        if not mentions(p, text)
    ]
    for kind, found_ in (("name", facts.names), ("date or report", facts.named)):
        reasons += [f"{kind} {x} not in the cited text" for x in sorted(found_) if x not in text]
    return reasons
