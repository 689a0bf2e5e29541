"""Linear probes: how much of a label can a linear map read off a network's features? (chapter 7)

A probe (Alain & Bengio, 2016) freezes the network, takes the features ``f^l`` of one layer and
trains only a multinomial logistic regression on them. iGPT (Chen et al., 2020) uses the
average over positions of the layer-normalised hidden states,

    f^l = (1/T) Σ_t LN(h^l_t),      l = 0 (embeddings), 1, …, L (the output of block l),

and reports the test accuracy of the best probe on each layer. Here the probes of all layers and
all candidate weight decays are fitted by ``lib.softmax_regression``, each to its own stated
tolerance; the weight decay of each layer, and the best layer, are chosen on a held-out
validation split, and only the chosen probes are scored on the test split.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from lib import runtime, softmax_regression


def pool(hidden: torch.Tensor) -> torch.Tensor:
    """``f = mean_t LN(h_t)`` of one layer's hidden states (N×T×d → N×d, in float32);
    ``LN`` is layer normalisation without learned scale or shift."""
    return F.layer_norm(hidden.float(), hidden.shape[-1:]).mean(dim=1)


@torch.no_grad()
def layer_features(model, inputs: torch.Tensor, batch_size: int = 256) -> list[torch.Tensor]:
    """The ``n_layer + 1`` pooled features ``f^l = pool(h^l)`` of ``inputs`` (N×T symbols),
    each ``N×n_embd``."""
    if inputs.ndim != 2 or len(inputs) == 0:
        raise ValueError(f"inputs must be a non-empty N×T tensor, got shape {tuple(inputs.shape)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be ≥ 1, got {batch_size}")
    was_training = model.training
    model.eval()
    per_batch = []
    for chunk in inputs.split(batch_size):
        _, hidden = model(chunk, return_hidden=True)
        per_batch.append([pool(h) for h in hidden])
    model.train(was_training)
    return [torch.cat(layer) for layer in zip(*per_batch, strict=True)]


def whitening(train: torch.Tensor, rel_eps: float = 1e-6):
    """The PCA whitening of features ``train`` (…×N×d): ``x ↦ (x − m) A`` with ``m`` their
    mean and ``A = V diag(e)^(−½)`` from their covariance ``Σ = V diag(e) Vᵀ``. Directions of
    variance below ``rel_eps·max e`` (e.g. the one that layer normalisation removes) get weight
    zero. Returns ``(m, A)``, shapes …×1×d and …×d×d."""
    mean = train.mean(dim=-2, keepdim=True)
    centred = train - mean
    cov = centred.transpose(-1, -2) @ centred / train.shape[-2]
    e, V = torch.linalg.eigh(cov)
    keep = e > rel_eps * e.amax(dim=-1, keepdim=True)
    scale = torch.where(keep, e.clamp(min=1e-300).rsqrt(), torch.zeros_like(e)).unsqueeze(-2)
    return mean, V * scale


def whiten(train: torch.Tensor, *others: torch.Tensor, rel_eps: float = 1e-6):
    """PCA-whiten features (…×N×d) with the statistics of ``train`` (``whitening``). A linear
    probe on whitened features is a linear probe on the features (the map is invertible on
    their span); the penalty ``λ‖W‖²`` is measured in whitened units, which makes every problem
    well conditioned for L-BFGS."""
    mean, A = whitening(train, rel_eps)
    return tuple((x - mean) @ A for x in (train, *others))


def split(n: int, val_fraction: float = 0.2, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices ``(fit, val)`` of ``n`` labelled examples: a seeded random ``val_fraction`` is
    held out for validation (at least one example on each side). The split of
    ``linear_probes``, so that a fine-tuned classifier can be selected on the same images."""
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an int ≥ 2 (one to fit, one to validate), got {n!r}")
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val = min(n - 1, max(1, int(round(val_fraction * n))))
    return order[n_val:], order[:n_val]


@dataclass
class LinearHead:
    """A fitted probe as a map of raw features: ``logits = (f − mean) A W + b`` (float64;
    ``A`` the whitening, ``W``, ``b`` the softmax regression in whitened units)."""

    mean: torch.Tensor
    A: torch.Tensor
    W: torch.Tensor
    b: torch.Tensor


