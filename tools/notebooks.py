"""Housekeeping for the chapter notebooks: the shared Colab setup cell, the coursework's nbgrader
metadata, and output stripping (by nbstripout).

python -m tools.notebooks stamp    # write the setup cell and nbgrader metadata into every chapter
python -m tools.notebooks strip    # nbstripout: remove outputs and execution counts (commit clean)
python -m tools.notebooks check    # exit 1 if a chapter has outputs, a stale setup cell or stale
                                   # nbgrader metadata; warns about code lines over 88 characters
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
MAX_LINE = 88  # the page's code column
# Report-only until every chapter keeps it; then True makes an over-long line a failure.
LINE_LENGTH_FAILS = True
# nbstripout, keeping cell ids (nbformat 4.5 needs them; nbgrader and links use them).
NBSTRIPOUT = [sys.executable, "-m", "nbstripout", "--keep-id"]
NBSTRIPOUT_KEYS = [  # the metadata nbstripout's command line removes by default
    "metadata.signature", "metadata.widgets", "cell.metadata.collapsed",
    "cell.metadata.ExecuteTime", "cell.metadata.execution", "cell.metadata.heading_collapsed",
    "cell.metadata.hidden", "cell.metadata.scrolled",
]  # fmt: skip


def repository_url() -> str:
    """The repository named in ``_config.yml`` (the one Colab fetches ``lib`` from)."""
    m = re.search(r"^repository:\s*\n\s+url:\s*(\S+)", (ROOT / "_config.yml").read_text(), re.M)
    if not m:
        raise ValueError("_config.yml names no repository url")
    return m.group(1)


def setup_cell_source() -> str:
    """The hidden first cell of every chapter.

    On Colab it installs ``lib`` alone from the repository, keeping Colab's own torch and every
    other package Colab has (``tools/colab_check.py`` tests exactly that in an environment of
    Colab's versions). The chapters glue through ``lib.runtime.glue``, which needs no myst-nb
    outside a book build. Lines stay within the page's 88-character code column."""
    return "\n".join(
        [
            "# Setup (hidden in the book). On Colab: install the book's `lib` from its repository,",
            "# keeping Colab's own torch and packages. Anywhere else `lib` is already installed",
            "# and this does nothing.",
            "import importlib",
            "import importlib.util",
            "import os",
            "import subprocess",
            "import sys",
            "",
            'on_colab = "google.colab" in sys.modules or os.environ.get("BOOK_FORCE_COLAB")',
            'if on_colab and importlib.util.find_spec("lib") is None:',
            "    BOOK_REPO = os.environ.get(",
            f'        "BOOK_REPO", "{repository_url()}"',
            "    )",
            '    pip = [sys.executable, "-m", "pip", "install", "-q", f"git+{BOOK_REPO}@main"]',
            "    subprocess.run(pip, check=True)",
            "    importlib.invalidate_caches()",
        ]
    )


def chapter_paths() -> list[Path]:
    return sorted(CHAPTERS.glob("[0-9][0-9]_*.ipynb"))


def first_code_cell(nb: dict) -> dict | None:
    return next((c for c in nb["cells"] if c["cell_type"] == "code"), None)


def stamp(nb: dict) -> dict:
    """Make the first code cell of ``nb`` the canonical setup cell, tagged ``remove-cell``.

    The template's placeholder (a first code cell tagged ``remove-cell`` that mentions the setup
    cell) is replaced in place; otherwise a new cell is inserted at the top. The cell gets an
    ``id`` where the notebook format asks for one (nbformat 4.5)."""
    cell = first_code_cell(nb)
    if cell is None or "BOOK_REPO" not in "".join(cell["source"]):
        placeholder = (
            cell is not None
            and "remove-cell" in cell.get("metadata", {}).get("tags", [])
            and "setup cell" in "".join(cell["source"])
        )
        if not placeholder:
            cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None}
            nb["cells"].insert(0, cell)
    cell["source"] = setup_cell_source()
    cell.setdefault("metadata", {})["tags"] = ["remove-cell"]
    if (nb.get("nbformat", 0), nb.get("nbformat_minor", 0)) >= (4, 5) and "id" not in cell:
        ids = {c.get("id") for c in nb["cells"]}
        cell["id"] = next(
            f"book-setup{i or ''}" for i in range(len(ids) + 1) if f"book-setup{i or ''}" not in ids
        )
    return nb


