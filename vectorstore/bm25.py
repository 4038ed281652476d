"""Chinese BM25: tokenizers and an in-memory index that follows adds and deletes.

Tokenizers (all normalise first: NFKC folds full-width letters, digits and punctuation to half-width,
then lower-case):

- ``bigram``: overlapping character bigrams of every CJK run (a lone CJK character is kept as a unigram);
  ASCII words and numbers kept whole, decimals included, so "10.8亿元" gives "10.8" and "亿元".
- ``jieba``: jieba 0.42.1 words in search mode (long words also yield their dictionary sub-words), with
  the same ASCII/number rule.
- ``both``: the two token lists concatenated (one vocabulary: a two-character jieba word and the same
  bigram are one term, counted twice).

The tokens of every item are stored in SQLite (space-joined); this module never touches disk. jieba is
loaded on first use and builds its prefix dictionary in memory: its own initialiser would read and write
a marshal cache in the shared system temp folder.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

Tokenizer = Callable[[str], list[str]]

NO_TOKENIZER = "none"
TOKENIZERS = ("bigram", "jieba", "both")
TOKENIZER_VERSION = 1  # bump when tokens change: stored indexes are then re-tokenised on open

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN_RE = re.compile(rf"[{_CJK}]+|[0-9a-z]+(?:\.[0-9]+)*")
_CJK_RE = re.compile(rf"[{_CJK}]")


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def bigram_tokens(text: str) -> list[str]:
    out: list[str] = []
    for m in _TOKEN_RE.finditer(normalise(text)):
        run = m.group()
        if not _CJK_RE.match(run) or len(run) == 1:
            out.append(run)
        else:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


def jieba_tokens(text: str) -> list[str]:
    out: list[str] = []
    for word in _jieba().cut_for_search(normalise(text)):
        out.extend(m.group() for m in _TOKEN_RE.finditer(word))
    return out


def both_tokens(text: str) -> list[str]:
    return bigram_tokens(text) + jieba_tokens(text)


_TOKENIZERS: dict[str, Tokenizer] = {"bigram": bigram_tokens, "jieba": jieba_tokens, "both": both_tokens}


def get_tokenizer(name: str) -> Tokenizer | None:
    """The tokenizer called ``name``; None for ``"none"`` (no BM25)."""
    if name == NO_TOKENIZER:
        return None
    try:
        return _TOKENIZERS[name]
    except KeyError:
        from govqa.errors import ConfigError

        raise ConfigError(f"bm25_tokenizer must be one of {', '.join(TOKENIZERS)}, got {name!r}") from None


_jieba_instance: Any = None
_jieba_lock = threading.Lock()


def _jieba() -> Any:
    global _jieba_instance
    with _jieba_lock:
        if _jieba_instance is None:
            import jieba

            tokenizer = jieba.Tokenizer()
            # what Tokenizer.initialize() does, minus its marshal cache in the shared temp folder (~1.5 s)
            tokenizer.FREQ, tokenizer.total = tokenizer.gen_pfdict(tokenizer.get_dict_file())
            tokenizer.initialized = True
            _jieba_instance = tokenizer
            log.debug("jieba dictionary loaded")
    return _jieba_instance


class BM25Index:
    """Okapi BM25 over integer ids, updated in place.

    Postings are compact arrays per term (8-byte id + 4-byte term frequency); document length and the
    average are read at query time, so adds and deletes never rescore the rest of the index.
    """

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self._vocab: dict[str, int] = {}
        self._post_ids: list[array[int]] = []
        self._post_tfs: list[array[int]] = []
        self._doc_terms: dict[int, array[int]] = {}
        self._lengths = np.zeros(1024, dtype=np.float32)
        self._total_length = 0.0

    def __len__(self) -> int:
        return len(self._doc_terms)

    @property
    def vocabulary_size(self) -> int:
        return len(self._vocab)

    def add(self, doc: int, tokens: Sequence[str]) -> None:
        if doc in self._doc_terms:
            self.remove([doc])
        terms = array("i")
        for token, tf in Counter(tokens).items():
            term = self._vocab.get(token)
            if term is None:
                term = self._vocab[token] = len(self._post_ids)
                self._post_ids.append(array("q"))
                self._post_tfs.append(array("i"))
            self._post_ids[term].append(doc)
            self._post_tfs[term].append(tf)
            terms.append(term)
        self._doc_terms[doc] = terms
        if doc >= len(self._lengths):
            grown = np.zeros(max(doc + 1, 2 * len(self._lengths)), dtype=np.float32)
            grown[: len(self._lengths)] = self._lengths
            self._lengths = grown
        self._lengths[doc] = len(tokens)
        self._total_length += len(tokens)

    def add_many(self, docs: Iterable[tuple[int, Sequence[str]]]) -> None:
        for doc, tokens in docs:
            self.add(doc, tokens)

    def remove(self, docs: Iterable[int]) -> None:
        gone = [d for d in dict.fromkeys(docs) if d in self._doc_terms]
        if not gone:
            return
        touched: set[int] = set()
        for d in gone:
            touched.update(self._doc_terms.pop(d))
            self._total_length -= float(self._lengths[d])
            self._lengths[d] = 0.0
        gone_ids = np.asarray(gone, dtype=np.longlong)
        for term in touched:
            ids = np.frombuffer(self._post_ids[term], dtype=np.longlong)
            keep = ~np.isin(ids, gone_ids)
            self._post_ids[term] = _array("q", ids[keep])
            self._post_tfs[term] = _array("i", np.frombuffer(self._post_tfs[term], dtype=np.intc)[keep])

    def search(self, tokens: Sequence[str], limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) of every document sharing a term with the query, best first (ties: lower id)."""
        n = len(self._doc_terms)
        empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        if n == 0:
            return empty
        avg_length = self._total_length / n or 1.0
        ids_parts, weight_parts = [], []
        for token in dict.fromkeys(tokens):
            term = self._vocab.get(token)
            if term is None or not len(self._post_ids[term]):
                continue
            ids = np.frombuffer(self._post_ids[term], dtype=np.longlong)
            tf = np.frombuffer(self._post_tfs[term], dtype=np.intc).astype(np.float32)
            df = len(ids)
            idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
            norm = self.k1 * (1.0 - self.b + self.b * self._lengths[ids] / avg_length)
            ids_parts.append(ids)
            weight_parts.append(idf * tf * (self.k1 + 1.0) / (tf + norm))
        if not ids_parts:
            return empty
        docs, inverse = np.unique(np.concatenate(ids_parts), return_inverse=True)
        scores = np.bincount(inverse, weights=np.concatenate(weight_parts)).astype(np.float32)
        order = np.argsort(-scores, kind="stable")
        if limit is not None:
            order = order[:limit]
        return docs[order].astype(np.int64), scores[order]

    def ranked(self, tokens: Sequence[str]) -> Iterator[tuple[int, float]]:
        ids, scores = self.search(tokens)
        return zip(ids.tolist(), scores.tolist(), strict=True)


def _array(typecode: str, values: np.ndarray) -> array[int]:
    out = array(typecode)
    out.frombytes(values.tobytes())
    return out
