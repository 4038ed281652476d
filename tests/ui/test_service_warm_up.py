"""``GovQA.warm_up`` loads what the first question would otherwise wait for, and answers nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from govqa.settings import Settings
from ui.service import GovQA
from vectorstore import bm25


def test_warm_up_loads_the_bm25_dictionary_without_answering(
    fake_sample_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    shutil.copytree(fake_sample_index, data)
    monkeypatch.setattr(bm25, "_jieba_instance", None)  # as in a fresh process
    service = GovQA(Settings(data_dir=data, embedding_model="fake", _env_file=None))  # type: ignore[call-arg]
    try:
        assert service.settings.bm25_tokenizer in ("jieba", "both")
        service.warm_up()
        assert bm25._jieba_instance is not None  # the first question will not load jieba's dictionary
        assert service.answers.stats().size == 0  # the warm-up search answered and cached nothing
        assert service.ask("2019年精武镇税收收入是多少？").text
    finally:
        service.close()
