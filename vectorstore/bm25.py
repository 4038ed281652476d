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
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
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


_FLUSH_TOKENS = 1 << 19  # buffered tokens that trigger indexing a batch (bounds its temporary arrays)
_FIRST = 128  # ranked(): documents in the first sorted batch; each later batch is 4x larger
_COMPACT_MIN = 4096  # dead slots are dropped once they outnumber the live ones and this
_TF_DTYPES: dict[str, type[np.unsignedinteger[Any]]] = {"H": np.uint16, "I": np.uint32}


class BM25Index:
    """Okapi BM25 over integer ids, updated in place.

    Every indexed document has a *slot* (0, 1, 2, ... in indexing order). Per term, postings are two
    appendable arrays, slot-sorted: slot (int32) and term frequency (uint16; uint32 for a term once a
    tf exceeds 65535). A forward array lists each slot's terms, so a delete can update document
    frequencies.

    - ``add`` buffers the tokens; before the next query (or every ~500k tokens) the buffer is indexed in
      one batch with numpy (sort-based counting) instead of a Python loop per posting.
    - ``remove`` marks the slot dead (a tombstone) and subtracts its length and its terms' document
      frequencies, so the statistics are exact at once; dead postings are ignored by queries and
      dropped when dead slots outnumber live ones (compaction renumbers the slots).
    - A query adds each term's weights into a dense float64 array over slots (``np.add.at``, one pass;
      the per-slot length normalisation is computed once per index state), then reads the ranking
      best-first by partial selection (``np.partition``) in growing batches, so the usual top-k never
      sorts every matching document.

    Scores: ``tf * (idf * (k1 + 1)) / (tf + k1 * (1 - b + b * length / avg_length))`` per term with
    ``idf = ln(1 + (n - df + 0.5) / (df + 0.5))``, in float64, summed term by term in query order
    (first occurrences), returned as float32; ties go to the lower id. Thread-safe: one lock guards
    the buffer, the arrays and the per-state cache (queries run one at a time).
    """

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self._lock = threading.Lock()
        self._vocab: dict[str, int] = {}
        self._post_slots: list[array[int]] = []
        self._post_tfs: list[array[int]] = []
        self._df = np.zeros(1024, dtype=np.int64)  # live documents per term
        self._slot_of: dict[int, int] = {}  # live, indexed doc -> slot
        self._slot_doc = array("q")
        self._slot_len = array("q")  # tokens; -1 for a dead slot
        self._fwd_start = array("q", [0])  # slot s's terms: _fwd_terms[_fwd_start[s] : _fwd_start[s + 1]]
        self._fwd_terms = array("i")
        self._dead = 0
        self._total_length = 0
        self._pending: dict[int, Sequence[str]] = {}  # added, not indexed yet
        self._pending_tokens = 0
        self._version = 0  # bumped by every change of the indexed documents
        self._cache: tuple[int, _State] | None = None

    def __len__(self) -> int:
        with self._lock:  # a batch being indexed moves from _pending to _slot_of
            return len(self._slot_of) + len(self._pending)

    @property
    def _doc_terms(self) -> set[int]:
        """The ids held (the old attribute's keys; tests/vectorstore/test_corpus.py reads it)."""
        with self._lock:
            return self._slot_of.keys() | self._pending.keys()

    @property
    def vocabulary_size(self) -> int:
        """Distinct terms indexed so far (terms of deleted documents included)."""
        with self._lock:
            self._flush()
            return len(self._vocab)

    def add(self, doc: int, tokens: Sequence[str]) -> None:
        doc = int(doc)
        with self._lock:
            old = self._pending.pop(doc, None)
            if old is not None:
                self._pending_tokens -= len(old)
            elif doc in self._slot_of:
                self._remove_indexed([doc])
            self._pending[doc] = tuple(tokens)
            self._pending_tokens += len(tokens)
            if self._pending_tokens >= _FLUSH_TOKENS:
                self._flush()

    def add_many(self, docs: Iterable[tuple[int, Sequence[str]]]) -> None:
        for doc, tokens in docs:
            self.add(doc, tokens)

    def remove(self, docs: Iterable[int]) -> None:
        with self._lock:
            indexed = []
            for doc in dict.fromkeys(int(d) for d in docs):
                old = self._pending.pop(doc, None)
                if old is not None:
                    self._pending_tokens -= len(old)
                elif doc in self._slot_of:
                    indexed.append(doc)
            if indexed:
                self._remove_indexed(indexed)

    def search(self, tokens: Sequence[str], limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) of every document sharing a term with the query, best first (ties: lower id)."""
        docs, scores = self._score(tokens)
        order = _best(docs, scores, len(scores) if limit is None else max(0, limit))
        return docs[order], scores[order]

    def ranked(self, tokens: Sequence[str]) -> Iterator[tuple[int, float]]:
        """(id, score) of every matching document, best first: scored now, put in order lazily, in
        batches (the first ``_FIRST``, then 4x larger each), so reading the top few sorts little."""
        docs, scores = self._score(tokens)
        return _best_first(docs, scores)

    # --- internals (called with the lock held) -----------------------------------------------------------
    def _remove_indexed(self, docs: list[int]) -> None:
        slots = [self._slot_of.pop(d) for d in docs]
        start = np.frombuffer(self._fwd_start, dtype=np.int64)
        terms = np.frombuffer(self._fwd_terms, dtype=np.int32)
        np.subtract.at(self._df, np.concatenate([terms[start[s] : start[s + 1]] for s in slots]), 1)
        for s in slots:
            self._total_length -= self._slot_len[s]
            self._slot_len[s] = -1
        self._dead += len(slots)
        self._version += 1

    def _flush(self) -> None:
        """Index the buffered documents in one batch."""
        if not self._pending:
            return
        docs, token_lists = list(self._pending), list(self._pending.values())
        self._pending, self._pending_tokens = {}, 0
        lengths = np.fromiter(map(len, token_lists), dtype=np.int64, count=len(docs))
        vocab = self._vocab
        flat = list(chain.from_iterable(token_lists))
        for token in dict.fromkeys(flat):  # new terms get the next numbers (a loop over distinct ones)
            if token not in vocab:
                vocab[token] = len(vocab)
        terms = np.fromiter(map(vocab.__getitem__, flat), dtype=np.int64, count=len(flat))
        n_terms = len(vocab)
        for _ in range(len(self._post_slots), n_terms):
            self._post_slots.append(array("i"))
            self._post_tfs.append(array("H"))
        if n_terms > len(self._df):
            self._df = np.concatenate([self._df, np.zeros(max(n_terms, len(self._df)), np.int64)])
        first = len(self._slot_doc)
        if first + len(docs) >= 2**31:
            raise OverflowError("BM25Index holds at most 2**31 - 1 documents")
        # (slot, term) pairs with their counts, slot-major: the forward index
        local = np.repeat(np.arange(len(docs), dtype=np.int64), lengths)
        pairs, tfs = np.unique(local * max(n_terms, 1) + terms, return_counts=True)
        pair_slot, pair_term = np.divmod(pairs, max(n_terms, 1))
        self._fwd_terms.frombytes(pair_term.astype(np.int32).tobytes())
        ends = self._fwd_start[-1] + np.cumsum(np.bincount(pair_slot, minlength=len(docs)))
        self._fwd_start.frombytes(ends.astype(np.int64).tobytes())
        self._df[:n_terms] += np.bincount(pair_term, minlength=n_terms)
        # the same pairs term-major (stable: slots ascending within a term): the postings
        order = np.argsort(pair_term, kind="stable")
        term_sorted = pair_term[order]
        slot_bytes = memoryview((pair_slot[order] + first).astype(np.int32).tobytes())
        tf_sorted = tfs[order]
        tf16 = memoryview(tf_sorted.astype(np.uint16).tobytes())
        tf32: memoryview | None = None  # made when a term of this batch has uint32 frequencies
        for t in np.unique(term_sorted[tf_sorted > 0xFFFF]).tolist():
            if self._post_tfs[t].typecode == "H":
                self._post_tfs[t] = array("I", self._post_tfs[t])
        if len(term_sorted):
            cuts = np.flatnonzero(np.diff(term_sorted)) + 1
            starts = np.concatenate([[0], cuts]).tolist()
            stops = np.concatenate([cuts, [len(term_sorted)]]).tolist()
            for t, a, z in zip(term_sorted[starts].tolist(), starts, stops, strict=True):
                self._post_slots[t].frombytes(slot_bytes[4 * a : 4 * z])
                tf_array = self._post_tfs[t]
                if tf_array.typecode == "H":
                    tf_array.frombytes(tf16[2 * a : 2 * z])
                else:
                    if tf32 is None:
                        tf32 = memoryview(tf_sorted.astype(np.uint32).tobytes())
                    tf_array.frombytes(tf32[4 * a : 4 * z])
        self._slot_doc.extend(docs)
        self._slot_len.frombytes(lengths.tobytes())
        self._slot_of.update(zip(docs, range(first, first + len(docs)), strict=True))
        self._total_length += int(lengths.sum())
        self._version += 1

    def _compact(self) -> None:
        """Drop dead slots and their postings; renumber the live slots in order."""
        lengths = np.frombuffer(self._slot_len, dtype=np.int64)
        live = lengths >= 0
        renumber = (np.cumsum(live) - 1).astype(np.int32)
        for t, slot_array in enumerate(self._post_slots):
            if not slot_array:
                continue
            slots = np.frombuffer(slot_array, dtype=np.int32)
            keep = live[slots]
            tf_array = self._post_tfs[t]
            tfs = np.frombuffer(tf_array, dtype=_TF_DTYPES[tf_array.typecode])
            self._post_slots[t] = _array("i", renumber[slots[keep]])
            self._post_tfs[t] = _array(tf_array.typecode, tfs[keep])
        counts: np.ndarray = np.diff(np.frombuffer(self._fwd_start, dtype=np.int64))
        self._fwd_terms = _array("i", np.frombuffer(self._fwd_terms, dtype=np.int32)[np.repeat(live, counts)])
        self._fwd_start = _array("q", np.concatenate([[0], np.cumsum(counts[live])]).astype(np.int64))
        docs = np.frombuffer(self._slot_doc, dtype=np.int64)[live]
        self._slot_doc = _array("q", docs)
        self._slot_len = _array("q", lengths[live])
        self._slot_of = dict(zip(docs.tolist(), range(len(docs)), strict=True))
        self._dead = 0
        self._version += 1
        log.debug("BM25 index compacted to %d documents", len(docs))

    def _prepared(self) -> _State:
        """Index the buffer, compact if due; the per-slot arrays queries need, cached per index state."""
        self._flush()
        if self._dead > max(len(self._slot_of), _COMPACT_MIN):
            self._compact()
        if self._cache is None or self._cache[0] != self._version:
            lengths = np.frombuffer(self._slot_len, dtype=np.int64).astype(np.float64)
            avg_length = (self._total_length / len(self._slot_of) if self._slot_of else 1.0) or 1.0
            norm = self.k1 * (1.0 - self.b + self.b * lengths / avg_length)
            dead = np.flatnonzero(lengths < 0)
            norm[dead] = 1.0  # any positive value: dead slots are zeroed after scoring
            self._cache = (self._version, _State(norm, dead, self.k1 + 1.0))
        return self._cache[1]

    def _score(self, tokens: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(ids, float32 scores) of every matching document, unordered."""
        with self._lock:
            state = self._prepared()
            n = len(self._slot_of)
            acc = state.acc  # all zeros between queries
            try:
                for token in dict.fromkeys(tokens):
                    term = self._vocab.get(token)
                    if term is None or not self._df[term]:
                        continue
                    df = int(self._df[term])
                    idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
                    tf_array = self._post_tfs[term]
                    tf = np.frombuffer(tf_array, dtype=_TF_DTYPES[tf_array.typecode])
                    state.add_to(acc, np.frombuffer(self._post_slots[term], dtype=np.int32), tf, idf)
                acc[state.dead] = 0.0
                hit = np.flatnonzero(acc)
                scores = acc[hit].astype(np.float32)
                acc[hit] = 0.0
            except BaseException:
                acc.fill(0.0)
                raise
            return np.frombuffer(self._slot_doc, dtype=np.int64)[hit], scores


