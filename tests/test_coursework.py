"""Coursework (tools/student.py): the exercise convention, the student edition, the grader.

Fast tests run a tiny synthetic chapter made here; they prove the machinery (checking, stubbing,
grading pass and fail) in seconds. The chapters' own tests (every chapter keeps the convention,
its student edition leaks no solution) read notebooks without running them. Grading the real
chapters executes each twice (solution and blank student edition): set COURSEWORK_FULL=1
(`make test-coursework`; COURSEWORK_FULL=blank for the blank editions only) to run those.
"""

import ast
import copy
import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools import notebooks, student

# --- a synthetic chapter that keeps the convention ---------------------------------------------


def md(text):
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def code(text, *tags):
    meta = {"tags": list(tags)} if tags else {}
    return {"cell_type": "code", "metadata": meta, "source": text, "outputs": [],
            "execution_count": None}  # fmt: skip


def gate(label, body, start=True):
    opening = (
        f"````{{exercise-start}}\n:label: {label}\n````\n{body}\n````{{exercise-end}}\n````\n\n"
    )
    return opening + (f"````{{solution-start}} {label}\n:class: dropdown\n````\n" if start else "")


END = "````{solution-end}\n````"

CELLS = [
    md("# 7. A synthetic chapter\n\nProse."),
    code(
        "import math, uuid\nfrom lib import runtime\ndata = [1, 2, 2, 3]\n"
        'runtime.glue({"ch7-n-data": len(data)})\nprint("RUN-" + uuid.uuid4().hex)'
    ),
    md("## Checks\n\nThe data has {glue:text}`ch7-n-data` items."),
    code("assert len(data) == 4"),
    md(
        "## Exercises\n\n"
        + gate("ch7-ex-bound", "Show that 1 + x <= e^x.")
        + "SECRET-PROSE-1: the tangent line at 0 lies below the convex exponential.\n"
        + END
        + "\n\n"
        + gate("ch7-ex-size", "Write `sample_size(eps, delta)`.")
    ),
    code(
        "import math\n\n\ndef sample_size(eps, delta):\n    # BEGIN SOLUTION\n"
        "    secret_m = math.log(2 / delta) / (2 * eps**2)\n    return math.ceil(secret_m)\n"
        "    # END SOLUTION",
        "answer",
    ),
    md(END),
    code("assert sample_size(0.1, 0.05) == 185", "check"),
    code("assert sample_size(0.01, 0.01) == 26492", "check", "hidden-check", "remove-cell"),
    md(gate("ch7-ex-entropy", "Compute the empirical entropy `h` of `data` in bits.")),
    code(
        "from collections import Counter\n\n# BEGIN SOLUTION\nsecret_counts = Counter(data)\n"
        "h = -sum(c / len(data) * math.log2(c / len(data)) for c in secret_counts.values())\n"
        "# END SOLUTION",
        "answer",
    ),
    md(END),
    code("assert 0 <= h <= 2", "check"),
    code("assert abs(h - 1.5) < 1e-12", "check", "hidden-check", "remove-cell"),
    md(gate("ch7-ex-proof", "Why is h at most log2 of the alphabet size?")),
    md("SECRET-PROSE-2: Jensen's inequality on the concave logarithm."),
    code("secret_demo = max(data)", "remove-input"),
    md(END + "\n\n## Further reading\n\nA book."),
]


KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}


def synthetic(cells=None):
    return {"cells": copy.deepcopy(cells or CELLS), "metadata": copy.deepcopy(KERNEL),
            "nbformat": 4, "nbformat_minor": 5}  # fmt: skip


def chapter(nb=None):
    return student.read_chapter("07_synthetic.ipynb", nb or synthetic())


def all_text(nb):
    return "\n".join(student.source(c) for c in nb["cells"])


# --- the convention ------------------------------------------------------------------------------


def test_synthetic_chapter_keeps_the_convention():
    ch = chapter()
    assert ch.problems == []
    assert [(e.label, e.kind) for e in ch.exercises] == [
        ("ch7-ex-bound", "pen"), ("ch7-ex-size", "code"),
        ("ch7-ex-entropy", "code"), ("ch7-ex-proof", "pen"),
    ]  # fmt: skip
    size = ch.exercises[1]
    assert (size.answer, size.checks, size.hidden) == (5, [7], [8])


