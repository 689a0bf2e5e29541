"""Coursework (tools/student.py): the exercise convention, the student edition, the grader.

Fast tests run a tiny synthetic chapter made here; they prove the machinery (checking, stubbing,
grading pass and fail) in seconds. The chapters' own tests (every chapter keeps the convention,
its student edition leaks no solution) read notebooks without running them. Grading the real
chapters executes each twice (solution and blank student edition): set COURSEWORK_FULL=1
(`make test-coursework`; COURSEWORK_FULL=blank for the blank editions only) to run those.
"""

import ast
import copy
import json
import os
import re
import shutil
import subprocess

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
    code("import math\ndata = [1, 2, 2, 3]"),
    md("## Checks"),
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


def test_the_student_website_shows_exercises_and_checks_but_no_solution(tmp_path):
    """Build (strictly, as `make book` does) a small book whose one chapter is synthetic."""
    root = tmp_path / "book"
    (root / "chapters").mkdir(parents=True)
    shutil.copy(notebooks.ROOT / "_config.yml", root)
    for bib in notebooks.ROOT.glob("**/*.bib"):
        if ".venv" not in bib.parts and "_build" not in bib.parts:
            target = root / bib.relative_to(notebooks.ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(bib, target)
    toc = "format: jb-book\nroot: chapters/intro\nchapters:\n"
    (root / "_toc.yml").write_text(toc + "  - file: chapters/07_synthetic\n"
                                   "  - file: chapters/instructors\n")  # fmt: skip
    (root / "chapters/intro.md").write_text("# Intro\n")
    (root / "chapters/instructors.md").write_text("# For instructors\n")
    (root / "chapters/07_synthetic.ipynb").write_text(json.dumps(synthetic()))
    # a book build's executed copy, whose output the student website reuses instead of running
    ran = synthetic()
    ran["cells"][3]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "REUSED-42"}]
    (tmp_path / "build/jupyter_execute/chapters").mkdir(parents=True)
    (tmp_path / "build/jupyter_execute/chapters/07_synthetic.ipynb").write_text(json.dumps(ran))
    html = student.build_website(tmp_path / "site", root, executed=tmp_path / "build")
    page = (html / "chapters/07_synthetic.html").read_text()
    assert "ch7-ex-size" in page and "Compute the empirical entropy" in page
    assert 'sample_size</span><span class="p">(</span><span class="mf">0.1' in page
    assert "SECRET" not in page and "secret" not in page and "26492" not in page
    assert "Solution" not in page and "REUSED-42" in page
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


# --- grading -------------------------------------------------------------------------------------


