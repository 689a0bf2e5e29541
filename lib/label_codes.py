"""Supervised data as compression: code lengths of labels ``Y`` given inputs ``X`` (ch. 4 and 5).

Sender and receiver both have the inputs ``x_1..x_n``; the sender transmits the labels. Every code
here is *prequential*: label ``y_t`` is coded with a distribution ``p_t(· | x_t)`` computed from
``(x_1, y_1) .. (x_{t−1}, y_{t−1})`` and the inputs only, so the receiver can rebuild ``p_t`` and
decode. The code length is ``L(Y | X) = Σ_t −log2 p_t(y_t | x_t)`` bits (arithmetic coding gets
within a few bits of it: ``lib.coding``). Functions return the per-example terms, shape ``(n,)``.

- ``uniform_bits``: ``log2 K`` per label, ``X`` ignored.
- ``adaptive_bits``: the Krichevsky–Trofimov frequency code, ``X`` ignored, ``≈ n·H(Y)``.
- ``knn_bits``: a smoothed vote of the ``k`` nearest earlier inputs.
- ``logistic_bits``: softmax regression refit on all earlier examples at doubling block boundaries.
- ``cluster_bits``: a KT code per cluster of an unsupervised clustering of ``X``.

Chapter 5 compares the two ways of paying for a model (Blier & Ollivier 2018):

- ``two_part_code``: train on everything, send the weights quantized (``b`` bits each, or
  rounded to a step and entropy-coded), then the labels under that model; the quantization that
  makes the sum smallest is chosen, and its choice paid for.
- ``prequential_label_code``: a softmax regression or small MLP retrained at doubling block
  boundaries; no parameter is ever sent.

A representation fit on the inputs alone (``pca``, ``kmeans``) costs nothing in ``L(Y | X)``: the
receiver has ``X`` and can fit it too. That is unsupervised pretraining in the compression view.
Kernels are torch and run on ``lib.runtime.device()``.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch

from lib import runtime

__all__ = [
    "uniform_bits",
    "adaptive_bits",
    "knn_bits",
    "doubling_blocks",
    "logistic_bits",
    "pca",
    "kmeans",
    "rbf_features",
    "cluster_bits",
    "classifier",
    "fit",
    "label_bits",
    "quantized",
    "kt_integer_bits",
    "on_grid",
    "two_part_code",
    "prequential_label_code",
]


def _check_labels(labels, n_classes: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError("labels must be a 1-d array of ints")
    if not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError(f"n_classes must be an int ≥ 2, got {n_classes!r}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels must lie in 0..{n_classes - 1}")
    return labels.astype(np.int64)


def _check_features(features, n: int) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(features), dtype=torch.float32, device=runtime.device())
    if x.ndim != 2 or x.shape[0] != n:
        raise ValueError(f"features must be an (n × d) array with n = {n}, got {tuple(x.shape)}")
    return x


# ---------------------------------------------------------------- codes that ignore X
def uniform_bits(labels, n_classes: int) -> np.ndarray:
    """``log2 K`` bits for every label."""
    labels = _check_labels(labels, n_classes)
    return np.full(len(labels), math.log2(n_classes))


def adaptive_bits(labels, n_classes: int, alpha: float = 0.5) -> np.ndarray:
    """``−log2 (n_{<t}(y_t) + α) / (t − 1 + Kα)``: the adaptive frequency (KT for α = ½) code."""
    labels = _check_labels(labels, n_classes)
    counts = np.zeros(n_classes)
    out = np.empty(len(labels))
    for t, y in enumerate(labels):
        out[t] = -math.log2((counts[y] + alpha) / (t + n_classes * alpha))
        counts[y] += 1
    return out


# ---------------------------------------------------------------- codes that read X
def knn_bits(
    features, labels, n_classes: int, k: int = 5, alpha: float = 0.5, chunk: int = 1024
) -> np.ndarray:
    """``p_t(y | x_t) = (#{y among the k nearest of x_1..x_{t−1}} + α) / (min(k, t−1) + Kα)``.

    Euclidean distances, computed in chunks of ``chunk`` rows on the device.
    """
    labels = _check_labels(labels, n_classes)
    x = _check_features(features, len(labels))
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    y = torch.as_tensor(labels, device=x.device)
    out = torch.empty(len(labels), dtype=torch.float64, device=x.device)
    for a in range(0, len(labels), chunk):
        b = min(a + chunk, len(labels))
        d = torch.cdist(x[a:b], x[:b])
        rows = torch.arange(a, b, device=x.device)
        d[torch.arange(b, device=x.device)[None, :] >= rows[:, None]] = float(
            "inf"
        )  # only the past
        kk = min(k, b)
        dist, idx = d.topk(kk, dim=1, largest=False)
        valid = torch.isfinite(dist).double()
        votes = torch.zeros(b - a, n_classes, dtype=torch.float64, device=x.device)
        votes.scatter_add_(1, y[idx], valid)
        p = (votes + alpha) / (valid.sum(1, keepdim=True) + n_classes * alpha)
        out[a:b] = -torch.log2(p.gather(1, y[a:b, None]).squeeze(1))
    return out.cpu().numpy()


def doubling_blocks(n: int, first: int = 16) -> list[int]:
    """Block boundaries ``0, first, 2·first, 4·first, …, n`` of a prequential schedule."""
    if not isinstance(n, int) or n < 1 or not isinstance(first, int) or first < 1:
        raise ValueError(f"n and first must be positive ints, got n={n!r}, first={first!r}")
    edges = [0]
    while edges[-1] < n:
        edges.append(min(n, max(first, 2 * edges[-1])))
    return edges


def fit_softmax_regression(
    x: torch.Tensor, y: torch.Tensor, n_classes: int, l2: float, steps: int = 100
) -> torch.nn.Linear:
    """Minimize ``mean CE(Wx + b, y) + l2·|W|²`` by L-BFGS (deterministic; a convex problem),
    by ``lib.softmax_regression``; returned as a ``torch.nn.Linear``."""
    from lib import softmax_regression

    fit = softmax_regression.fit(x, y, n_classes, l2=l2, max_iter=steps)
    model = torch.nn.Linear(x.shape[1], n_classes).to(x.device)
    with torch.no_grad():
        model.weight.copy_(fit.W[0].T)
        model.bias.copy_(fit.b[0])
    return model


def logistic_bits(
    features,
    labels,
    n_classes: int,
    l2: float = 1e-3,
    first: int = 16,
    epsilon: float = 0.01,
    steps: int = 100,
    progress: bool = True,
) -> np.ndarray:
    """Prequential softmax regression: block ``[a, b)`` is coded by the model fit on ``[0, a)``.

    Blocks double (``doubling_blocks``); the first block is coded uniformly. The model's
    distribution is mixed with the uniform one, ``(1 − ε)·p + ε/K``, so a confident mistake costs
    at most ``log2(K/ε)`` bits. Features are standardized with statistics of ``X`` (all inputs,
    known to the receiver). ``progress``: a bar over the blocks (unless ``BOOK_PROGRESS=0``).
    """
    disable = not runtime.check_progress(progress)
    labels = _check_labels(labels, n_classes)
    x = _check_features(features, len(labels))
    if not 0 < epsilon <= 1:
        raise ValueError(f"epsilon must be in (0, 1], got {epsilon!r}")
    x = (x - x.mean(0)) / (x.std(0) + 1e-6)
    y = torch.as_tensor(labels, device=x.device)
    edges = doubling_blocks(len(labels), first)
    out = np.empty(len(labels))
    out[: edges[1]] = math.log2(n_classes)
    blocks = list(zip(edges[1:-1], edges[2:], strict=True))
    for a, b in runtime.progress(
        blocks, desc="label code", unit="block", leave=False, disable=disable
    ):
        with torch.enable_grad(), runtime.threads(1, x.device):
            model = fit_softmax_regression(x[:a], y[:a], n_classes, l2, steps)
        with torch.no_grad():
            p = torch.softmax(model(x[a:b]), dim=1).double()
            p = (1 - epsilon) * p + epsilon / n_classes
            out[a:b] = (-torch.log2(p.gather(1, y[a:b, None]).squeeze(1))).cpu().numpy()
    return out


# ---------------------------------------------------------------- representations of X alone
def pca(features, dim: int) -> np.ndarray:
    """Project centred ``X`` onto its top ``dim`` principal directions (fit on ``X`` only)."""
    x = torch.as_tensor(np.asarray(features), dtype=torch.float64, device=runtime.device())
    if x.ndim != 2 or not isinstance(dim, int) or not 1 <= dim <= min(x.shape):
        raise ValueError(f"need a 2-d X and 1 ≤ dim ≤ {min(x.shape) if x.ndim == 2 else '?'}")
    x = x - x.mean(0)
    _, _, vt = torch.linalg.svd(x, full_matrices=False)
    return (x @ vt[:dim].T).float().cpu().numpy()


def kmeans(features, n_clusters: int, iterations: int = 50, seed: int = 0) -> np.ndarray:
    """Lloyd's k-means on ``X`` (k-means++ start, seeded; ``lib.kmeans``); returns each row's
    cluster index."""
    from lib import kmeans as lloyd

    x = torch.as_tensor(np.asarray(features), dtype=torch.float32, device=runtime.device())
    if x.ndim != 2 or not isinstance(n_clusters, int) or not 1 <= n_clusters <= len(x):
        raise ValueError(f"need a 2-d X with at least n_clusters rows, got {n_clusters!r}")
    g = torch.Generator(device="cpu").manual_seed(seed)
    centres = lloyd.kmeans(x, n_clusters, iterations, init="k-means++", generator=g)
    return lloyd.nearest(x, centres).cpu().numpy()


def rbf_features(features, n_centres: int, seed: int = 0) -> np.ndarray:
    """``φ_j(x) = exp(−|x − μ_j|² / s²)`` for the ``n_centres`` k-means centres ``μ_j`` of ``X``.

    ``s`` is the median distance from a point to a centre. Fit on ``X`` alone: a learned,
    nonlinear representation that the receiver can rebuild without any label.
    """
    x = torch.as_tensor(np.asarray(features), dtype=torch.float32, device=runtime.device())
    assign = torch.as_tensor(kmeans(features, n_centres, seed=seed), device=x.device)
    sums = torch.zeros(n_centres, x.shape[1], device=x.device).index_add_(0, assign, x)
    centres = sums / torch.bincount(assign, minlength=n_centres).clamp(min=1)[:, None]
    d = torch.cdist(x, centres)
    return torch.exp(-(d / d.median()).square()).cpu().numpy()


def cluster_bits(clusters, labels, n_classes: int, alpha: float = 0.5) -> np.ndarray:
    """A KT label code per cluster: ``p_t(y) = (n_{<t}(c_t, y) + α) / (n_{<t}(c_t) + Kα)``.

    ``clusters`` come from ``X`` alone (e.g. ``kmeans``), so the receiver knows them.
    """
    labels = _check_labels(labels, n_classes)
    clusters = np.asarray(clusters)
    if clusters.shape != labels.shape:
        raise ValueError("clusters must have one entry per label")
    counts: dict = {}
    out = np.empty(len(labels))
    for t, (c, y) in enumerate(zip(clusters.tolist(), labels, strict=True)):
        row = counts.setdefault(c, np.zeros(n_classes))
        out[t] = -math.log2((row[y] + alpha) / (row.sum() + n_classes * alpha))
        row[y] += 1
    return out


# ---------------------------------------------------------------- two-part vs prequential (ch. 5)
def _check_labelled(x, y, classes: int):
    x = torch.as_tensor(np.asarray(x), dtype=torch.float32)
    y = torch.as_tensor(np.asarray(y), dtype=torch.long)
    if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(f"x must be N×D and y of length N, got {tuple(x.shape)}, {tuple(y.shape)}")
    if len(y) and (y.min() < 0 or y.max() >= classes):
        raise ValueError(f"labels must lie in [0, {classes})")
    return x, y


def classifier(dim: int, classes: int, hidden: int = 0, seed: int = 0) -> torch.nn.Module:
    """Softmax regression (``hidden=0``) or a one-hidden-layer MLP, seeded."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if hidden:
            return torch.nn.Sequential(
                torch.nn.Linear(dim, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, classes)
            )
        return torch.nn.Linear(dim, classes)


def fit(
    model: torch.nn.Module, x, y, steps: int = 300, lr: float = 0.05, weight_decay: float = 1e-3
) -> torch.nn.Module:
    """Full-batch Adam on the cross-entropy (deterministic on the CPU)."""
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(steps):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return model


@torch.no_grad()
def label_bits(model: torch.nn.Module, x, y) -> np.ndarray:
    """``-log2 p(y_t | x_t)`` per example (bits)."""
    logp = torch.log_softmax(model(x), dim=-1)[torch.arange(len(y)), y]
    return (-logp / math.log(2)).numpy()


@torch.no_grad()
def quantized(model: torch.nn.Module, bits: int) -> tuple[torch.nn.Module, int]:
    """A copy of ``model`` with every tensor rounded to a symmetric grid with zero, ``m =
    2**(bits-1) - 1`` levels a side: ``r/m · round(w m / r)`` with ``r = max|w|`` (``bits = 1``:
    every weight zero), and the description length: ``bits`` per parameter + 32 per tensor for r."""
    if not isinstance(bits, int) or not 1 <= bits <= 32:
        raise ValueError(f"bits must be an int in [1, 32], got {bits!r}")
    q = copy.deepcopy(model)
    cost, m = 0, 2 ** (bits - 1) - 1
    for p in q.parameters():
        if m == 0:
            p.zero_()
        else:
            step = p.abs().max().clamp_min(1e-12) / m
            p.copy_(torch.round(p / step) * step)
        cost += bits * p.numel() + 32
    return q, cost


def kt_integer_bits(values) -> float:
    """Bits of the adaptive Krichevsky–Trofimov code of the integers ``values`` over the alphabet
    ``[min, max]`` (both ends sent as 16-bit integers): ``-log2 P_KT`` in closed form,

        P_KT = Γ(A/2) / Γ(n + A/2) · Π_s Γ(n_s + 1/2) / Γ(1/2),   A = max - min + 1.

    An entropy code of quantized weights that needs no histogram in advance (chapter 5)."""
    v = np.asarray(values, dtype=np.int64).ravel()
    if len(v) == 0:
        return 0.0
    counts = np.bincount(v - v.min())
    a, n = len(counts), len(v)
    lg = math.lgamma
    log_p = lg(a / 2) - lg(n + a / 2) + sum(lg(c + 0.5) - lg(0.5) for c in counts)
    return 32 - log_p / math.log(2)


@torch.no_grad()
def on_grid(model: torch.nn.Module, step: float) -> tuple[torch.nn.Module, float]:
    """A copy of ``model`` with every parameter rounded to the nearest multiple ``k·step`` (zero is
    a level; a coarse step sends most weights to it), and the description length of the integers
    ``k``: ``kt_integer_bits`` per tensor. Used by ``two_part_code`` (chapter 5)."""
    if not (isinstance(step, (int, float)) and step > 0):
        raise ValueError(f"step must be a positive number, got {step!r}")
    q = copy.deepcopy(model)
    cost = 0.0
    for p in q.parameters():
        k = torch.round(p / step)
        p.copy_(k * step)
        cost += kt_integer_bits(k.numpy())
    return q, cost


def two_part_code(
    x,
    y,
    classes: int,
    hidden: int = 0,
    precisions=range(1, 17),
    grid=tuple(2.0**k for k in range(4, -15, -1)),
    seed: int = 0,
    **fit_args,
) -> dict:
    """Two-part code of the labels, ``L(θ) + L(Y | X, θ)``: train on everything, then send θ and
    the labels coded by it, in one of two ways (the better is taken, the choice paid for):

    - ``by_precision[b]``: every weight at ``b`` bits on a symmetric grid with zero, ``2^{b-1}-1``
      levels a side of ``max|w|/(2^{b-1}-1)`` each (``b = 1``: all weights zero, the uniform code);
      ``b`` bits a weight + 32 a tensor;
    - ``by_step[δ]``: every weight rounded to a multiple of ``δ``, the integers entropy-coded
      (``on_grid``); the grid of steps runs from "every weight is zero" to fine.

    Each row is ``(model_bits, data_bits)``; the model bits include ``log2`` of the number of rows
    (which row was used). ``best`` names the row with the smallest total, ``censored`` says whether
    it lies at an end of its grid (then the grid is too narrow to trust the optimum).
    """
    x, y = _check_labelled(x, y, classes)
    precisions, grid = list(precisions), list(grid)
    if not precisions or any(not isinstance(b, int) or not 1 <= b <= 32 for b in precisions):
        raise ValueError(f"precisions must be ints in [1, 32], got {precisions!r}")
    model = fit(classifier(x.shape[1], classes, hidden, seed), x, y, **fit_args)
    choice = math.log2(len(precisions) + len(grid))  # which row the receiver must use
    by_precision, by_step = {}, {}
    for b in precisions:
        q, cost = quantized(model, b)
        by_precision[b] = (cost + choice, float(label_bits(q, x, y).sum()))
    for step in grid:
        q, cost = on_grid(model, step)
        by_step[step] = (cost + choice, float(label_bits(q, x, y).sum()))
    rows = {("bits/weight", b): v for b, v in by_precision.items()}
    rows.update({("step", d): v for d, v in by_step.items()})
    best = min(rows, key=lambda k: sum(rows[k]))
    ends = {("bits/weight", precisions[0]), ("bits/weight", precisions[-1])}
    ends |= {("step", grid[0]), ("step", grid[-1])} if grid else set()
    return {
        "by_precision": by_precision,
        "by_step": by_step,
        "best": best,
        "model_bits": rows[best][0],
        "data_bits": rows[best][1],
        "total": sum(rows[best]),
        "censored": best in ends,
    }


def prequential_label_code(
    x,
    y,
    classes: int,
    hidden: int = 0,
    first: int = 16,
    seed: int = 0,
    progress: bool = True,
    **fit_args,
) -> np.ndarray:
    """Per-example bits of the prequential code of the labels (block-wise, as Blier & Ollivier):
    the first ``first`` labels uniformly, then ``doubling_blocks``, each coded by a model trained
    (from scratch, same seed) on all labels before the block. ``progress``: a bar over the
    blocks (shown unless ``BOOK_PROGRESS=0``)."""
    disable = not runtime.check_progress(progress)
    x, y = _check_labelled(x, y, classes)
    bits = np.full(len(y), math.log2(classes))
    if len(y) == 0:
        return bits
    edges = doubling_blocks(len(y), first)
    blocks = list(zip(edges[1:-1], edges[2:], strict=True))
    for a, b in runtime.progress(
        blocks, desc="label code", unit="block", leave=False, disable=disable
    ):
        model = fit(classifier(x.shape[1], classes, hidden, seed), x[:a], y[:a], **fit_args)
        bits[a:b] = label_bits(model, x[a:b], y[a:b])
    return bits