def _replace(i, text=None, *tags):
    def edit(cells):
        if text is None:
            del cells[i]
        else:
            cells[i] = code(text, *tags) if tags else md(text)

    return edit


BREAKS = {
    "label 'ch7-ex-size' used twice": lambda c: c.__setitem__(9, md(gate("ch7-ex-size", "Again"))),
    "has no solution": lambda c: c.__setitem__(
        4, md(gate("ch7-ex-bound", "Q.", start=False) + gate("ch7-ex-size", "Q."))
    ),
    "needs a check and a hidden-check cell": _replace(8),
    "without # END SOLUTION": lambda c: c[5].__setitem__(
        "source", c[5]["source"].replace("    # END SOLUTION", "")
    ),
    "must also be tagged check and remove-cell": lambda c: c[8]["metadata"].__setitem__(
        "tags", ["check", "hidden-check"]
    ),
    "answer cell outside a solution gate": lambda c: c.insert(2, code("x = 1", "answer")),
    "# BEGIN SOLUTION in a cell not tagged answer": lambda c: c[5]["metadata"].clear(),
    "does not start with 'ch7-ex-'": lambda c: c.__setitem__(14, md(gate("ch8-ex-proof", "Q."))),
    "is never closed": lambda c: c.__setitem__(17, md("The end.")),
    "needs >= 4 with >= 2 coding": lambda c: c.__delitem__(slice(14, 17)),
    "is not gated": lambda c: c.append(md("````{solution} ch7-ex-bound\nText.\n````")),
    "lacks ':class: dropdown'": lambda c: c.__setitem__(
        9, md(gate("ch7-ex-entropy", "Q.").replace(":class: dropdown\n", ""))
    ),
}


@pytest.mark.parametrize("expected", BREAKS)
def test_checker_names_each_break_of_the_convention(expected):
    cells = copy.deepcopy(CELLS)
    BREAKS[expected](cells)
    problems = chapter(synthetic(cells)).problems
    assert any(expected in p for p in problems), problems


# --- stubs ---------------------------------------------------------------------------------------


def test_stub_raises_inside_functions_and_is_an_ellipsis_at_top_level():
    src = (
        "class A:\n    def f(self):\n        # BEGIN SOLUTION\n        return 1\n"
        "        # END SOLUTION\n"
        "\nfor i in range(3):\n    # BEGIN SOLUTION\n    print(i)\n    # END SOLUTION\n"
        "%time x = 1\n# BEGIN SOLUTION\ny = 2\n# END SOLUTION"
    )
    out = student.stub(src, "lbl")
    assert "return 1" not in out and "print(i)" not in out and "y = 2" not in out
    assert "        raise NotImplementedError('lbl')" in out.splitlines()
    assert out.splitlines().count("    ...") == 1 and out.splitlines()[-1] == "..."
    ast.parse(student._python(out))
    assert student.marker_problems(src) == []


@pytest.mark.parametrize(
    "src, expected",
    [
        ("x = 1", "no # BEGIN SOLUTION"),
        ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION", "nested"),
        ("# END SOLUTION", "without # BEGIN"),
        ("if x:\n# BEGIN SOLUTION\n    y\n# END SOLUTION", "does not parse"),
    ],
)
def test_marker_problems(src, expected):
    assert expected in student.marker_problems(src)[0]


# --- the student edition -------------------------------------------------------------------------