def _answer(nb, label):
    return next(c for c in nb["cells"] if student.role(c).get("exercise") == label
                and student.role(c)["role"] == "answer")  # fmt: skip


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Seven submissions graded in one CLI call (a folder); each notebook executes once."""
    tmp = tmp_path_factory.mktemp("grading")
    solution = tmp / "07_synthetic.ipynb"
    solution.write_text(json.dumps(synthetic()))
    blank = student.student_notebook(chapter())
    subs = {"solution": synthetic(), "blank": copy.deepcopy(blank)}
    # passes the visible check by hard-coding it and rewrites that check: the grader is not fooled
    cheat = copy.deepcopy(blank)
    _answer(cheat, "ch7-ex-size")["source"] = "def sample_size(eps, delta):\n    return 185"
    _answer(cheat, "ch7-ex-entropy")["source"] = "h = 1.0"
    for cell in cheat["cells"]:
        if "check" in student.tags(cell):
            cell["source"] = "assert True"
    subs["cheat"] = cheat
    # the right answers, in a notebook that lost all cell metadata (as an editor may do)
    bare = copy.deepcopy(blank)
    _answer(bare, "ch7-ex-size")["source"] = student.source(CELLS[5])
    _answer(bare, "ch7-ex-entropy")["source"] = "h = 1.5"
    for cell in bare["cells"]:
        cell["metadata"] = {}
    bare["metadata"] = {}
    subs["bare"] = bare
    hang = copy.deepcopy(blank)  # never ends: the timeout stops it, grading goes on
    _answer(hang, "ch7-ex-entropy")["source"] = "while True:\n    pass"
    subs["hang"] = hang
    subs["garbled"] = "{not json"  # not a notebook: reported, the others are still graded
    dead = copy.deepcopy(blank)  # kills its kernel: the grader reports, does not crash
    _answer(dead, "ch7-ex-entropy")["source"] = "import os\nos._exit(1)"
    subs["dead"] = dead
    folder, out = tmp / "submissions", tmp / "reports"
    folder.mkdir()
    for name, nb in subs.items():
        (folder / f"{name}.ipynb").write_text(nb if isinstance(nb, str) else json.dumps(nb))
    code = student.main(["grade", str(folder), "--chapter", str(solution), "--out", str(out),
                         "--timeout", "8"])  # fmt: skip
    reports = {name: json.loads((out / f"{name}.grade.json").read_text()) for name in subs}
    return code, reports, (out / "grades.csv").read_text()


def scores(report):
    return {
        r["exercise"]: (r["score"], r["max"]) for r in report["exercises"] if r["kind"] == "code"
    }


def test_the_solution_scores_full_marks(graded):
    report = graded[1]["solution"]
    assert scores(report) == {"ch7-ex-size": (2, 2), "ch7-ex-entropy": (2, 2)}
    assert (report["score"], report["max"], report["grader_error"]) == (4, 4, None)
    assert report["errors_in_submission"] == []
    assert report["cpu_seconds"] > 0  # the kernel's CPU time is measured


def test_the_blank_student_edition_scores_zero_without_breaking_the_grader(graded):
    report = graded[1]["blank"]
    assert scores(report) == {"ch7-ex-size": (0, 2), "ch7-ex-entropy": (0, 2)}
    assert report["grader_error"] is None
    assert report["errors_in_submission"] == []  # only the checks fail: "Run all" gets to them
    errors = [c["error"] for r in report["exercises"] for c in r["checks"]]
    assert any(e.startswith("NotImplementedError") for e in errors)
    assert any(e.startswith("NameError") for e in errors)  # `h` was never defined


def test_hidden_checks_catch_a_hard_coded_answer_and_edited_checks_do_not_count(graded):
    assert scores(graded[1]["cheat"]) == {"ch7-ex-size": (1, 2), "ch7-ex-entropy": (1, 2)}


def test_a_notebook_without_metadata_is_still_graded(graded):
    report = graded[1]["bare"]
    assert (report["score"], report["chapter"]) == (4, "07_synthetic")


def test_a_hanging_cell_times_out_and_grading_goes_on(graded):
    report = graded[1]["hang"]
    assert report["grader_error"] is None and report["score"] == 0
    assert any("Timeout" in e["error"] for e in report["errors_in_submission"])


def test_a_dead_kernel_is_reported_not_raised(graded):
    code, reports, csv_text = graded
    assert reports["dead"]["grader_error"] and reports["dead"]["score"] == 0
    assert code == 1  # the CLI says one submission could not be graded fully
    assert len(csv_text.strip().splitlines()) == 1 + 7
    assert reports["garbled"]["grader_error"].startswith("JSONDecodeError")


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


# --- grading the real chapters (slow: COURSEWORK_FULL=1, or =blank for the blank editions only) --

FULL = os.environ.get("COURSEWORK_FULL", "")
_reports: dict = {}


def _graded(path, edition, tmp_path_factory):
    """Grade a chapter's solution notebook or its blank student edition, once per session."""
    key = (path.stem, edition)
    if key not in _reports:
        submission = path
        if edition == "student":
            submission = tmp_path_factory.mktemp(path.stem) / path.name
            nb = student.student_notebook(student.read_chapter(path))
            submission.write_text(json.dumps(nb))
        _reports[key] = student.grade(submission, path)
        print(student.table(_reports[key]))
    return _reports[key]


@pytest.mark.skipif(FULL in ("", "0", "blank"), reason="executes whole chapters: COURSEWORK_FULL=1")
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_grading_every_chapter_solution_gives_full_marks(path, tmp_path_factory):
    report = _graded(path, "solution", tmp_path_factory)
    assert report["grader_error"] is None
    assert report["max"] > 0 and report["score"] == report["max"], student.table(report)


@pytest.mark.skipif(FULL in ("", "0"), reason="executes whole chapters: COURSEWORK_FULL=1")
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_grading_every_chapter_blank_edition_gives_zero(path, tmp_path_factory):
    report = _graded(path, "student", tmp_path_factory)
    assert report["grader_error"] is None
    # only answer cells (a stub called there) and checks fail: nothing else needs a solution
    others = [e for e in report["errors_in_submission"] if not e["answer"]]
    assert others == [], student.table(report)
    assert all(r["score"] == 0 for r in report["exercises"] if r["kind"] == "code"), student.table(
        report
    )


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
