"""Raw text → ``Document``: clean the text, read its metadata, give it a stable id.

The next step is ``ingest.chunking.split_document``. Loading files (``ingest.loaders``) and storing
chunks happen elsewhere.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
from collections import Counter
from pathlib import PurePath
from typing import Any

from govqa.types import Document, DocumentMeta
from ingest.clean import clean_text
from ingest.metadata import extract_metadata
from ingest.overrides import apply_overrides

log = logging.getLogger(__name__)

_DOC_ID_LEN = 16


def doc_id_for(source: str) -> str:
    """Stable id from the file name alone, so re-ingesting a changed file replaces the old version."""
    return hashlib.sha256(PurePath(source).name.encode("utf-8")).hexdigest()[:_DOC_ID_LEN]


def make_document(
    source: str,
    raw_text: str,
    sha256: str,
    overrides: dict[str, Any] | None = None,
    *,
    ocr_engine: str = "",
    ocr_pages: tuple[int, ...] = (),
) -> Document:
    """Clean ``raw_text`` and read its metadata; ``overrides`` are fields the user set
    (``ingest.overrides``). ``source`` is reduced to its file name.

    ``ocr_engine``/``ocr_pages`` record which pages were read by OCR (``ingest.loaders.LoadedFile``).
    """
    name = PurePath(source).name
    text = clean_text(raw_text)
    meta = extract_metadata(text, name)
    if ocr_engine:
        meta = dataclasses.replace(meta, ocr_engine=ocr_engine, ocr_pages=tuple(ocr_pages))
        meta = _body_by_majority(meta, text)
    meta = apply_overrides(meta, overrides or {})
    if meta.missing:
        log.warning(
            "%s: could not read %s; set it with --body/--year or %s.meta.json", name, meta.missing, name
        )
    log.debug("%s: %d raw chars -> %d clean chars; %s", name, len(raw_text), len(text), meta.title)
    return Document(doc_id=doc_id_for(name), source=name, text=text, meta=meta, sha256=sha256)


def _body_by_majority(meta: DocumentMeta, text: str) -> DocumentMeta:
    """OCR can misread one character of the body's name in the title block (河西镇 → 河四镇), which files
    the whole report under a body that does not exist. When a spelling one character away occurs in the
    text at least twice as often (and at least 3 times), it is the body's name."""
    body = meta.body
    if len(body) < 2:
        return meta
    seen: Counter[str] = Counter()
    for i in range(len(body) - 1):  # the last character is the level suffix (镇, 区), read reliably
        pattern = re.escape(body[:i]) + r"([\u4e00-\u9fff])" + re.escape(body[i + 1 :])
        seen.update(m.group(0) for m in re.finditer(pattern, text))
    own = text.count(body)
    best, n = max(((v, c) for v, c in seen.items() if v != body), key=lambda vc: vc[1], default=("", 0))
    if n < 3 or n < 2 * own:
        return meta
    log.info("OCR'd body name %r read as %r, which the text spells %d times", body, best, n)
    return dataclasses.replace(meta, body=best, title=meta.title.replace(body, best))