def test_student_edition_removes_every_solution_and_keeps_the_rest():
    nb = student.student_notebook(chapter())
    text = all_text(nb)
    assert "SECRET" not in text.replace("raise NotImplementedError", "")
    assert "secret" not in text and "solution-start" not in text and "solution-end" not in text
    assert "26492" not in text and "1e-12" not in text  # hidden checks are gone
    for label in ("ch7-ex-bound", "ch7-ex-size", "ch7-ex-entropy", "ch7-ex-proof"):
        assert f":label: {label}" in text  # every exercise statement stays
    assert "assert sample_size(0.1, 0.05) == 185" in text and "assert 0 <= h <= 2" in text
    assert "## Further reading" in text and "assert len(data) == 4" in text
    answers = [c for c in nb["cells"] if student.role(c).get("role") == "answer"]
    assert [student.role(c)["exercise"] for c in answers] == ["ch7-ex-size", "ch7-ex-entropy"]
    assert "def sample_size(eps, delta):" in student.source(answers[0])  # signature kept
    assert "raise NotImplementedError" in student.source(answers[0])
    assert student.source(answers[1]).endswith("# YOUR CODE HERE\n...")
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            ast.parse(student._python(student.source(cell)))
            assert cell["outputs"] == [] and cell["execution_count"] is None
        assert student.source(cell).strip()
    assert nb["metadata"]["coursework"]["chapter"] == "07_synthetic"


def test_references_to_what_only_a_solution_defines_are_found():
    assert student.dangling(chapter()) == []
    cells = copy.deepcopy(CELLS)
    cells[15] = md("(ch7-secret-eq)=\nSECRET-PROSE-2.")
    cells[16] = code("from myst_nb import glue\nglue('ch7-secret', 1, display=False)")
    cells.append(
        md("See {ref}`ch7-secret-eq` and {glue:text}`ch7-secret:.2f`, {ref}`ch7-ex-size`.")
    )
    found = student.dangling(chapter(synthetic(cells)))
    assert len(found) == 2 and "'ch7-secret'" in found[0] and "'ch7-secret-eq'" in found[1]


def test_edition_leaves_out_a_chapter_that_breaks_the_convention(tmp_path):
    good, bad = tmp_path / "07_synthetic.ipynb", tmp_path / "08_broken.ipynb"
    good.write_text(json.dumps(synthetic()))
    bad.write_text(json.dumps(synthetic(CELLS[:4])))
    problems = student.write_edition(tmp_path / "out", [good, bad])
    assert (tmp_path / "out/chapters/07_synthetic.ipynb").exists()
    assert not (tmp_path / "out/chapters/08_broken.ipynb").exists()
    assert problems and all(p.startswith("08_broken") for p in problems)


def _book(root, chapter_nb, name="07_synthetic"):
    """A small book in ``root`` whose one chapter is ``chapter_nb`` (and the instructor page)."""
    (root / "chapters").mkdir(parents=True)
    shutil.copy(notebooks.ROOT / "_config.yml", root)
    for bib in notebooks.ROOT.glob("**/*.bib"):
        if not {".venv", "_build", "course"} & set(bib.parts):
            target = root / bib.relative_to(notebooks.ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(bib, target)
    toc = "format: jb-book\nroot: chapters/intro\nchapters:\n"
    (root / "_toc.yml").write_text(toc + f"  - file: chapters/{name}\n"
                                   "  - file: chapters/instructors\n")  # fmt: skip
    (root / "chapters/intro.md").write_text("# Intro\n")
    (root / "chapters/instructors.md").write_text("# For instructors\n")
    (root / f"chapters/{name}.ipynb").write_text(json.dumps(chapter_nb))


def test_the_student_website_after_a_book_build_reuses_its_outputs_and_glue(tmp_path):
    """`make book` then `make student`, as an instructor runs them on a fresh clone: the book is
    built strictly, then the student website strictly, reusing the book's outputs and glue data
    (myst-nb moves glued values out of the executed notebook into a .glue.json beside it)."""
    root = tmp_path / "book"
    _book(root, synthetic())
    jb = str(Path(sys.executable).with_name("jupyter-book"))
    build = [jb, "build", str(root), "--path-output", str(tmp_path / "book-out"), "-W", "-n"]
    subprocess.run([*build, "--keep-going"], check=True, capture_output=True)
    built = tmp_path / "book-out/_build"
    book_page = (built / "html/chapters/07_synthetic.html").read_text()
    token = re.search(r"RUN-[0-9a-f]{32}", book_page).group(0)
    html = student.build_website(tmp_path / "site", root, executed=built)
    page = (html / "chapters/07_synthetic.html").read_text()
    assert "ch7-ex-size" in page and "Compute the empirical entropy" in page
    assert 'sample_size</span><span class="p">(</span><span class="mf">0.1' in page
    assert "SECRET" not in page and "secret" not in page and "26492" not in page
    assert "Solution" not in page
    assert token in page  # not executed again: the book's output
    assert "The data has 4 items" in re.sub(r"<[^>]+>", "", page)  # the glued value
    assert not (html / "chapters/instructors.html").exists()
    assert "student edition" in (html / "index.html").read_text() + page


def test_outputs_are_reused_only_from_a_run_of_the_current_solution():
    ch = chapter()
    ran = synthetic()
    for cell in ran["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": cell["source"]}]
    nb = student.student_notebook(ch)
    assert student.reuse_outputs(nb, ch.nb, ran)
    assert nb["metadata"]["mystnb"] == {"execution_mode": "off"}
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            has_role = bool(student.role(cell))
            assert bool(cell["outputs"]) != has_role  # answers and checks get no output
            assert has_role or cell["outputs"][0]["text"] == student.source(cell)
    ran["cells"][1]["source"] = "data = [4, 4]"  # a run of an older version of the chapter
    nb = student.student_notebook(ch)
    assert not student.reuse_outputs(nb, ch.nb, ran) and "mystnb" not in nb["metadata"]


