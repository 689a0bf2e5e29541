"""Coursework: the exercise convention, the student edition of the book, and the autograder.

    python -m tools.student check             # every chapter keeps the exercise convention
    python -m tools.student edition [OUT]     # student notebooks in OUT/chapters (OUT: student)
    python -m tools.student website [OUT]     # the book built from them, without solutions
        [--reuse _build]                      #   (OUT: _build/student; html in OUT/_build/html)
    python -m tools.student grade SUBMISSION_OR_DIR... [--chapter NN|PATH] [--out DIR]

The convention (tools/chapter_template.md, BOOK.md). Every exercise is a gated sphinx-exercise
block ``{exercise-start}`` with ``:label: chN-ex-<name>`` ... ``{exercise-end}``, followed by a
gated ``{solution-start} chN-ex-<name>`` (``:class: dropdown``) ... ``{solution-end}``. A coding
exercise has, inside its solution gate, ONE code cell tagged ``answer`` whose solution lines sit
between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` comment lines; after the gate come a code cell
tagged ``check`` (asserts the student sees) and one tagged ``check``, ``hidden-check``,
``remove-cell``.

The student edition removes the solution gates and everything in them except the answer cells,
whose solution lines become a stub (``raise NotImplementedError`` inside a function, ``...`` at
top level), removes hidden checks and strips outputs.

The grader executes the submission as a student would (a fresh kernel, a temporary directory,
``BOOK_SCALE=small``), with the chapter's check and hidden-check cells, taken from the solution
notebook in chapters/, put in place of the submission's own check cells: each check runs where
the chapter's author ran it, on what the student's notebook defined. One point per check cell.
"""

from __future__ import annotations

import argparse
import ast
import copy
import csv
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

from tools.notebooks import CHAPTERS, ROOT, chapter_paths

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
GLUED = re.compile(r"glue\(\s*[\"']([^\"']+)")


def dangling(chapter: Chapter, student: dict | None = None) -> list[str]:
    """Labels and glue keys that only a solution defines but the student edition still uses:
    the student website's strict build would fail on them."""

    def defined(nb: dict) -> set[str]:
        names = set()
        for cell in nb["cells"]:
            text = source(cell)
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
    ".git", ".venv", "_build", "student", "__pycache__", ".pytest_cache", ".ruff_cache",
    ".hypothesis", "*.egg-info", ".ipynb_checkpoints",
)  # fmt: skip


def reuse_outputs(nb: dict, solution: dict, executed: dict) -> bool:
    """Give the student notebook ``nb`` the outputs of ``executed``, the solution notebook as a
    book build executed it (``_build/jupyter_execute/chapters/NN_name.ipynb``), and tell myst-nb
    not to execute it again. Only if that run is of the current solution (same code cells, same
    order); otherwise leave ``nb`` alone and return False. Answer and check cells get no output."""

    def code(cells: list[dict]) -> list[str]:
        return [source(c) for c in cells if c["cell_type"] == "code"]

    if code(executed["cells"]) != code(solution["cells"]):
        return False
    ran = [c for c in executed["cells"] if c["cell_type"] == "code"]
    k = 0
    for cell in nb["cells"]:
        if cell["cell_type"] != "code" or role(cell).get("role") in ("answer", "check"):
            continue
        while k < len(ran) and source(ran[k]) != source(cell):
            k += 1  # cells the student edition dropped (solution code, hidden checks)
        if k == len(ran):
            return False
        cell["outputs"], cell["execution_count"] = ran[k]["outputs"], ran[k]["execution_count"]
        k += 1
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
        if ran and ran.exists() and reuse_outputs(nb, chapter.nb, json.loads(ran.read_text())):
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
    return src


def build_website(out: Path, root: Path = ROOT, executed: Path | None = None) -> Path:
    """Build the student website into ``out/_build/html``, strictly, as `make book` builds."""
    src = website_source(out, root, executed)
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb if jb.exists() else "jupyter-book"), "build", str(src), "--path-output", str(out)]
    subprocess.run([*cmd, "-W", "-n", "--keep-going"], check=True)
    return out / "_build" / "html"


# --- grading ----------------------------------------------------------------------------------


def find_chapter(spec: str | None, submission: dict, path: Path) -> Path:
    """The solution notebook for a submission: ``spec`` (a number or a path), else the chapter
    named in the submission's metadata, else the number its file name starts with."""
    if spec and Path(spec).suffix == ".ipynb":
        return Path(spec)
    name = submission.get("metadata", {}).get("coursework", {}).get("chapter")
    if spec:
        prefix = f"{int(spec):02d}_"
    elif name:
        prefix = name.split("_")[0] + "_"
    elif chapter_number(path.name) is not None:
        prefix = f"{chapter_number(path.name):02d}_"
    else:
        raise ValueError(f"{path}: cannot tell which chapter this is; pass --chapter NN")
    matches = sorted(CHAPTERS.glob(f"{prefix}*.ipynb"))
    if not matches:
        raise ValueError(f"no chapter notebook chapters/{prefix}*.ipynb")
    return matches[0]


