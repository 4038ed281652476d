"""The web UI's upload folder (Gradio's): which paths are uploads, deleting them, sweeping leftovers.

Gradio writes each browser upload into this folder before any handler runs; a cut-off or refused upload
can leave a partial file there that nothing tracks. govqa points Gradio at a folder of its own
(``DATA_DIR/ui-uploads``, unless ``GRADIO_TEMP_DIR`` is set) so that anything in it older than an hour
can safely be swept away.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

MAX_AGE_S = 3600.0
SWEEP_EVERY_S = 60.0
_last_sweep = 0.0
_sweep_lock = threading.Lock()
_owned: Path | None = None  # the folder use_folder() chose: the only one swept


def upload_folder() -> Path:
    from gradio.utils import get_upload_folder

    return Path(get_upload_folder()).resolve()


def use_folder(folder: Path) -> Path:
    """Make ``folder`` Gradio's upload folder (unless ``GRADIO_TEMP_DIR`` chose one already)."""
    global _owned
    if not os.environ.get("GRADIO_TEMP_DIR"):
        folder.mkdir(parents=True, exist_ok=True)
        os.environ["GRADIO_TEMP_DIR"] = str(folder.resolve())
        _owned = folder.resolve()
    return upload_folder()


def in_upload_folder(path: Path) -> bool:
    try:
        return path.resolve().is_relative_to(upload_folder())
    except (OSError, ValueError):
        return False


def discard_upload(path: Path) -> None:
    """Delete an ingested (or refused) upload and its now-empty folder, if it is in the upload folder."""
    if not in_upload_folder(path):
        return
    try:
        path.unlink(missing_ok=True)
        folder = path.resolve().parent
        if folder != upload_folder() and not any(folder.iterdir()):
            folder.rmdir()
    except OSError as e:
        log.debug("could not remove upload %s: %s", path, e)


def sweep(folder: Path | None = None, *, max_age_s: float = MAX_AGE_S, now: float | None = None) -> int:
    """Delete files (and then empty folders) in the upload folder older than ``max_age_s``; how many."""
    root = folder or upload_folder()
    cutoff = (now if now is not None else time.time()) - max_age_s
    removed = 0
    if not root.is_dir():
        return 0
    for path in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        except OSError:
            continue
    if removed:
        log.info("swept %d stale upload file(s) from %s", removed, root)
    return removed


def sweep_now_and_then() -> None:
    """``sweep()`` govqa's own upload folder, at most once a minute (called on each upload request)."""
    global _last_sweep
    if _owned is None or upload_folder() != _owned:
        return
    with _sweep_lock:
        if time.monotonic() - _last_sweep < SWEEP_EVERY_S:
            return
        _last_sweep = time.monotonic()
    sweep(_owned)
