"""The rehearsal: every chapter's ``full`` code path, end to end, on a CPU in about a minute.

A chapter at ``full`` scale loads MNIST, CIFAR-10 or enwik8 and trains bigger models for longer.
A rehearsal runs that same code, every cell (checks and glue included), with two differences:

- the data are small stand-ins in the real formats (``tools/standins.py``), read by the real
  loaders of ``lib.data``, so nothing is downloaded;
- the sizes are shrunk: ``OVERRIDES`` below gives, per chapter, new values for some of its
  ``full`` settings (step counts, model sizes, sample counts). ``lib.runtime.settings`` applies
  them when ``BOOK_SCALE=full`` and ``BOOK_REHEARSAL=1``; every key must be a ``full`` setting.

The chapters need no edits for this: the runner sets the environment (``BOOK_SCALE=full``,
``BOOK_REHEARSAL=1``, ``BOOK_REHEARSAL_SETTINGS`` = the chapter's overrides as JSON,
``BOOK_REHEARSAL_DATA``, ``BOOK_DEVICE``) and executes the notebook with nbclient. After the
run it also checks that every glue name the prose uses was glued.

    run(chapters=None, device="cpu") -> [{"chapter", "ok", "seconds", "error", ...}, ...]
    python -m tools.rehearsal [CHAPTER ...] [--device cuda] [--json PATH]

A chapter is named by its file stem (``01_pac_bound``) or its number (``1``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
CELL_TIMEOUT = 900  # seconds a single cell may take before the rehearsal gives up on it

# Per chapter: the full settings a rehearsal shrinks (the rest keep their full values, so the
# full code path runs: the data set, the compressors, the branches that only full scale takes).
OVERRIDES: dict[str, dict] = {
    "01_pac_bound": dict(n_hypotheses=20_000, trials=200, qat_epochs=25),
    "02_distribution_matching": dict(
        corpus_bytes=None,  # all of the stand-in (~0.47 MB): the word alignment needs it
        lengths=[16, 64, 128, 256, 512],  # the checks read 128, 256 and 512
        orders=[1, 2, 3, 4, 5],
        trials=2,
        restarts=8,  # small's search: with less, the round trip at 300 letters (0.46 error)
        steps=6000,  # or one cipher in two at 256 letters (0.38) fails
        cross_lengths=[64, 128, 256],
        cross_trials=2,
        schedule_trials=2,
        uniform_lengths=[16, 256],
        dims=[2, 4],
        samples=[100, 300],
        cloud_trials=2,
        vocab=2_000,  # the checks: a band of ranks above 1000, P@1 > 10 * 100 / vocab
        embed_dim=100,
        init_words=[100, 300, 500],
        induction_words=500,
        criterion_words=300,
    ),
    "03_kolmogorov": dict(
        text_bytes=200_000,
        n_random=1000,
        part_bytes=20_000,
        window_kib=[8, 16, 32, 64, 128, 256],
        blc_bits=19,
        blc_steps=1000,
        repeat_run_max=10,
        interpreter_checks=500,
        cl_leaves=4,
    ),
    "04_chain_rule": dict(
        pair_bytes=8_000,  # the verdict check (Bayesian gaps a tenth of the rest) needs it
        gpt_pairs=["text: two parts", "noise & text"],  # each: chapter 5's default transformer
        ncd_train=300,
        ncd_test=100,
        filler_kib=[0, 8, 32, 64, 128],
        label_examples=1_500,
        rbf_centres=50,
        prefix_trials=4,
    ),
    "05_mdl": dict(
        n_bytes=8_000,
        batch=16,
        d_big=32,
        d_little=16,
        ngram_bytes=8_000,
        cm_bytes=20_000,
        coder_symbols=10_000,
        cli_bytes=2_000,
        label_steps=40,
    ),
    "06_neural_compressors": dict(
        x_letters=3_000,
        y_letters=1_500,
        lanes=16,
        cipher_sizes=[[16, 1], [32, 2]],
        hmm_symbols=3_000,
        hmm_sizes=[[8, 1], [16, 1], [32, 2]],
        chain_symbols=2_000,
        chain_size=[32, 2],
        copy_length=10,
        copy_examples=9_600,  # with fewer, the smallest transformer never learns to copy
        rnn_hidden=[8, 32],
        order_examples=1_200,
        order_seeds=4,  # the seed spread the order effect is compared with needs a few
        order_width=16,
    ),
    "07_igpt": dict(
        palette_size=16,
        resolution=8,
        n_unlabelled=1_000,
        n_train=500,
        n_test=300,
        large=dict(n_layer=2, n_embd=32),
        small_model=dict(n_layer=1, n_embd=16),
        n_head=2,
        steps=40,
        batch_size=16,
        n_checkpoints=2,
        seeds=[0, 1],
        ft_steps=20,
        ft_batch=16,
    ),
}


def chapter_names() -> list[str]:
    """Every chapter's file stem, in order."""
    return [p.stem for p in sorted(CHAPTERS.glob("[0-9][0-9]_*.ipynb"))]


