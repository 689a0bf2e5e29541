"""Chapter 1's Monte Carlo kernel: batched torch against a plain numpy loop over hypotheses.

Both compute, for each trial, ``max_f |Train(f) - Test(f)|`` over the same random halfspaces and
the same samples; the loop handles one hypothesis at a time (what one writes first), the kernel
all of them with one matrix product per trial. Reported as a speed-up on the same workload,
measured in one run; the two answers are checked to agree.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from benchmarks import row
from lib import bounds, runtime

IN_BOOK = True  # cheap at small scale: the benchmarks page runs it while the book builds


def numpy_loop(W: np.ndarray, test_err: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The same computation as ``bounds.max_deviation``, hypothesis by hypothesis."""
    out = np.zeros(X.shape[0])
    for t in range(X.shape[0]):
        for w, p in zip(W, test_err, strict=True):
            train = np.mean((X[t] @ w > 0) != y[t])
            out[t] = max(out[t], abs(train - p))
    return out


def run(scale: str) -> list[dict]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one core each: the loop is single-threaded too
    try:
        return _run(scale)
    finally:
        torch.set_num_threads(threads)


def _run(scale: str) -> list[dict]:
    n, d, m, trials = (2_000, 10, 200, 5) if scale == "small" else (20_000, 10, 200, 10)
    dev = runtime.device()
    g = runtime.generator(0, dev)
    w_star = torch.randn(d, generator=g, device=dev)
    W = torch.randn(n, d, generator=g, device=dev)
    err = bounds.halfspace_test_errors(W, w_star, 0.1)
    X, y = bounds.sample_halfspace_data(w_star, 0.1, m, trials, g)
    Wn, en, Xn, yn = (t.cpu().numpy().astype(np.float64) for t in (W, err, X, y))
    yn = yn.astype(bool)

    # CPU seconds on the CPU (fair on a shared machine), wall seconds on a GPU
    clock = time.perf_counter if dev.type == "cuda" else time.process_time

    def timed(fn, repeat):
        best = float("inf")
        for _ in range(repeat):
            start = clock()
            result = fn()
            if dev.type == "cuda":
                torch.cuda.synchronize()
            best = min(best, clock() - start)
        return best, result

    ours, got = timed(lambda: bounds.max_deviation(W, err, X, y).cpu().numpy(), 5)
    peer, want = timed(lambda: numpy_loop(Wn, en, Xn, yn), 1)
    if not np.allclose(got, want, atol=1e-5):
        raise AssertionError("kernel and loop disagree")
    return [
        row(
            f"PAC Monte Carlo: {n:,} halfspaces x {trials} trials (m={m})",
            ours,
            peer,
            "s",
            goal="ratio <= 0.1",
            met=ours / peer <= 0.1,
            note=f"batched torch on {dev.type} vs numpy loop over hypotheses: {peer / ours:.0f}x"
            f" faster ({'wall' if dev.type == 'cuda' else 'CPU'} seconds; one thread on a CPU)",
        )
    ]
