"""A small thread-safe LRU cache with hit/miss counts, shared by the query-vector and answer caches.

``maxsize=0`` turns a cache off: ``get`` always misses and ``put`` stores nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from govqa.errors import ConfigError

V = TypeVar("V")


@dataclass(frozen=True)
class CacheStats:
    size: int
    maxsize: int
    hits: int
    misses: int

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


class LRUCache(Generic[V]):
    """Least-recently-used mapping of at most ``maxsize`` entries; safe to share between threads."""

    def __init__(self, maxsize: int) -> None:
        if maxsize < 0:
            raise ConfigError(f"cache size must be >= 0, got {maxsize}")
        self.maxsize = maxsize
        self._data: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            try:
                value = self._data[key]
            except KeyError:
                self._misses += 1
                return None
            self._data.move_to_end(key)
            self._hits += 1
            return value

    def put(self, key: Hashable, value: V) -> None:
        if self.maxsize == 0:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(len(self._data), self.maxsize, self._hits, self._misses)
