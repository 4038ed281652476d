"""Server-sent events, and running a blocking generator in its own thread for an async response.

The service's ``ask_stream`` is a blocking (CPU-bound) generator. ``ThreadedIterator`` runs it on a
worker of the answer pool (or a thread of its own) that feeds an asyncio queue, so the event loop never
blocks and a slow reader holds no worker: the producer never waits for the consumer. ``first()`` is awaited before the response starts, so errors the
service raises up front (an empty question ...) still become ordinary JSON errors with their status.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Executor
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse(data: Any, event: str | None = None) -> str:
    """One SSE message; ``data`` is JSON-encoded unless it is already a string."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    lines = [f"event: {event}"] if event else []
    lines += [f"data: {line}" for line in payload.split("\n")]
    return "\n".join(lines) + "\n\n"


class _End:
    pass


_END = _End()


class ThreadedIterator(Generic[T]):
    """Iterate a blocking iterator from async code: a thread pulls items, the loop awaits them."""

    def __init__(
        self, make: Callable[[], Iterator[T]], *, executor: Executor | None = None, name: str = "govqa-stream"
    ) -> None:
        self._make = make
        self._executor = executor
        self._name = name
        self._queue: asyncio.Queue[tuple[T | _End | None, BaseException | None]] = asyncio.Queue()
        self._stop = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = False
        self._done = False

    def _put(self, item: T | _End | None, error: BaseException | None) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop shut down while we were producing
            loop.call_soon_threadsafe(self._queue.put_nowait, (item, error))

    def _run(self) -> None:
        iterator: Iterator[T] | None = None
        try:
            iterator = self._make()
            for item in iterator:
                if self._stop.is_set():
                    break
                self._put(item, None)
        except BaseException as e:
            self._put(None, e)
            return
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    log.debug("closing the stream failed", exc_info=True)
        self._put(_END, None)

    def _start(self) -> None:
        if not self._started:
            self._started = True
            self._loop = asyncio.get_running_loop()
            if self._executor is not None:
                self._executor.submit(self._run)
            else:
                threading.Thread(target=self._run, name=self._name, daemon=True).start()

    async def next(self) -> T | _End:
        """The next item, ``_END`` when exhausted; re-raises what the producer raised."""
        self._start()
        if self._done:
            return _END
        item, error = await self._queue.get()
        if error is not None:
            self._done = True
            raise error
        if isinstance(item, _End):
            self._done = True
        return item  # type: ignore[return-value]

    def cancel(self) -> None:
        """Ask the producer to stop after its current item (the client went away)."""
        self._stop.set()

    async def __aiter__(self) -> AsyncIterator[T]:
        try:
            while True:
                item = await self.next()
                if isinstance(item, _End):
                    return
                yield item
        finally:
            self.cancel()


def is_end(item: object) -> bool:
    return isinstance(item, _End)
