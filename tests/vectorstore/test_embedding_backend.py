"""The int8 embedding backend (GOVQA_EMBEDDING_BACKEND=int8) against the default fp32 model.

Here rather than in tests/models because what it guards is the vectors the stores hold: an index built
with one backend may be searched with the other. int8 does NOT reach the 0.99 parity bar on every
passage (measured: min 0.975, mean 0.981 on long sample passages), which is why it is opt-in and fp32
stays the default; this test pins what was measured so a regression shows.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from govqa.errors import ConfigError
from govqa.models.embedders import SentenceTransformerEmbedder, build_embedder
from govqa.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ConfigError, match="embedding_backend"):
        SentenceTransformerEmbedder("x", backend="onnx")


def test_backend_is_part_of_the_cache_key(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "modules.json").write_text("[]", encoding="utf-8")
    fp32 = build_embedder(Settings(embedding_model=str(tmp_path / "m"), _env_file=None))  # type: ignore[call-arg]
    int8 = build_embedder(
        Settings(embedding_model=str(tmp_path / "m"), embedding_backend="int8", _env_file=None)  # type: ignore[call-arg]
    )
    assert fp32 is not int8
    fp32, int8 = getattr(fp32, "inner", fp32), getattr(int8, "inner", int8)  # the query batcher's model
    assert isinstance(int8, SentenceTransformerEmbedder) and int8.backend == "int8"
    assert getattr(fp32, "backend", None) == "torch"


@pytest.mark.model
def test_int8_stays_close_to_fp32_on_sample_passages(sample_files: list[Path]) -> None:
    from govqa.models.prepare import prepare_models

    models = Path(os.environ.get("GOVQA_TEST_MODELS_DIR") or REPO / "var" / "models")
    prepare_models(models)
    path = str(models / "multilingual-e5-small")
    lines = [ln.strip() for f in sample_files for ln in f.read_text(encoding="utf-8").splitlines()]
    passages = [ln for ln in lines if len(ln) >= 20][::7][:48]
    queries = ["2019年精武镇税收收入是多少", "西青区如何改善农村人居环境", "固定资产投资增长"]
    fp32 = SentenceTransformerEmbedder(path, backend="torch")
    int8 = SentenceTransformerEmbedder(path, backend="int8")
    for encode in ("encode_passages", "encode_queries"):
        texts = passages if encode == "encode_passages" else queries
        a, b = getattr(fp32, encode)(texts), getattr(int8, encode)(texts)
        cos = np.sum(a * b, axis=1)
        assert cos.min() >= 0.96 and cos.mean() >= 0.975, (encode, float(cos.min()), float(cos.mean()))


# --- bfloat16 autocast for passages (GOVQA_EMBEDDING_PRECISION) --------------------------------------
CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
flags\t\t: fpu sse2 avx2 avx512f avx512_bf16 amx_tile amx_bf16
processor\t: 1
flags\t\t: fpu sse2 avx2
"""


def test_cpu_flags_are_read_from_the_first_processor() -> None:
    from govqa.models.cpu import BF16_FLAGS, cpu_flags

    assert cpu_flags(CPUINFO) & BF16_FLAGS == {"avx512_bf16", "amx_bf16"}
    assert not cpu_flags("flags : fpu sse2 avx2 fma") & BF16_FLAGS  # an older CPU: fp32
    assert cpu_flags("Features : fp asimd bf16") == {"fp", "asimd", "bf16"}  # arm64 spells it so
    assert cpu_flags("") == frozenset()


@pytest.mark.parametrize(
    ("setting", "native", "expected"),
    [("auto", True, "bf16"), ("auto", False, "fp32"), ("fp32", True, "fp32"), ("bf16", False, "bf16")],
)
def test_auto_precision_follows_the_cpu(
    setting: str, native: bool, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from govqa.models import embedders

    monkeypatch.setattr(embedders, "native_bf16", lambda: native)
    settings = Settings(embedding_precision=setting, _env_file=None)  # type: ignore[call-arg]
    assert embedders.embedding_precision(settings) == expected


@pytest.mark.model
def test_bf16_passages_are_the_fp32_vectors(sample_files: list[Path]) -> None:
    """bf16 autocast keeps sums and norms in fp32: the same vector space (measured min cosine 0.99999 on
    32 long passages), so an index built with it is searched with fp32 questions, and vice versa."""
    from govqa.models.prepare import prepare_models

    models = Path(os.environ.get("GOVQA_TEST_MODELS_DIR") or REPO / "var" / "models")
    prepare_models(models)
    path = str(models / "multilingual-e5-small")
    lines = [ln.strip() for f in sample_files for ln in f.read_text(encoding="utf-8").splitlines()]
    passages = [ln[:400] for ln in lines if len(ln) >= 20][::9][:16]
    fp32 = SentenceTransformerEmbedder(path, precision="fp32")
    bf16 = SentenceTransformerEmbedder(path, precision="bf16", passage_threads=1)
    cos = np.sum(fp32.encode_passages(passages) * bf16.encode_passages(passages), axis=1)
    assert cos.min() >= 0.9999, float(cos.min())
    query = ["2019年精武镇税收收入是多少"]
    assert np.array_equal(fp32.encode_queries(query), bf16.encode_queries(query))  # questions stay fp32
    import torch

    threads = torch.get_num_threads()
    SentenceTransformerEmbedder(path, passage_threads=threads + 1).encode_passages(passages[:2])
    assert torch.get_num_threads() == threads  # ingest's thread count is given back
