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
