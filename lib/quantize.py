"""Quantized weights and an exact prefix-free code for them (chapter 1).

A classifier whose weights take ``2^b`` values is one of at most ``2^{Pb}`` classifiers: a finite
class. Chapter 1 uses this twice. Counting: ``ln|F| = P b ln 2`` in the finite-class bound. Coding:
an Occam bound charges ``|c(h)|``, the length of a prefix-free code word for ``h``, and a sparse
quantized classifier has a much shorter code word than ``P b`` bits.

Quantization (``quantize_uniform``): ``w ↦ Δ k`` with integer levels ``k ∈ {-K..K}``.

The code (``encode_levels`` / ``decode_levels``), for a sequence ``k_1..k_n`` of levels whose length
``n`` the decoder knows (the architecture is part of the code's menu):

1. for each of the ``2K+1`` levels, its count ``n_j``, Elias-delta coded (as ``n_j + 1``);
2. the index of ``k_1..k_n`` among all sequences with these counts, in
   ``⌈log2 (n! / Π_j n_j!)⌉`` bits (enumerative coding, Cover 1973).

Step 2 costs about ``n H(counts)`` bits: a sparse sequence (mostly zeros) is cheap. Every part is
either of fixed length or self-delimiting given what came before, so the code is prefix-free and
Kraft's inequality ``Σ_h 2^{-|c(h)|} ≤ 1`` holds, which is all the Occam bound needs.
Code words are strings of ``"0"`` and ``"1"``: their length is the exact number of bits.
"""

from __future__ import annotations

import math

import numpy as np

from lib import integer_codes

__all__ = [
    "quantize_uniform",
    "multinomial",
    "enumerative_rank",
    "enumerative_unrank",
    "encode_levels",
    "decode_levels",
    "encode_classifier",
    "decode_classifier",
    "fit_softmax",
    "fit_quantized",
]


# ---------------------------------------------------------------- argument checks
def _check_int(value, name: str, low: int = 0) -> int:
    """``value`` as an int ≥ ``low``: a bool, a float or anything else is refused by name."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be ≥ {low}, got {value!r}")
    return int(value)


def _check_number(value, name: str, low: float = 0.0, strict: bool = False) -> float:
    """``value`` as a finite float ≥ ``low`` (> ``low`` if ``strict``); NaN and inf refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value) or value < low or (strict and value == low):
        raise ValueError(f"{name} must be finite and {'>' if strict else '≥'} {low}, got {value!r}")
    return float(value)


MAX_LEVEL = 1 << 20  # K: the level code's header has one count per level in -K..K
MAX_STEPS = 100_000  # optimizer steps of fit_softmax / fit_quantized


def _check_level(max_level) -> int:
    if _check_int(max_level, "max_level") > MAX_LEVEL:
        raise ValueError(f"max_level must be at most {MAX_LEVEL}, got {max_level}")
    return int(max_level)


