"""One call proves the full-scale book on a GPU: ``make gpu-check`` (``python -m tools.gpu_check``).

For a machine with a CUDA GPU and no internet. Three steps, about 8 minutes on one GPU:

1. **The rehearsal on the device** (``tools.rehearsal.run(device=...)``): every chapter's ``full``
   code path, end to end, on stand-in data generated locally, which catches device mismatches
   and dtype and determinism errors.
2. **The main kernels at full-scale sizes**, a few steps each (``KERNELS``): the GPT training and
   incremental steps of chapters 4-7 at their full model sizes, chapter 1's Monte Carlo and
   softmax fits, chapter 2's annealing step. Each is timed on the device and once on the CPU
   (the GPU/CPU speed ratio) and priced by ``benchmarks.bench_fullscale.Roofline`` (the T4
   estimate that ``make bench`` uses).
3. **The full-scale time of each chapter**, extrapolated: the GPU parts of the chapter's estimate
   in ``benchmarks/results/fullscale.json`` scaled by measured / priced time of its kernels, plus
   its CPU parts as measured there. Written to ``benchmarks/results/gpu.json``.

It prints one line per chapter: ok/fail (the rehearsal), the estimated full-scale time against
the 20-minute budget, and the GPU/CPU speed ratio of its kernels. Without a GPU (or with
``BOOK_DEVICE=cpu``) it runs on the CPU: the same steps, ratios 1; ``--quick`` limits the
chapters and steps (what ``tests/test_gpu_check.py`` runs).

    python -m tools.gpu_check [--chapters 1 5 ...] [--steps N] [--quick] [--no-rehearsal]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
STEMS = (
    "01_pac_bound",
    "02_distribution_matching",
    "03_kolmogorov",
    "04_chain_rule",
    "05_mdl",
    "06_neural_compressors",
    "07_igpt",
)


# ---------------------------------------------------------------- the kernels, at full scale
def _prequential(pcfg, device):
    """One incremental step (cache half full) and one training step of the prequential GPT."""
    from lib import prequential

    learner = prequential.Learner(pcfg, device)
    learner.start_lanes(pcfg.lanes)
    inputs = torch.zeros(pcfg.lanes, dtype=torch.long)
    with torch.no_grad():
        for _ in range(pcfg.lane_length // 2):
            learner.step(inputs)
    seen = np.random.default_rng(0).integers(0, 256, 64 * pcfg.lane_length, dtype=np.uint8)
    learner.cfg = dataclasses.replace(pcfg, train_steps=1)

    return {
        "incremental step": lambda: learner.step(inputs),
        "training step": lambda: learner.train(seen, 0),
    }


def _igpt(cfg, device):
    """One training step of chapter 7's large autoregressive model (autocast on a GPU)."""
    from lib import images
    from lib.models import GPT, GPTConfig

    T, K = cfg.resolution**2, cfg.palette_size
    config = GPTConfig(vocab_size=K + 1, block_size=T, n_head=cfg.n_head, **cfg.large)
    model = GPT(config).to(device)
    data = torch.randint(0, K, (cfg.batch_size, T), device=device)
    return {
        "large AR training step": lambda: images.train(
            model, "next", data, 1, len(data), progress=False
        )
    }


