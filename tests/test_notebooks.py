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


def test_check_catches_outputs_and_a_stale_setup_cell(tmp_path):
    nb = notebooks.stamp({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    nb["cells"].append(
        {
            "cell_type": "code",
            "id": "x",
            "metadata": {},
            "execution_count": 1,
            "source": "1",
            "outputs": [{"output_type": "stream", "name": "stdout", "text": "1"}],
        }
    )
    path = tmp_path / "99_x.ipynb"
    path.write_text(json.dumps(nb))
    assert any("outputs" in p for p in notebooks.problems(path))
    notebooks.strip([path])  # nbstripout, keeping the cell ids
    nb = json.loads(path.read_text())
    assert nb["cells"][1]["outputs"] == [] and nb["cells"][1]["id"] == "x"
    assert notebooks.problems(path) == []
    nb["cells"][0]["source"] = "print('old setup')"
    path.write_text(json.dumps(nb))
    assert any("setup cell" in p for p in notebooks.problems(path))
    path.write_text(json.dumps(notebooks.stamp(nb)))
    assert notebooks.problems(path) == []


def test_a_code_line_wider_than_the_page_fails_the_check(tmp_path, monkeypatch):
    # catches a code line that would scroll sideways in the rendered chapter (88 columns)
    nb = notebooks.stamp({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    nb["cells"].append({"cell_type": "code", "id": "x", "metadata": {}, "execution_count": None,
                        "outputs": [], "source": "x = 1\n" + "y = " + "1" * 90})  # fmt: skip
    path = tmp_path / "99_x.ipynb"
    path.write_text(json.dumps(nb))
    assert notebooks.long_lines({"cells": nb["cells"][1:]}) == ["cell 0: 1 line"]
    assert notebooks.LINE_LENGTH_FAILS
    assert "cell 1: 1 line" in notebooks.problems(path)[0]
    monkeypatch.setattr(notebooks, "LINE_LENGTH_FAILS", False)  # the report-only mode stays
    warnings = []
    assert notebooks.problems(path, warnings) == [] and "cell 1: 1 line" in warnings[0]


def test_a_glue_only_cell_must_hide_its_input():
    # catches bookkeeping shown to readers: a cell that only glues, without remove-input
    def cell(source, tags=()):
        return {"cell_type": "code", "metadata": {"tags": list(tags)}, "source": source}

    nb = {"cells": [cell('runtime.glue({"a": 1})'), cell("x = 1\nruntime.glue({'a': x})"),
                    cell('runtime.glue({"a": 1})', ["remove-input"])]}  # fmt: skip
    assert notebooks.visible_glue(nb) == [0]
