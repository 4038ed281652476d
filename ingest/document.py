"""Raw text → ``Document``: clean the text, read its metadata, give it a stable id.

The next step is ``ingest.chunking.split_document``. Loading files (``ingest.loaders``) and storing
chunks happen elsewhere.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from pathlib import PurePath

from govqa.types import Document
from ingest.clean import clean_text
from ingest.metadata import extract_metadata

log = logging.getLogger(__name__)

_DOC_ID_LEN = 16


def doc_id_for(source: str) -> str:
    """Stable id from the file name alone, so re-ingesting a changed file replaces the old version."""
    return hashlib.sha256(PurePath(source).name.encode("utf-8")).hexdigest()[:_DOC_ID_LEN]


def make_document(
    source: str, raw_text: str, sha256: str, *, ocr_engine: str = "", ocr_pages: tuple[int, ...] = ()
) -> Document:
    """Clean ``raw_text`` and read its metadata. ``source`` is reduced to its file name.

    ``ocr_engine``/``ocr_pages`` record which pages were read by OCR (``ingest.loaders.LoadedFile``).
    """
    name = PurePath(source).name
    text = clean_text(raw_text)
    meta = extract_metadata(text, name)
    if ocr_engine:
        meta = dataclasses.replace(meta, ocr_engine=ocr_engine, ocr_pages=tuple(ocr_pages))
    log.debug("%s: %d raw chars -> %d clean chars; %s", name, len(raw_text), len(text), meta.title)
    return Document(doc_id=doc_id_for(name), source=name, text=text, meta=meta, sha256=sha256)
