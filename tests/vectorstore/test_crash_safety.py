"""A writer killed at any point leaves an index that opens with either the old or the new contents.

Each case is run twice: raising inside this process (finally-blocks run), and killing a child process
with ``os._exit`` at the same point (nothing runs: the honest crash).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.vectorstore.corpus_contract import EMBEDDER, REPORT_A, REPORT_A2, store
from tests.vectorstore.test_faiss_corpus import assert_in_step
from vectorstore.faiss_corpus import CorpusIndex
from vectorstore.storage import IndexFolder

REPO = Path(__file__).resolve().parents[2]

# where the writer dies -> which version of report "a" the next open must show
CASES = {
    "before-commit": REPORT_A,  # SQLite transaction rolled back
    "index.faiss": REPORT_A2,  # committed; index.faiss still the old one
    "manifest.json": REPORT_A2,  # committed; index.faiss new, manifest still names the old generation
}


class SimulatedCrash(BaseException):
    """Not an Exception: nothing in the code under test may swallow it."""


def _crash_in_process(path: Path, where: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def die(*args: object) -> None:
        raise SimulatedCrash(where)

    if where == "before-commit":
        monkeypatch.setattr(IndexFolder, "_commit", die)
    else:
        real = os.replace

        def replace(src: str, dst: str | Path) -> None:
            if str(dst).endswith(where):
                die()
            real(src, dst)

        monkeypatch.setattr(os, "replace", replace)
    index = CorpusIndex.open(path, EMBEDDER, bm25_tokenizer="bigram")
    try:
        with pytest.raises(SimulatedCrash):
            store(index, "a", REPORT_A2, "精武镇")
        monkeypatch.undo()
        # the handle that crashed is still consistent with what SQLite holds
        assert index.document_text("a") == CASES[where]
        assert_in_step(index)
    finally:
        monkeypatch.undo()
        index.close()


CHILD = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from tests.vectorstore.corpus_contract import EMBEDDER, REPORT_A2, store
    from vectorstore.faiss_corpus import CorpusIndex
    from vectorstore.storage import IndexFolder

    path, where = Path(sys.argv[1]), sys.argv[2]
    if where == "before-commit":
        IndexFolder._commit = lambda self, conn: os._exit(17)
    else:
        real = os.replace
        def replace(src, dst):
            if str(dst).endswith(where):
                os._exit(17)
            real(src, dst)
        os.replace = replace
    index = CorpusIndex.open(path, EMBEDDER, bm25_tokenizer="bigram")
    store(index, "a", REPORT_A2, "精武镇")
    os._exit(0)
    """
)


def _crash_in_child(path: Path, where: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), where], cwd=REPO, env=env, capture_output=True, timeout=120
    )
    assert done.returncode == 17, done.stderr.decode()


@pytest.mark.parametrize("where", list(CASES))
@pytest.mark.parametrize("how", ["raise", pytest.param("kill", marks=pytest.mark.slow)])
def test_crash_leaves_a_loadable_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, how: str
) -> None:
    path = tmp_path / "idx"
    with CorpusIndex.open(path, EMBEDDER, bm25_tokenizer="bigram") as index:
        store(index, "a", REPORT_A, "精武镇")
    if how == "raise":
        _crash_in_process(path, where, monkeypatch)
    else:
        _crash_in_child(path, where)

    expected = CASES[where]
    with CorpusIndex.open(path, EMBEDDER, bm25_tokenizer="bigram") as index:
        assert index.document_text("a") == expected
        chunks = index.chunks_of("a")
        assert "".join(c.text for c in chunks) == expected.replace("\n\n", "")
        first = index.bm25_search(chunks[-1].text, 1)[0].chunk
        nearest = index.dense_search(EMBEDDER.encode_queries([chunks[-1].embed_text])[0], 1)[0].chunk
        assert first == nearest == chunks[-1]
        assert_in_step(index)
        generation = index.stats()["generation"]
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["faiss_generation"] == manifest["generation"] == generation
    assert not list(path.glob(".*.tmp")), "temp files of the dead writer were not cleaned up"