def _as_integers(values, name: str) -> np.ndarray:
    """``values`` as an int64 array; floats are accepted only when they are whole numbers."""
    try:
        a = np.asarray(values)
        if a.dtype == object or a.dtype.kind not in "biuf":
            raise TypeError
        f = a.astype(np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{name} must be an array of integers, got {values!r}") from e
    if a.dtype.kind == "f" and not (np.isfinite(f).all() and (f == np.round(f)).all()):
        raise ValueError(f"{name} must be whole numbers, got {values!r}")
    if a.size and np.abs(f).max() >= 2.0**62:
        raise ValueError(f"{name} must be integers below 2**62 in size, got {values!r}")
    return a.astype(np.int64)


# ---------------------------------------------------------------- quantization
def quantize_uniform(w, bits: int):
    """Uniform symmetric quantization of an array ``w`` to ``bits`` bits per entry (chapter 1).

    ``bits = 1``: ``w ↦ Δ sign(w)`` with ``Δ = mean |w|`` (two values).
    ``bits ≥ 2``: ``w ↦ Δ k``, ``k = clip(round(w / Δ), -K, K)``, ``K = 2^{bits-1} - 1``
    (``2^bits - 1`` values), with the step ``Δ`` among 96 candidates up to ``max|w| / K`` that
    minimizes the squared error ``Σ (w - Δk)²``. Both choices are least-squares optimal for
    their level sets (up to the grid). Returns ``(levels int64, Δ float)``.
    """
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 1 <= bits <= 52:
        raise ValueError(f"bits must be an int in 1..52, got {bits!r}")
    try:
        w = np.asarray(w, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f"w must be an array of numbers, got {type(w).__name__}") from e
    if not w.size:
        raise ValueError("w must not be empty (there is no step to choose)")
    if not np.all(np.isfinite(w)):
        raise ValueError("w must be finite")
    if bits == 1:
        step = float(np.abs(w).mean()) or 1.0
        return np.where(w >= 0, 1, -1).astype(np.int64), step
    top = 2 ** (bits - 1) - 1
    largest = float(np.abs(w).max()) or 1.0
    best = None
    for step in largest / top * np.linspace(0.05, 1.0, 96):  # the step with least squared error
        k = np.clip(np.round(w / step), -top, top)
        loss = float(((w - k * step) ** 2).sum())
        if best is None or loss < best[0]:
            best = (loss, k, float(step))
    return best[1].astype(np.int64), best[2]


# ---------------------------------------------------------------- enumerative code
def multinomial(counts) -> int:
    """``n! / Π_j n_j!`` for ``n = Σ_j n_j``, exactly (a Python int)."""
    counts = _as_integers(counts, "counts").ravel()
    total, out = 0, 1
    for c in counts.tolist():
        if c < 0:
            raise ValueError(f"counts must be ≥ 0, got {counts!r}")
        total += int(c)
        out *= math.comb(total, int(c))
    return out


def enumerative_rank(symbols, alphabet_size: int) -> tuple[int, list[int]]:
    """The lexicographic index of ``symbols`` (ints in ``0..V-1``) among all sequences with the
    same counts; returns ``(rank, counts)`` with ``0 ≤ rank < multinomial(counts)``."""
    alphabet_size = _check_int(alphabet_size, "alphabet_size", 1)
    if alphabet_size > 2 * MAX_LEVEL + 1:
        raise ValueError(f"alphabet_size must be at most {2 * MAX_LEVEL + 1}, got {alphabet_size}")
    s = _as_integers(symbols, "symbols").ravel().tolist()
    if any(x < 0 or x >= alphabet_size for x in s):
        raise ValueError(f"symbols must lie in 0..{alphabet_size - 1}")
    counts = [0] * alphabet_size
    for x in s:
        counts[x] += 1
    left, rank = list(counts), 0
    remaining = multinomial(left)  # sequences that continue the prefix read so far
    for n_left, x in zip(range(len(s), 0, -1), s, strict=True):
        for a in range(x):  # every sequence putting a smaller symbol here comes first
            rank += remaining * left[a] // n_left
        remaining = remaining * left[x] // n_left
        left[x] -= 1
    return rank, counts


def enumerative_unrank(rank: int, counts) -> list[int]:
    """Inverse of ``enumerative_rank``: the sequence with these ``counts`` at index ``rank``."""
    rank = _check_int(rank, "rank")
    left = _as_integers(counts, "counts").ravel().tolist()
    remaining = multinomial(left)
    if not 0 <= rank < remaining:
        raise ValueError(f"rank must lie in 0..{remaining - 1}, got {rank}")
    out = []
    for n_left in range(sum(left), 0, -1):
        for a in range(len(left)):
            block = remaining * left[a] // n_left
            if rank < block:
                out.append(a)
                remaining, left[a] = block, left[a] - 1
                break
            rank -= block
    return out


def _width(count: int) -> int:
    """Bits needed for an index in ``0..count-1``."""
    return (count - 1).bit_length()


def encode_levels(levels, max_level: int) -> str:
    """Prefix-free code word of integer levels in ``-K..K`` (``K = max_level``); see module doc."""
    max_level = _check_level(max_level)
    k = _as_integers(levels, "levels").ravel()  # 0.9 is refused, not truncated to 0
    if np.any(np.abs(k) > max_level):
        raise ValueError(f"levels must lie in -{max_level}..{max_level}")
    rank, counts = enumerative_rank(k + max_level, 2 * max_level + 1)
    head = "".join(integer_codes.delta(c + 1) for c in counts)
    width = _width(multinomial(counts))
    return head + (format(rank, f"0{width}b") if width else "")


def decode_levels(bits: str, n: int, max_level: int, pos: int = 0) -> tuple[np.ndarray, int]:
    """Read ``n`` levels written by ``encode_levels`` from ``bits[pos:]``; returns
    ``(levels, position after the code word)``. Raises ``ValueError`` on corrupt input."""
    if not isinstance(bits, str) or set(bits) - {"0", "1"}:
        raise ValueError("bits must be a string of '0' and '1'")
    n, max_level = _check_int(n, "n"), _check_level(max_level)
    if not 0 <= _check_int(pos, "pos") <= len(bits):
        raise ValueError(f"pos must lie in 0..{len(bits)}, got {pos}")
    counts = []
    for _ in range(2 * max_level + 1):
        c, pos = integer_codes.delta_decode(bits, pos)
        counts.append(c - 1)
    if sum(counts) != n:
        raise ValueError(f"corrupt code word: counts sum to {sum(counts)}, expected {n}")
    width = _width(multinomial(counts))
    if pos + width > len(bits):
        raise ValueError("truncated code word")
    rank = int(bits[pos : pos + width], 2) if width else 0
    seq = enumerative_unrank(rank, counts)  # ValueError if rank is out of range
    return np.asarray(seq, dtype=np.int64) - max_level, pos + width


# ---------------------------------------------------------------- a whole classifier
def encode_classifier(menu_index: int, menu_size: int, levels, max_level: int) -> str:
    """Code word of a quantized classifier: ``⌈log2 menu_size⌉`` bits naming the entry of a finite
    menu fixed in advance (architecture, step ``Δ``, ``K``), then ``encode_levels`` (chapter 1)."""
    menu_size = _check_int(menu_size, "menu_size", 1)
    if not 0 <= _check_int(menu_index, "menu_index") < menu_size:
        raise ValueError(f"menu_index must lie in 0..{menu_size - 1}, got {menu_index!r}")
    width = _width(menu_size)
    head = format(menu_index, f"0{width}b") if width else ""
    return head + encode_levels(levels, max_level)


def decode_classifier(bits: str, menu_size: int, n_of, max_level_of) -> tuple[int, np.ndarray]:
    """Inverse of ``encode_classifier``. ``n_of(i)`` and ``max_level_of(i)`` give the number of
    weights and ``K`` of menu entry ``i``. The whole string must be consumed, else
    ``ValueError``."""
    if not isinstance(bits, str) or set(bits) - {"0", "1"}:
        raise ValueError("bits must be a string of '0' and '1'")
    menu_size = _check_int(menu_size, "menu_size", 1)
    width = _width(menu_size)
    if len(bits) < width:
        raise ValueError("truncated code word")
    index = int(bits[:width], 2) if width else 0
    if index >= menu_size:
        raise ValueError(f"corrupt code word: menu index {index} ≥ {menu_size}")
    levels, end = decode_levels(bits, n_of(index), max_level_of(index), pos=width)
    if end != len(bits):
        raise ValueError(f"corrupt code word: {len(bits) - end} bits left over")
    return index, levels


# ---------------------------------------------------------------- training the classifier
def _check_features(features, labels) -> None:
    import torch

    if not isinstance(features, torch.Tensor) or not isinstance(labels, torch.Tensor):
        raise TypeError("features and labels must be torch tensors")
    if features.ndim != 2 or labels.ndim != 1 or len(features) != len(labels) or not len(labels):
        raise ValueError(
            f"features (m × P) and labels (m,) must match and be non-empty, got "
            f"{tuple(features.shape)} and {tuple(labels.shape)}"
        )
    if labels.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8) or labels.min() < 0:
        raise ValueError("labels must be non-negative integers (class indices)")
    if not torch.isfinite(features).all():
        raise ValueError("features must be finite")


