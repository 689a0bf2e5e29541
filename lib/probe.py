"""Linear probes: how much of a label can a linear map read off a network's features? (chapter 7)

A probe (Alain & Bengio, 2016) freezes the network, takes the features ``f^l`` of one layer and
trains only a multinomial logistic regression on them. iGPT (Chen et al., 2020) uses the
average over positions of the layer-normalised hidden states,

    f^l = (1/T) Σ_t LN(h^l_t),      l = 0 (embeddings), 1, …, L (the output of block l),

and reports the test accuracy of the best probe on each layer. Here the probes of all layers and
all candidate weight decays are trained at once, as one batched problem on the device, by
full-batch L-BFGS; the weight decay of each layer is chosen on a held-out validation split.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from lib import runtime


@torch.no_grad()
def layer_features(model, inputs: torch.Tensor, batch_size: int = 256) -> list[torch.Tensor]:
    """The ``n_layer + 1`` pooled features ``f^l = mean_t LN(h^l_t)`` of ``inputs`` (N×T symbols),
    each ``N×n_embd``; ``LN`` is layer normalisation without learned scale or shift."""
    if inputs.ndim != 2 or len(inputs) == 0:
        raise ValueError(f"inputs must be a non-empty N×T tensor, got shape {tuple(inputs.shape)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be ≥ 1, got {batch_size}")
    was_training = model.training
    model.eval()
    per_batch = []
    for chunk in inputs.split(batch_size):
        _, hidden = model(chunk, return_hidden=True)
        per_batch.append([F.layer_norm(h, h.shape[-1:]).mean(dim=1) for h in hidden])
    model.train(was_training)
    return [torch.cat(layer) for layer in zip(*per_batch, strict=True)]


def standardize(train: torch.Tensor, *others: torch.Tensor):
    """Centre and scale every feature by its mean and standard deviation on ``train`` (…×N×d)."""
    mean = train.mean(dim=-2, keepdim=True)
    std = train.std(dim=-2, keepdim=True).clamp(min=1e-6)
    return tuple((x - mean) / std for x in (train, *others))


def fit_logistic(
    x: torch.Tensor,
    y: torch.Tensor,
    n_classes: int,
    weight_decay: torch.Tensor,
    max_iter: int = 100,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``P`` independent multinomial logistic regressions, fitted together.

    ``x`` is ``P×N×d`` (problem ``p`` sees features ``x[p]``), ``y`` the ``N`` labels shared by all,
    ``weight_decay`` the ``P`` penalties λ_p. Minimises by L-BFGS the sum over ``p`` of

        (1/N) Σ_n -ln softmax(W_p x_pn + b_p)_{y_n} + λ_p ‖W_p‖²,

    a sum of separate convex problems, so its minimiser is every problem's minimiser.
    Returns ``(W, b)`` of shapes ``P×d×C`` and ``P×C``.
    """
    if x.ndim != 3 or y.shape != (x.shape[1],):
        raise ValueError("x must be P×N×d and y must hold N labels")
    if n_classes < 2 or y.min() < 0 or y.max() >= n_classes:
        raise ValueError(f"labels must lie in 0..n_classes-1 with n_classes ≥ 2, got {n_classes}")
    weight_decay = torch.as_tensor(weight_decay, dtype=x.dtype, device=x.device)
    if weight_decay.shape != (x.shape[0],) or (weight_decay < 0).any():
        raise ValueError("weight_decay must hold one non-negative penalty per problem")
    P, N, d = x.shape
    W = torch.zeros(P, d, n_classes, device=x.device, dtype=x.dtype, requires_grad=True)
    b = torch.zeros(P, n_classes, device=x.device, dtype=x.dtype, requires_grad=True)
    opt = torch.optim.LBFGS(
        [W, b],
        lr=1,
        max_iter=max_iter,
        history_size=20,
        tolerance_grad=1e-6,
        line_search_fn="strong_wolfe",
    )
    targets = y.expand(P, N).reshape(-1)

    def closure():
        opt.zero_grad()
        logits = torch.baddbmm(b.unsqueeze(1), x, W)  # P×N×C
        nll = F.cross_entropy(logits.reshape(P * N, -1), targets, reduction="sum") / N
        loss = nll + (weight_decay * W.pow(2).sum(dim=(1, 2))).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return W.detach(), b.detach()


def accuracy(x: torch.Tensor, y: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Accuracy of each of the ``P`` probes (``x``: P×N×d) on labels ``y``."""
    pred = torch.baddbmm(b.unsqueeze(1), x, W).argmax(dim=-1)
    return (pred == y).float().mean(dim=1)


@dataclass
class ProbeResult:
    """One linear probe per layer: test accuracy, the chosen weight decay, validation accuracy."""

    accuracy: list[float]
    weight_decay: list[float]
    val_accuracy: list[float]

    @property
    def best(self) -> float:
        return max(self.accuracy)


def linear_probes(
    train: list[torch.Tensor],
    y_train: torch.Tensor,
    test: list[torch.Tensor],
    y_test: torch.Tensor,
    n_classes: int = 10,
    weight_decays=(1e-6, 1e-4, 1e-2),
    val_fraction: float = 0.2,
    seed: int = 0,
) -> ProbeResult:
    """A linear probe on every layer's features: ``train[l]`` (N×d) and ``test[l]`` (M×d).

    ``val_fraction`` of the training examples is held out; on the rest a probe is fitted for every
    (layer, weight decay) pair at once; each layer keeps the weight decay with the best validation
    accuracy, and its test accuracy is reported. Features are standardised on the fitting split.
    """
    if len(train) != len(test) or not train:
        raise ValueError("train and test must list the same, non-zero number of layers")
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    if len(weight_decays) == 0:
        raise ValueError("weight_decays must name at least one penalty")
    n = len(y_train)
    if any(len(f) != n for f in train) or any(len(f) != len(y_test) for f in test):
        raise ValueError("every layer's features need one row per label")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).to(y_train.device)
    n_val = max(1, int(round(val_fraction * n)))
    val, fit = order[:n_val], order[n_val:]
    L, K = len(train), len(weight_decays)
    xtr, xte = torch.stack(train).float(), torch.stack(test).float()
    xfit, xval, xte = standardize(xtr[:, fit], xtr[:, val], xte)
    rep = lambda t: t.repeat_interleave(K, dim=0)  # noqa: E731  (layer l, decay k) -> row l*K + k
    lam = torch.tensor(weight_decays, dtype=torch.float32, device=xfit.device).repeat(L)
    W, b = fit_logistic(rep(xfit), y_train[fit], n_classes, lam)
    val_acc = accuracy(rep(xval), y_train[val], W, b).view(L, K)
    test_acc = accuracy(rep(xte), y_test, W, b).view(L, K)
    best = val_acc.argmax(dim=1)
    pick = lambda t: t[torch.arange(L), best].tolist()  # noqa: E731
    return ProbeResult(pick(test_acc), [weight_decays[i] for i in best.tolist()], pick(val_acc))


def raw_features(x: torch.Tensor) -> list[torch.Tensor]:
    """The baseline 'network' with no layers: the pixel values themselves, one feature per pixel."""
    return [x.reshape(len(x), -1).float()]


def on_device(*tensors: torch.Tensor):
    """Move tensors to the book's device (a helper for notebook code)."""
    return tuple(t.to(runtime.device()) for t in tensors)