class _State:
    """Per-slot arrays for one index state (length normalisation, dead slots) and scratch space."""

    def __init__(self, norm: np.ndarray, dead: np.ndarray, k1_plus_1: float) -> None:
        self.norm = norm  # k1 * (1 - b + b * length / avg_length)
        self.dead = dead
        self.k1_plus_1 = k1_plus_1
        self.acc = np.zeros(len(norm), dtype=np.float64)  # the score accumulator, zeroed after each use
        self._scratch = np.empty((2, 0), dtype=np.float64)

    def add_to(self, acc: np.ndarray, slots: np.ndarray, tf: np.ndarray, idf: float) -> None:
        """``acc[slots] += tf * (idf * (k1 + 1)) / (tf + norm[slots])`` without temporaries; the adds in
        one pass (``np.add.at``; a term lists a slot once, so it is the plain sum, term after term)."""
        m = len(slots)
        if self._scratch.shape[1] < m:
            self._scratch = np.empty((2, max(m, 2 * self._scratch.shape[1])), dtype=np.float64)
        weight, denominator = self._scratch[0, :m], self._scratch[1, :m]
        np.take(self.norm, slots, out=denominator)
        np.add(denominator, tf, out=denominator)
        np.multiply(tf, idf * self.k1_plus_1, out=weight)
        np.divide(weight, denominator, out=weight)
        np.add.at(acc, slots, weight)


def _best(docs: np.ndarray, scores: np.ndarray, r: int) -> np.ndarray:
    """Positions of the ``r`` best documents, in order: score descending, then id ascending."""
    m = len(scores)
    if r >= m:
        return np.lexsort((docs, -scores))
    if r <= 0:
        return np.zeros(0, dtype=np.intp)
    kth = np.partition(scores, m - r)[m - r]  # the r-th largest score
    near = np.flatnonzero(scores >= kth)  # r or more (ties at the cut)
    return near[np.lexsort((docs[near], -scores[near]))[:r]]


def _best_first(docs: np.ndarray, scores: np.ndarray) -> Iterator[tuple[int, float]]:
    batch = _FIRST
    while len(scores):
        if 2 * batch >= len(scores):
            batch = len(scores)
        order = _best(docs, scores, batch)
        yield from zip(docs[order].tolist(), scores[order].tolist(), strict=True)
        if batch >= len(scores):
            return
        rest = np.ones(len(scores), dtype=bool)
        rest[order] = False
        docs, scores = docs[rest], scores[rest]
        batch *= 4


def _array(typecode: str, values: np.ndarray) -> array[int]:
    out = array(typecode)
    out.frombytes(values.tobytes())
    return out
