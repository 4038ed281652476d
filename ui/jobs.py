"""Uploads are ingested by their own worker, in a bounded queue, apart from the threads that answer.

Ingesting a report (parsing, chunking, embedding) can take minutes; answering takes milliseconds. One
worker thread takes the queued uploads one at a time (the index has one writer anyway), so a long or
hostile upload never holds a thread an answer needs, and at most ``max_queued`` uploads wait: a further
one is refused at once (``QueueFull``). Each upload is a ``Job`` with an id, kept (the last
``keep`` of them) so a client can ask for its outcome later (``GET /v1/documents/jobs/{id}``).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from govqa.errors import GovQAError

log = logging.getLogger(__name__)
audit = logging.getLogger("govqa.audit")

Status = Literal["queued", "running", "done", "failed"]


class QueueFull(GovQAError):
    """Too many uploads are waiting already."""


@dataclass
class Job:
    id: str
    source: str
    status: Status = "queued"
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    result: Any = None  # what the work returned (an ingest outcome)
    error: str = ""
    future: Future[Any] | None = field(default=None, repr=False)
    pages_done: int = 0  # pages of a PDF read so far (an OCR'd page takes seconds), of pages_total
    pages_total: int = 0

    def page(self, done: int, total: int) -> None:
        """The reader's per-page progress (called on the ingest worker)."""
        self.pages_done, self.pages_total = max(0, int(done)), max(0, int(total))

    @property
    def running_for(self) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or time.time()) - self.started


class IngestJobs:
    def __init__(self, *, max_queued: int = 4, keep: int = 200, stuck_after_s: float = 600.0) -> None:
        self.max_queued = max_queued
        self.keep = keep
        self.stuck_after_s = stuck_after_s
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="govqa-ingest")
        return self._pool

    def submit(self, source: str, work: Callable[[Callable[[int, int], None]], Any]) -> Job:
        """Queue ``work`` (one upload's ingest) under a new job; ``QueueFull`` when the line is full.

        ``work`` is called with the job's page-progress callback (``Job.page``), for a PDF's pages."""
        with self._lock:
            waiting = sum(1 for j in self._jobs.values() if j.status in ("queued", "running"))
            if waiting >= self.max_queued + 1:  # the one running plus max_queued waiting
                raise QueueFull(
                    f"{waiting} uploads are being ingested or waiting; try again when they are done "
                    "(GOVQA_INGEST_QUEUE)"
                )
            job = Job(id=uuid.uuid4().hex, source=source)
            self._jobs[job.id] = job
            while len(self._jobs) > self.keep:
                oldest = next(iter(self._jobs.values()))
                if oldest.status in ("queued", "running"):
                    break
                self._jobs.popitem(last=False)
            job.future = self._executor().submit(self._run, job, work)
        return job

    def _run(self, job: Job, work: Callable[[Callable[[int, int], None]], Any]) -> Any:
        job.status, job.started = "running", time.time()
        try:
            job.result = work(job.page)
        except Exception as e:
            job.status, job.error = "failed", str(e) if isinstance(e, GovQAError) else "internal error"
            if not isinstance(e, GovQAError):
                log.exception("ingest job %s (%s) failed", job.id, job.source)
            raise
        else:
            job.status = "failed" if getattr(job.result, "status", "") == "failed" else "done"
            job.error = getattr(job.result, "reason", "") if job.status == "failed" else ""
            return job.result
        finally:
            job.finished = time.time()
            audit.info("upload %s: %s %s", job.source, job.status, job.error)

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def wait(self, job: Job, timeout: float | None) -> bool:
        """Wait up to ``timeout`` s for ``job``; True when it has finished (either way)."""
        assert job.future is not None
        try:
            job.future.result(timeout)
        except TimeoutError:
            return False
        except Exception:
            return True
        return True

    def status(self) -> dict[str, Any]:
        """For ``/readyz``: how many uploads are running or waiting, and whether one looks stuck."""
        with self._lock:
            active = [j for j in self._jobs.values() if j.status in ("queued", "running")]
        running = [j for j in active if j.status == "running"]
        longest = max((j.running_for for j in running), default=0.0)
        return {
            "running": len(running),
            "queued": len(active) - len(running),
            "longest_s": round(longest, 1),
            "stuck": longest > self.stuck_after_s,
        }

    def shutdown(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