def grading_notebook(chapter: Chapter, submission: dict) -> dict:
    """The submission with its own check cells dropped and the chapter's checks (visible and
    hidden, from the solution notebook) put where the student edition had the visible check:
    found by the cell's ``coursework`` metadata, else after the answer cell (by metadata, else the
    k-th answer-tagged cell), else at the end."""
    nb = copy.deepcopy(submission)
    coding = chapter.coding
    grader_cells = {}
    for ex in coding:
        grader_cells[ex.label] = [
            {
                "cell_type": "code",
                "metadata": {"coursework": {"exercise": ex.label, "grader": which}},
                "source": source(chapter.nb["cells"][i]),
                "outputs": [],
                "execution_count": None,
            }
            for which, cells in (("check", ex.checks), ("hidden-check", ex.hidden))
            for i in cells
        ]
    answers = [id(c) for c in nb["cells"] if "answer" in tags(c) or role(c).get("role") == "answer"]
    by_order = len(answers) == len(coding)
    kept, anchor_check, anchor_answer = [], {}, {}
    for cell in nb["cells"]:
        r = role(cell)
        if tags(cell) & {"check", "hidden-check"} or r.get("role") == "check":
            if r.get("exercise") in grader_cells:
                anchor_check.setdefault(r["exercise"], len(kept))
            continue  # the submission's own checks are not trusted
        kept.append(cell)
        if id(cell) in answers:
            label = r.get("exercise") or (
                coding[answers.index(id(cell))].label if by_order else None
            )
            if label in grader_cells:
                anchor_answer.setdefault(label, len(kept))
    anchors = {
        ex.label: anchor_check.get(ex.label, anchor_answer.get(ex.label, len(kept)))
        for ex in coding
    }
    for label in sorted(anchors, key=lambda k: anchors[k], reverse=True):
        kept[anchors[label] : anchors[label]] = grader_cells[label]
    nb["cells"] = kept
    nb["metadata"]["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def _error(cell: dict) -> str | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename')}: {out.get('evalue')}"[:300]
    return None


def execute(nb: dict, timeout: float, scale: str = "small") -> tuple[dict, str | None, float]:
    """Run ``nb`` in a fresh python3 kernel in a temporary directory, going on after errors.
    Returns the executed notebook, the grader's own failure (kernel death) if any, and the
    kernel's CPU time in seconds (user + system, as of its last cell)."""
    import nbformat
    import psutil
    from nbclient import NotebookClient

    nb = copy.deepcopy(nb)
    for k, cell in enumerate(nb["cells"]):
        cell["source"] = source(cell)
        cell.setdefault("id", f"cell-{k}")
    nb["nbformat"], nb["nbformat_minor"] = 4, max(5, nb.get("nbformat_minor", 5))
    node = nbformat.from_dict(nb)
    env = {**os.environ, "BOOK_SCALE": scale, "BOOK_PROGRESS": "0", "MPLBACKEND": "Agg"}
    failure = None
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        client = NotebookClient(
            node,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=True,
            interrupt_on_timeout=True,
            error_on_timeout={"ename": "Timeout", "evalue": f"cell ran over {timeout:g} s"},
            skip_cells_with_tag="coursework-grader-skips-nothing",
            resources={"metadata": {"path": tmp}},
        )
        cpu = [0.0]

        def sample(**_) -> None:
            try:
                t = psutil.Process(client.km.provisioner.pid).cpu_times()
                cpu[0] = t.user + t.system + t.children_user + t.children_system
            except (AttributeError, psutil.Error):
                pass

        client.on_cell_executed = sample
        try:
            client.execute(env=env)
        except Exception as e:  # the kernel died (the student's code can kill it): score what ran
            failure = f"{type(e).__name__}: {e}"[:300]
    executed = json.loads(nbformat.writes(node))
    for cell in executed["cells"]:  # only the grader's timeout interrupts the kernel
        for out in cell.get("outputs", []):
            if out.get("ename") == "KeyboardInterrupt":
                out["ename"], out["evalue"] = "Timeout", f"cell ran over {timeout:g} s"
    return executed, failure, round(cpu[0], 1)


def score(chapter: Chapter, executed: dict) -> list[dict]:
    """Per exercise: each check cell scores 1 if it ran without an error."""
    results = {ex.label: [] for ex in chapter.coding}
    for cell in executed["cells"]:
        r = role(cell)
        if r.get("grader"):
            ran = cell.get("execution_count") is not None
            error = _error(cell) or (None if ran else "not run")
            results[r["exercise"]].append(
                {"check": r["grader"], "passed": error is None, "error": error}
            )
    rows = []
    for ex in chapter.exercises:
        checks = results.get(ex.label, [])
        rows.append(
            {
                "exercise": ex.label,
                "kind": ex.kind,
                "score": sum(c["passed"] for c in checks) if ex.kind == "code" else None,
                "max": len(checks) if ex.kind == "code" else None,
                "checks": checks,
            }
        )
    return rows


def grade(
    submission: Path, chapter: Path | str | None = None, timeout: float = 900, scale: str = "small"
) -> dict:
    """Grade one submitted notebook; returns the report (see module docstring)."""
    start = time.time()
    sub = json.loads(Path(submission).read_text())
    solution = (
        chapter if isinstance(chapter, Path) else find_chapter(chapter, sub, Path(submission))
    )
    ch = read_chapter(solution)
    executed, failure, cpu = execute(grading_notebook(ch, sub), timeout, scale)
    rows = score(ch, executed)
    errors = [
        {
            "cell": i,
            "error": _error(c),
            "answer": "answer" in tags(c) or role(c).get("role") == "answer",
        }
        for i, c in enumerate(executed["cells"])
        if not role(c).get("grader") and _error(c)
    ]
    return {
        "submission": str(submission),
        "chapter": ch.name,
        "scale": scale,
        "exercises": rows,
        "score": sum(r["score"] for r in rows if r["kind"] == "code"),
        "max": sum(r["max"] for r in rows if r["kind"] == "code"),
        "errors_in_submission": errors,
        "grader_error": failure,
        "convention_problems": ch.problems,
        "seconds": round(time.time() - start, 1),
        "cpu_seconds": cpu,
    }


def table(report: dict) -> str:
    lines = [f"{report['submission']}  (chapter {report['chapter']}, {report['scale']} scale)"]
    width = max([len(r["exercise"]) for r in report["exercises"]] + [8])
    lines.append(f"  {'exercise':<{width}}  kind  score  notes")
    for r in report["exercises"]:
        if r["kind"] == "pen":
            lines.append(f"  {r['exercise']:<{width}}  pen     -    graded by hand")
            continue
        notes = "; ".join(f"{c['check']}: {c['error']}" for c in r["checks"] if not c["passed"])
        lines.append(f"  {r['exercise']:<{width}}  code  {r['score']}/{r['max']:<3}  {notes[:120]}")
    total = f"{report['score']}/{report['max']}"
    cpu = report.get("cpu_seconds", 0)
    lines.append(f"  {'total':<{width}}        {total}  ({report['seconds']} s, {cpu} s CPU)")
    if report["errors_in_submission"]:
        lines.append(
            f"  {len(report['errors_in_submission'])} cell(s) of the submission raised errors"
        )
    if report["grader_error"]:
        lines.append(f"  GRADER: {report['grader_error']}")
    return "\n".join(lines)


def submissions(paths: list[str]) -> list[Path]:
    found = []
    for p in map(Path, paths):
        found += sorted(p.glob("*.ipynb")) if p.is_dir() else [p]
    return found


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
    p = sub.add_parser("grade", help="grade submitted notebooks")
    p.add_argument("paths", nargs="+", help="notebooks, or folders of notebooks")
    p.add_argument("--chapter", help="chapter number (01) or solution notebook path")
    p.add_argument("--out", type=Path, help="folder for the JSON reports (default: beside each)")
    p.add_argument("--timeout", type=float, default=900, help="seconds per cell (default 900)")
    p.add_argument("--scale", default="small", choices=("small", "full"))
    args = parser.parse_args(argv)

    if args.command == "check":
        problems = [p for path in chapter_paths() for p in chapter_problems(read_chapter(path))]
        print(
            "\n".join(problems) or f"{len(chapter_paths())} chapters keep the exercise convention"
        )
        return 1 if problems else 0
    if args.command == "edition":
        problems = write_edition(args.out)
        print("\n".join(problems))
        return 1 if problems else 0
    if args.command == "website":
        html = build_website(args.out.resolve(), executed=args.reuse and args.reuse.resolve())
        print(f"student website: {html}/index.html")
        return 0
    rows, broken = [], 0
    for path in submissions(args.paths):
        try:
            report = grade(path, args.chapter, args.timeout, args.scale)
        except (OSError, ValueError) as e:  # not a notebook, unknown chapter: grade the others
            report = {"submission": str(path), "chapter": None, "scale": args.scale,
                      "exercises": [], "score": 0, "max": 0, "errors_in_submission": [],
                      "grader_error": f"{type(e).__name__}: {e}", "seconds": 0,
                      "cpu_seconds": 0}  # fmt: skip
        print(table(report), end="\n\n")
        target = (args.out or path.parent) / f"{path.stem}.grade.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(report, indent=1) + "\n")
        keys = ("chapter", "score", "max", "grader_error")
        rows.append({"submission": path.name, **{k: report[k] for k in keys}})
        broken += bool(report["grader_error"])
    if len(rows) > 1:
        first = Path(args.paths[0])
        target = (args.out or (first if first.is_dir() else first.parent)) / "grades.csv"
        with open(target, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        print(f"wrote {target}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
