"""An int8 ONNX Runtime embedder (opt-in: ``GOVQA_EMBEDDING_BACKEND=onnx-int8``).

``export_onnx_int8`` turns the sentence-transformers folder into ONE ONNX graph (transformer, mean
pooling over the mask, L2 normalisation — what the folder's 1_Pooling and 2_Normalize do; TorchScript
exporter, opset 17), fuses it with ONNX Runtime's transformer optimiser and quantises its weights to int8
per channel (``quantize_dynamic``), offline, at ``govqa models prepare``. ``OnnxInt8Embedder`` runs it
with the folder's own tokenizer. bench/scale.py --embed measured it at 1.4-2.0x torch fp32 with minimum
cosine 0.9947 to the fp32 vectors: close, not equal, so its name differs from the fp32 model's and an
index built with one is refused by the other (re-index) rather than mixing vectors.

Not the default: issue 16 asks for equal golden-split quality and the parity suite first (bench/README).
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import threading
from collections.abc import Sequence
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
    """The int8 graph of a sentence-transformers folder in ONNX Runtime, loaded on first use."""

    def __init__(
        self,
        model_dir: str,
        *,
        name: str,
        query_prompt: str = "query: ",
        passage_prompt: str = "passage: ",
        batch_size: int = 16,
        threads: int = 0,
        max_length: int = 512,
    ) -> None:
        self.model_dir = Path(model_dir)
        self.name = name + ONNX_INT8_SUFFIX
        self.query_prompt = query_prompt
        self.passage_prompt = passage_prompt
        self.batch_size = batch_size
        self.threads = threads
        self.max_length = max_length
        self.dim = 0
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        onnx_file = onnx_int8_dir(self.model_dir) / ONNX_FILE
        if not onnx_file.exists():
            raise ModelNotReadyError(
                f"the int8 ONNX embedder is not prepared at {onnx_file}: run "
                "`GOVQA_EMBEDDING_BACKEND=onnx-int8 govqa models prepare`"
            )
        import onnxruntime as ort
        from transformers import AutoTokenizer

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if self.threads:
            options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        self._tokenizer = AutoTokenizer.from_pretrained(str(self.model_dir), local_files_only=True)
        self.dim = int(session.get_outputs()[0].shape[-1])
        self._session = session

    def warm_up(self) -> None:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._load()

    def _encode(self, texts: Sequence[str], *, is_query: bool) -> np.ndarray:
        self.warm_up()
        prompt = self.query_prompt if is_query else self.passage_prompt
        parts = []
        for start in range(0, len(texts), self.batch_size):
            enc = self._tokenizer(
                [prompt + t for t in texts[start : start + self.batch_size]],
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="np",
            )
            feeds = {k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask")}
            parts.append(self._session.run(None, feeds)[0])
        return np.concatenate(parts).astype(np.float32)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)  # longest first: less padding per batch
        if len(texts) <= 1:
            return super().encode_passages(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        vecs = super().encode_passages([texts[i] for i in order])
        out = np.empty_like(vecs)
        out[order] = vecs
        return out
