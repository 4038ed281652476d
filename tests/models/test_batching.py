"""The query micro-batcher: concurrent callers share forward passes, each gets its own row, the wait and
the batch are bounded, and an error reaches every caller in the failed batch."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import pytest

from govqa.errors import ConfigError
from govqa.models.batching import BatchingEmbedder, MicroBatcher
from govqa.models.embedders import HashingEmbedder

HANG_GUARD_S = 30  # not a timing assertion: only keeps a broken batcher from hanging the run


def _rows(texts: list[str]) -> np.ndarray:
    """One row per text that identifies it: [len, codepoint of the last character]."""
    return np.array([[len(t), ord(t[-1])] for t in texts], dtype=np.float32)


class Recorder:
    """A batch function that records every batch it got; ``gate`` (if set) holds the first call."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.batches: list[list[str]] = []
        self.gate = gate
        self.started = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            self.batches.append(list(texts))
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(HANG_GUARD_S)
        return _rows(texts)


def test_concurrent_callers_share_batches_and_each_gets_its_own_row() -> None:
    fn = Recorder()
    batcher = MicroBatcher(fn, max_batch=8, max_wait_ms=200)
    texts = [f"q{i:02d}" + chr(0x4E00 + i) for i in range(32)]
    results: dict[str, np.ndarray] = {}
    barrier = threading.Barrier(len(texts))

    def ask(text: str) -> None:
        barrier.wait()
        results[text] = batcher.submit(text).result(HANG_GUARD_S)

    threads = [threading.Thread(target=ask, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(HANG_GUARD_S)
    batcher.close()

    assert set(results) == set(texts)
    for text, row in results.items():
        np.testing.assert_array_equal(row, _rows([text])[0])
    assert sorted(t for batch in fn.batches for t in batch) == sorted(texts)  # each text embedded once
    assert all(len(batch) <= 8 for batch in fn.batches)
    assert len(fn.batches) < len(texts)  # they shared forward passes
    assert batcher.calls == len(fn.batches) and batcher.items == len(texts)


def test_batch_size_is_bounded_and_what_queued_behind_a_running_pass_goes_next() -> None:
    gate = threading.Event()
    fn = Recorder(gate)
    batcher = MicroBatcher(fn, max_batch=3, max_wait_ms=0)
    first = batcher.submit("a1")
    assert fn.started.wait(HANG_GUARD_S)  # the first pass is running (held by the gate)
    queued = [batcher.submit(f"b{i}") for i in range(7)]
    gate.set()
    assert first.result(HANG_GUARD_S)[0] == 2
    assert [f.result(HANG_GUARD_S)[0] for f in queued] == [2.0] * 7
    batcher.close()
    assert fn.batches[0] == ["a1"]
    assert [len(b) for b in fn.batches[1:]] == [3, 3, 1]  # queued while busy: full batches, no extra wait


def test_a_lone_question_does_not_wait_for_a_full_batch() -> None:
    fn = Recorder()
    batcher = MicroBatcher(fn, max_batch=64, max_wait_ms=20)
    row = batcher.submit("alone").result(HANG_GUARD_S)  # returns after the bounded wait, batch of one
    batcher.close()
    np.testing.assert_array_equal(row, _rows(["alone"])[0])
    assert fn.batches == [["alone"]]


def test_identical_texts_in_one_batch_are_embedded_once() -> None:
    gate = threading.Event()
    fn = Recorder(gate)
    batcher = MicroBatcher(fn, max_batch=8, max_wait_ms=0)
    held = batcher.submit("x")
    assert fn.started.wait(HANG_GUARD_S)
    same = [batcher.submit("same?") for _ in range(5)]
    gate.set()
    held.result(HANG_GUARD_S)
    rows = [f.result(HANG_GUARD_S) for f in same]
    batcher.close()
    assert fn.batches[1] == ["same?"]
    assert all(np.array_equal(r, rows[0]) for r in rows)


def test_an_error_reaches_every_caller_in_the_batch_and_the_batcher_goes_on() -> None:
    gate, started = threading.Event(), threading.Event()
    calls: list[list[str]] = []

    def fn(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        if len(calls) == 1:
            started.set()
            assert gate.wait(HANG_GUARD_S)
            return _rows(texts)
        if len(calls) == 2:
            raise RuntimeError("model exploded")
        return _rows(texts)

    batcher = MicroBatcher(fn, max_batch=8, max_wait_ms=0)
    first = batcher.submit("first")
    assert started.wait(HANG_GUARD_S)
    doomed = [batcher.submit(f"d{i}") for i in range(4)]
    gate.set()
    first.result(HANG_GUARD_S)
    for f in doomed:
        with pytest.raises(RuntimeError, match="model exploded"):
            f.result(HANG_GUARD_S)
    assert batcher.submit("later").result(HANG_GUARD_S)[0] == 5  # the thread survived the error
    batcher.close()


def test_a_wrong_row_count_is_an_error_for_every_caller() -> None:
    batcher = MicroBatcher(lambda texts: np.zeros((len(texts) + 1, 2)), max_batch=4, max_wait_ms=0)
    with pytest.raises(Exception, match="returned shape"):
        batcher.submit("q").result(HANG_GUARD_S)
    batcher.close()


def test_bad_bounds_are_refused() -> None:
    with pytest.raises(ConfigError, match="max_batch"):
        MicroBatcher(_rows, max_batch=0)
    with pytest.raises(ConfigError, match="max_wait_ms"):
        MicroBatcher(_rows, max_wait_ms=-1)


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__(64)
        self.query_batches: list[list[str]] = []

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.query_batches.append(list(texts))
        return super().encode_queries(texts)


def test_batching_embedder_gives_the_wrapped_vectors_and_caches_queries() -> None:
    inner = CountingEmbedder()
    embedder = BatchingEmbedder(inner, max_batch=8, max_wait_ms=1, cache_size=2)
    reference = HashingEmbedder(64)
    questions = ["2019年税收收入是多少？", "新建几所学校？"]
    np.testing.assert_allclose(embedder.encode_queries(questions), reference.encode_queries(questions))
    assert embedder.name == inner.name and embedder.dim == 64
    embedder.encode_queries([questions[0]])  # cached: no forward pass
    assert sum(len(b) for b in inner.query_batches) == 2
    embedder.encode_queries(["第三个问题"])  # evicts the least recently used (questions[1])
    embedder.encode_queries([questions[1]])
    assert sum(len(b) for b in inner.query_batches) == 4
    stats = embedder.cache_stats()
    assert (stats.size, stats.hits) == (2, 1)
    passages = ["一段文字", "另一段"]
    np.testing.assert_allclose(embedder.encode_passages(passages), reference.encode_passages(passages))
    embedder.close()


def test_an_embedder_that_shares_no_passes_gets_no_batcher_only_the_cache() -> None:
    class Alone(CountingEmbedder):
        shares_passes = False

    inner = Alone()
    embedder = BatchingEmbedder(inner, max_batch=8, max_wait_ms=50, cache_size=4)
    assert embedder.batcher is None
    caller = threading.current_thread()
    threads: list[threading.Thread] = []
    original = inner.encode_queries

    def spy(texts: Sequence[str]) -> np.ndarray:
        threads.append(threading.current_thread())
        return original(texts)

    inner.encode_queries = spy  # type: ignore[method-assign]
    np.testing.assert_allclose(
        embedder.encode_queries(["问题一", "问题二"]),
        HashingEmbedder(64).encode_queries(["问题一", "问题二"]),
    )
    embedder.encode_queries(["问题一"])  # cached
    assert threads == [caller] and inner.query_batches == [["问题一", "问题二"]]
    embedder.close()


def test_cached_query_vectors_cannot_be_changed_by_a_caller() -> None:
    embedder = BatchingEmbedder(HashingEmbedder(16), max_batch=4, max_wait_ms=0, cache_size=8)
    v = embedder.encode_queries(["问题"])
    v[0, :] = 0
    assert np.linalg.norm(embedder.encode_queries(["问题"])[0]) == pytest.approx(1.0, abs=1e-5)
    embedder.close()


def test_the_embedder_runs_one_torch_thread_while_batching_unless_told_otherwise() -> None:
    from govqa.models.embedders import embedding_threads
    from govqa.settings import Settings

    def settings(**kw: object) -> Settings:
        return Settings(_env_file=None, **kw)  # type: ignore[call-arg]

    assert embedding_threads(settings()) == 1
    assert embedding_threads(settings(torch_threads=3)) == 3
    assert embedding_threads(settings(query_batch_max=1)) == settings().threads


def test_build_embedder_wraps_in_the_batcher_only_when_asked() -> None:
    from govqa.models.embedders import build_embedder
    from govqa.settings import Settings

    on = build_embedder(Settings(embedding_model="fake", _env_file=None))  # type: ignore[call-arg]
    off = build_embedder(
        Settings(embedding_model="fake", query_batch_max=1, query_cache_size=0, _env_file=None)  # type: ignore[call-arg]
    )
    assert isinstance(on, BatchingEmbedder) and isinstance(off, HashingEmbedder)
    assert on.name == off.name  # an index built with one is searched with the other
