"""The pure HTML rendering of answers, citations, refusals and the documents tab."""

from __future__ import annotations

import pytest

from govqa.types import Answer, Chunk, Citation, DocumentMeta, DocumentRecord, Passage
from ui.web.render import (
    answer_html,
    citation_card,
    error_html,
    highlight,
    pending_html,
    quote_span,
    text_html,
    user_html,
)
from ui.web.render_docs import ALL, Choices, file_result_html, keep, table_rows, years_text

PASSAGE = "前文<script>alert('x')</script>。2019年全镇预计实现税收收入18亿元,同比增长36.8%;后文 & 其他"
QUOTE = "2019年全镇预计实现税收收入18亿元,同比增长36.8%"


def citation(**overrides: object) -> Citation:
    start = 1000 + PASSAGE.index(QUOTE)
    values: dict[str, object] = {
        "n": 1,
        "chunk_id": "c1",
        "doc_id": "d1",
        "source": "jingwu-2019.txt",
        "title": "2019年精武镇政府工作报告",
        "heading_path": ("一、2019年工作回顾", "（一）经济"),
        "quote": QUOTE,
        "start": start,
        "end": start + len(QUOTE),
        "passage": PASSAGE,
        "passage_start": 1000,
    }
    values.update(overrides)
    return Citation(**values)  # type: ignore[arg-type]


def passage(text: str, title: str = "2021年精武镇政府工作报告") -> Passage:
    meta = DocumentMeta(body="精武镇", title=title)
    chunk = Chunk("c9", "d9", "jingwu-2021.txt", text, ("三、2022年工作安排",), 0, len(text), meta)
    return Passage(chunk, 0.5)


def answer(**overrides: object) -> Answer:
    values: dict[str, object] = {
        "question": "2019年精武镇税收收入是多少？",
        "text": f"{QUOTE}[1]。",
        "refused": False,
        "citations": [citation()],
        "timings_ms": {"total": 12.0},
    }
    values.update(overrides)
    return Answer(**values)  # type: ignore[arg-type]


# --- escaping -------------------------------------------------------------------------------------
def test_script_in_a_passage_is_escaped() -> None:
    html = citation_card(citation())
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "后文 &amp; 其他" in html


def test_markup_in_titles_headings_sources_and_answer_text_is_escaped() -> None:
    c = citation(title="<b>T</b>", heading_path=("<i>H</i>",), source='a"b<img src=x>.txt')
    html = answer_html(answer(text="<img src=x onerror=alert(1)> 见[1]", citations=[c]))
    for raw in ("<b>T</b>", "<i>H</i>", "<img src=x"):
        assert raw not in html
    assert "&lt;b&gt;T&lt;/b&gt; › &lt;i&gt;H&lt;/i&gt;" in html
    assert "a&quot;b&lt;img src=x&gt;.txt" in html


def test_user_question_pending_and_error_text_are_escaped() -> None:
    assert user_html("<b>2019</b>年？") == "&lt;b&gt;2019&lt;/b&gt;年？"
    assert "<script>" not in pending_html("<script>1</script>")
    err = error_html("bad <value>")
    assert "bad &lt;value&gt;" in err and "gq-error" in err and "Traceback" not in err


def test_output_is_one_line() -> None:
    """Newlines would let the chat's Markdown renderer re-read report text as Markdown."""
    c = citation(passage=PASSAGE.replace("。", "。\n\n# 标题\n"), start=0, end=0, quote="")
    html = answer_html(answer(text="第一行\n\n第二行[1]", citations=[c]))
    assert "\n" not in html
    assert "第一行<br><br>第二行" in html


def test_reference_markers_become_superscripts() -> None:
    assert text_html("A[1]，B[2]。") == 'A<sup class="gq-ref">[1]</sup>，B<sup class="gq-ref">[2]</sup>。'


# --- highlighting -----------------------------------------------------------------------------------
def test_quote_is_highlighted_at_its_offsets_within_the_passage() -> None:
    c = citation()
    start = PASSAGE.index(QUOTE)
    assert quote_span(c) == (start, start + len(QUOTE))
    html = highlight(c)
    assert html.count("<mark>") == 1
    assert f"<mark>{QUOTE}</mark>;后文" in html
    assert html.startswith("前文&lt;script&gt;")


def test_offsets_are_relative_to_passage_start() -> None:
    c = citation(passage="abcQUOTEdef", quote="QUOTE", passage_start=100, start=103, end=108)
    assert highlight(c) == "abc<mark>QUOTE</mark>def"


def test_wrong_offsets_fall_back_to_finding_the_quote() -> None:
    c = citation(passage="abcQUOTEdef QUOTE", quote="QUOTE", passage_start=0, start=50, end=55)
    assert highlight(c) == "abc<mark>QUOTE</mark>def QUOTE"


def test_quote_missing_from_passage_is_shown_alone() -> None:
    assert highlight(citation(passage="", quote="<q>")) == "<mark>&lt;q&gt;</mark>"
    assert highlight(citation(passage="other text", quote="QUOTE")) == "<mark>QUOTE</mark>"


def test_card_shows_where_source_and_offsets() -> None:
    c = citation()
    html = citation_card(c, open_=True)
    assert html.startswith('<details class="gq-card" open>')
    assert "<summary>" in html
    assert "2019年精武镇政府工作报告 › 一、2019年工作回顾 › （一）经济" in html
    assert f"jingwu-2019.txt · 字符 {c.start}–{c.end}" in html
    assert " open" not in citation_card(c).split(">")[0]


