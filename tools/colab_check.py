"""Run the chapters the way a Colab user does: Colab's package versions, no `lib` installed.

    python -m tools.colab_check [--versions colab|lower] [--venv DIR] [--cells head|all]
                                [chapters/NN_name.ipynb ...]

1. ``git clone`` the repository's committed HEAD into a temporary directory (branch ``main``):
   it stands in for the public repository the setup cell installs from.
2. Make a virtual environment that shares nothing with this one (no ``--system-site-packages``)
   and install, with ``--versions colab`` (the default), every package the book imports (``lib``'s
   dependencies in pyproject.toml and the notebook kernel) at the version Colab's GPU runtime has:
   ``../shared/colab/pip-freeze.gpu.txt`` beside the repository (Google's published list;
   ``BOOK_COLAB_FREEZE`` names another), every other line of it a constraint on what they pull in.
   With ``--versions lower``, the oldest versions pyproject.toml and requirements.txt allow.
   Two things cannot be Colab's here and are printed as differences: Python (this machine's; Colab
   has 3.13) and torch (``torch==2.13.0``, the CPU wheel on this machine's disk; never unpinned
   torch). A pinned version with no release installable on this Python is replaced by the nearest
   one that is, and printed as a difference too. ``--venv DIR`` reuses an environment.
3. For each notebook (default: every ``chapters/*.ipynb`` of the clone), in an empty working
   directory, with ``BOOK_FORCE_COLAB=1`` and ``BOOK_REPO=file://<clone>``: give it the current
   canonical setup cell (``tools.notebooks.stamp``, on a temporary copy) and execute it with
   nbclient in that environment, ``lib`` not installed beforehand. The setup cell must install
   ``lib`` from the clone; the notebook must then run; afterwards torch must be the very same
   installation (version, location and files untouched) and ``lib`` must have come from the clone
   into that environment. ``lib`` is uninstalled again before the next notebook, as in a new
   Colab session.

``--cells head`` (the default) runs the setup cell, the imports and the settings cell of each
notebook (every code cell up to the first that calls ``settings(``); ``--cells all`` runs every
cell. ``BOOK_COLAB_VERSIONS``, ``BOOK_COLAB_CELLS`` and ``BOOK_COLAB_VENV`` set the same from the
environment.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import InvalidVersion, Version

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

from tools import notebooks

ROOT = Path(__file__).resolve().parents[1]
TORCH = "torch==2.13.0"
VERSIONS = ("colab", "lower")
# Besides lib's dependencies (pyproject.toml): what runs the chapters as notebooks.
KERNEL = ["ipykernel", "ipython", "nbclient", "nbformat"]
# Never taken from Colab's list: torch and its CUDA companions (torch stays the local CPU build),
# and the environment's own installers (torch 2.13 needs a newer setuptools than Colab's).
NOT_PINNED = re.compile(r"^(torch.*|triton|nvidia-.*|pip|setuptools|wheel)$")
DIST = "compression-book"  # the distribution that installs `lib` (pyproject.toml)
# What the setup cell installs and a new Colab session does not have: removed before each notebook.
FETCHED = [DIST]
MARK = "COLAB_CHECK "


def canonical(name: str) -> str:
    """A distribution name as pip compares them (PEP 503): ``Jinja2`` -> ``jinja2``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def freeze_path() -> Path:
    """Colab's published package list: ``../shared/colab/pip-freeze.gpu.txt`` beside the
    repository root (``BOOK_COLAB_FREEZE`` overrides); a clear error if it is absent."""
    path = Path(
        os.environ.get("BOOK_COLAB_FREEZE") or ROOT.parent / "shared/colab/pip-freeze.gpu.txt"
    )
    if not path.is_file():
        raise FileNotFoundError(
            f"Colab's package list {path} is missing: the Colab check needs shared/colab/ beside "
            "the repository (as CI lays it), or BOOK_COLAB_FREEZE=<path to pip-freeze.gpu.txt>"
        )
    return path


