"""The floors contract (pyproject ``[tool.importlinter]``, run by ``make lint``): it holds on this tree, and
an import up a floor, or a circle between two modules of a package, breaks it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("govqa", "ingest", "vectorstore", "rag", "eval", "ui")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_tree(dest: Path) -> Path:
    """The packages' Python files and the contract, nothing else."""
    for pkg in PACKAGES:
        shutil.copytree(REPO / pkg, dest / pkg, ignore=shutil.ignore_patterns("__pycache__", "*.[!p]*"))
    shutil.copy(REPO / "pyproject.toml", dest / "pyproject.toml")
    return dest


def test_the_floors_hold_on_this_tree() -> None:
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # the ground floor reaching for the composition root on the top floor
        ("govqa/types.py", "from ui.service import GovQA", "govqa.types -> ui.service"),
        # retrieval reaching up into evaluation
        ("rag/retrieval.py", "import eval.metrics", "rag.retrieval -> eval.metrics"),
        # on the top floor, the composition root reaching for the HTTP app that uses it
        ("ui/service.py", "import ui.http.app", "ui.service -> ui.http.app"),
        # a circle inside one floor: the chain imports the retriever, which would import the chain back
        ("rag/retrieval.py", "import rag.chain", ".retrieval -> .chain"),
    ],
)
def test_an_import_up_a_floor_or_in_a_circle_breaks_the_contract(
    tmp_path: Path, module: str, line: str, broken: str
) -> None:
    root = copy_tree(tmp_path)
    path = root / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}  # the deliberate wrong arrow\n", "utf-8")
    result = lint_imports(root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout
    assert broken in result.stdout, result.stdout