def linear_head(
    features: torch.Tensor, y: torch.Tensor, n_classes: int, l2: float, tol: float = 1e-5
) -> LinearHead:
    """The probe of one layer (``features`` N×d, labels ``y``) with penalty ``l2``, converged
    to ``tol``, as a ``LinearHead``: the start of a fine-tuned classifier (chapter 7)."""
    _check_labels("y", y, n_classes)
    _check_layers("features", [features], len(y))
    mean, A = whitening(features.double())
    fit = softmax_regression.fit((features.double() - mean) @ A, y, n_classes, l2=l2, tol=tol)
    if not fit.converged.all():
        raise RuntimeError(f"the head did not converge: gradient {fit.grad_max.max():.2e}")
    return LinearHead(mean[0], A, fit.W[0], fit.b[0])


def accuracy(x: torch.Tensor, y: torch.Tensor, fit: softmax_regression.SoftmaxFit) -> torch.Tensor:
    """Accuracy of each of the ``P`` fitted probes (``x``: P×N×d) on labels ``y``."""
    return (fit.logits(x).argmax(dim=-1) == y).double().mean(dim=1)


@dataclass
class ProbeResult:
    """One linear probe per layer, its weight decay chosen on validation: test and validation
    accuracy by layer, the chosen weight decays, and the largest gradient entry left by any fit
    (every fit is converged to ``tol``). ``best_layer`` is chosen on validation accuracy;
    ``best`` is the *test* accuracy of that one layer."""

    accuracy: list[float]
    weight_decay: list[float]
    val_accuracy: list[float]
    grad_max: float
    tol: float

    @property
    def best_layer(self) -> int:
        return max(range(len(self.val_accuracy)), key=lambda i: (self.val_accuracy[i], -i))

    @property
    def best(self) -> float:
        return self.accuracy[self.best_layer]


MAX_CLASSES = 1 << 16  # the probes' weights are layers × decays × d × n_classes floats


def _check_layers(name: str, feats: list[torch.Tensor], n: int | None = None) -> None:
    if not isinstance(feats, (list, tuple)):
        raise TypeError(f"{name} must be a list of N×d tensors, one per layer")
    for f in feats:
        if not isinstance(f, torch.Tensor) or not f.is_floating_point():
            raise TypeError(f"every layer of {name} must be a float tensor, got {type(f).__name__}")
        if f.ndim != 2 or (n is not None and len(f) != n):
            rows = "" if n is None else f" with {n} rows"
            raise ValueError(f"every layer of {name} must be an N×d tensor{rows}")
        if not torch.isfinite(f).all():
            raise ValueError(f"{name} features must be finite (found NaN or inf)")


