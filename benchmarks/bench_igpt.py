"""Chapter 7 at full scale: how long its training would take on a Colab T4, against 20 minutes.

The chapter's full-scale settings are read from its settings cell (one source of truth). The
floating-point work of one optimizer step of each model is *counted* (``FlopCounterMode`` over
a forward and backward pass at the full-scale shapes, on whatever device is here); the chapter's
plan (seeds × trainings × steps, fine-tuning, and the forward passes for features and bits/dim)
multiplies it out. Without a GPU the seconds are that count divided by an assumed T4 throughput,
``T4_FLOPS`` (10% of the float16 tensor-core peak: an assumption, stated in the printed row);
with a GPU, the large model's training step is timed and its measured FLOP rate replaces the
assumption. The float64 probe fits are estimated apart, at an assumed float64 rate.
The peer is the book's budget of 20 minutes a chapter on a T4.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import torch
from torch.utils.flop_counter import FlopCounterMode

from benchmarks import row
from lib import images
from lib.models import GPT, GPTConfig
from tools import rehearsal

IN_BOOK = False  # counting FLOPs of full-size models takes tens of seconds on a CPU
CHAPTER = Path(__file__).resolve().parent.parent / "chapters" / "07_igpt.ipynb"
T4_PEAK = 65e12  # float16 tensor-core peak of an NVIDIA T4 (its data sheet)
T4_FLOPS = 0.1 * T4_PEAK  # assumed achieved rate for models this small (an assumption)
T4_FP64 = 0.125e12  # assumed float64 rate of a T4 (half its data-sheet 0.25 TFLOP/s): probes
PROBE_EVALS = 750  # assumed objective evaluations per L-BFGS fit (500 iterations at most)
BUDGET_S = 20 * 60.0


def chapter_settings(scale: str = "full") -> SimpleNamespace:
    """The chapter's settings at ``scale``, from the cell that calls ``runtime.settings``."""
    return rehearsal.chapter_settings(CHAPTER.stem, scale)


def step_flops(size: dict, cfg, causal: bool, batch: int, T: int, K: int, train=True) -> float:
    """Counted FLOPs of one step (forward + backward, or forward only) at batch ``batch``."""
    model = GPT(
        GPTConfig(
            vocab_size=K + 1 if causal else K,
            block_size=T,
            n_head=cfg.n_head,
            causal=causal,
            **size,
        )
    )
    x = torch.randint(0, K, (2, T))
    counter = FlopCounterMode(display=False)
    with counter:
        if train:
            loss = (
                images.next_pixel_loss(model, x)
                if causal
                else images.masked_pixel_loss(model, x, 0.15)
            )
            loss.backward()
        else:
            with torch.no_grad():
                model(images.model_inputs(model, x))
    return counter.get_total_flops() * batch / 2


def probe_flops(cfg, n_layers: int) -> float:
    """FLOPs of one ``linear_probes`` call (float64 L-BFGS): each evaluation of the objective
    and its gradient is about ``4·P·N·d·C`` for ``P`` problems (layers × penalties) of ``N``
    fitting images, ``d`` features and ``C`` classes; ``PROBE_EVALS`` evaluations assumed."""
    n_fit = 0.8 * cfg.n_train
    return 4 * n_layers * 3 * n_fit * cfg.large["n_embd"] * 10 * PROBE_EVALS


def plan_flops(cfg) -> tuple[float, dict]:
    """Total FLOPs of the chapter's full-scale plan, and its parts (the probes in float64)."""
    T, K = cfg.resolution**2, cfg.palette_size
    seeds, rates = len(cfg.seeds), len(cfg.mask_rates)
    big_ar = step_flops(cfg.large, cfg, True, cfg.batch_size, T, K)
    small_ar = step_flops(cfg.small_model, cfg, True, cfg.batch_size, T, K)
    big_bert = step_flops(cfg.large, cfg, False, cfg.batch_size, T, K)
    ft = step_flops(cfg.large, cfg, True, cfg.ft_batch, T, K)  # worst case: the top layer
    fwd = lambda size: step_flops(size, cfg, True, 1, T, K, train=False)  # noqa: E731
    labelled = cfg.n_train + cfg.n_test  # one forward pass per image per measured model
    n_ckpt = cfg.n_checkpoints + 1  # step 0 included (the small model's is not measured)
    n_ft = 3 * len(cfg.ft_lr)  # three networks, one run per candidate learning rate
    ft_eval = n_ft * (0.2 * cfg.n_train + cfg.n_test)  # validation and test accuracy
    n_probes = n_ckpt + (n_ckpt - 1) + rates  # large, small and masked models
    parts = {
        "pretraining": seeds * cfg.steps * (big_ar + small_ar + rates * big_bert),
        "fine-tuning": seeds * (n_ft * cfg.ft_steps * ft + ft_eval * fwd(cfg.large)),
        "features and bits/dim": seeds
        * labelled
        * ((n_ckpt + rates) * fwd(cfg.large) + (n_ckpt - 1) * fwd(cfg.small_model)),
    }
    probes = seeds * n_probes * probe_flops(cfg, cfg.large["n_layer"] + 1)
    return sum(parts.values()), parts | {"large AR step": big_ar, "probes": probes}


def measured_rate(cfg) -> float | None:
    """FLOP/s of the large model's training step on this GPU (autocast), or None on a CPU."""
    if not torch.cuda.is_available():
        return None
    T, K = cfg.resolution**2, cfg.palette_size
    model = GPT(GPTConfig(vocab_size=K + 1, block_size=T, n_head=cfg.n_head, **cfg.large)).cuda()
    data = torch.randint(0, K, (4 * cfg.batch_size, T), device="cuda")
    images.train(model, "next", data, 10, cfg.batch_size)  # warm up
    torch.cuda.synchronize()
    start = time.perf_counter()
    images.train(model, "next", data, 50, cfg.batch_size)
    torch.cuda.synchronize()
    return (
        50 * step_flops(cfg.large, cfg, True, cfg.batch_size, T, K) / (time.perf_counter() - start)
    )


def run(scale: str) -> list[dict]:
    cfg = chapter_settings("full")
    total, parts = plan_flops(cfg)
    rate = measured_rate(cfg)
    probe_s = parts["probes"] / T4_FP64
    seconds = total / (rate or T4_FLOPS) + probe_s
    how = (
        f"measured {rate / 1e12:.1f} TFLOP/s on this GPU"
        if rate
        else f"assumed T4 rate {T4_FLOPS / 1e12:.1f} TFLOP/s (10% of its float16 peak); no GPU here"
    )
    split = ", ".join(
        f"{k} {v / 1e15:.2f} PFLOP"
        for k, v in parts.items()
        if k not in ("large AR step", "probes")
    )
    return [
        row(
            "chapter 07_igpt full scale, T4 estimate",
            seconds,
            BUDGET_S,
            "s",
            goal="ratio <= 1",
            met=seconds <= BUDGET_S,
            note=f"{total / 1e15:.2f} PFLOP counted ({split}; {parts['large AR step'] / 1e9:.0f} "
            f"GFLOP per large training step) / {how}; plus {probe_s:.0f} s of float64 probe "
            f"fits ({parts['probes'] / 1e12:.0f} TFLOP at an assumed "
            f"{T4_FP64 / 1e12:.3f} TFLOP/s, {PROBE_EVALS} evaluations a fit)",
        )
    ]
