"""The document viewer: a report's cleaned text with its heading tree as a table of contents, and the
quoted span of a citation highlighted and scrolled into view.

Pure functions of a document's text and chunks (no web framework): ``outline`` finds where each heading
of the chunks' heading paths stands in the text; ``document_page`` renders the whole page. Everything that
comes from the report is escaped; the offsets are the ones citations carry (the cleaned text's).
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from govqa.types import Chunk


@dataclass(frozen=True)
class Heading:
    level: int  # 1 = a top-level part
    title: str
    start: int  # where the heading's own line starts in the text (or its first chunk, if not found)

    def to_dict(self) -> dict[str, object]:
        return {"level": self.level, "title": self.title, "start": self.start}


def outline(text: str, chunks: Sequence[Chunk]) -> list[Heading]:
    """The headings of ``chunks`` (in document order), each once, with its position in ``text``."""
    seen: set[tuple[str, ...]] = set()
    out: list[Heading] = []
    for chunk in sorted(chunks, key=lambda c: (c.start, c.ordinal)):
        for depth in range(1, len(chunk.heading_path) + 1):
            path = chunk.heading_path[:depth]
            if path in seen:
                continue
            seen.add(path)
            title = path[-1]
            floor = out[-1].start if out else 0
            at = text.find(title, floor, chunk.start + 1)
            out.append(Heading(depth, title, at if at >= 0 else chunk.start))
    return out


def clamp_span(text: str, start: int | None, end: int | None) -> tuple[int, int] | None:
    if start is None or end is None or not 0 <= start < end <= len(text):
        return None
    return start, end


def _body(text: str, headings: Sequence[Heading], span: tuple[int, int] | None) -> str:
    """The text as paragraphs, heading lines as anchored headings, the span in ``<mark id=gq-hit>``."""
    marks: dict[int, str] = {}
    for i, h in enumerate(headings):
        marks.setdefault(h.start, f"h{i}")
    pieces: list[str] = []
    cuts = sorted({0, len(text), *marks, *(span or ())})
    for a, b in itertools.pairwise(cuts):
        seg = html.escape(text[a:b])
        if span and span[0] <= a and b <= span[1]:
            seg = f"<mark{' id=gq-hit' if a == span[0] else ''}>{seg}</mark>"
        if a in marks:
            pieces.append(f'<a id="{marks[a]}" class="gq-anchor"></a>')
        pieces.append(seg)
    return "".join(pieces).replace("\n", "<br>\n")


def document_page(
    title: str,
    source: str,
    text: str,
    headings: Sequence[Heading],
    span: tuple[int, int] | None = None,
    back: str = "/ui/",
) -> str:
    """The viewer page: a contents list by heading level, then the text with the span highlighted."""
    toc = "".join(
        f'<li class="l{min(h.level, 4)}"><a href="#h{i}">{html.escape(h.title)}</a></li>'
        for i, h in enumerate(headings)
    )
    hit = (
        '<p class="gq-hit-note">引文已高亮 · The quoted passage is highlighted '
        '(<a href="#gq-hit">jump to it</a>).</p>'
        if span
        else ""
    )
    scroll = (
        "<script>addEventListener('load',function(){var m=document.getElementById('gq-hit');"
        "if(m)m.scrollIntoView({block:'center'});});</script>"
        if span
        else ""
    )
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(title)} · govqa</title>
<style>
body{{margin:0;font:16px/1.8 system-ui,'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif;
color:#1d2733;background:#fff}}
header{{padding:12px 20px;border-bottom:1px solid #dde3ea;position:sticky;top:0;background:#fff}}
header h1{{font-size:1.2rem;margin:0}} header .src{{color:#5b6776;font-size:.8rem}}
main{{display:flex;gap:24px;padding:0 20px}} nav{{flex:0 0 280px;position:sticky;top:70px;align-self:flex-start;
max-height:calc(100vh - 90px);overflow:auto;font-size:.85rem}} nav ol{{list-style:none;padding:0}}
nav li.l2{{padding-left:1em}} nav li.l3{{padding-left:2em}} nav li.l4{{padding-left:3em}}
nav a{{color:#1f4f8a;text-decoration:none}} article{{flex:1;min-width:0;padding:12px 0 40vh}}
mark{{background:#ffe58a;color:#1d2733;padding:1px 0}} a{{color:#1f4f8a}}
@media (prefers-color-scheme:dark){{body,header{{background:#111827;color:#e5e7eb}}
header .src{{color:#9ca3af}} nav a,a{{color:#8fb8ff}} mark{{background:#ffe58a;color:#1d2733}}}}
@media (max-width:700px){{main{{display:block}} nav{{position:static;max-height:none}}}}
</style></head><body>
<header><h1>{html.escape(title)}</h1><div class="src">{html.escape(source)} ·
<a href="{html.escape(back)}">返回问答 · back to the chat</a></div></header>
<main><nav aria-label="目录 · Contents"><ol>{toc}</ol></nav>
<article>{hit}{_body(text, headings, span)}</article></main>{scroll}</body></html>"""
