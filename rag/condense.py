"""Multi-turn without an LLM: turn a follow-up into a standalone question.

``condense`` resolves the earlier user turns first (each may itself be a follow-up), then completes the
new question from the most recent resolved turns. Assistant turns are not read.

* An elliptical follow-up — nothing left once its years, bodies and terms and the filler words (那, 呢,
  它的, what about, and …) are removed: "那2024年呢？", "河西镇呢？", "它的固定资产投资呢",
  "and Hexi?" — is written into the previous standalone question by substitution: its year
  replaces the year list, its body the body list, its topic the previous topic (a 分别 list of terms,
  else the last metric, else the last noun term). What it does not mention is kept. The result keeps
  the previous question's language ("and Hexi?" after a Chinese question gives a Chinese one).
* A follow-up with its own topic and question words but no body ("2021年的税收收入是多少？",
  "它的固定资产投资是多少？") gets the last body, and the last year if it has none: a pronoun
  (它, 该镇, its, it, there) is replaced, else the body and year are put in front (Chinese) or
  appended (English). A question asking across bodies (哪个镇, which town) gets no body.
* A self-contained question (its own topic terms and body, not elliptical) is returned unchanged.

``condense_with_llm`` asks a chat model with ``rag.prompts.CONDENSE_PROMPT`` and falls back to the rules
when the reply is empty, fails, or reads like an answer instead of a question.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel

from rag import glossary as g
from rag.decompose import body_name
from rag.prompts import CONDENSE_PROMPT, render
from rag.question import Group, Mention, Scan, is_metric, scan_question

logger = logging.getLogger(__name__)

MAX_HISTORY_TURNS = 6  # user turns resolved when completing a follow-up

_FILLER = re.compile(
    r"what\s+about|how\s+about|what\s+of|same\s+for|and|also|then|please|for|in|of|the|its|it|there|that|year|town"
    r"|那么|那|还有|另外|然后|再|呢|吗|的|了|它们|它|其|该镇|该区|这个|那个|同期|同样|也|又|是|情况|怎么样|如何|呀|啊|吧"
    r"|年份|[\s,，?？。.!！、:：]",
    re.IGNORECASE,
)
_LEAD_ZH = re.compile(r"^(?:那么|那|还有|另外|然后|再问一下|请问)\s*[，,]?\s*")
_LEAD_EN = re.compile(r"^(?:and|so|then|also|ok(?:ay)?|well)\b\s*,?\s*", re.IGNORECASE)
_PRONOUN_ZH = re.compile(r"它们的|它的|它|其|该镇|该区|这个镇|这个区|这里|那里|当地")
_PRONOUN_EN = re.compile(r"\b(?:its|it|there|the\s+town|the\s+district|this\s+town)\b", re.IGNORECASE)
_ACROSS = re.compile(
    r"哪个(?:镇|区|街道)|哪些(?:镇|区|街道)|各(?:镇|街)|\bwhich\s+(?:town|district|body)|\ball\s+(?:towns|districts)",
    re.I,
)
_PLACE_SUFFIX = r"(?:街道|自治区|自治州|新区|省|市|州|县|旗|区|乡|镇|村)"
_PLACE_ONLY = re.compile(rf"^[\u4e00-\u9fff]{{2,4}}{_PLACE_SUFFIX}$")
# a leftover run naming a place (北京市, 河北省, 北京市海淀区), not a common word ending like one (城市)
_PLACE_RUN = re.compile(rf"^[\u4e00-\u9fff]{{1,6}}{_PLACE_SUFFIX}$")
_NOT_PLACE_END = re.compile(
    r"(?:城市|都市|超市|集市|夜市|股市|楼市|上市|开市|社区|园区|城区|景区|片区|辖区|全区|全镇|全市)$"
)
# an English proper noun inside the sentence (Beijing's), the name of a place the question is about
_EN_NAME = re.compile(
    r"\b(?:in|of|for|at|from|about)\s([A-Z][a-z]{2,})(?:'s)?\b(?!\s+[A-Z])|(?<=\s)([A-Z][a-z]{2,})'s\b"
)
_EN_NOT_PLACE = re.compile(
    r"January|February|March|April|May|June|July|August|September|October|November|December|Monday|Tuesday"
    r"|Wednesday|Thursday|Friday|Saturday|Sunday|Chinese|English|The|This|That|What|Which|How"
)
_EACH = re.compile(r"分别|各自|\s*,?\s*\brespectively\b", re.IGNORECASE)


def _place(scan: Scan) -> Mention | None:
    """A place the glossary does not know, said alone: the 杨柳青镇 of "杨柳青镇呢？"."""
    return next((m for m in scan.terms if not m.known and _PLACE_ONLY.match(m.surface)), None)


def named_places(scan: Scan) -> list[str]:
    """Places the question names that are not bodies of the corpus (北京市, 河北省, "Beijing"): a leftover
    run with a place suffix that is no common word ending like one (城市), or, in English, a proper
    noun inside the sentence that is neither a body nor a glossary term."""
    found = [
        m.surface
        for m in scan.terms
        if not m.known and _PLACE_RUN.match(m.surface) and not _NOT_PLACE_END.search(m.surface)
    ]
    if scan.lang == "en":
        spans = [(m.start, m.end) for m in (*scan.bodies, *scan.terms)]
        for match in _EN_NAME.finditer(scan.norm):
            group = 1 if match.group(1) else 2
            name, start = match.group(group), match.start(group)
            if not _EN_NOT_PLACE.fullmatch(name) and not any(s <= start < e for s, e in spans):
                found.append(name)
    return list(dict.fromkeys(found))


def _has_topic(scan: Scan) -> bool:
    return any(m.known for m in scan.terms)


def _residual(scan: Scan, place: Mention | None) -> str:
    """What is left of a follow-up without its years, bodies, known terms, place and filler words."""
    chars = list(scan.norm)
    for m in (*scan.years, *scan.bodies, *(t for t in scan.terms if t.known), *([place] if place else [])):
        for i in range(m.start, m.end):
            chars[i] = " "
    return _FILLER.sub("", "".join(chars))


def _edit(text: str, edits: list[tuple[int, int, str]]) -> str:
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return re.sub(r"\s{2,}", " ", text).strip()


def _years_text(years: Sequence[int], lang: str, group: Group | None) -> str:
    if lang == "en":
        joined = " and ".join(str(y) for y in years)
        return f"in {joined}" if group is None or group.prefix else joined
    return "和".join(f"{y}年" for y in years)


def _topic_target(scan: Scan) -> tuple[int, int] | None:
    """The span of the previous question's topic: a list of terms, else its last metric or noun term."""
    for group in scan.groups("term"):
        if len(group.mentions) > 1 and any(is_metric(m) for m in group.mentions):
            return group.start, group.end
    terms = list(scan.terms)
    for pick in (
        [m for m in terms if is_metric(m)],
        [m for m in terms if m.terms[0] not in g.PREDICATE_TERMS],
        terms,
    ):
        if pick:
            return pick[-1].start, pick[-1].end
    return None


