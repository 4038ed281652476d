"""The answer cache: a repeated question gets the answer it got before, while no document has changed.

Keyed by the question, the conversation history, the filters and the index generation (every write to
the index bumps it, in this process or another), so an answer is never served from an older corpus; the
service also empties the cache on each of its own writes. A served answer is a copy whose
``timings_ms`` says it came from the cache.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from govqa.cache import CacheStats, LRUCache
from govqa.types import Answer


class AnswerCache:
    def __init__(self, maxsize: int, generation: Callable[[], Hashable]) -> None:
        self._cache: LRUCache[Answer] = LRUCache(maxsize)
        self._generation = generation

    @property
    def enabled(self) -> bool:
        return self._cache.maxsize > 0

    def key(self, question: str, history: Sequence[tuple[str, str]], filters: Any) -> Hashable:
        """The cache key now: it includes the index generation, so call it before answering."""
        flt = (
            None
            if filters is None
            else (
                getattr(filters, "body", None),
                getattr(filters, "year", None),
                getattr(filters, "document", None),
            )
        )
        return (question, tuple((str(q), str(a)) for q, a in history), flt, self._generation())

    def get(self, key: Hashable) -> Answer | None:
        t0 = time.perf_counter()
        answer = self._cache.get(key)
        if answer is None:
            return None
        ms = (time.perf_counter() - t0) * 1000
        return dataclasses.replace(answer, timings_ms={"answer_cache": ms, "total": ms})

    def put(self, key: Hashable, answer: Answer) -> None:
        self._cache.put(key, answer)

    def clear(self) -> None:
        self._cache.clear()

    def stats(self) -> CacheStats:
        return self._cache.stats()
