"""Coursework: the exercise convention, the student website, and the glue to nbgrader.

    python -m tools.student check             # every chapter keeps the exercise convention
    python -m tools.student edition [OUT]     # student notebooks in OUT/chapters (OUT: student)
    python -m tools.student website [OUT]     # the book built from them, without solutions
        [--reuse _build]                      #   (OUT: _build/student; html in OUT/_build/html)
    python -m tools.student nbgrader [COURSE] # nbgrader source notebooks, COURSE/source/<ch>/
    python -m tools.student grades [COURSE]   # COURSE/grades.csv from nbgrader's gradebook

The convention (tools/chapter_template.md, BOOK.md). Every exercise is a gated sphinx-exercise
block ``{exercise-start}`` with ``:label: chN-ex-<name>`` ... ``{exercise-end}``, followed by a
gated ``{solution-start} chN-ex-<name>`` (``:class: dropdown``) ... ``{solution-end}``. A coding
exercise has, inside its solution gate, ONE code cell tagged ``answer`` whose solution lines sit
between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` comment lines (nbgrader's default markers
match them); after the gate come a code cell tagged ``check`` (asserts the student sees) and one
tagged ``check``, ``hidden-check``, ``remove-cell``. `python -m tools.notebooks stamp` gives
these cells nbgrader's metadata (``nbgrader_stamp``).

Grading is nbgrader's (`generate_assignment`, `autograde`, formgrader); this module keeps what it
does not do: Jupyter Book's solution gates (removed for nbgrader and for the website), and the
student website, whose answer cells get the book's own stub (``raise NotImplementedError`` inside
a function, ``...`` at top level so that "Run all" goes on), hidden checks removed.
"""

from __future__ import annotations

import argparse
import ast
import copy
import csv
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tools.notebooks import ROOT, chapter_paths

MIN_EXERCISES, MIN_CODING = 4, 2

# An opening fence of a sphinx-exercise directive, in backtick or colon form.
DIRECTIVE = re.compile(
    r"^\s*(?P<fence>`{3,}|:{3,})\{(?P<name>exercise-start|exercise-end|solution-start|"
    r"solution-end|exercise|solution)\}(?P<arg>.*)$"
)
OPTION = re.compile(r"^\s*:(?P<key>[\w-]+):\s*(?P<value>.*)$")
BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION\s*$")
END = re.compile(r"^[ \t]*# END SOLUTION\s*$")
STUB_MARK = "# YOUR CODE HERE"


# --- reading a chapter ------------------------------------------------------------------------


def source(cell: dict) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def tags(cell: dict) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def role(cell: dict) -> dict:
    """What the student edition wrote into a cell's metadata: ``{"exercise": ..., "role": ...}``."""
    return cell.get("metadata", {}).get("coursework", {})


@dataclass
class Directive:
    """One sphinx-exercise directive in a markdown cell, lines ``first..last`` (both included)."""

    name: str
    arg: str
    options: dict
    first: int
    last: int


def directives(text: str) -> list[Directive]:
    """The exercise/solution directives in a markdown text, in order."""
    lines, found, i = text.splitlines(), [], 0
    while i < len(lines):
        m = DIRECTIVE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, options, j = m["fence"], {}, i + 1
        while j < len(lines) and lines[j].strip() != fence:
            opt = OPTION.match(lines[j])
            if opt and j == i + 1 + len(options):  # options come first, one a line
                options[opt["key"]] = opt["value"].strip()
            j += 1
        found.append(Directive(m["name"], m["arg"].strip(), options, i, min(j, len(lines) - 1)))
        i = j + 1
    return found


@dataclass
class Exercise:
    label: str
    solved: bool = False
    answer: int | None = None  # index of the answer cell
    checks: list[int] = field(default_factory=list)  # visible check cells
    hidden: list[int] = field(default_factory=list)  # hidden check cells

    @property
    def kind(self) -> str:
        return "code" if self.answer is not None else "pen"


