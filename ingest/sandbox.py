"""Parse an untrusted PDF, .docx or page image in a child process with hard CPU-time and memory limits.

A file can stay small and still cost hours or gigabytes to parse (500 PDF pages sharing one stream of a
million empty text operators; a .docx of a hundred 1 MiB parts). Checks of the container catch the known
shapes; this catches the rest: the parser runs in ``python -m ingest.sandbox`` under ``RLIMIT_CPU`` and
``RLIMIT_AS``, is killed when it runs out of either or of wall time, and whatever goes wrong inside
comes back as an ``InputFileError`` naming the file — never a crash or a stuck worker in the server.

Protocol: the file's bytes on stdin, its suffix and name as arguments; ``ingest.readers.Read`` as JSON
on stdout, exit 0. While it reads, each page done is a line ``\x1epage <done> <total>`` on stderr (the
parent's ``progress``). A reader's ``InputFileError`` exits 3 with the reason as the last stderr line;
anything else exits 4. OCR (Tesseract) runs as the child's own child, under the same limits.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable
from typing import NoReturn

from govqa.errors import InputFileError, InputTooLargeError
from ingest.pdf_layout import PageProgress
from ingest.readers import Read

log = logging.getLogger(__name__)

EXIT_REFUSED = 3
EXIT_FAILED = 4
PAGE = "\x1epage "  # a progress line on stderr


def _limit(cpu_s: int, memory_bytes: int) -> Callable[[], None]:
    def apply() -> None:  # runs in the child between fork and exec
        import resource

        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    return apply


def read_isolated(
    suffix: str,
    source: str,
    data: bytes,
    *,
    seconds: float,
    memory_mb: int,
    progress: PageProgress | None = None,
) -> Read:
    """What the reader for ``suffix`` gets from ``data``, parsed in a limited child process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOVQA_", "OPENAI_"))}  # no secrets
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    child = subprocess.Popen(
        [sys.executable, "-m", "ingest.sandbox", suffix, source],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_limit(max(1, int(seconds)), memory_mb * 1024 * 1024),
        env=env,
    )
    out: list[bytes] = []
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        child.kill()

    timer = threading.Timer(seconds, kill)
    feed = threading.Thread(target=_feed, args=(child, data), daemon=True)
    drain = threading.Thread(target=lambda: out.append(child.stdout.read() if child.stdout else b""))
    timer.start()
    feed.start()
    drain.start()
    last: deque[str] = deque(maxlen=20)  # the reason is the last line; keep a few for the log
    try:
        assert child.stderr is not None
        for raw in child.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line.startswith(PAGE) and progress is not None:
                done_pages, total = (int(x) for x in line[len(PAGE) :].split()[:2])
                progress(done_pages, total)
            elif not line.startswith(PAGE) and line.strip():
                last.append(line)
        returncode = child.wait()
        drain.join()
    finally:
        timer.cancel()
        if child.poll() is None:
            child.kill()
            child.wait()
    if timed_out.is_set():
        raise InputTooLargeError(
            source, f"reading it took longer than {seconds:.0f} s (GOVQA_INGEST_BUDGET_S); refused"
        )
    if returncode == 0:
        return Read.from_dict(json.loads(b"".join(out).decode("utf-8")))
    _refusal(source, returncode, list(last), seconds, memory_mb)


def _feed(child: subprocess.Popen[bytes], data: bytes) -> None:
    try:
        assert child.stdin is not None
        child.stdin.write(data)
        child.stdin.close()
    except (BrokenPipeError, OSError):  # the child died (a limit) before it read everything
        pass


def _refusal(source: str, returncode: int, reason: list[str], seconds: float, memory_mb: int) -> NoReturn:
    if returncode == EXIT_REFUSED and reason:
        raise InputFileError(source, reason[-1])
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL):  # RLIMIT_CPU: soft, then hard
        raise InputTooLargeError(
            source, f"reading it took longer than {seconds:.0f} s (GOVQA_INGEST_BUDGET_S); refused"
        )
    out_of_memory = returncode == EXIT_FAILED and any("MemoryError" in line for line in reason)
    if returncode < 0 or out_of_memory:
        raise InputTooLargeError(
            source,
            f"reading it needed more than the {memory_mb} MB memory it may use "
            "(GOVQA_PARSE_MEMORY_MB); refused",
        )
    log.warning("reading %s failed in the sandbox (exit %s): %s", source, returncode, reason[-3:])
    raise InputFileError(source, "the file could not be read (damaged, or not what its name says)")


def _main(argv: list[str]) -> int:
    suffix, source = argv[1], argv[2]
    data = sys.stdin.buffer.read()
    from ingest.readers import read_file

    def pages(done: int, total: int) -> None:
        print(f"{PAGE}{done} {total}", file=sys.stderr, flush=True)

    try:
        read = read_file(source, suffix, data, progress=pages)
    except InputFileError as e:
        print(e.reason, file=sys.stderr)
        return EXIT_REFUSED
    except MemoryError:
        print("MemoryError", file=sys.stderr)
        return EXIT_FAILED
    except Exception as e:  # a parser's own error: reported as unreadable, never a 500
        print(f"{type(e).__name__}: {e}"[:500], file=sys.stderr)
        return EXIT_FAILED
    sys.stdout.buffer.write(json.dumps(read.to_dict(), ensure_ascii=False).encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
