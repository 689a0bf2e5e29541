"""Run the benchmarks: ``python -m benchmarks [topic ...]`` (see ``benchmarks/__init__.py``)."""

from __future__ import annotations

import importlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

from lib import runtime

HERE = Path(__file__).resolve().parent


def topics() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def provenance() -> dict:
    """Where and when a result was measured: time, commit (``+dirty`` if edited), machine."""
    git = ["git", "-C", str(HERE.parent)]
    try:
        commit = subprocess.run(
            git + ["rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            git
            + [
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                "lib",
                "benchmarks",
                ":!benchmarks/results",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        commit += "+dirty" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "commit": commit,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
        f"{'GPU' if torch.cuda.is_available() else 'no GPU'}",
        "python": platform.python_version(),
        "torch": torch.__version__,
    }


def run(topic: str, scale: str, write: bool = True) -> list[dict]:
    """Run one benchmark; with ``write``, save its rows and provenance to results/<topic>.json."""
    module = importlib.import_module(f"benchmarks.bench_{topic}")
    start = time.perf_counter()
    rows = module.run(scale)
    if not write:
        return rows
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    seconds = time.perf_counter() - start
    record = {"topic": topic, "scale": scale, "seconds": seconds, "measured": provenance()}
    record["rows"] = rows
    (out / f"{topic}.json").write_text(json.dumps(record, indent=1))
    return rows


def fmt(x) -> str:
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def main(argv: list[str]) -> int:
    chosen = argv[1:] or topics()
    unknown = set(chosen) - set(topics())
    if unknown:
        print(f"unknown benchmark(s) {sorted(unknown)}; choose from {topics()}")
        return 2
    scale = runtime.scale()
    print(f"{'benchmark':44} {'ours':>10} {'peer':>10} {'ratio':>8}  goal")
    for topic in chosen:
        for r in run(topic, scale):
            goal = r.get("goal") or ""
            met = {True: "met", False: "NOT met", None: ""}[r.get("met")]
            print(
                f"{r['name'][:44]:44} {fmt(r['ours']):>10} {fmt(r['peer']):>10} "
                f"{fmt(r['ratio']):>8}  {goal} {met}  [{r.get('unit', '')}] {r.get('note', '')}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
