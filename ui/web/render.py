"""Answers as HTML for the chat: the answer text, its citation cards, a refusal's related passages.

Pure functions of the service's dataclasses, no Gradio. Everything that comes from a report, a question
or a model is data: it goes through ``html.escape`` before it meets any markup. The output is one line
(no newlines) so the chat's Markdown renderer treats it as a single HTML block and never re-reads report
text as Markdown.
"""

from __future__ import annotations

import html
import logging
import re
import urllib.parse
from collections.abc import Collection, Iterable

from govqa.types import HEADING_SEP, Answer, Citation, Passage

log = logging.getLogger(__name__)

RELATED_SHOWN = 3  # related passages listed under a refusal
RELATED_CHARS = 240  # a related passage is cut to this many characters

_REF = re.compile(r"\[(\d{1,3})\]")

LABELS = {
    "zh": {
        "refused": "报告中未找到依据",
        "related": "相关段落（供参考，不是答案）",
        "sources": "出处",
        "chars": "字符",
        "pending": "正在检索报告……",
        "error": "出错了",
        "warning": "注意",
        "open": "在原文中查看",
        "copy": "复制",
        "restored": "已从本浏览器恢复（出处未保存）",
        "no_answer": "（没有回答）",
    },
    "en": {
        "refused": "Not in the reports",
        "related": "Related passages (for reference, not an answer)",
        "sources": "Sources",
        "chars": "chars",
        "pending": "Searching the reports…",
        "error": "Something went wrong",
        "warning": "Note",
        "open": "open in the report",
        "copy": "Copy",
        "restored": "restored from this browser (sources not kept)",
        "no_answer": "(no answer)",
    },
}


def _labels(lang: str) -> dict[str, str]:
    return LABELS["en" if lang == "en" else "zh"]


def esc(text: str) -> str:
    """Escaped text with line breaks kept as ``<br>`` (and no raw newline left in the output)."""
    escaped = html.escape(text, quote=True)
    return escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def card_id(key: str, n: int) -> str:
    """The id of citation card ``n`` of the answer rendered with ``key`` (unique per answer)."""
    return f"gq-c-{key}-{n}"


def text_html(text: str, key: str | None = None, cited: Collection[int] = ()) -> str:
    """An answer's text, escaped, with its ``[n]`` markers as superscript references.

    With a ``key``, a marker whose card is shown (``n`` in ``cited``) links to it with an in-page anchor;
    the page's script opens the card when the link is clicked.
    """

    def ref(m: re.Match[str]) -> str:
        n = int(m.group(1))
        if key is None or n not in cited:
            return f'<sup class="gq-ref">[{n}]</sup>'
        return f'<sup class="gq-ref"><a class="gq-ref-link" href="#{card_id(key, n)}">[{n}]</a></sup>'

    return _REF.sub(ref, esc(text))


def where(title: str, heading_path: Iterable[str]) -> str:
    """``title › part › section``, the way the reports' headings read."""
    return HEADING_SEP.join(p for p in (title, *heading_path) if p)


def quote_span(citation: Citation) -> tuple[int, int] | None:
    """Where the quote sits in its passage, or None when the offsets do not point at it.

    The offsets are relative to the document; the passage starts at ``passage_start``. When they disagree
    with the text (a stale index, an LLM citation re-matched elsewhere), the quote is searched for.
    """
    passage, quote = citation.passage, citation.quote
    if not passage or not quote:
        return None
    start = citation.start - citation.passage_start
    end = citation.end - citation.passage_start
    if 0 <= start <= end <= len(passage) and passage[start:end] == quote:
        return start, end
    found = passage.find(quote)
    if found >= 0:
        log.debug("citation %s: offsets off, quote found at %d", citation.chunk_id, found)
        return found, found + len(quote)
    return None


def highlight(citation: Citation) -> str:
    """The passage with the quote in ``<mark>``; the quote alone when it cannot be placed."""
    span = quote_span(citation)
    if span is None:
        return f"<mark>{esc(citation.quote)}</mark>"
    start, end = span
    p = citation.passage
    return f"{esc(p[:start])}<mark>{esc(p[start:end])}</mark>{esc(p[end:])}"


VIEWER_PATH = "/ui/documents/"


def viewer_url(citation: Citation) -> str:
    """The document viewer at the quoted span."""
    doc = urllib.parse.quote(citation.doc_id, safe="")
    return f"{VIEWER_PATH}{doc}?start={citation.start}&end={citation.end}#gq-hit"


def citation_card(
    citation: Citation, *, lang: str = "zh", open_: bool = False, key: str | None = None
) -> str:
    lab = _labels(lang)
    place = where(citation.title, citation.heading_path) or citation.source
    anchor = f' id="{card_id(key, citation.n)}"' if key is not None else ""
    return (
        f'<details class="gq-card"{anchor}{" open" if open_ else ""}>'
        f'<summary><span class="gq-n">[{citation.n}]</span> <span class="gq-where">{esc(place)}</span></summary>'
        f'<div class="gq-src">{esc(citation.source)} · {lab["chars"]} {citation.start}–{citation.end} · '
        f'<a class="gq-open" href="{esc(viewer_url(citation))}" target="_blank" rel="noopener">'
        f"{lab['open']}</a></div>"
        + (f'<div class="gq-ocr">{esc(citation.ocr_note)}</div>' if citation.ocr_note else "")
        + f'<blockquote class="gq-passage">{esc(citation.lead) + chr(10) if citation.lead else ""}'
        f"{highlight(citation)}</blockquote>"
        "</details>"
    )