@dataclass
class Chapter:
    """A solution notebook, its exercises, and how it breaks the convention (``problems``)."""

    name: str
    nb: dict
    exercises: list[Exercise]
    problems: list[str]

    @property
    def coding(self) -> list[Exercise]:
        return [e for e in self.exercises if e.kind == "code"]


def chapter_number(name: str) -> int | None:
    m = re.match(r"(\d+)_", name)
    return int(m.group(1)) if m else None


class _Reader:
    """Walks a chapter's cells in order, collecting exercises and breaks of the convention."""

    def __init__(self, name: str):
        self.name, self.number = name, chapter_number(name)
        self.found: dict[str, Exercise] = {}
        self.problems: list[str] = []
        self.exercise = self.solution = None  # the label of the open exercise / solution gate
        self.last: Exercise | None = None  # the exercise whose check cells may follow

    def problem(self, i: int, msg: str) -> None:
        self.problems.append(f"{self.name}: cell {i}: {msg}")

    def directive(self, i: int, d: Directive) -> None:
        is_open = self.exercise or self.solution
        if d.name in ("exercise", "solution"):
            self.problem(i, f"{{{d.name}}} is not gated: use the {d.name}-start/-end form")
        elif d.name == "exercise-start":
            label = d.options.get("label")
            if is_open:
                self.problem(i, f"exercise-start inside {is_open}")
            if not label:
                return self.problem(i, "exercise-start without :label:")
            n = self.number
            if n is not None and not label.startswith((f"ch{n}-ex-", f"ch{n:02d}-ex-")):
                self.problem(i, f"label {label!r} does not start with 'ch{n}-ex-'")
            if label in self.found:
                self.problem(i, f"label {label!r} used twice")
            self.found[label], self.exercise = Exercise(label), label
        elif d.name == "exercise-end":
            if not self.exercise:
                self.problem(i, "exercise-end without exercise-start")
            self.exercise = None
        elif d.name == "solution-start":
            if is_open:
                self.problem(i, f"solution-start inside {is_open}")
            if d.arg not in self.found:
                self.problem(i, f"solution-start names no exercise above it: {d.arg!r}")
            elif self.found[d.arg].solved:
                self.problem(i, f"second solution to {d.arg}")
            else:
                self.found[d.arg].solved = True
            if "dropdown" not in d.options.get("class", "").split():
                self.problem(i, f"solution to {d.arg} lacks ':class: dropdown'")
            self.solution = d.arg
        elif d.name == "solution-end":
            if not self.solution:
                self.problem(i, "solution-end without solution-start")
            self.last = self.found.get(self.solution, self.last) if self.solution else self.last
            self.solution = None

    def code(self, i: int, cell: dict) -> None:
        t, text = tags(cell), source(cell)
        if "answer" in t:
            ex = self.found.get(self.solution) if self.solution else None
            if ex is None:
                self.problem(i, "answer cell outside a solution gate")
            elif ex.answer is not None:
                self.problem(i, f"second answer cell for {ex.label}")
            else:
                ex.answer = i
            for p in marker_problems(text):
                self.problem(i, p)
        elif any(BEGIN.match(line) for line in text.splitlines()):
            self.problem(i, "# BEGIN SOLUTION in a cell not tagged answer")
        if not t & {"check", "hidden-check"}:
            return
        hidden = "hidden-check" in t
        if hidden and not {"check", "remove-cell"} <= t:
            self.problem(i, "hidden-check cell must also be tagged check and remove-cell")
        if self.solution:
            self.problem(i, f"check cell inside the solution gate of {self.solution}")
        elif self.last is None:  # visible asserts before the exercises are the chapter's own
            if hidden:
                self.problem(i, "hidden-check cell before any exercise")
        else:
            (self.last.hidden if hidden else self.last.checks).append(i)

    def finish(self) -> list[Exercise]:
        if self.exercise or self.solution:
            self.problems.append(f"{self.name}: {self.exercise or self.solution} is never closed")
        exercises = list(self.found.values())
        for ex in exercises:
            if not ex.solved:
                self.problems.append(f"{self.name}: {ex.label} has no solution")
            if ex.answer is not None and not (ex.checks and ex.hidden):
                self.problems.append(
                    f"{self.name}: {ex.label} needs a check and a hidden-check cell"
                )
            if ex.answer is None and (ex.checks or ex.hidden):
                self.problems.append(f"{self.name}: {ex.label} has check cells but no answer cell")
        coding = sum(e.kind == "code" for e in exercises)
        if len(exercises) < MIN_EXERCISES or coding < MIN_CODING:
            self.problems.append(
                f"{self.name}: {len(exercises)} exercises ({coding} coding); "
                f"needs >= {MIN_EXERCISES} with >= {MIN_CODING} coding"
            )
        return exercises