def _resolve(chapters) -> list[str]:
    names = chapter_names()
    if chapters is None:
        return names
    if isinstance(chapters, (str, int)):
        chapters = [chapters]
    chosen = []
    for c in chapters:
        key = str(c).removesuffix(".ipynb").rsplit("/", 1)[-1]
        hits = [n for n in names if n == key or (key.isdigit() and int(n[:2]) == int(key))]
        if not hits:
            raise ValueError(f"unknown chapter {c!r}: chapters are {names} (or their numbers)")
        chosen.append(hits[0])
    return chosen


def chapter_settings(chapter: str, scale: str = "full") -> SimpleNamespace:
    """A chapter's settings at ``scale``, read from its ``cfg = runtime.settings(...)`` cell.

    The call is run with a stand-in ``runtime`` that only keeps the two dicts, so the values are
    the chapter's own (expressions included). The benchmarks read chapters' settings here too.
    """
    cells = json.loads((CHAPTERS / f"{chapter}.ipynb").read_text())["cells"]
    source = next(
        (s for s in ("".join(c["source"]) for c in cells) if "cfg = runtime.settings(" in s), None
    )
    if source is None:
        raise ValueError(f"{chapter}: no cfg = runtime.settings(small=..., full=...) cell found")
    setup = source[source.index("cfg = runtime.settings(") :]
    captured = {}
    fake = SimpleNamespace(settings=lambda small, full: captured.update(small=small, full=full))
    exec(compile(setup, chapter, "exec"), {"runtime": fake})  # the call only builds dicts
    return SimpleNamespace(**captured[scale])


def full_settings(chapter: str) -> dict:
    """The ``full`` settings of a chapter, as a dict (what ``OVERRIDES`` may shrink)."""
    return vars(chapter_settings(chapter, "full"))


def environment(chapter: str, device: str = "cpu", data_dir: Path | None = None) -> dict:
    """The environment variables a chapter's rehearsal runs with (added to ``os.environ``)."""
    from lib import data

    return {
        "BOOK_SCALE": "full",
        "BOOK_REHEARSAL": "1",
        "BOOK_REHEARSAL_SETTINGS": json.dumps(OVERRIDES.get(chapter, {})),
        "BOOK_REHEARSAL_DATA": str(data_dir or data.rehearsal_dir()),
        "BOOK_DEVICE": device,
        "BOOK_PROGRESS": "0",
        "PYTHONPATH": os.pathsep.join(
            [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]
        ),
    }


GLUE_USE = re.compile(r"\{glue(?::\w*)?\}`([^`:]+)|[`:]{3}\{glue(?::\w*)?\}\s+([^\s`]+)")


def missing_glue(nb) -> list[str]:
    """Glue names the prose of executed notebook ``nb`` uses but no cell glued."""
    glued = {
        out.get("metadata", {}).get("scrapbook", {}).get("name")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    }
    used = {
        a or b
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for a, b in GLUE_USE.findall(cell.source)
    }
    return sorted(used - glued)


