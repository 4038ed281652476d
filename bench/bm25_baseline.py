"""The BM25 index as it was before issue 7 (commit 7dc308d), kept for ``bench/scale.py`` to compare against.

Not used by the package: ``vectorstore.bm25.BM25Index`` replaced it. Same formula (k1, b, idf), float32
per-posting weights summed in float64, ties by lower id.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

import numpy as np


class BaselineBM25Index:
    """Okapi BM25 over integer ids, updated in place (the implementation before issue 7, verbatim).

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
