"""What every route needs, hung on ``app.state.govqa``: settings, the service, readiness, keys, limiter."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import Request

from govqa.errors import GovQAError
from govqa.settings import Settings

if TYPE_CHECKING:
    from ui.access import Access
    from ui.feedback import FeedbackStore
    from ui.jobs import IngestJobs
    from ui.service import GovQA

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class Readiness:
    """Whether the models are loaded and the index is open; warms the service up in a thread."""

    ready: bool = False
    error: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def mark_ready(self) -> None:
        self.ready = True
        self.error = ""

    def start(self, service: Any) -> None:
        """Warm the service up in the background (once); ``ready`` flips when it is done."""
        with self._lock:
            if self.ready or self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._warm, args=(service,), name="govqa-warm-up", daemon=True
            )
            self._thread.start()

    def _warm(self, service: Any) -> None:
        try:
            service.warm_up()
        except GovQAError as e:
            self.error = str(e)
            log.error("warm-up failed: %s", e)
        except Exception:
            self.error = "warm-up failed (see the server log)"
            log.exception("warm-up failed")
        else:
            self.mark_ready()
            log.info("ready: models loaded, index open")

    def wait(self, timeout: float | None = None) -> bool:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.ready


@dataclass
class ApiContext:
    settings: Settings
    service: GovQA
    readiness: Readiness
    access: Access
    jobs: IngestJobs
    feedback: FeedbackStore
    owns_service: bool = False
    ui_mounted: bool = False
    _pool: ThreadPoolExecutor | None = field(default=None, repr=False)
    _pool_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def workers(self) -> ThreadPoolExecutor:
        """The threads that run the (blocking, CPU-bound) service, made on first use.

        Few of them (``answer_workers``, default one per core): more would only fight over the CPU and
        the GIL and starve the event loop; requests beyond them wait in line.
        """
        with self._pool_lock:
            if self._pool is None:
                n = self.settings.answer_workers or default_workers(self.settings)
                self._pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="govqa-answer")
            return self._pool

    def shutdown_workers(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking service work on the answer pool; callers beyond its size wait in line."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.workers, functools.partial(fn, *args, **kwargs))


def default_workers(settings: Settings) -> int:
    """One answer thread per core; three while query batching is on (issue 16): a question waiting for
    its shared forward pass holds a thread but no CPU, and batches only form with several in flight."""
    cores = max(2, os.cpu_count() or 1)
    return cores * 3 if settings.query_batch_max > 1 else cores


def api_context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.govqa
    return ctx