def read_chapter(path: Path | str, nb: dict | None = None) -> Chapter:
    """Parse a chapter notebook and check the exercise convention on it."""
    path = Path(path)
    nb = nb if nb is not None else json.loads(path.read_text())
    reader = _Reader(path.stem)
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            for d in directives(source(cell)):
                reader.directive(i, d)
        elif cell["cell_type"] == "code":
            reader.code(i, cell)
    exercises = reader.finish()
    return Chapter(path.stem, nb, exercises, reader.problems)


# --- the student edition ----------------------------------------------------------------------


def _python(text: str) -> str:
    """Cell source as plain Python (IPython magics turned into calls) for ``ast``."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(text)


def marker_problems(text: str) -> list[str]:
    """What is wrong with the BEGIN/END SOLUTION markers of an answer cell (empty if nothing)."""
    depth, pairs = 0, 0
    for line in text.splitlines():
        if BEGIN.match(line):
            if depth:
                return ["nested # BEGIN SOLUTION"]
            depth = 1
        elif END.match(line):
            if not depth:
                return ["# END SOLUTION without # BEGIN SOLUTION"]
            depth, pairs = 0, pairs + 1
    if depth:
        return ["# BEGIN SOLUTION without # END SOLUTION"]
    if not pairs:
        return ["answer cell has no # BEGIN SOLUTION / # END SOLUTION lines"]
    try:
        ast.parse(_python(stub(text)))
    except SyntaxError as e:
        return [f"the stubbed answer does not parse: {e.msg} (line {e.lineno})"]
    return []


def stub(text: str, label: str = "") -> str:
    """The answer cell with each solution region replaced by a stub at the region's indentation:
    ``raise NotImplementedError`` inside a function (the cell still defines it), ``...`` at top
    level (the cell still runs, so "Run all" goes on to later cells)."""
    out, raises, inside = [], [], False
    for line in text.splitlines():
        m = BEGIN.match(line)
        if m:
            inside = True
            out.append(f"{m['indent']}{STUB_MARK}")
            out.append(f"{m['indent']}raise NotImplementedError({label!r})")
            raises.append(len(out))  # 1-based line number of the raise
        elif END.match(line):
            inside = False
        elif not inside:
            out.append(line)
    try:
        tree = ast.parse(_python("\n".join(out)))
    except SyntaxError:
        return "\n".join(out)
    in_function = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            in_function.update(range(node.body[0].lineno, node.end_lineno + 1))
    for n in raises:
        if n not in in_function:
            indent = out[n - 1][: len(out[n - 1]) - len(out[n - 1].lstrip())]
            out[n - 1] = f"{indent}..."
    return "\n".join(out)


def _without_solutions(text: str, in_solution: bool) -> tuple[str, bool]:
    """Markdown text with solution gates (and what they enclose) removed; the gate may have
    opened in an earlier cell (``in_solution``). Returns the text and whether a gate is open."""
    lines = text.splitlines()
    starts = {d.first: d for d in directives(text)}
    kept, i = [], 0
    while i < len(lines):
        d = starts.get(i)
        if d and d.name in ("solution-start", "solution-end", "solution"):
            in_solution = d.name == "solution-start"
            i = d.last + 1
            continue
        if not in_solution:
            kept.append(lines[i])
        i += 1
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip(), in_solution


def student_notebook(chapter: Chapter) -> dict:
    """The chapter as students get it: no solutions, no hidden checks or outputs."""
    nb = copy.deepcopy(chapter.nb)
    label_of = {}
    for ex in chapter.coding:
        label_of[ex.answer] = (ex.label, "answer")
        label_of.update({i: (ex.label, "check") for i in ex.checks})
    cells, in_solution = [], False
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            text, in_solution = _without_solutions(source(cell), in_solution)
            if text:
                cells.append({**cell, "source": text})
            continue
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
            t = tags(cell)
            if (in_solution and "answer" not in t) or "hidden-check" in t:
                continue  # solution code and hidden checks
            if i in label_of:
                label, what = label_of[i]
                cell["metadata"]["coursework"] = {"exercise": label, "role": what}
                if what == "answer":
                    cell["source"] = stub(source(cell), label)
        elif in_solution:  # a raw cell inside a solution
            continue
        cells.append(cell)
    nb["cells"] = cells
    nb["metadata"]["coursework"] = {"chapter": chapter.name, "edition": "student"}
    return nb


LABEL = re.compile(r"^\s*:label:\s*(\S+)|^\s*\(([\w-]+)\)=\s*$", re.M)
REFERENCE = re.compile(r"\{(?:ref|numref|eq|prf:ref|doc|glue|glue:\w+)\}`(?:[^`<]*<)?([^`>:]+)")
# A glued name: glue("name", ...) or a key of runtime.glue({"name": ..., ...}).
GLUED = re.compile(r"glue\(\s*[\"']([^\"']+)|[\"']([\w.:-]+)[\"']\s*:")


def dangling(chapter: Chapter, student: dict | None = None) -> list[str]:
    """Labels and glue keys that only a solution defines but the student edition still uses:
    the student website's strict build would fail on them."""

    def defined(nb: dict) -> set[str]:
        names = set()
        for cell in nb["cells"]:
            text = source(cell)
            if cell["cell_type"] == "code" and "glue(" not in text:
                continue
            pattern = GLUED if cell["cell_type"] == "code" else LABEL
            for m in pattern.finditer(text):
                names.update(g for g in m.groups() if g)
        return names

    student = student if student is not None else student_notebook(chapter)
    gone = defined(chapter.nb) - defined(student)
    used = {m.group(1).strip() for c in student["cells"] for m in REFERENCE.finditer(source(c))}
    return [f"{chapter.name}: the student edition uses {n!r}, defined only in a solution"
            for n in sorted(used & gone)]  # fmt: skip


