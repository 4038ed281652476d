"""Parse an untrusted PDF or .docx in a child process with hard CPU-time and memory limits.

A file can stay small and still cost hours or gigabytes to parse (500 PDF pages sharing one stream of a
million empty text operators; a .docx of a hundred 1 MiB parts). Checks of the container catch the known
shapes; this catches the rest: the parser runs in ``python -m ingest.sandbox`` under ``RLIMIT_CPU`` and
``RLIMIT_AS``, is killed when it runs out of either or of wall time, and whatever goes wrong inside
comes back as an ``InputFileError`` naming the file — never a crash or a stuck worker in the server.

Protocol: the file's bytes on stdin, its suffix and name as arguments; the text on stdout (UTF-8),
exit 0. A reader's ``InputFileError`` exits 3 with the reason on stderr; anything else exits 4.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable

from govqa.errors import InputFileError, InputTooLargeError

log = logging.getLogger(__name__)

EXIT_REFUSED = 3
EXIT_FAILED = 4


def _limit(cpu_s: int, memory_bytes: int) -> Callable[[], None]:
    def apply() -> None:  # runs in the child between fork and exec
        import resource

        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    return apply


def read_isolated(suffix: str, source: str, data: bytes, *, seconds: float, memory_mb: int) -> str:
    """The text the reader for ``suffix`` gets from ``data``, parsed in a limited child process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOVQA_", "OPENAI_"))}  # no secrets
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "ingest.sandbox", suffix, source],
            input=data,
            capture_output=True,
            timeout=seconds,
            preexec_fn=_limit(max(1, int(seconds)), memory_mb * 1024 * 1024),
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise InputTooLargeError(
            source, f"reading it took longer than {seconds:.0f} s (GOVQA_INGEST_BUDGET_S); refused"
        ) from None
    reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
    if done.returncode == 0:
        return done.stdout.decode("utf-8")
    if done.returncode == EXIT_REFUSED and reason:
        raise InputFileError(source, reason[-1])
    if done.returncode in (-signal.SIGXCPU, -signal.SIGKILL):  # RLIMIT_CPU: soft, then hard
        raise InputTooLargeError(
            source, f"reading it took longer than {seconds:.0f} s (GOVQA_INGEST_BUDGET_S); refused"
        )
    out_of_memory = done.returncode == EXIT_FAILED and any("MemoryError" in line for line in reason)
    if done.returncode < 0 or out_of_memory:
        raise InputTooLargeError(
            source,
            f"reading it needed more than the {memory_mb} MB memory it may use "
            "(GOVQA_PARSE_MEMORY_MB); refused",
        )
    log.warning("reading %s failed in the sandbox (exit %s): %s", source, done.returncode, reason[-3:])
    raise InputFileError(source, "the file could not be read (damaged, or not what its name says)")


def _main(argv: list[str]) -> int:
    suffix, source = argv[1], argv[2]
    data = sys.stdin.buffer.read()
    from ingest.readers import READERS

    try:
        text = READERS[suffix](source, data)
    except InputFileError as e:
        print(e.reason, file=sys.stderr)
        return EXIT_REFUSED
    except MemoryError:
        print("MemoryError", file=sys.stderr)
        return EXIT_FAILED
    except Exception as e:  # a parser's own error: reported as unreadable, never a 500
        print(f"{type(e).__name__}: {e}"[:500], file=sys.stderr)
        return EXIT_FAILED
    sys.stdout.buffer.write(text.encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
