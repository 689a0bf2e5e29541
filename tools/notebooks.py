"""Housekeeping for the chapter notebooks: the shared Colab setup cell, and output stripping.

python -m tools.notebooks stamp    # write the canonical setup cell into every chapter
python -m tools.notebooks strip    # remove outputs and execution counts (commit them clean)
python -m tools.notebooks check    # exit 1 if a chapter has outputs or a stale setup cell
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"


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


def strip(nb: dict) -> dict:
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return nb


def problems(path: Path) -> list[str]:
    nb = json.loads(path.read_text())
    found = []
    if any(c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"):
        found.append(f"{path.name}: carries outputs (run `make strip`)")
    cell = first_code_cell(nb)
    if cell is None or "".join(cell["source"]) != setup_cell_source():
        found.append(f"{path.name}: first code cell is not the setup cell (run `make stamp`)")
    elif "remove-cell" not in cell.get("metadata", {}).get("tags", []):
        found.append(f"{path.name}: setup cell is not tagged remove-cell")
    return found


def _rewrite(fn) -> None:
    for path in chapter_paths():
        nb = fn(json.loads(path.read_text()))
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    if command == "stamp":
        _rewrite(stamp)
    elif command == "strip":
        _rewrite(strip)
    elif command == "check":
        found = [p for path in chapter_paths() for p in problems(path)]
        print("\n".join(found) or f"{len(chapter_paths())} chapters clean")
        return 1 if found else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