def related_card(passage: Passage) -> str:
    chunk = passage.chunk
    place = where(chunk.meta.title, chunk.heading_path) or chunk.source
    text = chunk.text if len(chunk.text) <= RELATED_CHARS else chunk.text[:RELATED_CHARS] + "…"
    return (
        '<details class="gq-card gq-related-card">'
        f'<summary><span class="gq-n">•</span> <span class="gq-where">{esc(place)}</span></summary>'
        f'<div class="gq-src">{esc(chunk.source)}</div>'
        f'<blockquote class="gq-passage">{esc(text)}</blockquote>'
        "</details>"
    )


MODE_LABELS = {
    "extractive": "原文摘录 · quoted",
    "local": "模型生成 · generated by the local model",
    "openai": "模型生成 · generated by the configured model",
}


def mode_words(mode: str) -> str:
    """How an answer was made, in people's words (the answer's ``mode`` is the machine name)."""
    return MODE_LABELS.get(mode, mode)


def copy_button(lang: str) -> str:
    """Copies the answer's text (the page's script reads the ``.gq-text`` of the same answer)."""
    label = _labels(lang)["copy"]
    return f'<button type="button" class="gq-copy" title="复制回答 · Copy the answer">{label}</button>'


def _footer(answer: Answer) -> str:
    bits = [mode_words(answer.mode)]
    total = answer.timings_ms.get("total")
    if total is not None:
        bits.append(f"{total:.0f} ms")
    return f'<div class="gq-meta">{esc(" · ".join(bits))} {copy_button(answer.lang)}</div>'


def answer_html(answer: Answer, key: str | None = None) -> str:
    """The final answer: text, citation cards (the first open), or the refusal with related passages.

    ``key`` (letters and digits, unique in the page) names the cards so the ``[n]`` markers can link to
    them; without it the markers are plain superscripts.
    """
    if key is not None and not key.isalnum():
        raise ValueError(f"an answer key must be letters and digits, got {key!r}")
    lab = _labels(answer.lang)
    parts: list[str] = []
    if answer.refused:
        parts.append(
            f'<div class="gq-answer gq-refused" data-refused="true">'
            f'<div class="gq-badge"><span class="gq-icon" aria-hidden="true">⚠</span> {lab["refused"]}</div>'
        )
    else:
        parts.append('<div class="gq-answer" data-refused="false">')
    cited = {c.n for c in answer.citations}
    parts.append(f'<div class="gq-text">{text_html(answer.text, key, cited)}</div>')
    for w in answer.warnings:
        parts.append(f'<div class="gq-warning">{lab["warning"]}: {esc(w)}</div>')
    if answer.citations:
        parts.append(f'<div class="gq-cites"><div class="gq-h">{lab["sources"]}</div>')
        parts.extend(
            citation_card(c, lang=answer.lang, open_=i == 0, key=key) for i, c in enumerate(answer.citations)
        )
        parts.append("</div>")
    if answer.refused and answer.related:
        parts.append(f'<div class="gq-cites gq-related"><div class="gq-h">{lab["related"]}</div>')
        parts.extend(related_card(p) for p in answer.related[:RELATED_SHOWN])
        parts.append("</div>")
    parts.append(_footer(answer))
    parts.append("</div>")
    return "".join(parts)


def restored_answer_html(text: str, refused: bool = False, lang: str = "zh") -> str:
    """An answer restored from the browser's saved conversation: its text only, marked as restored (the
    browser keeps no sources, and nothing it sends is shown as a citation or link). The text came from
    the browser, so it is escaped like a question: nothing in it is read as HTML or Markdown."""
    lab = _labels(lang)
    cls = "gq-answer gq-restored" + (" gq-refused" if refused else "")
    return (
        f'<div class="{cls}" data-refused="{"true" if refused else "false"}">'
        f'<div class="gq-text">{user_html(text) if text else lab["no_answer"]}</div>'
        f'<div class="gq-meta">{lab["restored"]} {copy_button(lang)}</div></div>'
    )


def pending_html(text: str = "", lang: str = "zh") -> str:
    """A provisional answer while it streams (the final ``Answer`` replaces it)."""
    body = esc(text) if text else _labels(lang)["pending"]
    return f'{_PENDING}<div class="gq-text">{body}</div></div>'


_PENDING = '<div class="gq-answer gq-pending">'


def is_pending(message: object) -> bool:
    """Whether a chat message is an answer still being written (``pending_html``)."""
    return isinstance(message, dict) and str(message.get("content", "")).startswith(_PENDING)


def error_html(message: str, lang: str = "zh") -> str:
    """A friendly error in the chat: the message only, never a traceback."""
    return (
        '<div class="gq-answer gq-error" role="alert">'
        f'<div class="gq-badge">✖ {_labels(lang)["error"]}</div>'
        f'<div class="gq-text">{esc(message)}</div></div>'
    )


# characters Markdown gives a meaning to: as entities they are shown as themselves, never read as links,
# images (which would load from another site), emphasis or code
_MARKDOWN_CHARS = {c: f"&#{ord(c)};" for c in "\\`*_{}[]()#+-.!|~$"}


def user_html(question: str) -> str:
    """The user's own question as plain text: escaped, with nothing in it read as Markdown."""
    return "<br>".join(
        "".join(_MARKDOWN_CHARS.get(c) or html.escape(c, quote=True) for c in line)
        for line in question.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    )
