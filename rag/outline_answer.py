"""The overview answer: for a question asking for several things (主要工作有哪些, 总结一下), an outline of one
report built from its heading tree, each point quoted and cited (``rag.overview`` picks the points).
"""

from __future__ import annotations

from typing import Any

from govqa.types import Answer, Citation, Passage
from rag import overview
from rag.answerer import Part
from rag.citations import make_citation
from rag.question import QuestionInfo
from rag.retrieval import HybridRetriever


def outline_answer(
    retriever: HybridRetriever, question: str, standalone: str, info: QuestionInfo, parts: list[Part]
) -> Answer | None:
    """None when the question asks for no overview, or no report in scope has a heading tree."""
    if not overview.asks_overview(info.text) or info.is_comparison or len(parts) != 1:
        return None
    scope = parts[0].retrieval.scope
    docs = [d for d in retriever.docs() if d.doc_id in scope.doc_ids]
    if not docs:
        return None
    year = info.years[0] if info.years else None
    ranked = [p.chunk.doc_id for p in parts[0].retrieval.passages]

    def fit(d: Any) -> tuple[int, int, int, int]:
        covers = year is not None and year in d.meta.years
        rank = ranked.index(d.doc_id) if d.doc_id in ranked else len(ranked)
        span = len(d.meta.years) if covers else 0  # the report about that year alone first
        return (0 if covers or year is None else 1, span, rank, -max(d.meta.years_reviewed or (0,)))

    doc = min(docs, key=fit)
    part = overview.wanted_part(info.text, year, doc.meta.years_reviewed, doc.meta.years_planned)
    chunks = sorted(retriever.index.chunks_of(doc.doc_id), key=lambda c: c.ordinal)
    topics = overview.topic_terms(info.terms, info.text)
    points, more = overview.outline(chunks, part, topics, year if part else None)
    if not points:
        return None
    cited: list[Citation] = []
    lines = []
    for i, pt in enumerate(points, 1):
        c = make_citation(i, Passage(pt.chunk, 1.0, {"outline": 1.0}), pt.start, pt.end)
        cited.append(c)
        quote = c.quote if info.lang == "zh" else f"“{c.quote}”"
        top = f"{pt.chunk.heading_path[0]} › " if not part else ""
        lines.append(f"{i}. {top}{pt.heading}：{quote}[{c.n}]" + ("；" if info.lang == "zh" else ""))
    section = points[0].chunk.heading_path[0] if part else ""
    title = doc.meta.title or doc.source
    if info.lang == "zh":
        where = f"《{title}》" + (f"“{section}”部分" if section else "")
        head = f"{where}的要点（按报告的标题层级）："
        tail = f"另有{more}项未列出，可追问某一方面。" if more else ""
        lines[-1] = lines[-1].rstrip("；") + "。"
    else:
        where = f"“{title}”" + (f", section “{section}”" if section else "")
        head = f"The main points of {where}, following the report's headings (quoted in Chinese):"
        tail = f"{more} more not listed; ask about one area for detail." if more else ""
    text = "\n".join([head, *lines] + ([tail] if tail else []))
    return Answer(
        question=question,
        text=text,
        refused=False,
        citations=cited,
        retrieved=parts[0].retrieval.passages,
        standalone_question=standalone,
        lang=info.lang,
        mode="extractive",
    )