def colab_versions(path: Path | None = None) -> dict[str, str]:
    """``{canonical name: version}`` for every ``name==version`` line of Colab's pip freeze."""
    found = {}
    for line in (path or freeze_path()).read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$", line.strip())
        if m:
            found[canonical(m.group(1))] = m.group(2)
    if not found:
        raise ValueError(f"{path} lists no name==version lines: not a pip freeze")
    return found


def colab_python(path: Path | None = None) -> str:
    """Colab's Python version, from ``os-info-gpu.txt`` beside the freeze ('?' if not there)."""
    info = (path or freeze_path()).parent / "os-info-gpu.txt"
    m = re.search(r"^Python (\S+)", info.read_text(), re.M) if info.is_file() else None
    return m.group(1) if m else "?"


def book_packages() -> list[str]:
    """Every package the book imports, torch aside: lib's dependencies, then the kernel's."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = [canonical(re.split(r"[<>=!~ ;\[]", d, maxsplit=1)[0]) for d in deps]
    return [n for n in names if n != "torch"] + KERNEL


def lower_bounds() -> dict[str, str]:
    """``{name: oldest allowed version}`` over pyproject.toml's dependencies and requirements.txt
    (the larger of the two where both bound a package)."""
    lines = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lines += (ROOT / "requirements.txt").read_text().splitlines()
    bounds: dict[str, str] = {}
    for line in lines:
        m = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*[^#]*?>=\s*([0-9][^,;#\s]*)", line)
        if m:
            name, low = canonical(m.group(1)), m.group(2)
            if name not in bounds or Version(low) > Version(bounds[name]):
                bounds[name] = low
    return bounds


def nearest(wanted: str, available: list[str]) -> str | None:
    """The release nearest to ``wanted`` among ``available``: the newest older one, else the
    oldest newer one (``None`` if there is none)."""
    try:
        want = Version(wanted)
    except InvalidVersion:
        return None
    versions = sorted({Version(v) for v in available if _valid(v)})
    older = [v for v in versions if v < want]
    newer = [v for v in versions if v > want]
    return str(older[-1]) if older else str(newer[0]) if newer else None


def _valid(v: str) -> bool:
    try:
        Version(v)
    except InvalidVersion:
        return False
    return True


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


def targets(versions: str) -> tuple[dict[str, str], dict[str, str]]:
    """What to install: ``({package: version}, {other package: version constraint})``.

    ``colab``: the book's packages at Colab's versions, everything else in Colab's list a
    constraint. ``lower``: the book's packages with a lower bound at that bound (one without a
    bound, such as nbclient, at the newest that fits), no constraints."""
    if versions == "colab":
        colab = colab_versions()
        missing = [n for n in book_packages() if n not in colab]
        if missing:
            raise ValueError(f"Colab's package list has no {missing}: cannot pin them")
        pins = {n: colab[n] for n in book_packages()}
        others = {n: v for n, v in colab.items() if n not in pins and not NOT_PINNED.match(n)}
        return pins, {n: v for n, v in others.items() if "+" not in v}
    if versions == "lower":
        bounds = lower_bounds()
        return {n: bounds.get(n, "") for n in book_packages()}, {}
    raise ValueError(f"versions must be one of {VERSIONS}, got {versions!r}")


NOT_FOUND = re.compile(
    r"Could not find a version that satisfies the requirement "
    r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) \(from versions: ([^)]*)\)"
)


def pip_install(python: Path, pins: dict, constraints: dict, log=print) -> list[str]:
    """Install ``torch==2.13.0`` and ``pins`` under ``constraints`` into ``python``'s environment.

    A pinned version with no release for this Python (pip: "Could not find a version that
    satisfies the requirement X==v (from versions: ...)") is replaced by the nearest one listed;
    returns one line per replacement."""
    pins, constraints, replaced = dict(pins), dict(constraints), []
    with tempfile.TemporaryDirectory() as tmp:
        cfile = Path(tmp) / "constraints.txt"
        for _ in range(40):
            cfile.write_text("".join(f"{n}=={v}\n" for n, v in constraints.items()))
            args = [TORCH] + [f"{n}=={v}" if v else n for n, v in pins.items()]
            log(f"pip install {' '.join(args)} ({len(constraints)} constraints)")
            cmd = [str(python), "-m", "pip", "install", "-q", *args, "-c", str(cfile)]
            r = run(cmd, env=clean_env())
            if r.returncode == 0:
                return replaced
            m = NOT_FOUND.search(r.stderr)
            name = canonical(m.group(1)) if m else None
            table = pins if name in pins else constraints if name in constraints else None
            new = nearest(m.group(2), m.group(3).split(", ")) if m else None
            if table is None or new is None or name == "torch":
                raise RuntimeError(f"pip install failed:\n{r.stderr[-3000:]}")
            replaced.append(f"{name}: {m.group(2)} has no release for this Python; {new} instead")
            table[name] = new
    raise RuntimeError("pip install: too many versions without a release for this Python")


TORCH_NEEDS = r"""
import importlib.metadata as md, json, re
found = {}
for req in md.requires("torch") or []:
    m = re.match(r"^([A-Za-z0-9._-]+)\s*>=\s*([0-9][^,;\s]*)\s*(;|$)", req)
    if m and "extra" not in req:
        found[m.group(1)] = m.group(2)
print(json.dumps(found))
"""


def raise_to_torch(python: Path, pins: dict, log=print) -> tuple[dict, list[str]]:
    """Lower bounds below what the installed ``torch==2.13.0`` itself requires (sympy>=1.13.3),
    raised to torch's bound: pip cannot install both. Returns the pins and one line per change."""
    r = run([str(python), "-m", "pip", "install", "-q", TORCH], env=clean_env())
    if r.returncode:
        raise RuntimeError(f"pip install {TORCH} failed:\n{r.stderr[-3000:]}")
    r = run([str(python), "-c", TORCH_NEEDS], env=clean_env(), cwd=tempfile.gettempdir())
    needs = {canonical(n): v for n, v in json.loads(r.stdout).items()}
    pins, changed = dict(pins), []
    for name, low in pins.items():
        if low and name in needs and Version(low) < Version(needs[name]):
            changed.append(f"{name}: lower bound {low} is older than {TORCH} allows; {needs[name]}")
            pins[name] = needs[name]
    for line in changed:
        log(line)
    return pins, changed


def make_venv(dest: Path, versions: str = "colab", log=print) -> Path:
    """A fresh virtual environment at ``dest`` with the packages of ``versions`` (see the module
    docstring); returns its python. ``differences(python, versions)`` says how it departs."""
    pins, constraints = targets(versions)
    python = dest / "bin" / "python"
    if not python.exists():
        log(f"creating a fresh virtual environment in {dest}")
        r = run([sys.executable, "-m", "venv", str(dest)], env=clean_env())
        if r.returncode:
            raise RuntimeError(f"python -m venv failed: {r.stderr}")
    replaced = []
    if versions == "lower":
        pins, replaced = raise_to_torch(python, pins, log)
    replaced += pip_install(python, pins, constraints, log)
    (dest / "colab-check-replaced.json").write_text(json.dumps(replaced))
    return python


def installed(python: Path) -> dict[str, str]:
    """``{canonical name: version}`` of every distribution in ``python``'s environment."""
    r = run([str(python), "-m", "pip", "list", "--format=json"], env=clean_env())
    if r.returncode:
        raise RuntimeError(f"pip list failed: {r.stderr[-2000:]}")
    return {canonical(d["name"]): d["version"] for d in json.loads(r.stdout)}


def differences(python: Path, versions: str = "colab") -> list[str]:
    """How the environment of ``python`` departs from what ``versions`` asked for: Python, torch,
    versions replaced for lack of a release, and (``colab``) every package at another version
    than Colab's or not on Colab."""
    here = installed(python)
    r = run([str(python), "-c", "import platform; print(platform.python_version())"])
    lines = [f"Python: Colab {colab_python()}, here {r.stdout.strip()}"]
    colab = colab_versions()
    lines.append(f"torch: Colab {colab.get('torch', '?')}, here {here.get('torch')} (CPU build)")
    replaced = python.parent.parent / "colab-check-replaced.json"
    lines += json.loads(replaced.read_text()) if replaced.exists() else []
    if versions == "lower":
        pins, _ = targets("lower")
        torch_low = lower_bounds().get("torch")
        untested = "untested: the only CPU wheel on this machine's disk"
        lines.append(f"torch: lower bound {torch_low}, here {here.get('torch')} ({untested})")
        explained = {line.split(":")[0] for line in lines}
        for n, v in pins.items():
            got = here.get(n)
            if n in explained:
                continue
            what = f"lower bound {v}" if v else "no lower bound"
            if not v or Version(got) != Version(v):
                lines.append(f"{n}: {what}, here {got} (Colab {colab.get(n, '-')})")
        return lines
    skip = {"pip", "setuptools", "wheel", DIST}
    for n, v in sorted(here.items()):
        if n in skip or n == "torch":
            continue
        if n not in colab:
            lines.append(f"{n}: not on Colab, here {v}")
        elif _valid(v) and _valid(colab[n]) and Version(v) != Version(colab[n]):
            lines.append(f"{n}: Colab {colab[n]}, here {v}")
    return lines


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
    python: Path,
    notebook: Path,
    repo: Path,
    cells: str = "head",
    timeout: int = 900,
    restamp: bool | None = None,
) -> Result:
    """Run ``notebook`` as on Colab in the environment of ``python``; see the module docstring.

    ``restamp`` (default: for the chapters, ``NN_name.ipynb``) first gives the temporary copy the
    current canonical setup cell, as ``python -m tools.notebooks stamp`` would."""
    start = time.perf_counter()
    name = notebook.name
    uninstall_lib(python)
    if lib_installed(python):
        return Result(name, False, 0.0, ["lib is importable before the setup cell ran"])
    before = torch_fingerprint(python)
    nb = json.loads(notebook.read_text())
    if restamp if restamp is not None else re.match(r"\d\d_", name):
        nb = notebooks.stamp(nb)
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
    opts = {
        "--venv": os.environ.get("BOOK_COLAB_VENV"),
        "--cells": os.environ.get("BOOK_COLAB_CELLS", "head"),
        "--versions": os.environ.get("BOOK_COLAB_VERSIONS", "colab"),
    }
    for flag in opts:
        if flag in args:
            i = args.index(flag)
            opts[flag] = args[i + 1]
            del args[i : i + 2]
    cells, versions = opts["--cells"], opts["--versions"]
    with tempfile.TemporaryDirectory(prefix="colab-check-") as tmp:
        repo = clone(ROOT, Path(tmp) / "repo")
        python = make_venv(Path(opts["--venv"] or Path(tmp) / "venv"), versions)
        print(f"Differences from {versions} versions:")
        print("\n".join("  " + line for line in differences(python, versions)))
        names = [Path(a).name for a in args]
        notebooks_ = [repo / "chapters" / n for n in names] or sorted(repo.glob("chapters/*.ipynb"))
        failed = 0
        for nb in notebooks_:
            res = check_notebook(python, nb, repo, cells)
            failed += not res.ok
            print(f"{'ok  ' if res.ok else 'FAIL'} {res.notebook} ({cells}, {res.seconds:.0f} s)")
            for p in res.problems:
                print("  " + p.replace("\n", "\n  "))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