def kernels(stem: str, device) -> dict:
    """``{name: step}`` for chapter ``stem``: callables of one step each, at full-scale sizes."""
    from benchmarks import bench_fullscale, bench_igpt
    from lib import bounds, matching, prequential, quantize

    cfg = bench_fullscale.chapter_settings(stem)
    device = torch.device(device)
    g = torch.Generator(device=device).manual_seed(0)
    if stem == "01_pac_bound":
        w = torch.randn(cfg.dim, generator=g, device=device)
        W = torch.randn(1 << 16, cfg.dim, generator=g, device=device)
        err = bounds.halfspace_test_errors(W, w, cfg.noise)
        X, y = bounds.sample_halfspace_data(w, cfg.noise, cfg.m_mc, 2, g)
        Xm = torch.randn(60_000, 785, generator=g, device=device)
        ym = torch.randint(0, 10, (60_000,), generator=g, device=device)
        W0 = torch.zeros(785, 10, device=device)
        return {
            "Monte Carlo block": lambda: bounds.max_deviation(W, err, X, y),
            "QAT epoch": lambda: quantize.fit_quantized(
                Xm, ym, W0, 0.5, 3, epochs=1, progress=False
            ),
        }
    if stem == "02_distribution_matching":
        letters = np.random.default_rng(0).integers(0, 26, 50_000)
        text = "".join(chr(97 + int(i)) for i in letters)
        model = matching.fit_ngram(text, max(cfg.orders))
        model = dataclasses.replace(model, log_prob=model.log_prob.to(device))
        chains = len(cfg.lengths) * cfg.trials * cfg.restarts
        length = int(np.mean(cfg.lengths))
        batch = matching.cipher_batch(
            [matching.to_indices(text[i : i + length], device) for i in range(chains)], model.n
        )
        keys = torch.stack([torch.randperm(26) for _ in range(chains)]).to(device)
        return {"annealing step": lambda: matching.anneal(model, batch, keys, 1, generator=g)}
    if stem == "04_chain_rule":
        return _prequential(prequential.PrequentialConfig(), device)
    if stem == "05_mdl":
        pcfg = prequential.PrequentialConfig(n_embd=cfg.d_big, batch_size=cfg.batch)
        return _prequential(pcfg, device)
    if stem == "06_neural_compressors":
        width, layers = cfg.cipher_sizes[-1]
        pcfg = prequential.PrequentialConfig(n_embd=width, n_layer=layers, lanes=cfg.lanes)
        return _prequential(pcfg, device)
    if stem == "07_igpt":
        return _igpt(bench_igpt.chapter_settings("full"), device)
    return {}  # chapter 3: no GPU kernel (its work is CPU-bound)


def _sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def time_step(step, device, steps: int) -> float:
    """Seconds per call of ``step`` on ``device``: one warm-up call, then ``steps`` timed."""
    step()
    _sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    return (time.perf_counter() - start) / steps


def time_kernels(stem: str, device, steps: int) -> list[dict]:
    """Each kernel of ``stem``: seconds per step here, on the CPU, and priced for a T4."""
    from benchmarks.bench_fullscale import t4_seconds

    rows = []
    on_cpu = torch.device(device).type == "cpu"
    here = kernels(stem, device)
    cpu = here if on_cpu else kernels(stem, "cpu")
    for name, step in here.items():
        seconds = time_step(step, device, steps)
        cpu_s = seconds if on_cpu else time_step(cpu[name], "cpu", 1)
        priced = t4_seconds(cpu[name]).seconds
        rows.append({"kernel": name, "seconds": seconds, "cpu_seconds": cpu_s, "t4_priced": priced})
    return rows


# ---------------------------------------------------------------- extrapolation
def full_scale_estimate(stem: str, measured: list[dict]) -> dict:
    """The chapter's full-scale seconds on this device: the GPU parts of its estimate in
    ``results/fullscale.json`` times (measured / priced) of its kernels, plus the CPU parts."""
    try:
        record = json.loads((RESULTS / "fullscale.json").read_text())
        parts = next(r["parts"] for r in record["rows"] if stem in r["name"])
    except (OSError, StopIteration, KeyError, ValueError):
        return {"seconds": math.nan, "calibration": math.nan, "note": "no fullscale.json row"}
    gpu = sum(v for k, v in parts.items() if k.startswith("GPU"))
    other = sum(v for k, v in parts.items() if not k.startswith("GPU"))
    if measured:
        ratios = [m["seconds"] / m["t4_priced"] for m in measured if m["t4_priced"] > 0]
        calibration = math.exp(np.mean(np.log(ratios)))  # geometric mean over the kernels
    else:
        calibration = 1.0
    return {"seconds": gpu * calibration + other, "calibration": calibration, "note": ""}


