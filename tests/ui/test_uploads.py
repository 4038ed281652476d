"""The UI's upload folder: what counts as an upload, deleting one, sweeping stale leftovers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ui.uploads import discard_upload, in_upload_folder, sweep


def test_sweep_removes_only_old_files_and_empty_folders(tmp_path: Path) -> None:
    old = tmp_path / "tmpabc"  # a cut-off upload Gradio left at the top
    old.write_bytes(b"x" * 10)
    nested = tmp_path / "d1" / "a.txt"
    nested.parent.mkdir()
    nested.write_text("2025", encoding="utf-8")
    fresh = tmp_path / "fresh.txt"
    fresh.write_text("new", encoding="utf-8")
    past = 1_000_000.0
    os.utime(old, (past, past))
    os.utime(nested, (past, past))
    assert sweep(tmp_path, max_age_s=3600) == 2
    assert not old.exists() and not nested.parent.exists() and fresh.exists()


def test_discard_deletes_uploads_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "uploads"
    (folder / "h").mkdir(parents=True)
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(folder))
    upload = folder / "h" / "r.txt"
    upload.write_text("x", encoding="utf-8")
    outside = tmp_path / "keep.txt"
    outside.write_text("x", encoding="utf-8")
    assert in_upload_folder(upload) and not in_upload_folder(outside)
    assert not in_upload_folder(folder / ".." / "keep.txt")
    discard_upload(upload)
    discard_upload(outside)
    assert not upload.exists() and not (folder / "h").exists() and outside.exists()
