"""The OCR and table fields of the shared data types survive JSON and say what happened."""

from __future__ import annotations

import json

from govqa.types import Chunk, DocumentMeta, page_ranges


def test_page_ranges() -> None:
    assert page_ranges((1, 2, 3, 5, 7, 8)) == "1-3, 5, 7-8"
    assert page_ranges(()) == ""


def test_ocr_meta_round_trips_and_notes_the_pages() -> None:
    meta = DocumentMeta(title="t", ocr_engine="tesseract 5.3.0 (chi_sim+eng)", ocr_pages=(2, 3))
    back = DocumentMeta.from_dict(json.loads(json.dumps(meta.to_dict())))
    assert back == meta
    assert back.ocr_note.startswith("text of page(s) 2-3 read by OCR (tesseract 5.3.0")
    assert DocumentMeta().ocr_note == ""
    assert DocumentMeta.from_dict({"title": "old index row"}).ocr_pages == ()


def test_chunk_lead_round_trips_and_is_embedded_but_not_text() -> None:
    c = Chunk(
        "id",
        "d",
        "s.pdf",
        "| a | 1 |",
        ("二、工作安排",),
        10,
        19,
        DocumentMeta(title="T"),
        lead="| 指标 | 值 |\n| --- | --- |",
    )
    back = Chunk.from_dict(json.loads(json.dumps(c.to_dict())))
    assert back == c
    assert c.embed_text == "T › 二、工作安排\n| 指标 | 值 |\n| --- | --- |\n| a | 1 |"
    assert "lead" not in Chunk("i", "d", "s", "x", (), 0, 1, DocumentMeta()).to_dict()  # old rows unchanged