def chapter_problems(chapter: Chapter) -> list[str]:
    """Breaks of the convention, then (for a chapter that keeps it) dangling references."""
    return chapter.problems or dangling(chapter)


def write_edition(out: Path, paths: list[Path] | None = None) -> list[str]:
    """Write the student notebooks to ``out/chapters``; return the problems of chapters left out."""
    (out / "chapters").mkdir(parents=True, exist_ok=True)
    problems = []
    for path in paths if paths is not None else chapter_paths():
        chapter = read_chapter(path)
        if chapter_problems(chapter):  # a broken convention could leak a solution: leave it out
            problems += chapter_problems(chapter)
            continue
        target = out / "chapters" / path.name
        target.write_text(
            json.dumps(student_notebook(chapter), indent=1, ensure_ascii=False) + "\n"
        )
        print(f"wrote {target}: {len(chapter.exercises)} exercises, {len(chapter.coding)} coding")
    return problems


# --- the student website ----------------------------------------------------------------------

COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "_build", "student", "course", "__pycache__", ".pytest_cache", ".ruff_cache",
    ".hypothesis", "*.egg-info", ".ipynb_checkpoints",
)  # fmt: skip


def reuse_outputs(nb: dict, solution: dict, executed: dict, glue: dict | None = None) -> bool:
    """Give the student notebook ``nb`` the outputs of ``executed``, the solution notebook as a
    book build executed it (``_build/jupyter_execute/chapters/NN_name.ipynb``), and tell myst-nb
    not to execute it again. Only if that run is of the current solution (same code cells, same
    order); otherwise leave ``nb`` alone and return False. Answer and check cells get no output.
    ``glue``: the build's ``NN_name.glue.json``. myst-nb moves the values glued without display
    out of the executed notebook into that file, so they are put back (as the hidden outputs glue
    makes) in the first code cell: without them the prose's {glue} roles have nothing to show."""

    def code(cells: list[dict]) -> list[str]:
        return [source(c) for c in cells if c["cell_type"] == "code"]

    if code(executed["cells"]) != code(solution["cells"]):
        return False
    ran = [c for c in executed["cells"] if c["cell_type"] == "code"]
    k, first = 0, None
    for cell in nb["cells"]:
        if cell["cell_type"] != "code" or role(cell).get("role") in ("answer", "check"):
            continue
        while k < len(ran) and source(ran[k]) != source(cell):
            k += 1  # cells the student edition dropped (solution code, hidden checks)
        if k == len(ran):
            return False
        cell["outputs"], cell["execution_count"] = ran[k]["outputs"], ran[k]["execution_count"]
        first = first or cell
        k += 1
    for out in (glue or {}).values():
        if first is not None:
            prefix = out.get("metadata", {}).get("scrapbook", {}).get("mime_prefix", "")
            data = {prefix + mime: value for mime, value in out["data"].items()}
            first["outputs"] = [*first["outputs"], {**out, "data": data}]
    nb["metadata"].setdefault("mystnb", {})["execution_mode"] = "off"
    return True


