"""Where and how big the computations run: device, seeds, scale, progress bars, glue.

Every chapter starts with ``cfg = runtime.settings(small={...}, full={...})``. The scale is
``small`` without a GPU (what the online book shows and CI runs) and ``full`` with one;
``BOOK_SCALE=small|full`` forces either.

A *rehearsal* (``BOOK_SCALE=full`` and ``BOOK_REHEARSAL=1``) runs a chapter's ``full`` code path
with shrunk sizes, so that it finishes in a minute on a CPU: ``BOOK_REHEARSAL_SETTINGS`` holds
a JSON object of overrides of the ``full`` settings (``tools/rehearsal.py`` keeps them, one
table for every chapter), and the full-scale loaders of ``lib.data`` read small stand-in files
in the real formats (``tools/standins.py``) instead of the real downloads.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
from types import SimpleNamespace

import numpy as np
import torch

SCALES = ("small", "full")


def device() -> torch.device:
    """The device every kernel runs on: the GPU when there is one (``BOOK_DEVICE`` overrides)."""
    name = os.environ.get("BOOK_DEVICE")
    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def scale() -> str:
    """``small`` or ``full``: from ``BOOK_SCALE``, else ``full`` exactly when a GPU is present."""
    value = os.environ.get("BOOK_SCALE", "").strip().lower()
    if not value:
        return "full" if torch.cuda.is_available() else "small"
    if value not in SCALES:
        raise ValueError(f"BOOK_SCALE must be one of {SCALES}, got {value!r}")
    return value


def rehearsal() -> bool:
    """Whether this run is a rehearsal of the full code path (``BOOK_REHEARSAL=1``).

    A rehearsal needs ``BOOK_SCALE=full``: rehearsing the small scale means nothing.
    """
    value = os.environ.get("BOOK_REHEARSAL", "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value not in ("1", "true", "yes"):
        raise ValueError(f"BOOK_REHEARSAL must be 1 or 0, got {value!r}")
    if scale() != "full":
        raise ValueError("BOOK_REHEARSAL=1 rehearses the full scale: set BOOK_SCALE=full too")
    return True


def rehearsal_overrides(full: dict) -> dict:
    """The overrides of ``full`` that ``BOOK_REHEARSAL_SETTINGS`` (a JSON object) gives.

    Every key must be a key of ``full``. JSON has no tuples, so a list stands for a tuple
    wherever ``full`` holds one (at any depth), e.g. ``[[16, 1]]`` for ``[(16, 1)]``.
    """
    raw = os.environ.get("BOOK_REHEARSAL_SETTINGS", "").strip()
    if not raw:
        return {}
    try:
        overrides = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ValueError(f"BOOK_REHEARSAL_SETTINGS is not valid JSON: {e}") from e
    if not isinstance(overrides, dict):
        raise ValueError("BOOK_REHEARSAL_SETTINGS must be a JSON object of {setting: value}")
    unknown = sorted(set(overrides) - set(full))
    if unknown:
        raise ValueError(
            f"BOOK_REHEARSAL_SETTINGS overrides {unknown}, which are not settings of this "
            f"chapter (its full settings: {sorted(full)})"
        )
    return {k: _shaped_like(full[k], v) for k, v in overrides.items()}


def _shaped_like(template, value):
    """``value`` (from JSON) with lists made tuples where ``template`` has tuples."""
    if isinstance(value, list) and isinstance(template, (list, tuple)):
        inner = [_shaped_like(_element(template, i), v) for i, v in enumerate(value)]
        return tuple(inner) if isinstance(template, tuple) else inner
    if isinstance(value, dict) and isinstance(template, dict):
        return {k: _shaped_like(template.get(k), v) for k, v in value.items()}
    return value


def _element(template, i: int):
    if not template:
        return None
    return template[i] if i < len(template) else template[0]


def settings(small: dict, full: dict, seed: int = 0) -> SimpleNamespace:
    """A chapter's settings at the current scale, with ``scale``, ``device`` and ``seed`` added.

    Both scales must name the same settings, so that one code path serves both. In a rehearsal
    (see ``rehearsal()``) the ``full`` settings are shrunk by ``rehearsal_overrides``.
    """
    if set(small) != set(full):
        raise ValueError(f"small and full settings differ in keys: {set(small) ^ set(full)}")
    chosen = small if scale() == "small" else full
    if rehearsal():
        chosen = {**full, **rehearsal_overrides(full)}
    seed_everything(seed)
    return SimpleNamespace(scale=scale(), device=device(), seed=seed, **chosen)


def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy and torch, and ask torch for deterministic kernels.

    On the CPU the same run then gives the same numbers. On a GPU a few kernels have no
    deterministic version; torch then warns instead of failing.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def generator(seed: int = 0, on: torch.device | None = None) -> torch.Generator:
    """A seeded torch generator on ``on`` (default: the book's device)."""
    g = torch.Generator(device=on or device())
    g.manual_seed(seed)
    return g


@contextlib.contextmanager
def threads(n: int = 1, on: torch.device | None = None):
    """Run the enclosed torch code on ``n`` CPU threads, restoring the count afterwards.

    Loops of many small kernels run faster on one thread than on several handing work back and
    forth, and a fixed count fixes the order of floating-point sums (the prequential coder of
    chapter 5 relies on that). With ``on`` a GPU device, nothing changes.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if on is not None and torch.device(on).type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def progress(iterable=None, **kwargs):
    """A progress bar (tqdm) that stays quiet in builds and tests (``BOOK_PROGRESS=0``).

    A long loop of ``lib`` shows one, on its outermost level, when called with
    ``progress=True`` (the default): ``progress(it, desc=..., leave=False, disable=not progress)``.
    """
    from tqdm.auto import tqdm

    disable = kwargs.pop("disable", False) or os.environ.get("BOOK_PROGRESS", "1") == "0"
    return tqdm(iterable, disable=disable, **kwargs)


def check_progress(progress) -> bool:
    """``progress`` itself when it is a bool (a function's switch for its bar); else TypeError."""
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be True or False, got {progress!r}")
    return progress


def glue(values: dict) -> None:
    """Hand each ``name: value`` to the book's prose (``{glue:text}`name```), in one call per cell.

    In a book build this is myst-nb's ``glue`` (without display). Where myst-nb is not installed
    (Colab installs ``lib`` alone) it does nothing: the prose is the built book's, and the cells
    print what a reader of the notebook needs.
    """
    if not isinstance(values, dict) or not all(isinstance(k, str) and k for k in values):
        raise TypeError("glue takes a dict of {name: value} with non-empty string names")
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return
    for name, value in values.items():
        if isinstance(value, np.generic):  # np.float64(0.5) would reach the prose as its repr
            value = value.item()
        myst_glue(name, value, display=False)