def strip(paths: list[Path]) -> None:
    """Remove outputs and execution counts with nbstripout (unchanged files are not rewritten)."""
    subprocess.run([*NBSTRIPOUT, *map(str, paths)], check=True)


def unstripped(paths: list[Path]) -> list[Path]:
    """The notebooks that ``nbstripout --verify`` would change (its own function, in process:
    a subprocess per notebook costs seconds on a loaded machine)."""
    import nbformat
    from nbstripout import strip_output

    found = []
    for path in paths:
        nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        stripped = strip_output(copy.deepcopy(nb), None, False, True, NBSTRIPOUT_KEYS)
        found += [path] if stripped != nb else []
    return found


def long_lines(nb: dict, limit: int = MAX_LINE) -> list[str]:
    """The code cells with lines wider than the page's code column: ``cell N: K lines``."""
    found = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            lines = "".join(cell["source"]).splitlines()
            if n := sum(len(line) > limit for line in lines):
                found.append(f"cell {i}: {n} line{'s' * (n > 1)}")
    return found


def visible_glue(nb: dict) -> list[int]:
    """Code cells that only call ``runtime.glue`` but show their input: the reader should see
    the experiment, not its bookkeeping (such cells are tagged ``remove-input``)."""
    import ast

    found = []
    for i, cell in enumerate(nb["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or "runtime.glue(" not in source:
            continue
        try:
            body = ast.parse(source).body
        except SyntaxError:
            continue
        only_glue = all(
            isinstance(st, ast.Expr)
            and isinstance(st.value, ast.Call)
            and ast.unparse(st.value.func) == "runtime.glue"
            for st in body
        )
        tags = cell.get("metadata", {}).get("tags", [])
        if only_glue and not {"remove-input", "remove-cell"} & set(tags):
            found.append(i)
    return found


def problems(path: Path, warnings: list[str] | None = None) -> list[str]:
    """What `check` fails on for one chapter; over-long code lines go to ``warnings`` (a list to
    fill) while LINE_LENGTH_FAILS is off, else they are problems too."""
    from tools import student  # student reads chapters with this module's helpers

    nb = json.loads(path.read_text())
    found = [f"{path.name}: carries outputs (run `make strip`)" for _ in unstripped([path])]
    cell = first_code_cell(nb)
    if cell is None or "".join(cell["source"]) != setup_cell_source():
        found.append(f"{path.name}: first code cell is not the setup cell (run `make stamp`)")
    elif "remove-cell" not in cell.get("metadata", {}).get("tags", []):
        found.append(f"{path.name}: setup cell is not tagged remove-cell")
    if path.name[:2].isdigit() and student.nbgrader_stale(path, nb):
        found.append(f"{path.name}: nbgrader metadata missing or stale (run `make stamp`)")
    if shown := visible_glue(nb):
        found.append(f"{path.name}: glue-only cells {shown} are not tagged remove-input")
    long = long_lines(nb)
    long = [f"{path.name}: code lines over {MAX_LINE} chars in " + ", ".join(long)] if long else []
    if LINE_LENGTH_FAILS:
        found += long
    elif warnings is not None:
        warnings += long
    return found


def stamp_chapter(nb: dict, path: Path) -> dict:
    """The setup cell, then (for a numbered chapter) the nbgrader metadata of its exercises."""
    from tools import student

    nb = stamp(nb)
    return student.nbgrader_stamp(nb, path) if path.name[:2].isdigit() else nb


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    if command == "stamp":
        for path in chapter_paths():
            nb = stamp_chapter(json.loads(path.read_text()), path)
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    elif command == "strip":
        strip(chapter_paths())
    elif command == "check":
        warnings: list[str] = []
        found = [p for path in chapter_paths() for p in problems(path, warnings)]
        if warnings:
            print("warning (report-only, LINE_LENGTH_FAILS is off):")
            print("\n".join(f"  {w}" for w in warnings))
        print("\n".join(found) or f"{len(chapter_paths())} chapters clean")
        return 1 if found else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
