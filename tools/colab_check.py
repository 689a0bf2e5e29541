"""Run the chapters the way a Colab user does: a fresh Python with the newest packages, no `lib`.

    python -m tools.colab_check [--venv DIR] [--cells head|all] [chapters/NN_name.ipynb ...]

1. ``git clone`` the repository's committed HEAD into a temporary directory (branch ``main``):
   it stands in for the public repository the setup cell installs from.
2. Make a virtual environment that shares nothing with this one (no ``--system-site-packages``) and
   install what a Colab user has: ``torch==2.13.0`` (the CPU wheel; never unpinned torch) and the
   newest numpy, scipy, matplotlib, scikit-learn, ipykernel, nbclient... ``--venv DIR`` reuses one.
3. For each notebook (default: every ``chapters/*.ipynb`` of the clone), in an empty working
   directory, with ``BOOK_FORCE_COLAB=1`` and ``BOOK_REPO=file://<clone>``: execute it with
   nbclient in that environment, ``lib`` not installed beforehand. The hidden setup cell must
   install ``lib`` from the clone; the notebook must then run; afterwards torch must be the very
   same installation (version, location and files untouched) and ``lib`` must have come from the
   clone into that environment. What the setup cell installed (``lib``, myst-nb) is uninstalled
   again before the next notebook, as in a new Colab session.

``--cells head`` (the default) runs the setup cell, the imports and the settings cell of each
notebook (every code cell up to the first that calls ``settings(``); ``--cells all`` runs every
cell. ``BOOK_COLAB_CELLS`` and ``BOOK_COLAB_VENV`` set the same from the environment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TORCH = "torch==2.13.0"
# What a Colab user has besides torch, unpinned so that the newest releases are tested.
COLAB_PACKAGES = [
    "numpy",
    "scipy",
    "matplotlib",
    "scikit-learn",
    "pandas",
    "sympy",
    "tqdm",
    "ipykernel",
    "ipython",
    "nbclient",
    "nbformat",
]
DIST = "compression-book"  # the distribution that installs `lib` (pyproject.toml)
# What the setup cell installs and a new Colab session does not have: removed before each notebook
# (their dependencies stay, so that reinstalling them is quick).
FETCHED = [DIST, "myst-nb"]
MARK = "COLAB_CHECK "

# Runs inside the fresh environment: execute one notebook with nbclient, in the current directory.
EXECUTE = r"""
import sys, nbclient, nbformat
from nbclient.exceptions import CellExecutionError
nb = nbformat.read(sys.argv[1], as_version=4)
client = nbclient.NotebookClient(nb, timeout=int(sys.argv[2]), kernel_name="python3",
                                 resources={"metadata": {"path": "."}})
try:
    client.execute()
except CellExecutionError as e:
    print(str(e)[-4000:], file=sys.stderr)
    sys.exit(1)
finally:
    nbformat.write(nb, sys.argv[1])
"""

# The last cell appended to every notebook run: where the kernel's python, torch and lib live.
REPORT_CELL = f"""import importlib.util, json, sys
import lib, torch
print({MARK!r} + json.dumps({{"python": sys.executable, "torch": torch.__version__,
    "torch_file": torch.__file__, "lib": lib.__file__}}))"""

# Prints the identity of the torch installation: it must not change while a notebook runs.
TORCH_FINGERPRINT = r"""
import importlib.metadata as md, json, os, torch
dist = md.distribution("torch")
files = [os.path.join(os.path.dirname(torch.__file__), n) for n in ("__init__.py", "version.py")]
files.append(str(dist.locate_file(next(f for f in dist.files if f.name == "RECORD"))))
print(json.dumps({"version": torch.__version__, "file": torch.__file__,
                  "stat": [[f, os.stat(f).st_ino, os.stat(f).st_mtime_ns] for f in files]}))
"""


@dataclass
class Result:
    notebook: str
    ok: bool
    seconds: float
    problems: list[str] = field(default_factory=list)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without anything that would leak our own Python into the fresh
    one (PYTHONPATH, the active venv, the matplotlib backend the Makefile sets)."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "MPLBACKEND")
    }
    env.update(extra)
    return env


def clone(root: Path, dest: Path) -> Path:
    """A clone of ``root``'s committed HEAD at ``dest``, with HEAD on a branch ``main``."""
    if shutil.which("git") is None:
        raise FileNotFoundError("git is not installed")
    r = run(["git", "clone", "-q", str(root), str(dest)])
    if r.returncode:
        raise RuntimeError(f"git clone {root} failed: {r.stderr}")
    r = run(["git", "-C", str(dest), "checkout", "-q", "-B", "main"])
    if r.returncode:
        raise RuntimeError(f"git checkout -B main failed: {r.stderr}")
    return dest


def make_venv(dest: Path, log=print) -> Path:
    """A fresh virtual environment at ``dest`` with Colab's packages; returns its python."""
    python = dest / "bin" / "python"
    if not python.exists():
        log(f"creating a fresh virtual environment in {dest}")
        r = run([sys.executable, "-m", "venv", str(dest)], env=clean_env())
        if r.returncode:
            raise RuntimeError(f"python -m venv failed: {r.stderr}")
    pip = [str(python), "-m", "pip", "install", "-q"]
    for args in ([TORCH], ["--upgrade", *COLAB_PACKAGES]):
        log(f"pip install {' '.join(args)}")
        r = run(pip + args, env=clean_env())
        if r.returncode:
            raise RuntimeError(f"pip install {' '.join(args)} failed:\n{r.stderr[-3000:]}")
    return python


