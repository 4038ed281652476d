"""The opt-in int8 ONNX embedder: its own name (an index never mixes its vectors with fp32 ones) and a
fix-it error when it has not been exported. Its vectors are measured in bench/README.md (issue 16)."""

from __future__ import annotations

from pathlib import Path

import pytest

from govqa.errors import ModelNotReadyError
from govqa.models.onnx_embedder import ONNX_INT8_SUFFIX, OnnxInt8Embedder, onnx_int8_dir


def test_its_name_differs_from_the_fp32_model() -> None:
    embedder = OnnxInt8Embedder("/models/multilingual-e5-small", name="multilingual-e5-small")
    assert embedder.name == "multilingual-e5-small" + ONNX_INT8_SUFFIX


def test_the_graph_lives_beside_the_model_folder() -> None:
    assert onnx_int8_dir(Path("/m/multilingual-e5-small")) == Path("/m/multilingual-e5-small-onnx-int8")


def test_without_the_export_it_says_how_to_prepare_it(tmp_path: Path) -> None:
    embedder = OnnxInt8Embedder(str(tmp_path / "multilingual-e5-small"), name="multilingual-e5-small")
    with pytest.raises(ModelNotReadyError, match="models prepare"):
        embedder.encode_queries(["问题"])


def test_an_index_built_with_fp32_refuses_the_int8_embedder(fake_sample_index: Path, tmp_path: Path) -> None:
    import shutil

    from govqa.errors import IndexMismatchError
    from govqa.models.embedders import HashingEmbedder
    from vectorstore.faiss_corpus import CorpusIndex

    shutil.copytree(fake_sample_index, tmp_path / "data")

    class Int8(HashingEmbedder):  # the fake model's int8 twin: same dimension, other vectors
        def __init__(self) -> None:
            super().__init__()
            self.name = HashingEmbedder().name + ONNX_INT8_SUFFIX

    with pytest.raises(IndexMismatchError, match="--reindex"):
        CorpusIndex.open(tmp_path / "data" / "index", Int8())
