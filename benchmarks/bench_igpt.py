"""Chapter 7 at full scale: how long its training would take on a Colab T4, against 20 minutes.

The chapter's full-scale settings are read from its settings cell (one source of truth). The
floating-point work of one optimizer step of each model is *counted* (``FlopCounterMode`` over
a forward and backward pass at the full-scale shapes, on whatever device is here); the chapter's
plan (seeds × trainings × steps, fine-tuning, and the forward passes for features and bits/dim)
multiplies it out. Without a GPU the seconds are that count divided by an assumed T4 throughput,
``T4_FLOPS``; with a GPU, the large model's training step is timed and its measured FLOP rate
replaces the assumption. The peer is the book's budget of 20 minutes a chapter on a T4.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace

import torch
from torch.utils.flop_counter import FlopCounterMode

from benchmarks import row
from lib import images
from lib.models import GPT, GPTConfig

IN_BOOK = False  # counting FLOPs of full-size models takes tens of seconds on a CPU
CHAPTER = Path(__file__).resolve().parent.parent / "chapters" / "07_igpt.ipynb"
T4_PEAK = 65e12  # float16 tensor-core peak of an NVIDIA T4 (its data sheet)
T4_FLOPS = 0.1 * T4_PEAK  # assumed achieved rate for models this small (an assumption)
BUDGET_S = 20 * 60.0


def chapter_settings(scale: str = "full") -> SimpleNamespace:
    """The chapter's settings at ``scale``, from the cell that calls ``runtime.settings``."""
    cells = json.loads(CHAPTER.read_text())["cells"]
    source = next(
        "".join(c["source"]) for c in cells if "runtime.settings(" in "".join(c["source"])
    )
    captured = {}
    fake = SimpleNamespace(settings=lambda small, full: captured.update(small=small, full=full))
    exec(compile(source, str(CHAPTER), "exec"), {"runtime": fake})  # the cell only builds dicts
    return SimpleNamespace(**captured[scale])


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


def plan_flops(cfg) -> tuple[float, dict]:
    """Total FLOPs of the chapter's full-scale plan, and its parts."""
    T, K = cfg.resolution**2, cfg.palette_size
    seeds, rates = len(cfg.seeds), len(cfg.mask_rates)
    big_ar = step_flops(cfg.large, cfg, True, cfg.batch_size, T, K)
    small_ar = step_flops(cfg.small_model, cfg, True, cfg.batch_size, T, K)
    big_bert = step_flops(cfg.large, cfg, False, cfg.batch_size, T, K)
    ft = step_flops(cfg.large, cfg, True, cfg.ft_batch, T, K)
    fwd = lambda size: step_flops(size, cfg, True, 1, T, K, train=False)  # noqa: E731
    images_seen = cfg.n_train + cfg.n_test  # features of every labelled image, per probe call
    n_ckpt = cfg.n_checkpoints + 1
    parts = {
        "pretraining": seeds * cfg.steps * (big_ar + small_ar + rates * big_bert),
        "fine-tuning": seeds * 3 * cfg.ft_steps * ft,
        "features and bits/dim": seeds
        * (
            fwd(cfg.large) * (n_ckpt * (images_seen + cfg.n_test) + rates * images_seen)
            + fwd(cfg.small_model) * n_ckpt * (images_seen + cfg.n_test)
        ),
    }
    return sum(parts.values()), parts | {"large AR step": big_ar}


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
    seconds = total / (rate or T4_FLOPS)
    how = (
        f"measured {rate / 1e12:.1f} TFLOP/s on this GPU"
        if rate
        else f"assumed T4 rate {T4_FLOPS / 1e12:.0f} TFLOP/s (10% of its float16 peak); no GPU here"
    )
    split = ", ".join(f"{k} {v / 1e15:.2f} PFLOP" for k, v in parts.items() if k != "large AR step")
    return [
        row(
            "chapter 07_igpt full scale, T4 estimate",
            seconds,
            BUDGET_S,
            "s",
            goal="ratio <= 1",
            met=seconds <= BUDGET_S,
            note=f"{total / 1e15:.2f} PFLOP counted ({split}; {parts['large AR step'] / 1e9:.0f} "
            f"GFLOP per large training step) / {how}; probe fits not counted",
        )
    ]
