"""Tasks whose memory need grows with length, and models matched in size (chapter 6).

Copying a random prefix: an example is ``k`` uniform symbols over ``V``, a separator, and the
same ``k`` symbols again,

    u_1 ... u_k  SEP  u_1 ... u_k,

so at the separator a predictor of the copy must hold ``k log2 V`` bits about the past. A
transformer can look back at the prefix; a recurrent net must carry it in its state of ``h``
numbers. The copy costs ``k log2 V`` bits when nothing is remembered and 0 when everything is.

``matched_gpt`` picks, among transformer widths, the one whose parameter count is closest to a
given count: comparisons between architectures are made at equal parameters.
"""

from __future__ import annotations

import math

import torch

from lib.models import GPT, GPTConfig


def copy_task(n: int, length: int, alphabet: int, generator: torch.Generator | None = None):
    """``(examples, mask)``: ``n`` rows ``u SEP u`` (``u`` of ``length`` uniform symbols over
    ``0..alphabet-1``, ``SEP = alphabet``), and the mask of the copied positions."""
    for name, value in (("n", n), ("length", length), ("alphabet", alphabet)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    u = torch.randint(0, alphabet, (n, length), generator=generator)
    sep = torch.full((n, 1), alphabet, dtype=torch.long)
    mask = torch.zeros(2 * length + 1, dtype=torch.bool)
    mask[length + 1 :] = True
    return torch.cat([u, sep, u], dim=1), mask


def memory_bits(length: int, alphabet: int) -> float:
    """``k log2 V``: what the copy costs a predictor that remembers nothing of the prefix."""
    return length * math.log2(alphabet)


def gpt_params(config: GPTConfig) -> int:
    """The parameter count of ``GPT(config)`` (built once on the CPU to count)."""
    return GPT(config).n_params()


def matched_gpt(
    target: int,
    vocab_size: int,
    block_size: int,
    widths=(8, 12, 16, 24, 32, 48, 64, 96, 128),
    n_layer: int = 1,
    n_head: int = 4,
) -> GPTConfig:
    """The ``GPTConfig`` among ``widths`` (multiples of ``n_head``) whose model has the number of
    parameters closest to ``target`` (in ratio)."""
    if not isinstance(target, int) or target < 1:
        raise ValueError(f"target must be a positive int, got {target!r}")
    configs = [
        GPTConfig(
            vocab_size=vocab_size, block_size=block_size, n_layer=n_layer, n_head=n_head, n_embd=w
        )
        for w in widths
    ]
    return min(configs, key=lambda c: abs(math.log(gpt_params(c) / target)))