# --- nbgrader: the stamp, the source notebooks, the round trip ------------------------------------


def test_the_stamp_writes_nbgrader_metadata_once_and_check_sees_it_missing(tmp_path):
    path = tmp_path / "07_synthetic.ipynb"
    nb = student.nbgrader_stamp(synthetic(), path)
    meta = {i: c["metadata"]["nbgrader"] for i, c in enumerate(nb["cells"])
            if "nbgrader" in c["metadata"]}  # fmt: skip
    got = {i: (m["grade_id"], m["solution"], m["grade"], m.get("points")) for i, m in meta.items()}
    assert got == {
        5: ("ch7-ex-size", True, False, None),
        7: ("ch7-ex-size_check1", False, True, 1),
        8: ("ch7-ex-size_hidden1", False, True, 1),
        10: ("ch7-ex-entropy", True, False, None),
        12: ("ch7-ex-entropy_check1", False, True, 1),
        13: ("ch7-ex-entropy_hidden1", False, True, 1),
    }
    assert student.source(nb["cells"][8]).startswith(student.HIDDEN_BEGIN + "\n")
    assert nb["metadata"]["coursework"]["points"] == {"ch7-ex-bound": 2, "ch7-ex-proof": 2}
    assert student.nbgrader_stamp(nb, path) == nb  # idempotent
    assert not student.nbgrader_stale(path, nb) and student.nbgrader_stale(path, synthetic())
    stale = copy.deepcopy(nb)
    stale["cells"][7]["metadata"]["nbgrader"]["points"] = 5  # edited by hand: the stamp wins
    stale["cells"][3]["metadata"]["nbgrader"] = meta[7]  # on a cell that is no check
    assert student.nbgrader_stale(path, stale) and student.nbgrader_stamp(stale, path) == nb
    # `tools.notebooks check` fails on a chapter without it, passes once stamped
    path.write_text(json.dumps(notebooks.stamp(synthetic())))
    assert any("nbgrader" in p for p in notebooks.problems(path))
    path.write_text(json.dumps(notebooks.stamp_chapter(synthetic(), path)))
    assert not any("nbgrader" in p for p in notebooks.problems(path))


def test_the_nbgrader_source_keeps_no_prose_solution_and_every_check():
    nb = student.nbgrader_source("07_synthetic.ipynb", synthetic())
    text = all_text(nb)
    assert "solution-start" not in text and "solution-end" not in text
    assert "secret_demo" not in text  # code that only illustrates a pen solution
    assert "26492" in text and "secret_m" in text  # hidden checks and answers: nbgrader hides them
    pen = [c for c in nb["cells"] if c["cell_type"] == "markdown" and "nbgrader" in c["metadata"]]
    assert [c["metadata"]["nbgrader"]["grade_id"] for c in pen] == ["ch7-ex-bound", "ch7-ex-proof"]
    assert all(c["metadata"]["nbgrader"]["points"] == 2 for c in pen)
    assert "SECRET-PROSE-1" in student.source(pen[0])  # replaced by "YOUR ANSWER HERE" on release
    ids = [c["id"] for c in nb["cells"] if "id" in c]
    assert len(ids) == len(set(ids))


