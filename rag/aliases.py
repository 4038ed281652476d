"""How a question may name a body the corpus has reports of, derived from the body's name alone.

Bodies are never listed in code: they come from the ingested documents' metadata (``known_bodies``).
For each one the aliases are derived:

* the name itself and, when at least two characters remain, the name without its level suffix
  (东丽区 → 东丽; ``govqa.levels``);
* in English, the pinyin of that stem with the level's English name (东丽区 → "Dongli District"; pypinyin),
  matched as words, spaces between syllables optional, the level word optional;
* for the national government (国务院), 全国 / 我国 and China / national / the State Council. These are
  *weak*: they name the national body only when the question names no other body (东丽镇获得的全国荣誉
  is about 东丽镇).

A bare stem followed by the name of a park or zone (东丽开发区, 天开东丽园) names that place, not the body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

from govqa import levels

# a bare stem followed by one of these is a park, zone or new town named after the body, not the body
_NAMED_AFTER = r"(?:园区|园|开发区|经济技术开发区|高新区|工业区|新城)"
_WEAK_ZH = tuple(a for a in levels.NATIONAL_ALIASES_ZH if a in ("全国", "我国"))
_EN_LEVEL_ALTERNATES = {
    "Town": "town(?:ship)?",
    "Subdistrict": "sub-?district|street",
    "Township": "township",
}


@dataclass(frozen=True)
class BodyAliases:
    body: str
    zh: tuple[str, ...]  # Chinese aliases, matched as substrings
    en_pattern: str  # one regex (case-insensitive, matched as words) for the English names
    en_name: str  # how an English answer names the body
    weak: tuple[str, ...] = ()  # aliases that count only when no other body is named


def pinyin_words(name: str) -> list[str]:
    """东丽 → ["dong", "li"] (tone marks dropped; non-Chinese characters kept as they are)."""
    return [p for p in lazy_pinyin(name, style=Style.NORMAL, errors="default") if p.strip()]


def english_name(body: str) -> str:
    """东丽区 → Dongli District; 国务院 → the State Council; a name with no level suffix → its pinyin."""
    if body == levels.NATIONAL_BODY:
        return levels.NATIONAL_EN_NAME
    lv = levels.level_of(body)
    stem = levels.stem(body)
    words = "".join(pinyin_words(stem)).capitalize()
    if lv is None or stem == body:
        return words
    return f"{words} {lv.english}"


@lru_cache(maxsize=256)
def aliases_of(body: str) -> BodyAliases:
    if body == levels.NATIONAL_BODY:
        en = "|".join(re.escape(a).replace(r"\ ", r"\s+") for a in levels.NATIONAL_ALIASES_EN)
        weak = tuple(a for a in levels.NATIONAL_ALIASES_ZH if a in _WEAK_ZH)
        return BodyAliases(body, (body, *weak), rf"(?:the\s+)?(?:{en})(?:'s)?", english_name(body), weak)
    stem = levels.stem(body)
    zh = (body, stem) if stem != body else (body,)
    syllables = r"\s?".join(re.escape(p) for p in pinyin_words(stem))
    lv = levels.level_of(body)
    level_en = ""
    if lv is not None:
        word = _EN_LEVEL_ALTERNATES.get(lv.english, re.escape(lv.english.lower()).replace(r"\ ", r"\s+"))
        level_en = rf"(?:\s+(?:{word}))?"
    return BodyAliases(body, zh, rf"{syllables}{level_en}" if syllables else "", english_name(body))


@dataclass(frozen=True)
class BodyHit:
    start: int
    end: int
    body: str
    en: bool
    weak: bool


@lru_cache(maxsize=64)
def _matcher(known: tuple[str, ...]) -> tuple[re.Pattern[str], dict[str, BodyAliases], dict[str, str]]:
    """One regex for every alias of every known body: Chinese longest first, then English as words."""
    alias_to_body: dict[str, str] = {}
    table: dict[str, BodyAliases] = {}
    for body in known:
        a = aliases_of(body)
        table[body] = a
        for alias in a.zh:
            alias_to_body.setdefault(alias, body)
    parts = []
    if alias_to_body:
        zh = "|".join(re.escape(a) for a in sorted(alias_to_body, key=len, reverse=True))
        parts.append(f"(?P<zh>{zh})")
    group_to_body: dict[str, str] = {}
    for i, body in enumerate(known):
        if table[body].en_pattern:
            group_to_body[f"b{i}"] = body
            parts.append(rf"(?P<b{i}>(?<![A-Za-z]){table[body].en_pattern}(?![A-Za-z]))")
    pattern = re.compile("|".join(parts) or r"(?!x)x", re.IGNORECASE)
    return pattern, table, {**{f"zh:{k}": v for k, v in alias_to_body.items()}, **group_to_body}


def find_bodies(norm: str, known: tuple[str, ...]) -> list[BodyHit]:
    """Every mention of a known body in ``norm`` (weak national aliases dropped when another body is
    named; a stem naming a park or zone skipped)."""
    known = tuple(dict.fromkeys(b.strip() for b in known if b.strip()))
    pattern, table, lookup = _matcher(known)
    hits: list[BodyHit] = []
    for m in pattern.finditer(norm):
        start, end = m.span()
        if m.lastgroup == "zh" or m.groupdict().get("zh"):
            alias = m.group("zh")
            body = lookup[f"zh:{alias}"]
            if alias != body and re.match(_NAMED_AFTER, norm[end:]):
                continue
            hits.append(BodyHit(start, end, body, False, alias in table[body].weak))
        else:
            key = next(k for k, v in m.groupdict().items() if v and k != "zh")
            body = lookup[key]
            weak = body == levels.NATIONAL_BODY and not re.search(r"state\s+council", m.group(), re.I)
            hits.append(BodyHit(start, end, body, True, weak))
    if any(not h.weak and h.body != levels.NATIONAL_BODY for h in hits):
        hits = [h for h in hits if not h.weak]
    return hits


def english_patterns(known: tuple[str, ...]) -> list[str]:
    """The English-name regexes of the known bodies (to tell them from other places)."""
    return [aliases_of(b).en_pattern for b in known if aliases_of(b).en_pattern]
