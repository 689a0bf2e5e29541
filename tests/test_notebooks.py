"""The conventions every chapter keeps (BOOK.md): stripped outputs, the shared setup cell,
listed in the table of contents, at least four exercises with solutions."""

import json
import re

import pytest

from tools import notebooks

CHAPTERS = notebooks.chapter_paths()
TOC = (notebooks.ROOT / "_toc.yml").read_text()


def test_there_are_chapters():
    assert CHAPTERS, "no chapter notebooks found"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_conventions(path):
    assert notebooks.problems(path) == []
    assert f"chapters/{path.stem}" in TOC
    nb = json.loads(path.read_text())
    md = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    exercises = re.findall(r"\{exercise(?:-start)?\}", md)
    solutions = re.findall(r"\{solution(?:-start)?\}", md)
    assert len(exercises) >= 4 and len(solutions) >= len(exercises)


def test_check_catches_outputs_and_a_stale_setup_cell(tmp_path, monkeypatch):
    nb = notebooks.stamp({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    nb["cells"].append(
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": 1,
            "source": "1",
            "outputs": [{"output_type": "stream", "name": "stdout", "text": "1"}],
        }
    )
    path = tmp_path / "99_x.ipynb"
    path.write_text(json.dumps(nb))
    assert any("outputs" in p for p in notebooks.problems(path))
    nb = notebooks.strip(nb)
    nb["cells"][0]["source"] = "print('old setup')"
    path.write_text(json.dumps(nb))
    assert any("setup cell" in p for p in notebooks.problems(path))
    path.write_text(json.dumps(notebooks.stamp(nb)))
    assert notebooks.problems(path) == []