# --- answers and refusals ---------------------------------------------------------------------------
def test_answer_has_text_cards_and_footer_and_no_refusal_style() -> None:
    html = answer_html(answer(citations=[citation(), citation(n=2)]))
    assert "gq-refused" not in html and "⚠" not in html
    assert html.count('<details class="gq-card"') == 2
    assert html.count('<details class="gq-card" open>') == 1  # the first card is open
    assert "原文摘录 · quoted · 12 ms" in html
    assert "出处" in html


def test_refusal_is_styled_labelled_and_lists_related_passages() -> None:
    related = [passage(f"相关段落{i} <tag>") for i in range(5)]
    html = answer_html(
        answer(
            text="报告中没有找到“2023年精武镇税收收入”的答案。", refused=True, citations=[], related=related
        )
    )
    assert 'class="gq-answer gq-refused"' in html
    assert "⚠" in html and "报告中未找到依据" in html
    assert "相关段落（供参考，不是答案）" in html
    assert html.count("gq-related-card") == 3  # the first few only
    assert "相关段落0 &lt;tag&gt;" in html
    assert "2021年精武镇政府工作报告 › 三、2022年工作安排" in html


def test_english_refusal_label_and_long_related_passages_are_cut() -> None:
    html = answer_html(answer(refused=True, lang="en", citations=[], related=[passage("长" * 500)]))
    assert "Not in the reports" in html
    assert "长" * 240 + "…" in html and "长" * 241 not in html


def test_warnings_are_shown() -> None:
    assert "注意: a claim <x>".replace("<x>", "&lt;x&gt;") in answer_html(answer(warnings=["a claim <x>"]))


# --- documents tab ----------------------------------------------------------------------------------
def record(doc_id: str, body: str, title: str, years: tuple[int, ...]) -> DocumentRecord:
    meta = DocumentMeta(body=body, title=title, years_reviewed=years)
    return DocumentRecord(doc_id, f"{doc_id}.txt", "0" * 64, meta, 10, "2026-01-01T00:00:00Z")


def test_years_text() -> None:
    assert years_text([2020, 2019]) == "2019–2020"
    assert years_text([2019, 2021]) == "2019, 2021"
    assert years_text([2024]) == "2024"
    assert years_text([]) == ""


def test_table_rows_and_choices() -> None:
    records = [
        record("b", "精武镇", "2019年精武镇政府工作报告", (2019, 2020)),
        record("a", "西青区", "", (2021,)),
    ]
    assert table_rows(records) == [
        ["b", "2019年精武镇政府工作报告", "精武镇", "2019–2020", 10, "b.txt"],
        ["a", "", "西青区", "2021", 10, "a.txt"],
    ]
    c = Choices.of(records)
    assert [v for _, v in c.bodies] == [ALL, "精武镇", "西青区"]
    assert [v for _, v in c.years] == [ALL, "2019", "2020", "2021"]
    assert ("2019年精武镇政府工作报告 · b.txt", "b") in c.documents
    assert ("a.txt · a.txt", "a") in c.documents
    assert keep("精武镇", c.bodies) == "精武镇"
    assert keep("张家窝镇", c.bodies) == ALL
    assert keep(None, c.bodies) == ALL


def test_file_result_is_escaped() -> None:
    ok = file_result_html("<a>.txt", True, "added")
    assert "✔" in ok and "gq-ok" in ok and "&lt;a&gt;.txt" in ok
    assert "gq-fail" in file_result_html("x.exe", False, "unsupported")


def test_the_users_question_is_shown_as_text_never_as_markdown() -> None:
    from ui.web.render import user_html

    shown = user_html("![x](http://evil.example/a.png) **粗** <b>&amp;\n第二行")
    assert "![" not in shown and "](" not in shown and "**" not in shown and "<b>" not in shown
    assert shown.startswith("&#33;&#91;x&#93;&#40;http://evil&#46;example")
    assert "&lt;b&gt;&amp;amp;<br>第二行" in shown


def test_reference_markers_link_to_their_cards_when_keyed() -> None:
    from ui.web.render import card_id

    assert text_html("A[1]，B[3]。", "k1", {1, 2}) == (
        'A<sup class="gq-ref"><a class="gq-ref-link" href="#gq-c-k1-1">[1]</a></sup>，'
        'B<sup class="gq-ref">[3]</sup>。'  # no card 3: no link
    )
    html = answer_html(answer(), key="ab12")
    assert f'<details class="gq-card" id="{card_id("ab12", 1)}" open>' in html
    assert 'href="#gq-c-ab12-1"' in html and 'class="gq-copy"' in html
    assert "gq-ref-link" not in answer_html(answer())  # unkeyed: plain markers, cards without ids
    with pytest.raises(ValueError, match="letters and digits"):
        answer_html(answer(), key='x" onclick="y')


def test_restored_answers_are_escaped_text() -> None:
    from ui.web.render import restored_answer_html

    html = restored_answer_html("<b>18亿元</b>[1]", refused=False)
    assert "&lt;b&gt;" in html and "gq-restored" in html and "已从本浏览器恢复" in html
    assert "&#91;1&#93;" in html  # a marker is text: nothing from the browser links anywhere
    assert "没有回答" in restored_answer_html("") and "gq-refused" in restored_answer_html("x", True)


def test_filter_line_names_the_filters_in_force() -> None:
    from ui.web.render_docs import filter_line

    assert "全部报告" in filter_line(ALL, ALL, None)
    assert filter_line("精武镇", "2024", None) == '<div class="gq-filter-line">筛选：精武镇 · 2024年</div>'
    assert filter_line(ALL, ALL, "<b>报告</b>").endswith("筛选：&lt;b&gt;报告&lt;/b&gt;</div>")