def _topic_text(topics: list[Mention], lang: str) -> str:
    mentions = [m for m in topics if m.terms[0] not in g.PREDICATE_TERMS] or topics
    words = [m.terms[0] if lang == "zh" and m.en else m.surface for m in mentions]
    return ("和" if lang == "zh" else " and ").join(dict.fromkeys(words))


def _substitute(
    prev: Scan, follow: Scan, topics: list[Mention], place: str | None, known: tuple[str, ...]
) -> str:
    """Write what the elliptical follow-up changes into the previous standalone question."""
    lang = prev.lang
    edits: list[tuple[int, int, str]] = []
    prefix = ""
    years = list(dict.fromkeys(m.year for m in follow.years))
    if years:
        groups = prev.groups("year")
        if groups:
            edits.append((groups[0].start, groups[0].end, _years_text(years, lang, groups[0])))
            edits += [(gr.start, gr.end, "") for gr in groups[1:]]
        elif lang == "zh":
            prefix = _years_text(years, lang, None)
        else:
            edits.append(_append_en(prev.text, _years_text(years, lang, None)))
    bodies = list(dict.fromkeys(m.body for m in follow.bodies)) or ([place] if place else [])
    if bodies:
        names = [body_name(b, lang) for b in bodies]
        new = ("和" if lang == "zh" else " and ").join(names)
        groups = prev.groups("body")
        if groups:
            edits.append((groups[0].start, groups[0].end, new))
            edits += [(gr.start, gr.end, "") for gr in groups[1:]]
        elif lang == "zh":
            prefix = prefix + new
        else:
            edits.append(_append_en(prev.text, f"in {new}"))
    if topics:
        target = _topic_target(prev)
        topic = _topic_text(topics, lang)
        if target is not None:
            edits.append((target[0], target[1], topic))
        elif lang == "zh":
            edits.append((len(prev.text), len(prev.text), topic))
        else:
            edits.append(_append_en(prev.text, f"({topic})"))
    text = prefix + _edit(prev.text, edits)
    return _drop_each(text, known)