def _answer(nb, label):
    return next(
        c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == label
    )


def nbgrader(course, *args):
    """Run nbgrader in ``course`` (its alembic migration is a command beside the interpreter)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                         capture_output=True, text=True)  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run


def round_trip(course, path, edits=None):
    """Stamp a copy of the chapter at ``path``, write the course's source notebook, release it
    with `nbgrader generate_assignment`, hand in the solution (the source notebook) and the blank
    release (plus ``edits``: name -> function of the release notebook), `nbgrader autograde`
    them, and return the per-exercise CSV's rows, by student."""
    copy_path = course / "chapters" / path.name
    copy_path.parent.mkdir(parents=True)
    nb = notebooks.stamp_chapter(json.loads(Path(path).read_text()), copy_path)
    copy_path.write_text(json.dumps(nb))
    assert student.write_nbgrader_course(course, [copy_path]) == []
    name = path.stem
    nbgrader(course, "generate_assignment", name, "--force")
    release = json.loads((course / "release" / name / path.name).read_text())
    subs = {"solution": json.loads((course / "source" / name / path.name).read_text()),
            "blank": release}  # fmt: skip
    for who, edit in (edits or {}).items():
        subs[who] = edit(copy.deepcopy(release))
    for who, sub in subs.items():
        target = course / "submitted" / who / name / path.name
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(sub))
    nbgrader(course, "autograde", name, "--create")
    student.write_grades(course, course / "grades.csv")
    rows = list(csv.DictReader(open(course / "grades.csv")))
    return {who: [r for r in rows if r["student"] == who] for who in subs}


def _cheat(nb):
    """Passes the visible checks by hard-coding, and rewrites the checks to pass anyway."""
    _answer(nb, "ch7-ex-size")["source"] = "def sample_size(eps, delta):\n    return 185"
    _answer(nb, "ch7-ex-entropy")["source"] = "h = 1.0"
    for cell in nb["cells"]:
        if "check" in student.tags(cell):
            cell["source"] = "assert True"
    return nb