def website_source(out: Path, root: Path = ROOT, executed: Path | None = None) -> Path:
    """A copy of the book (``root``) in ``out/source`` whose chapters are the student notebooks.

    sphinx-exercise's own ``hide_solutions: True`` cannot do this: with gated solutions
    (sphinx-exercise 1.2.1) it drops the solution-start node but leaves the gate's content and
    the solution-end node, and the HTML build fails ("unknown node type: solution_end_node").
    So the solutions are removed from the notebooks themselves; ``hide_solutions`` is set too,
    for any ungated solution. In the copy, answer and check cells are tagged ``skip-execution``:
    stubs fail their checks, and the book's build allows no errors. ``executed``: the folder of a
    book build (``_build``) whose outputs are reused where they are current (`reuse_outputs`).
    """
    import yaml

    src = out / "source"
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(root, src, ignore=COPY_IGNORE)
    problems = []
    for path in sorted((src / "chapters").glob("[0-9][0-9]_*.ipynb")):
        chapter = read_chapter(path)
        path.unlink()  # a chapter that breaks the convention could leak: it is left out
        problems += chapter_problems(chapter)
        if chapter_problems(chapter):
            continue
        nb = student_notebook(chapter)
        for cell in nb["cells"]:
            if role(cell).get("role") in ("answer", "check"):
                cell["metadata"].setdefault("tags", []).append("skip-execution")
        ran = executed / "jupyter_execute" / "chapters" / path.name if executed else None
        if ran and ran.exists():
            glued = ran.with_name(ran.stem + ".glue.json")  # myst-nb names it so
            glue = json.loads(glued.read_text()) if glued.exists() else None
            if reuse_outputs(nb, chapter.nb, json.loads(ran.read_text()), glue):
                print(f"{path.stem}: outputs reused from {ran}")
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    if problems:
        raise SystemExit("chapters break the exercise convention:\n" + "\n".join(problems))
    config = yaml.safe_load((src / "_config.yml").read_text())
    config["title"] = f"{config.get('title', '')} (student edition)"
    config.setdefault("sphinx", {}).setdefault("config", {})["hide_solutions"] = True
    # The Colab button must open the student notebooks, published under student/ (`make student`).
    config.setdefault("repository", {})["path_to_book"] = "student"
    (src / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    toc = src / "_toc.yml"
    toc.write_text(re.sub(r"(?m)^\s*- file: chapters/instructors\s*\n", "", toc.read_text()))
    (src / "chapters" / "instructors.md").unlink(missing_ok=True)
    for page in (src / "chapters").glob("*.md"):  # links to the removed page become plain words
        text = page.read_text()
        page.write_text(text.replace("{doc}`instructors`", "instructors"))
    return src


def build_website(out: Path, root: Path = ROOT, executed: Path | None = None) -> Path:
    """Build the student website into ``out/_build/html``, strictly, as `make book` builds."""
    src = website_source(out, root, executed)
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb if jb.exists() else "jupyter-book"), "build", str(src), "--path-output", str(out)]
    subprocess.run([*cmd, "-W", "-n", "--keep-going"], check=True)
    return out / "_build" / "html"