def _drop_each(text: str, known: tuple[str, ...]) -> str:
    """Drop 分别 / respectively once a question is down to one year, one body and one topic."""
    scan = scan_question(text, known)
    if len(scan.years) > 1 or len(scan.bodies) > 1 or any(len(gr.mentions) > 1 for gr in scan.groups("term")):
        return text
    return re.sub(r"\s{2,}", " ", _EACH.sub("", text)).strip()


def _append_en(text: str, words: str) -> tuple[int, int, str]:
    """An edit inserting `` words`` before the question's final punctuation."""
    end = len(text.rstrip("?？.。!！ "))
    return end, end, f" {words}"


def _complete(follow: Scan, body: str | None, year: int | None) -> str:
    """Give a follow-up that has its own topic the body (and year) it lacks."""
    lang = follow.lang
    text = (_LEAD_ZH if lang == "zh" else _LEAD_EN).sub("", follow.text, count=1)
    if lang == "en" and text:
        text = text[0].upper() + text[1:]
    front = f"{year}年" if year and lang == "zh" else ""
    if body:
        name = body_name(body, lang)
        if lang == "zh":
            text, n = _PRONOUN_ZH.subn(name, text, count=1)
            if not n:
                front += name
        else:
            m = _PRONOUN_EN.search(text)
            if m:
                word = m.group().lower()
                new = f"{name}'s" if word == "its" else (f"in {name}" if word == "there" else name)
                text = text[: m.start()] + new + text[m.end() :]
            else:
                text = _edit(text, [_append_en(text, f"in {name}")])
    if year and lang == "en":
        text = _edit(text, [_append_en(text, f"in {year}")])
    return front + text


def _resolve_history(history: Sequence[tuple[str, str]], known: tuple[str, ...]) -> list[Scan]:
    """The user turns as standalone questions, oldest first (each resolved against the ones before)."""
    resolved: list[Scan] = []
    for user, _assistant in list(history)[-MAX_HISTORY_TURNS:]:
        if not user or not user.strip() or len(user.strip()) > 1000:
            continue
        text = _condense_scan(scan_question(user, known), resolved, known) if resolved else user.strip()
        resolved.append(scan_question(text, known))
    return resolved


def _condense_scan(follow: Scan, resolved: list[Scan], known: tuple[str, ...]) -> str:
    if not resolved:
        return follow.text
    place = _place(follow)
    topics = [m for m in follow.terms if m.known]
    elliptical = not _residual(follow, place)
    if (follow.bodies or named_places(follow)) and not elliptical:
        return follow.text  # self-contained: its own body or place, and its own year or none
    if elliptical:
        base = next((s for s in reversed(resolved) if _has_topic(s) or s.bodies or s.years), None)
        if base is None or not (follow.years or follow.bodies or topics or place):
            return follow.text
        return _substitute(base, follow, topics, place.surface if place else None, known)
    if not _QUESTION_LIKE.search(follow.norm) or not (topics or follow.years):
        return follow.text  # not a question about the reports ("谢谢"), or nothing to complete
    last_body = next((s.bodies[0].body for s in reversed(resolved) if s.bodies), None)
    last_year = next((s.years[-1].year for s in reversed(resolved) if s.years), None)
    body = None if follow.bodies or place or _ACROSS.search(follow.norm) else last_body
    year = None if follow.years else last_year
    if body is None and year is None:
        return follow.text
    if not topics:  # "2021年是多少？": the year is new, the topic is the last one
        base = next((s for s in reversed(resolved) if _has_topic(s)), None)
        return _substitute(base, follow, [], None, known) if base else follow.text
    return _complete(follow, body, year)