def rehearse(
    chapter: str,
    device: str = "cpu",
    data_dir: Path | None = None,
    timeout: int = CELL_TIMEOUT,
    output_dir: Path | None = None,
) -> dict:
    """Execute one chapter in a rehearsal; ``{"chapter", "ok", "seconds", "cpu_seconds", "error"}``.

    ``seconds`` is wall time, ``cpu_seconds`` the kernel's user + system CPU time.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(CHAPTERS / f"{chapter}.ipynb", as_version=4)
    env = {**os.environ, **environment(chapter, device, data_dir)}
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=False,
        resources={"metadata": {"path": str(CHAPTERS)}},
    )
    error, index, cpu = None, None, float("nan")
    start = time.perf_counter()
    try:
        with client.setup_kernel(env=env):
            try:
                for index, cell in enumerate(nb.cells):
                    client.execute_cell(cell, index)
            finally:
                cpu = _kernel_cpu_seconds(client)
    except CellExecutionError as e:
        where = _failing_line(str(e)) or _first_line(nb.cells[index].source)
        error = f"cell {index} ({where}): {_last_line(str(e))}"
    except Exception as e:  # a timeout, a dead kernel
        error = f"cell {index}: {type(e).__name__}: {_last_line(str(e))}"
    seconds = time.perf_counter() - start
    if output_dir is not None:  # the executed notebook, outputs and all, for a look
        Path(output_dir).mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, Path(output_dir) / f"{chapter}.ipynb")
    if error is None and (missing := missing_glue(nb)):
        error = f"the prose uses glue names no cell glued: {missing}"
    return {
        "chapter": chapter,
        "ok": error is None,
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "error": error,
    }


def _kernel_cpu_seconds(client) -> float:
    """User + system CPU time of the kernel process and the children it waited for."""
    try:
        import psutil

        t = psutil.Process(client.km.provisioner.pid).cpu_times()
        return t.user + t.system + t.children_user + t.children_system
    except Exception:  # no psutil, or a kernel already gone: unknown, not an error
        return float("nan")


def _first_line(source: str) -> str:
    return next((s.strip() for s in source.splitlines() if s.strip()), "")[:60]


def _failing_line(text: str) -> str:
    """The source line IPython's traceback points at (``----> 12 assert ...``), if any."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    arrows = re.findall(r"^-+>\s*\d+\s+(.*)$", plain, re.M)
    return arrows[-1].strip()[:120] if arrows else ""


def _last_line(text: str) -> str:
    lines = [s.strip() for s in re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines() if s.strip()]
    return lines[-1][:400] if lines else ""


def run(
    chapters=None,
    device: str = "cpu",
    *,
    data_dir: Path | None = None,
    timeout: int = CELL_TIMEOUT,
    output_dir: Path | None = None,
    jobs: int = 1,
) -> list[dict]:
    """Rehearse ``chapters`` (default: all) on ``device``; one result dict per chapter.

    Each dict: ``chapter`` (file stem), ``ok`` (bool), ``seconds`` (wall), ``cpu_seconds``,
    ``error`` (None, or the failing cell and the error's last line). The stand-ins are
    written to ``data_dir`` (default ``lib.data.rehearsal_dir()``) first if not there. With
    ``output_dir``, each executed notebook is written there (``<chapter>.ipynb``). ``jobs``
    chapters run at once (each in its own kernel); the results keep the order of ``chapters``.
    """
    from lib import data
    from tools import standins

    names = _resolve(chapters)
    directory = Path(data_dir or data.rehearsal_dir())
    standins.write(directory)
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive int, got {jobs!r}")
    one = lambda name: rehearse(name, device, directory, timeout, output_dir)
    if jobs == 1:
        return [one(name) for name in names]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, names))


def line(result: dict) -> str:
    """One line of the CLI's report."""
    status = "ok  " if result["ok"] else "FAIL"
    text = f"{result['chapter']:28} {status} {result['seconds']:7.1f} s"
    text += f"  (CPU {result.get('cpu_seconds', float('nan')):.1f} s)"
    return text + ("" if result["ok"] else f"  {result['error']}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.rehearsal", description=__doc__.split("\n")[0]
    )
    parser.add_argument("chapters", nargs="*", help="file stems or numbers (default: all)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--keep", type=Path, help="write the executed notebooks here")
    parser.add_argument("--jobs", type=int, default=1, help="chapters at once (default 1)")
    args = parser.parse_args(argv)
    names = _resolve(args.chapters or None)
    if args.jobs == 1:  # a line as each chapter ends
        results = []
        for name in names:
            results += run([name], args.device, output_dir=args.keep)
            print(line(results[-1]), flush=True)
    else:
        results = run(names, args.device, output_dir=args.keep, jobs=args.jobs)
        for result in results:
            print(line(result), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