# --- nbgrader: the chapters' cell metadata, the course's source notebooks, the grades ----------
#
# nbgrader does the coursework (stubs, hidden tests, locked cells, checksums, autograding, the
# gradebook). Kept here: the metadata stamp (derived from the book's tags, so the two never
# disagree), the source notebooks without the prose solutions (sphinx-exercise gates are Jupyter
# Book's, nbgrader does not know them), and a per-exercise CSV (nbgrader's export is per chapter).

HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
PEN_POINTS = 2  # a pen-and-paper exercise, unless the chapter's metadata coursework.points says
NBGRADER_CONFIG = """\
# nbgrader's configuration for the book's course folder (written by `python -m tools.student
# nbgrader`; edit freely, it is not overwritten).
import os

c = get_config()  # noqa: F821
os.environ.setdefault("BOOK_SCALE", "small")  # grade at the scale of the book and CI
os.environ.setdefault("BOOK_PROGRESS", "0")
os.environ.setdefault("MPLBACKEND", "Agg")
c.Execute.timeout = 900  # seconds per cell, as in _config.yml
c.Execute.interrupt_on_timeout = True
"""


def _nbgrader(grade_id: str, solution: bool = False, points: float | None = None) -> dict:
    """nbgrader's cell metadata (schema 3): an answer (``solution``), a test (``points``), or a
    hand-graded answer (both)."""
    grade = points is not None
    meta = {"grade": grade, "grade_id": grade_id, "locked": not solution, "schema_version": 3,
            "solution": solution, "task": False}  # fmt: skip
    return {**meta, "points": points} if grade else meta


def _set_source(cell: dict, text: str) -> None:
    """Write ``text`` in the form the cell uses (a string, or nbformat's list of lines)."""
    cell["source"] = text.splitlines(keepends=True) if isinstance(cell["source"], list) else text


def pen_points(chapter: Chapter) -> dict[str, float]:
    """Points of each pen-and-paper exercise: the chapter's ``coursework.points``, or PEN_POINTS."""
    given = chapter.nb.get("metadata", {}).get("coursework", {}).get("points", {})
    return {e.label: given.get(e.label, PEN_POINTS) for e in chapter.exercises if e.kind == "pen"}


def nbgrader_stamp(nb: dict, path: Path | str) -> dict:
    """``nb`` with nbgrader metadata on its exercise cells (idempotent): the answer cell is an
    autograded answer (``grade_id`` the exercise label), each check a test worth one point
    (``<label>_check<k>``, ``<label>_hidden<k>``), and each hidden check's lines sit between
    nbgrader's hidden-test markers (comments: the book runs them as they are). Pen-and-paper
    points go to the notebook's ``coursework.points``. Other cells lose stale nbgrader metadata."""
    nb = copy.deepcopy(nb)
    chapter = read_chapter(path, nb)
    expected = {}
    for ex in chapter.coding:
        expected[ex.answer] = _nbgrader(ex.label, solution=True)
        for k, i in enumerate(ex.checks, 1):
            expected[i] = _nbgrader(f"{ex.label}_check{k}", points=1)
        for k, i in enumerate(ex.hidden, 1):
            expected[i] = _nbgrader(f"{ex.label}_hidden{k}", points=1)
            text = source(nb["cells"][i]).strip("\n")
            if not text.startswith(HIDDEN_BEGIN):
                _set_source(nb["cells"][i], f"{HIDDEN_BEGIN}\n{text}\n{HIDDEN_END}")
    for i, cell in enumerate(nb["cells"]):
        if i in expected:
            cell.setdefault("metadata", {})["nbgrader"] = expected[i]
        else:
            cell.get("metadata", {}).pop("nbgrader", None)
    points = pen_points(chapter)
    if points:
        nb.setdefault("metadata", {}).setdefault("coursework", {})["points"] = points
    return nb