@pytest.fixture(scope="module")
def synthetic_grades(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    src = course.parent / "07_synthetic.ipynb"
    src.write_text(json.dumps(synthetic()))
    return round_trip(course, src, {"cheat": _cheat})


def scores(rows):
    return {r["exercise"]: (r["score"], r["max"], r["graded"]) for r in rows}


def test_nbgrader_gives_the_solution_full_marks_and_lists_pen_exercises(synthetic_grades):
    assert scores(synthetic_grades["solution"]) == {
        "ch7-ex-bound": ("", "2.0", "graded by hand"),
        "ch7-ex-size": ("2.0", "2.0", "autograded"),
        "ch7-ex-entropy": ("2.0", "2.0", "autograded"),
        "ch7-ex-proof": ("", "2.0", "graded by hand"),
    }


def test_nbgrader_gives_the_blank_release_zero(synthetic_grades):
    code = [r for r in synthetic_grades["blank"] if r["kind"] == "code"]
    assert [(r["score"], r["max"]) for r in code] == [("0.0", "2.0"), ("0.0", "2.0")]


def test_nbgrader_restores_the_checks_and_hidden_checks_catch_hard_coding(synthetic_grades):
    code = [r for r in synthetic_grades["cheat"] if r["kind"] == "code"]
    assert [r["score"] for r in code] == ["1.0", "1.0"]


# --- the book's chapters -------------------------------------------------------------------------

CHAPTERS = notebooks.chapter_paths()


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_chapter_keeps_the_exercise_convention(path):
    assert student.chapter_problems(student.read_chapter(path)) == []


def _solution_prose(nb):
    """Long lines of markdown inside solution gates."""
    lines, inside = [], False
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        text = student.source(cell)
        starts = {d.first: d for d in student.directives(text)}
        skip = set()
        for d in starts.values():
            skip.update(range(d.first, d.last + 1))
        for i, line in enumerate(text.splitlines()):
            if i in starts and starts[i].name in ("solution-start", "solution-end"):
                inside = starts[i].name == "solution-start"
            elif inside and i not in skip and len(line.strip()) > 40:
                lines.append(line.strip())
    return lines


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_the_student_edition_of_every_chapter_leaks_no_solution(path):
    ch = student.read_chapter(path)
    nb = student.student_notebook(ch)
    text = all_text(nb)
    assert not re.search(r"\{solution(-start|-end)?\}", text)
    assert "BEGIN SOLUTION" not in text
    assert not any("hidden-check" in student.tags(c) for c in nb["cells"])
    markdown = "\n".join(student.source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert [line for line in _solution_prose(ch.nb) if line in markdown] == []
    for cell in nb["cells"]:
        if student.role(cell).get("role") == "answer":
            ast.parse(student._python(student.source(cell)))


# --- nbgrader on the real chapters: chapter 1 always; every chapter with COURSEWORK_FULL=1 --------

FULL = os.environ.get("COURSEWORK_FULL", "") not in ("", "0")
FAST_CHAPTER = "01_pac_bound"


def _check_round_trip(path, course):
    by_student = round_trip(course, path)
    solution, blank = by_student["solution"], by_student["blank"]
    code = [r for r in solution if r["kind"] == "code"]
    assert code and all(r["score"] == r["max"] for r in code), solution
    assert all(r["score"] == "" and r["graded"] == "graded by hand" for r in solution
               if r["kind"] == "pen")  # fmt: skip
    assert all(float(r["score"]) == 0 for r in blank if r["kind"] == "code"), blank
    # the blank release runs through: only answer and check cells may fail
    ran = json.loads((course / "autograded/blank" / path.stem / path.name).read_text())
    others = [i for i, c in enumerate(ran["cells"]) if c["cell_type"] == "code"
              and "nbgrader" not in c["metadata"]
              and any(o["output_type"] == "error" for o in c.get("outputs", []))]  # fmt: skip
    assert others == [], f"cells {others} of the blank release fail"
    total = sum(float(r["max"]) for r in code)
    print(f"{path.stem}: solution {total:g}/{total:g}, blank 0/{total:g} autograded")


@pytest.mark.parametrize(
    "path",
    [p for p in CHAPTERS if FULL or p.stem == FAST_CHAPTER],
    ids=lambda p: p.stem,
)
def test_nbgrader_round_trip_of_the_real_chapter(path, tmp_path):
    """`make test-coursework` (COURSEWORK_FULL=1) runs it for every chapter, else chapter 1."""
    _check_round_trip(path, tmp_path / "course")


STUDENT = notebooks.ROOT / "student" / "chapters"
_tracked = subprocess.run(["git", "ls-files", str(STUDENT)], cwd=notebooks.ROOT,
                          capture_output=True, text=True).stdout.strip()  # fmt: skip


@pytest.mark.skipif(not _tracked, reason="no student edition committed")
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_a_committed_student_edition_is_up_to_date(path):
    """If the student notebooks are committed (for their Colab links), they match the chapters."""
    committed = STUDENT / path.name
    assert committed.exists(), f"run `make student`: {committed} is missing"
    expected = student.student_notebook(student.read_chapter(path))
    assert json.loads(committed.read_text()) == expected, (
        f"run `make student`: {committed} is stale"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_the_nbgrader_source_of_every_chapter_shows_no_solution_outside_answer_cells(path):
    """generate_assignment replaces answer cells (stub, "YOUR ANSWER HERE") and empties hidden
    tests; everything else it releases as it is, so no prose solution may sit there."""
    nb = student.nbgrader_source(path)
    shown = [c for c in nb["cells"] if not c["metadata"].get("nbgrader", {}).get("solution")]
    markdown = "\n".join(student.source(c) for c in shown if c["cell_type"] == "markdown")
    assert not re.search(r"\{solution(-start|-end)?\}", markdown)
    assert [
        line for line in _solution_prose(student.read_chapter(path).nb) if line in markdown
    ] == []
    for cell in shown:
        if "hidden-check" in student.tags(cell):
            text = student.source(cell)
            assert text.startswith(student.HIDDEN_BEGIN) and text.endswith(student.HIDDEN_END)