def fit_softmax(features, labels, l1: float = 0.0, steps: int = 200):
    """A linear softmax classifier ``argmax_c (x W)_c`` fit by L-BFGS on
    ``cross-entropy + l1 Σ|W|`` (chapter 1), without a bias, by ``lib.softmax_regression``.
    ``features`` (m × P) and ``labels`` (m,) are torch tensors on one device; returns ``W``
    (P × classes). Deterministic for fixed inputs."""
    from lib import softmax_regression

    if _check_number(l1, "l1") > 1e6:
        raise ValueError(f"l1 must be at most 1e6 (beyond, every weight is 0), got {l1!r}")
    if _check_int(steps, "steps", 1) > MAX_STEPS:
        raise ValueError(f"steps must be at most {MAX_STEPS}, got {steps}")
    _check_features(features, labels)
    classes = int(labels.max()) + 1
    fit = softmax_regression.fit(
        features, labels, max(classes, 2), l1=l1, bias=False, max_iter=steps
    )
    return fit.W[0, :, :classes]


def fit_quantized(
    features,
    labels,
    W0,
    step: float,
    max_level: int,
    l1: float = 0.0,
    epochs: int = 300,
    lr: float = 0.05,
    progress: bool = True,
):
    """Quantization-aware training (chapter 1): Adam on ``W``, the forward pass using the
    quantized ``Δ clip(round(W/Δ), -K, K)``, the gradient passed straight through the rounding.
    Starts from ``W0``; returns the integer levels (P × classes, int64 numpy). ``progress``:
    a bar over the epochs (shown unless ``BOOK_PROGRESS=0``)."""
    import torch

    from lib import runtime

    disable = not runtime.check_progress(progress)
    step = _check_number(step, "step", strict=True)  # NaN used to give levels of -2**63
    max_level = _check_level(max_level)
    l1 = _check_number(l1, "l1")
    if _check_int(epochs, "epochs") > MAX_STEPS:
        raise ValueError(f"epochs must be at most {MAX_STEPS}, got {epochs}")
    lr = _check_number(lr, "lr", strict=True)
    _check_features(features, labels)
    if not isinstance(W0, torch.Tensor) or W0.ndim != 2 or W0.shape[0] != features.shape[1]:
        raise ValueError(f"W0 must be a (P × classes) tensor, P = {features.shape[1]} features")
    if not torch.isfinite(W0).all():
        raise ValueError("W0 must be finite")
    W = W0.clone().requires_grad_(True)
    opt = torch.optim.Adam([W], lr=lr)

    def levels():
        return torch.clamp(torch.round(W / step), -max_level, max_level)

    for _ in runtime.progress(
        range(epochs), desc="QAT", unit="epoch", leave=False, disable=disable
    ):
        Wq = W + (levels() * step - W).detach()  # straight-through estimator
        loss = torch.nn.functional.cross_entropy(features @ Wq, labels) + l1 * W.abs().sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return levels().detach().cpu().numpy().astype(np.int64)