def nbgrader_stale(path: Path | str, nb: dict | None = None) -> bool:
    """Whether the chapter's nbgrader metadata is missing or differs from what the stamp writes."""
    nb = nb if nb is not None else json.loads(Path(path).read_text())
    return nbgrader_stamp(nb, path) != nb


def _split_solutions(text: str, state: dict) -> list[tuple[str, str, str]]:
    """A markdown text as pieces ``("md", "", text)`` outside the solution gates and ``("pen",
    label, prose)`` where a gate closes; ``state`` carries the open gate and its prose from cell
    to cell."""
    lines, pieces, kept, i = text.splitlines(), [], [], 0
    starts = {d.first: d for d in directives(text)}
    while i < len(lines):
        d = starts.get(i)
        if d and d.name in ("solution-start", "solution-end"):
            if d.name == "solution-start":
                state.update(open=d.arg, prose=[])
            else:
                prose = "\n".join(state.pop("prose", [])).strip()
                pieces += [("md", "", "\n".join(kept)), ("pen", state.pop("open", None), prose)]
                kept = []
            i = d.last + 1
            continue
        (state["prose"] if state.get("open") else kept).append(lines[i])
        i += 1
    pieces.append(("md", "", "\n".join(kept)))
    return [(k, a, re.sub(r"\n{3,}", "\n\n", v).strip()) for k, a, v in pieces]


