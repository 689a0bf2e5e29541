"""How long each chapter takes to execute, against the book's per-chapter budget.

Each chapter notebook (``chapters/NN_*.ipynb``) is executed from top to bottom with nbclient at the
given scale, the way the book build and nbval execute it, and timed: wall-clock seconds (the
figure) and the CPU seconds (user + sys) of the kernel process, which are less inflated by other
work on a shared machine. At ``small`` scale the peer is the budget of 180 s a chapter (BOOK.md:
"under about 3 minutes a chapter on 2 CPU cores"); ``ratio <= 1`` meets it.

Too slow for the book build; ``make bench`` runs it (``python -m benchmarks chapters``), and the
book's benchmarks page shows the results file it writes.
"""

from __future__ import annotations

import math
import os
import resource
import time
from pathlib import Path

from tools.notebooks import chapter_paths

BUDGET_S = 180.0


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_notebook(path: Path, scale: str, timeout: int = 1800) -> tuple[float, float]:
    """Execute ``path`` at ``scale``; ``(wall seconds, kernel CPU seconds)``. Raises on a failing
    cell (nbclient's CellExecutionError)."""
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    saved = {k: os.environ.get(k) for k in ("BOOK_SCALE", "BOOK_PROGRESS", "MPLBACKEND")}
    os.environ.update(BOOK_SCALE=scale, BOOK_PROGRESS="0", MPLBACKEND="Agg")
    try:
        client = nbclient.NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        )
        cpu, start = cpu_of_children(), time.perf_counter()
        client.execute()  # starts the kernel, runs every cell, shuts the kernel down and reaps it
        return time.perf_counter() - start, cpu_of_children() - cpu
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run(scale: str) -> list[dict]:
    rows = []
    budget = BUDGET_S if scale == "small" else None
    for path in chapter_paths():
        row = {
            "name": f"chapter {path.stem} ({scale})",
            "unit": "s",
            "peer": budget if budget else math.nan,
        }
        try:
            wall, cpu = time_notebook(path, scale)
        except Exception as e:  # a failing chapter is a result too: it does not meet the budget
            first = str(e).strip().splitlines()[-1:] or [type(e).__name__]
            row.update(
                ours=math.nan,
                ratio=math.nan,
                goal="ratio <= 1" if budget else None,
                met=False,
                note=f"failed: {first[0][:120]}",
            )
        else:
            row.update(
                ours=wall,
                ratio=wall / budget if budget else math.nan,
                goal="ratio <= 1" if budget else None,
                met=wall <= budget if budget else None,
                note=f"cpu {cpu:.0f} s (user+sys); peer: the {BUDGET_S:.0f} s budget a chapter"
                if budget
                else f"cpu {cpu:.0f} s (user+sys); no budget at {scale} scale",
            )
        rows.append(row)
    return rows
