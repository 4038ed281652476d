"""The extractive answerer (the default, no model): for each part of the question, quote the report
sentence that answers it, cited; say what was not found; refuse when nothing was.

``evidence`` (the spans that answer one part) is also the chain's evidence gate before an LLM is asked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from govqa.types import Answer, Citation, Passage
from rag import extractive, front_matter
from rag.answerer import Part, Turn, merge_ranked
from rag.citations import make_citation
from rag.question import QuestionInfo
from rag.retrieval import HybridRetriever
from rag.scope import base_years

REFUSAL_ZH = "报告中没有找到相关内容"
REFUSAL_EN = "The reports do not say"
EN_LEAD = "The reports answer this in Chinese; the evidence is quoted as written:"


class ExtractiveAnswerer:
    """Answers by quoting: the best sentence of the retrieved passages for each part, with its citation."""

    mode = "extractive"

    def __init__(
        self,
        retriever: HybridRetriever,
        weights: extractive.Weights | None = None,
        count_tokens: Callable[[str], int] | None = None,
    ) -> None:
        self.retriever = retriever
        self.weights = weights or extractive.Weights()
        self.count_tokens = count_tokens or (lambda s: len(s))

    def evidence(self, part: Part) -> list[tuple[Passage, int, int]]:
        """The (passage, start, end) spans that answer one sub-question; empty when none does."""
        r = part.retrieval
        if r.scope.empty:
            return []
        wanted = front_matter.intents(part.info)
        if wanted:
            docs = [d for d in self.retriever.docs() if d.doc_id in r.scope.doc_ids]
            doc = front_matter.pick_document(part.info, docs)
            found = front_matter.find(wanted, self.retriever.index.chunks_of(doc.doc_id)) if doc else None
            if found is not None:
                chunk, spans = found
                passage = Passage(chunk, 1.0, {"front_matter": 1.0})
                r.passages = [passage, *[p for p in r.passages if p.chunk.chunk_id != chunk.chunk_id]]
                return [(passage, s, e) for s, e in spans]
        part.pick = extractive.select(part.info, r.passages, self.weights, required=r.scope.required)
        if part.pick is None:
            return []
        u = part.pick.unit
        return [(r.passages[u.passage_index], u.start, u.end)]

    def answer(self, turn: Turn) -> Iterator[str | Answer]:
        answer = self._answer(turn.question, turn.standalone, turn.info, turn.parts)
        yield answer.text
        yield answer

    def _answer(self, question: str, standalone: str, info: QuestionInfo, parts: list[Part]) -> Answer:
        cited: dict[tuple[str, int, int], Citation] = {}
        pieces: list[str] = []
        missing: list[str] = []
        found = [(part, self.evidence(part)) for part in parts]
        quoted = "".join(p.chunk.text[s:e] for _, spans in found for p, s, e in spans)
        found = [(part, spans) for part, spans in found if spans or not _base_quoted(part, info, quoted)]
        for part, spans in found:
            if not spans:
                missing.append(_missing_text(part, info.lang))
                continue
            quotes = []
            for p, start, end in spans:
                key = (p.chunk.chunk_id, start, end)
                if key not in cited:
                    cited[key] = make_citation(len(cited) + 1, p, start, end)
                c = cited[key]
                quotes.append((f"“{c.quote}”" if info.lang == "en" else c.quote) + f"[{c.n}]")
            pieces.append(_label(part, info, len(found)) + ("，" if info.lang == "zh" else ", ").join(quotes))
        retrieved = merge_ranked([p.retrieval.passages for p in parts])
        related = merge_ranked([p.retrieval.related or p.retrieval.passages for p in parts])
        if not pieces:
            return Answer(
                question=question,
                text=_refusal(info, missing),
                refused=True,
                related=related[:5],
                retrieved=retrieved,
                standalone_question=standalone,
                lang=info.lang,
                mode="extractive",
                tokens=self._tokens(retrieved, ""),
            )
        # one sentence per part, so each [n] closes the sentence whose claims it supports
        sep = "。" if info.lang == "zh" else ". "
        body = sep.join(pieces)
        if info.lang == "zh":
            text = body + "。"
            if missing:
                text += "报告中没有找到" + "；".join(missing) + "。"
        else:
            text = f"{EN_LEAD} {body}."
            if missing:
                text += f" {REFUSAL_EN} " + "; ".join(missing) + "."
        return Answer(
            question=question,
            text=text,
            refused=False,
            citations=list(cited.values()),
            related=[p for p in related if p.chunk.chunk_id not in {c.chunk_id for c in cited.values()}][:3],
            retrieved=retrieved,
            standalone_question=standalone,
            lang=info.lang,
            mode="extractive",
            tokens=self._tokens(retrieved, text),
        )

    def _tokens(self, passages: list[Passage], text: str) -> dict[str, int]:
        return {
            "context": sum(self.count_tokens(p.chunk.text) for p in passages),
            "answer": self.count_tokens(text) if text else 0,
        }


def _label(part: Part, whole: QuestionInfo, n_parts: int) -> str:
    """For a multi-part answer, say which part each quote answers (e.g. ``2019年：``)."""
    if n_parts == 1:
        return ""
    bits = []
    if len(whole.bodies) > 1 and part.info.bodies:
        bits.append(part.info.bodies[0])
    if len(whole.years) > 1 and part.info.years:
        bits.append(f"{part.info.years[0]}年" if whole.lang == "zh" else str(part.info.years[0]))
    if not bits:
        return ""
    return ("".join(bits) + "：") if whole.lang == "zh" else (" ".join(bits) + ": ")


def _base_quoted(part: Part, whole: QuestionInfo, quoted: str) -> bool:
    """A part about a year the question names only as a comparison base (the 2016 of 比2016年增长多少),
    which no report covers, is answered by another part's quote that names that year (比2016年增长32%):
    no "nothing about 2016" note for it."""
    years = set(part.info.years)
    return (
        bool(years)
        and part.retrieval.scope.empty
        and years <= base_years(whole.text)
        and all(str(y) in quoted for y in years)
    )


def _missing_text(part: Part, lang: str) -> str:
    """What was not found, as a phrase to follow "报告中没有找到" / "The reports do not say"."""
    if part.retrieval.scope.missing:
        zh = "、".join(m[0] for m in part.retrieval.scope.missing)
        en = ", ".join(m[1] for m in part.retrieval.scope.missing)
        return zh if lang == "zh" else f"anything about {en}"
    subject = part.info.text.rstrip("？?。 ")
    return f"“{subject}”的答案" if lang == "zh" else f"the answer to “{subject}”"


def _refusal(info: QuestionInfo, missing: list[str]) -> str:
    detail = "；".join(dict.fromkeys(missing))
    if info.lang == "zh":
        return f"报告中没有找到{detail}。" if detail else f"{REFUSAL_ZH}。"
    return f"{REFUSAL_EN} {detail}." if detail else f"{REFUSAL_EN}."