def torch_fingerprint(python: Path) -> dict:
    r = run([str(python), "-c", TORCH_FINGERPRINT], env=clean_env(), cwd=tempfile.gettempdir())
    if r.returncode:
        raise RuntimeError(f"torch does not import in {python}: {r.stderr[-2000:]}")
    return json.loads(r.stdout)


def lib_installed(python: Path) -> bool:
    code = "import importlib.util; print(importlib.util.find_spec('lib') is not None)"
    with tempfile.TemporaryDirectory() as empty:
        r = run([str(python), "-c", code], env=clean_env(), cwd=empty)
    return r.stdout.strip() == "True"


def uninstall_lib(python: Path) -> None:
    """Undo what a setup cell installed, as a new Colab session would (``FETCHED``)."""
    run([str(python), "-m", "pip", "uninstall", "-q", "-y", *FETCHED], env=clean_env())


def head(nb: dict) -> dict:
    """The notebook up to its settings cell: the setup cell, the imports, ``settings(...)``.

    Without a settings cell, the first three code cells."""
    code = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]
    settings = [i for i in code if "settings(" in "".join(c_source(nb["cells"][i]))]
    last = settings[0] if settings else code[min(2, len(code) - 1)] if code else -1
    return {**nb, "cells": nb["cells"][: last + 1]}


def c_source(cell: dict) -> str:
    s = cell["source"]
    return s if isinstance(s, str) else "".join(s)


def check_notebook(
    python: Path, notebook: Path, repo: Path, cells: str = "head", timeout: int = 900
) -> Result:
    """Run ``notebook`` as on Colab in the environment of ``python``; see the module docstring."""
    start = time.perf_counter()
    name = notebook.name
    uninstall_lib(python)
    if lib_installed(python):
        return Result(name, False, 0.0, ["lib is importable before the setup cell ran"])
    before = torch_fingerprint(python)
    nb = json.loads(notebook.read_text())
    if cells == "head":
        nb = head(nb)
    elif cells != "all":
        raise ValueError(f"cells must be 'head' or 'all', got {cells!r}")
    nb["cells"].append(
        {
            "cell_type": "code",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
            "source": REPORT_CELL,
        }
    )
    problems = []
    with tempfile.TemporaryDirectory(prefix="colab-content-") as content:
        path = Path(content) / name
        path.write_text(json.dumps(nb))
        env = clean_env(
            BOOK_FORCE_COLAB="1",
            BOOK_REPO=f"file://{repo.resolve()}",
            BOOK_SCALE=os.environ.get("BOOK_SCALE", "small"),
            BOOK_PROGRESS="0",
        )
        r = run([str(python), "-c", EXECUTE, str(path), str(timeout)], env=env, cwd=content)
        if r.returncode:
            problems.append(f"{name} failed on Colab:\n{(r.stderr or r.stdout)[-3000:]}")
        executed = json.loads(path.read_text())
    report = _report(executed)
    venv = python.parent.parent.absolute()  # not resolved: bin/python links to the base Python
    if not problems:
        if report is None:
            problems.append("the final report cell printed nothing")
        else:
            if Path(report["python"]).parent.parent != venv:
                problems.append(f"the kernel ran {report['python']}, not the fresh environment")
            # lib must have been fetched by the setup cell: installed into the environment, or
            # (the benchmarks page) from a clone made in the working directory; never from here.
            where = Path(report["lib"])
            if not (where.is_relative_to(venv) or where.is_relative_to(content)):
                problems.append(f"lib was imported from {where}, not fetched by the setup cell")
    after = torch_fingerprint(python)
    if after != before:
        problems.append(f"torch was changed by the notebook: before {before}, after {after}")
    uninstall_lib(python)
    return Result(name, not problems, time.perf_counter() - start, problems)


def _report(nb: dict) -> dict | None:
    for out in nb["cells"][-1].get("outputs", []):
        text = out.get("text", "")
        text = text if isinstance(text, str) else "".join(text)
        for line in text.splitlines():
            if line.startswith(MARK):
                return json.loads(line[len(MARK) :])
    return None


def main(argv: list[str]) -> int:
    args = argv[1:]
    venv = os.environ.get("BOOK_COLAB_VENV")
    cells = os.environ.get("BOOK_COLAB_CELLS", "head")
    for flag in ("--venv", "--cells"):
        if flag in args:
            i = args.index(flag)
            value = args[i + 1]
            del args[i : i + 2]
            venv, cells = (value, cells) if flag == "--venv" else (venv, value)
    with tempfile.TemporaryDirectory(prefix="colab-check-") as tmp:
        repo = clone(ROOT, Path(tmp) / "repo")
        python = make_venv(Path(venv) if venv else Path(tmp) / "venv")
        names = [Path(a).name for a in args]
        notebooks = [repo / "chapters" / n for n in names] or sorted(repo.glob("chapters/*.ipynb"))
        failed = 0
        for nb in notebooks:
            res = check_notebook(python, nb, repo, cells)
            failed += not res.ok
            print(f"{'ok  ' if res.ok else 'FAIL'} {res.notebook} ({cells}, {res.seconds:.0f} s)")
            for p in res.problems:
                print("  " + p.replace("\n", "\n  "))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
