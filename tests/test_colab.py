"""Every chapter as a Colab user meets it (tools/colab_check.py): a fresh virtual environment
with torch==2.13.0 and the newest other packages, no `lib`, the repository cloned from the
committed HEAD; the hidden setup cell must install `lib` from it without touching torch.

    .venv/bin/python -m pytest -q -m colab tests/test_colab.py

BOOK_COLAB_CELLS=all runs every cell of every notebook (default `head`: the setup cell, the
imports and the settings cell; the full chapters are run by nbval and the book build already).
BOOK_COLAB_VENV=DIR keeps the fresh environment in DIR between runs (made on first use).
"""

import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from tools import colab_check, notebooks

pytestmark = pytest.mark.colab

ROOT = notebooks.ROOT
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    if shutil.which("git") is None:
        pytest.skip("git is not installed: the repository cannot be cloned for the setup cell")
    if not (ROOT / ".git").exists():
        pytest.skip(f"{ROOT} is not a git repository: nothing to clone for the setup cell")
    tmp = tmp_path_factory.mktemp("colab")
    repo = colab_check.clone(ROOT, tmp / "repo")
    venv = Path(os.environ.get("BOOK_COLAB_VENV") or tmp / "venv")
    python = colab_check.make_venv(venv, log=lambda *a: None)
    return SimpleNamespace(repo=repo, python=python)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_on_a_fresh_colab(colab, path):
    notebook = colab.repo / "chapters" / path.name
    if not notebook.exists():
        pytest.skip(f"{path.name} is not committed (the check runs the committed HEAD)")
    cells = os.environ.get("BOOK_COLAB_CELLS", "head")
    result = colab_check.check_notebook(colab.python, notebook, colab.repo, cells)
    assert result.ok, "\n".join(result.problems)


# --- the check itself must be able to fail ---------------------------------------------------


def fake_chapter(tmp_path: Path, setup: str | None) -> Path:
    """A two-cell chapter: the setup cell (the canonical one, or ``setup``), then lib's settings."""
    nb = notebooks.stamp({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    if setup is not None:
        nb["cells"][0]["source"] = setup
    nb["cells"].append(
        {
            "cell_type": "code",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
            "source": "from lib import runtime\ncfg = runtime.settings(small={}, full={})",
        }
    )
    path = tmp_path / "99_fake.ipynb"
    path.write_text(json.dumps(nb))
    return path


def test_the_canonical_setup_cell_passes(colab, tmp_path):
    result = colab_check.check_notebook(colab.python, fake_chapter(tmp_path, None), colab.repo)
    assert result.ok, "\n".join(result.problems)


def test_a_setup_cell_that_installs_nothing_fails(colab, tmp_path):
    path = fake_chapter(tmp_path, "# forgot to install lib\npass")
    result = colab_check.check_notebook(colab.python, path, colab.repo)
    assert not result.ok
    assert "No module named 'lib'" in "\n".join(result.problems)


def test_a_setup_cell_that_touches_torch_fails(colab, tmp_path):
    # Stands in for a setup cell that reinstalls torch (e.g. `pip install -r requirements.txt`
    # with a torch pin): torch's files are rewritten, so its installation is no longer the same.
    setup = notebooks.setup_cell_source() + "\nimport os, torch\nos.utime(torch.__file__)"
    result = colab_check.check_notebook(colab.python, fake_chapter(tmp_path, setup), colab.repo)
    assert not result.ok
    assert "torch was changed" in "\n".join(result.problems)


def test_head_stops_at_the_settings_cell():
    code = lambda s: {"cell_type": "code", "source": s}  # noqa: E731
    nb = {
        "cells": [
            code("setup"),
            code("import x"),
            code("cfg = runtime.settings(...)"),
            code("long experiment"),
        ]
    }
    assert [c["source"] for c in colab_check.head(nb)["cells"]][-1] == "cfg = runtime.settings(...)"
    nb = {"cells": [code("a"), code("b"), code("c"), code("d")]}
    assert len(colab_check.head(nb)["cells"]) == 3


def test_the_benchmarks_page_fetches_this_repository():
    path = ROOT / "chapters" / "benchmarks.ipynb"
    if not path.exists():
        pytest.skip("no benchmarks page")
    setup = notebooks.first_code_cell(json.loads(path.read_text()))
    assert notebooks.repository_url() in "".join(setup["source"])
    assert "remove-cell" in setup["metadata"].get("tags", [])
