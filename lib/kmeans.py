"""k-means clustering by Lloyd's algorithm: the book's one k-means (chapters 4, 5 and 7).

Given points ``x_1..x_N ∈ R^d`` and ``k`` centres ``μ_1..μ_k``, Lloyd's algorithm alternates

    assign:  c_n = argmin_j ‖x_n − μ_j‖,        update:  μ_j = mean{x_n : c_n = j},

and never increases the within-cluster sum of squares ``Σ_n ‖x_n − μ_{c_n}‖²``. A centre that
loses all its points stays where it is. Two starts: ``"random"``, ``k`` distinct points drawn
uniformly (iGPT's colour palette, chapter 7), and ``"k-means++"`` (Arthur & Vassilvitskii, 2007),
each next centre drawn with probability proportional to the squared distance to the nearest
centre so far (the representations of chapter 4 and 5).
"""

from __future__ import annotations

import torch

__all__ = ["kmeans", "nearest"]


def nearest(x: torch.Tensor, centres: torch.Tensor, chunk: int = 1 << 16) -> torch.Tensor:
    """``argmin_j ‖x_n − μ_j‖`` for every row of ``x`` (N×d), in chunks of ``chunk`` rows."""
    return torch.cat([torch.cdist(c, centres).argmin(1) for c in x.split(chunk)])


def _start(x: torch.Tensor, k: int, init: str, g: torch.Generator) -> torch.Tensor:
    if init == "random":
        return x[torch.randperm(len(x), generator=g)[:k].to(x.device)].clone()
    centres = x[torch.randint(len(x), (1,), generator=g).to(x.device)]
    for _ in range(1, k):  # k-means++: sample far points
        d2 = torch.cdist(x, centres).min(1).values.square().cpu().double()
        centres = torch.cat([centres, x[torch.multinomial(d2 / d2.sum(), 1, generator=g)]])
    return centres


def kmeans(
    x: torch.Tensor, k: int, iterations: int = 20, init: str = "random", generator=None
) -> torch.Tensor:
    """The ``k×d`` centres after ``iterations`` Lloyd steps from the ``init`` start.

    ``x`` is N×d (float, on any device), ``generator`` a CPU ``torch.Generator`` (default: seed 0).
    Labels of the points are ``nearest(x, centres)``.
    """
    x = torch.as_tensor(x)
    if x.ndim != 2 or not x.is_floating_point():
        raise ValueError(f"x must be a float N×d tensor, got shape {tuple(x.shape)}")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= len(x):
        raise ValueError(f"k must be an int in 1..{len(x)} (the number of points), got {k!r}")
    if iterations < 0:
        raise ValueError(f"iterations must be ≥ 0, got {iterations}")
    if init not in ("random", "k-means++"):
        raise ValueError(f"init must be 'random' or 'k-means++', got {init!r}")
    g = generator or torch.Generator().manual_seed(0)
    centres = _start(x, k, init, g)
    for _ in range(iterations):
        assign = nearest(x, centres)
        sums = torch.zeros_like(centres).index_add_(0, assign, x)
        counts = torch.bincount(assign, minlength=k).unsqueeze(1)
        centres = torch.where(counts > 0, sums / counts.clamp(min=1), centres)
    return centres
