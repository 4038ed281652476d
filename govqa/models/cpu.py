"""What this machine's CPU can do fast, read once from the operating system (a seam: tests fake it).

The flags choose bf16 for torch (below) and the instruction sets llama.cpp is built with
(``rag.llm.local_model``).

bfloat16 matrix products run natively on CPUs with AMX (``amx_bf16``) or AVX-512 BF16
(``avx512_bf16``); elsewhere PyTorch emulates them and bf16 is slower than fp32, so it is used only
where the flags say so.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

BF16_FLAGS = frozenset({"amx_bf16", "avx512_bf16"})


def cpu_flags(cpuinfo: str) -> frozenset[str]:
    """The feature flags of the first processor in a /proc/cpuinfo text."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


@lru_cache(maxsize=1)
def machine_flags() -> frozenset[str]:
    """This machine's CPU feature flags (Linux ``/proc/cpuinfo``; empty where it cannot be read)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    return cpu_flags(text)


def native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (False where the flags cannot be read)."""
    return bool(machine_flags() & BF16_FLAGS)