def nbgrader_source(path: Path | str, nb: dict | None = None) -> dict:
    """The chapter as an nbgrader *source* notebook: stamped, with the prose solutions and the code
    that only illustrates them removed, each pen-and-paper solution replaced by a hand-graded
    answer cell (its prose kept there: generate_assignment turns it into "YOUR ANSWER HERE"),
    answer cells and hidden checks kept whole (generate_assignment stubs and hides them)."""
    path = Path(path)
    nb = nbgrader_stamp(nb if nb is not None else json.loads(path.read_text()), path)
    chapter = read_chapter(path, nb)
    points, kind = pen_points(chapter), {e.label: e.kind for e in chapter.exercises}
    cells, state = [], {}
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        if cell["cell_type"] != "markdown":
            if not state.get("open") or "answer" in tags(cell):
                cells.append(cell)
            continue
        for k, (what, label, text) in enumerate(_split_solutions(source(cell), state)):
            if what == "md" and text:
                cell_id = cell.get("id", f"cell-{i}")
                cells.append({**cell, "id": cell_id + (f"-{k}" if k else ""), "source": text})
            elif what == "pen" and kind.get(label) == "pen":
                prose = text or "YOUR ANSWER HERE"
                meta = {"nbgrader": _nbgrader(label, True, points[label])}
                cells.append(
                    {
                        "cell_type": "markdown",
                        "id": f"{label}-answer",
                        "source": prose,
                        "metadata": meta,
                    }
                )
    nb["cells"] = cells
    nb["metadata"]["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}  # fmt: skip
    return nb


def write_nbgrader_course(course: Path, paths: list[Path] | None = None) -> list[str]:
    """An nbgrader course folder: ``source/<chapter>/<chapter>.ipynb`` for each chapter that keeps
    the convention, and ``nbgrader_config.py`` (if absent). Returns the chapters' problems."""
    problems = []
    for path in paths if paths is not None else chapter_paths():
        chapter = read_chapter(path)
        if chapter.problems:  # a broken convention could leak a solution: left out
            problems += chapter.problems
            continue
        target = course / "source" / path.stem / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(nbgrader_source(path), indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {target}")
    config = course / "nbgrader_config.py"
    if not config.exists():
        config.write_text(NBGRADER_CONFIG)
    return problems


EXERCISE_OF = re.compile(r"_(check|hidden)\d+$")


def grade_rows(course: Path) -> list[dict]:
    """One row per student, chapter and exercise from the course's gradebook (after `nbgrader
    autograde`): points scored and possible; a pen-and-paper exercise is "graded by hand" (its
    score is empty until an instructor grades it in formgrader)."""
    from nbgrader.api import Gradebook

    rows = []
    with Gradebook(f"sqlite:///{course.resolve() / 'gradebook.db'}") as gb:
        for assignment in gb.assignments:
            for student in gb.students:
                for notebook in assignment.notebooks:
                    try:
                        sub = gb.find_submission_notebook(
                            notebook.name, assignment.name, student.id
                        )
                    except Exception:  # nbgrader's MissingEntry: this student did not hand it in
                        continue
                    per: dict[str, dict] = {}
                    for g in sub.grades:
                        label = EXERCISE_OF.sub("", g.name)
                        pen = g.cell.cell_type == "markdown"
                        row = per.setdefault(label, {
                            "student": student.id, "chapter": assignment.name, "exercise": label,
                            "kind": "pen" if pen else "code", "score": 0.0, "max": 0.0,
                            "graded": "graded by hand" if pen else "autograded"})  # fmt: skip
                        row["max"] += g.max_score
                        if pen and g.manual_score is None:
                            row["score"] = ""
                        elif row["score"] != "":
                            row["score"] += g.score
                    rows += per.values()
    return rows


def write_grades(course: Path, target: Path) -> list[dict]:
    rows = grade_rows(course)
    fields = ["student", "chapter", "exercise", "kind", "score", "max", "graded"]
    with open(target, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return rows


# --- command line -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.student", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="check the exercise convention in every chapter")
    p = sub.add_parser("edition", help="write the student notebooks")
    p.add_argument("out", nargs="?", default="student", type=Path)
    p = sub.add_parser("website", help="build the book without solutions")
    p.add_argument("out", nargs="?", default=ROOT / "_build" / "student", type=Path)
    p.add_argument("--reuse", type=Path, metavar="BUILD", help="reuse the outputs of a book build "
                   "(e.g. _build) where they are current, instead of executing again")  # fmt: skip
    p = sub.add_parser("nbgrader", help="write an nbgrader course folder's source notebooks")
    p.add_argument("course", nargs="?", default="course", type=Path)
    p = sub.add_parser("grades", help="per-exercise CSV of an nbgrader course's gradebook")
    p.add_argument("course", nargs="?", default="course", type=Path)
    p.add_argument("--out", type=Path, help="the CSV (default: COURSE/grades.csv)")
    args = parser.parse_args(argv)

    if args.command == "check":
        problems = [p for path in chapter_paths() for p in chapter_problems(read_chapter(path))]
        print(
            "\n".join(problems) or f"{len(chapter_paths())} chapters keep the exercise convention"
        )
        return 1 if problems else 0
    if args.command in ("edition", "nbgrader"):
        write = write_edition if args.command == "edition" else write_nbgrader_course
        problems = write(args.out if args.command == "edition" else args.course)
        print("\n".join(problems))
        return 1 if problems else 0
    if args.command == "website":
        html = build_website(args.out.resolve(), executed=args.reuse and args.reuse.resolve())
        print(f"student website: {html}/index.html")
        return 0
    target = args.out or args.course / "grades.csv"
    rows = write_grades(args.course, target)
    print(f"wrote {target}: {len(rows)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