def rehearse(chapters, device: str) -> dict:
    """``{stem: result}`` of ``tools.rehearsal.run`` on ``device`` (a failure result if absent)."""
    try:
        from tools import rehearsal
    except ImportError as e:
        return {
            s: {"ok": False, "seconds": 0.0, "error": f"no tools.rehearsal: {e}"} for s in chapters
        }
    return {r["chapter"]: r for r in rehearsal.run(chapters=list(chapters), device=device)}


def check(chapters=None, device=None, steps: int = 5, rehearsal: bool = True, rehearse_fn=None):
    """Steps 1-3 for ``chapters`` (stems or numbers; default all); one result dict per chapter."""
    from lib import runtime

    device = str(device or runtime.device())
    chosen = [_stem(c) for c in chapters] if chapters else list(STEMS)
    if rehearsal:
        done = (rehearse_fn or rehearse)(chosen, device)
    else:
        done = {s: {"ok": True, "seconds": 0.0, "error": "rehearsal skipped"} for s in chosen}
    results = []
    for stem in chosen:
        r = done.get(stem, {"ok": False, "seconds": 0.0, "error": "not rehearsed"})
        try:
            measured = time_kernels(stem, device, steps)
            error = r.get("error") or ""
        except Exception as e:  # a kernel that fails on the device is a failure of the chapter
            measured, error = [], f"kernels: {type(e).__name__}: {e}"
            r = {**r, "ok": False}
        est = full_scale_estimate(stem, measured)
        ratio = (
            math.exp(np.mean([math.log(m["cpu_seconds"] / m["seconds"]) for m in measured]))
            if measured
            else math.nan
        )
        results.append(
            {
                "chapter": stem,
                "ok": bool(r.get("ok")),
                "rehearsal_seconds": float(r.get("seconds") or 0.0),
                "error": error,
                "device": device,
                "full_scale_seconds": est["seconds"],
                "calibration": est["calibration"],
                "gpu_cpu_ratio": ratio,
                "kernels": measured,
            }
        )
    return results


def _stem(c) -> str:
    key = str(c)
    hits = [s for s in STEMS if s == key or (key.isdigit() and int(s[:2]) == int(key))]
    if not hits:
        raise ValueError(f"unknown chapter {c!r}: chapters are {list(STEMS)} (or their numbers)")
    return hits[0]


def line(r: dict, budget: float = 1200.0) -> str:
    est = r["full_scale_seconds"]
    verdict = "" if math.isnan(est) else ("within" if est <= budget else "OVER")
    ratio = (
        "n/a (no GPU kernel)" if math.isnan(r["gpu_cpu_ratio"]) else f"{r['gpu_cpu_ratio']:.1f}x"
    )
    return (
        f"{r['chapter']:26} {'ok' if r['ok'] else 'FAIL':4} full scale on {r['device']} "
        f"~{est / 60:5.1f} min ({verdict} 20 min)  kernels {r['device']}/CPU speed {ratio}"
        + (f"  [{r['error'][:100]}]" if r["error"] and not r["ok"] else "")
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.gpu_check", description=__doc__)
    parser.add_argument("--chapters", nargs="*", help="stems or numbers (default: all)")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per kernel")
    parser.add_argument("--quick", action="store_true", help="chapters 1 and 5, one step")
    parser.add_argument("--no-rehearsal", action="store_true", help="kernels only")
    parser.add_argument("--out", default=str(RESULTS / "gpu.json"))
    args = parser.parse_args(argv)
    chapters, steps = args.chapters, args.steps
    if args.quick:
        chapters, steps = chapters or ["1", "5"], 1
    from benchmarks.__main__ import provenance
    from lib import runtime

    start = time.perf_counter()
    if runtime.device().type != "cuda":
        print(f"no CUDA device: the CPU fallback on {runtime.device()}")
    results = check(chapters, steps=steps, rehearsal=not args.no_rehearsal)
    for r in results:
        print(line(r))
    seconds = time.perf_counter() - start
    print(f"gpu-check: {seconds:.0f} s wall")
    record = {"seconds": seconds, "steps": steps, "measured": provenance(), "rows": results}
    Path(args.out).write_text(json.dumps(record, indent=1))
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
