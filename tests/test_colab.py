"""Every chapter as a Colab user meets it (tools/colab_check.py): a fresh virtual environment
of Colab's package versions (../shared/colab/pip-freeze.gpu.txt beside the repository), then one
of the oldest versions pyproject.toml and requirements.txt allow; torch==2.13.0 in both, no `lib`,
the repository cloned from the committed HEAD; the setup cell (the canonical one, stamped on a
temporary copy) must install `lib` from it without touching torch.

    .venv/bin/python -m pytest -q -m colab tests/test_colab.py

Each environment's differences (Python, torch, versions without a release for this Python) are
printed when it is made. BOOK_COLAB_CELLS=all runs every cell of every notebook (default `head`:
the setup cell, the imports and the settings cell; the full chapters are run by nbval and the
book build already). BOOK_COLAB_VENV=DIR keeps the environments in DIR/colab and DIR/lower.
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
def repo(tmp_path_factory):
    if shutil.which("git") is None:
        pytest.skip("git is not installed: the repository cannot be cloned for the setup cell")
    if not (ROOT / ".git").exists():
        pytest.skip(f"{ROOT} is not a git repository: nothing to clone for the setup cell")
    colab_check.freeze_path()  # fails with a clear message when shared/colab/ is absent
    return colab_check.clone(ROOT, tmp_path_factory.mktemp("colab") / "repo")


MADE: dict[str, SimpleNamespace] = {}


def environment(versions, repo, request):
    """The fresh environment of ``versions``, made once per session; prints its differences."""
    if versions in MADE:
        return MADE[versions]
    venv = Path(os.environ.get("BOOK_COLAB_VENV") or repo.parent / "venv") / versions
    python = colab_check.make_venv(venv, versions, log=lambda *a: None)
    lines = colab_check.differences(python, versions)
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\nColab check, {versions} versions, differences:")
        print("\n".join("  " + line for line in lines))
    MADE[versions] = SimpleNamespace(repo=repo, python=python, versions=versions)
    return MADE[versions]


@pytest.fixture(scope="module", params=colab_check.VERSIONS)
def env(request, repo):
    return environment(request.param, repo, request)


@pytest.fixture(scope="module")
def colab(request, repo):
    return environment("colab", repo, request)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_on_a_fresh_colab(env, path):
    notebook = env.repo / "chapters" / path.name
    if not notebook.exists():
        pytest.skip(f"{path.name} is not committed (the check runs the committed HEAD)")
    cells = os.environ.get("BOOK_COLAB_CELLS", "head")
    result = colab_check.check_notebook(env.python, notebook, env.repo, cells)
    assert result.ok, f"{env.versions} versions:\n" + "\n".join(result.problems)


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
    result = colab_check.check_notebook(colab.python, path, colab.repo, restamp=False)
    assert not result.ok
    assert "No module named 'lib'" in "\n".join(result.problems)


def test_a_setup_cell_that_touches_torch_fails(colab, tmp_path):
    # Stands in for a setup cell that reinstalls torch (e.g. `pip install -r requirements.txt`
    # with a torch pin): torch's files are rewritten, so its installation is no longer the same.
    setup = notebooks.setup_cell_source() + "\nimport os, torch\nos.utime(torch.__file__)"
    path = fake_chapter(tmp_path, setup)
    result = colab_check.check_notebook(colab.python, path, colab.repo, restamp=False)
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


def test_a_stale_setup_cell_is_restamped_in_the_copy(colab, tmp_path):
    # catches a check that runs the committed (old) setup cell instead of the canonical one
    path = fake_chapter(tmp_path, "# an old setup cell that installs nothing\npass")
    result = colab_check.check_notebook(colab.python, path, colab.repo)
    assert result.ok, "\n".join(result.problems)


def test_the_setup_cell_installs_lib_alone():
    # catches the setup cell installing myst-nb (the Sphinx stack) or anything besides lib
    source = notebooks.setup_cell_source()
    installs = [line for line in source.splitlines() if '"install"' in line]
    assert len(installs) == 1 and "myst" not in source, installs
    assert installs[0].rstrip().endswith('f"git+{BOOK_REPO}@main"]'), installs


def test_the_setup_cell_fits_the_code_column():
    # catches a setup cell wider than the page's 88-character code column
    assert max(map(len, notebooks.setup_cell_source().splitlines())) <= 88


# --- the versions: Colab's list, the lower bounds, the nearest release -----------------------


def test_a_missing_colab_list_fails_clearly(monkeypatch, tmp_path):
    # catches a check that silently falls back to the newest packages without Colab's list
    monkeypatch.setenv("BOOK_COLAB_FREEZE", str(tmp_path / "absent.txt"))
    with pytest.raises(FileNotFoundError, match="shared/colab"):
        colab_check.colab_versions()


def test_colab_versions_parse_a_pip_freeze(tmp_path):
    freeze = tmp_path / "pip-freeze.gpu.txt"
    freeze.write_text(
        "# comment\nJinja2==3.1.6\ntorch==2.11.0+cu128\n"
        "google-colab @ file:///colabtools/dist/google_colab-1.0.0.tar.gz\n"
    )
    # catches names not normalised (pip's Jinja2 is jinja2) and URL lines taken for versions
    assert colab_check.colab_versions(freeze) == {"jinja2": "3.1.6", "torch": "2.11.0+cu128"}
    freeze.write_text("# an HTML error page or an empty download\n")
    # catches a truncated list taken for "Colab has nothing"
    with pytest.raises(ValueError, match="no name==version"):
        colab_check.colab_versions(freeze)


def test_every_book_package_is_pinned_to_colab():
    pins, constraints = colab_check.targets("colab")
    # catches a package the book imports without Colab's version, or torch pinned to Colab's
    assert set(pins) == set(colab_check.book_packages()) and all(pins.values())
    assert "torch" not in pins and "torch" not in constraints
    assert not any("+" in v for v in constraints.values())


def test_the_lower_bounds_are_read_from_both_files():
    bounds = colab_check.lower_bounds()
    # catches a bound missed in pyproject.toml (lib's) or requirements.txt (the kernel's)
    assert {"numpy", "scipy", "torch", "ipykernel"} <= set(bounds)
    pins, constraints = colab_check.targets("lower")
    assert pins["numpy"] == bounds["numpy"] and constraints == {}


def test_nearest_takes_the_newest_older_release_else_the_oldest_newer():
    # catches a replacement far from Colab's version, or one newer when an older one exists
    assert colab_check.nearest("2.1.3", ["1.26.4", "2.1.2", "2.2.0"]) == "2.1.2"
    assert colab_check.nearest("0.1", ["0.3", "0.2"]) == "0.2"
    assert colab_check.nearest("1.0", []) is None