def condense(question: str, history: Sequence[tuple[str, str]], known_bodies: Iterable[str] = ()) -> str:
    """The standalone form of ``question`` given earlier (user, assistant) turns, oldest first."""
    known = tuple(dict.fromkeys(known_bodies))
    follow = scan_question(question, known)
    if not history:
        return follow.text
    out = _condense_scan(follow, _resolve_history(history, known), known)
    if out != follow.text:
        logger.debug("condensed %r to %r", follow.text, out)
    return out


# ------------------------------------------------------------------------------------------- LLM

_ANSWER_LIKE = re.compile(
    r"^(?:根据|据|答[:：]|回答|答案|报告(?:显示|中)|Answer|According|Based on|The reports?\b|Sorry|抱歉)|NOT_IN_REPORTS",
    re.IGNORECASE,
)
_QUESTION_LIKE = re.compile(
    r"[?？]\s*$|多少|几|什么|哪|如何|怎么|怎样|是否|吗|呢|谁"
    r"|^\s*(?:how|what|which|who|when|where|why|did|does|do|is|are|was|were|can|will|has|have)\b",
    re.IGNORECASE,
)
_LABEL = re.compile(
    r"^\s*(?:standalone\s+question|question|rewritten|独立问题|改写(?:后的问题)?|问题)\s*[:：]\s*", re.I
)


def format_history(
    history: Sequence[tuple[str, str]], max_turns: int = 4, max_answer_chars: int = 200
) -> str:
    """The last turns as the condense prompt shows them (answers cut short)."""
    lines = []
    for user, assistant in list(history)[-max_turns:]:
        lines.append(f"User: {user.strip()}")
        answer = " ".join(assistant.split())
        if answer:
            lines.append(
                f"Assistant: {answer[:max_answer_chars]}{'…' if len(answer) > max_answer_chars else ''}"
            )
    return "\n".join(lines)


def clean_llm_question(raw: str) -> str:
    """The model's reply reduced to one question, or "" when it is empty or reads like an answer."""
    lines = [ln.strip() for ln in raw.strip().splitlines() if ln.strip()]
    if not lines:
        return ""
    text = _LABEL.sub("", lines[0]).strip().strip("\"'“”「」`").strip()
    if not text or len(text) > 1000 or _ANSWER_LIKE.search(text) or not _QUESTION_LIKE.search(text):
        return ""
    return text


def _content(message: Any) -> str:
    content = getattr(message, "content", message)
    if isinstance(content, list):
        return "".join(c if isinstance(c, str) else str(c.get("text", "")) for c in content)
    return str(content)


def condense_with_llm(
    question: str,
    history: Sequence[tuple[str, str]],
    chat_model: BaseChatModel,
    known_bodies: Iterable[str] = (),
) -> str:
    """Condense with a chat model (``CONDENSE_PROMPT``); the rule-based result when its reply is unusable."""
    fallback = condense(question, history, known_bodies)
    if not history:
        return fallback
    messages = render(CONDENSE_PROMPT, history=format_history(history), question=question.strip())
    try:
        reply = _content(chat_model.invoke(messages))
    except Exception as exc:  # any model failure: condensing is best effort, the rules still work
        logger.warning(
            "condense model failed (%s: %s); using the rule-based question", type(exc).__name__, exc
        )
        return fallback
    text = clean_llm_question(reply)
    if not text:
        logger.info("condense model reply %r is not a question; using %r", reply[:80], fallback)
        return fallback
    return text