def _check_labels(name: str, y: torch.Tensor, n_classes: int) -> None:
    if not isinstance(y, torch.Tensor) or y.ndim != 1 or y.is_floating_point() or y.is_complex():
        raise TypeError(f"{name} must be a 1-d integer tensor of labels")
    if len(y) == 0:
        raise ValueError(f"{name} is empty: the probe needs at least one example")
    if y.min() < 0 or y.max() >= n_classes:
        raise ValueError(f"{name} must hold labels in 0..{n_classes - 1} (n_classes={n_classes})")


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _check_probe_settings(n_classes, weight_decays, val_fraction, seed, tol) -> None:
    if (
        isinstance(n_classes, bool)
        or not isinstance(n_classes, int)
        or not 2 <= n_classes <= MAX_CLASSES
    ):
        raise ValueError(f"n_classes must be an int in 2..{MAX_CLASSES}, got {n_classes!r}")
    if not isinstance(weight_decays, (list, tuple)) or not weight_decays:
        raise ValueError(
            f"weight_decays must be a non-empty list of penalties ≥ 0, got {weight_decays!r}"
        )
    if not all(_number(w) and w >= 0 for w in weight_decays):
        raise ValueError(f"weight_decays must be finite numbers ≥ 0, got {weight_decays!r}")
    if not _number(val_fraction) or not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be a number in (0, 1), got {val_fraction!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ValueError(f"seed must be an int in 0..2**63-1, got {seed!r}")
    if not _number(tol) or not 0 < tol <= 1:
        raise ValueError(f"tol must be a number in (0, 1], got {tol!r}")


def linear_probes(
    train: list[torch.Tensor],
    y_train: torch.Tensor,
    test: list[torch.Tensor],
    y_test: torch.Tensor,
    n_classes: int = 10,
    weight_decays=(1e-4, 1e-3, 1e-2),
    val_fraction: float = 0.2,
    seed: int = 0,
    tol: float = 1e-5,
) -> ProbeResult:
    """A linear probe on every layer's features: ``train[l]`` (N×d) and ``test[l]`` (M×d).

    ``val_fraction`` of the training examples is held out for validation; on the rest a probe is
    fitted for every (layer, weight decay) pair, each to a largest gradient entry ``≤ tol``
    (``lib.softmax_regression``, in float64). Each layer keeps the weight decay of best validation
    accuracy; its test accuracy is reported. Features are whitened on the fitting split.
    The test split is used for nothing but the reported accuracies.
    """
    _check_probe_settings(n_classes, weight_decays, val_fraction, seed, tol)
    _check_layers("train", train)  # their types first; their rows once the labels are checked
    _check_layers("test", test)
    if len(train) != len(test) or not train:
        raise ValueError("train and test must list the same, non-zero number of layers")
    _check_labels("y_train", y_train, n_classes)
    _check_labels("y_test", y_test, n_classes)
    _check_layers("train", train, len(y_train))
    _check_layers("test", test, len(y_test))
    n = len(y_train)
    if n < 2:
        raise ValueError("y_train needs at least 2 examples (one to fit, one to validate)")
    fit, val = (i.to(y_train.device) for i in split(n, val_fraction, seed))
    L, K = len(train), len(weight_decays)
    xtr, xte = torch.stack(train).double(), torch.stack(test).double()
    xfit, xval, xte = whiten(xtr[:, fit], xtr[:, val], xte)
    rep = lambda t: t.repeat_interleave(K, dim=0)  # noqa: E731  (layer l, decay k) -> row l*K + k
    lam = torch.tensor(weight_decays, dtype=torch.float64).repeat(L)
    probes = softmax_regression.fit(rep(xfit), y_train[fit], n_classes, l2=lam, tol=tol)
    if not probes.converged.all():
        raise RuntimeError(f"a probe did not converge: gradient {probes.grad_max.max():.2e}")
    val_acc = accuracy(rep(xval), y_train[val], probes).view(L, K)
    test_acc = accuracy(rep(xte), y_test, probes).view(L, K)
    best = val_acc.argmax(dim=1)
    pick = lambda t: t[torch.arange(L), best].tolist()  # noqa: E731
    chosen = [weight_decays[i] for i in best.tolist()]
    return ProbeResult(pick(test_acc), chosen, pick(val_acc), float(probes.grad_max.max()), tol)


def raw_features(x: torch.Tensor) -> list[torch.Tensor]:
    """The baseline 'network' with no layers: the pixel values themselves, one feature per pixel."""
    return [x.reshape(len(x), -1).float()]


def on_device(*tensors: torch.Tensor):
    """Move tensors to the book's device (a helper for notebook code)."""
    return tuple(t.to(runtime.device()) for t in tensors)


# ---------------------------------------------------------------- verdicts over seeds (chapter 7)
def mean_interval(values, level: float = 0.95) -> tuple[float, float]:
    """Mean of per-seed values and the half-width of its Student-t interval,
    ``x̄ ± t_{n−1, (1+level)/2} · s / √n`` (``s`` the sample standard deviation; needs n ≥ 2)."""
    import numpy as np
    import scipy.stats

    x = np.asarray(values, dtype=float).ravel()
    if len(x) < 2 or not np.isfinite(x).all():
        raise ValueError(f"values must hold at least 2 finite numbers, got {len(x)}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    half = scipy.stats.t.ppf((1 + level) / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return float(x.mean()), float(half)


def partial_spearman(a, b, control) -> float:
    """Rank correlation of ``a`` and ``b`` with ``control`` partialled out: the Pearson
    correlation of the residuals of rank(a) and rank(b) after a least-squares fit on
    [1, rank(control)]. Two quantities that both improve with training steps correlate
    strongly; with ``control`` = the step, what is left compares models at equal steps."""
    import numpy as np
    import scipy.stats

    ranks = [scipy.stats.rankdata(np.asarray(v, dtype=float)) for v in (a, b, control)]
    if len({len(r) for r in ranks}) != 1 or len(ranks[0]) < 4:
        raise ValueError("a, b and control must have the same length, at least 4")
    basis = np.stack([np.ones_like(ranks[2]), ranks[2]], axis=1)
    res = [r - basis @ np.linalg.lstsq(basis, r, rcond=None)[0] for r in ranks[:2]]
    if min(np.linalg.norm(r) for r in res) < 1e-12:
        raise ValueError("a or b is a function of control: nothing is left to correlate")
    return float(np.corrcoef(res[0], res[1])[0, 1])
