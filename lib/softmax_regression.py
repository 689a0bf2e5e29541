"""Multinomial logistic (softmax) regression: the book's one linear classifier fit (ch. 1, 4, 5, 7).

For features ``x_n ∈ R^d`` and labels ``y_n ∈ {0, …, C−1}``, ``fit`` minimises

    J(W, b) = (1/N) Σ_n −ln softmax(x_n W + b)_{y_n} + λ₂ ‖W‖² + λ₁ Σ_ij |W_ij|

over ``W`` (d×C) and, with ``bias``, ``b`` (C). ``J`` is convex; with ``λ₂ > 0`` and ``λ₁ = 0``
it is smooth and has one minimiser, where its gradient vanishes.

``x`` may hold ``P`` problems at once (P×N×d, with one ``λ`` per problem, e.g. one per layer and
penalty of a linear probe). Each is solved by full-batch L-BFGS (Nocedal & Wright, *Numerical
Optimization*, Alg. 7.5) until the largest entry of its gradient is at most ``tol``. The problems
are solved side by side on the device, as rows of one tensor, but each keeps its own curvature
history, step length and stopping rule: one shared line search and one shared stop would let a
problem stop far from its minimiser while another still moves.
``converged`` says for each problem whether ``tol`` was reached. For ``λ₁ > 0`` the objective is
not differentiable and ``grad_max`` is that of ``λ₁ sign(W)`` plus the smooth part, a report, not
a convergence test (chapter 1 uses a fixed number of steps).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = ["SoftmaxFit", "fit", "objective"]


@dataclass
class SoftmaxFit:
    """``P`` fitted problems: ``W`` (P×d×C), ``b`` (P×C, zeros without a bias), the largest
    gradient entry of each at the answer (``grad_max``), and whether it is ``≤ tol``."""

    W: torch.Tensor
    b: torch.Tensor
    grad_max: torch.Tensor
    converged: torch.Tensor
    tol: float

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """``x W_p + b_p`` for each problem: ``x`` is P×M×d, the result P×M×C."""
        return torch.baddbmm(self.b.unsqueeze(1), x, self.W)


def objective(x, y, W, b, l2: float = 0.0, l1: float = 0.0) -> torch.Tensor:
    """``J(W, b)`` of one problem: ``x`` N×d, ``y`` N labels, ``W`` d×C, ``b`` C (or None)."""
    logits = x @ W if b is None else torch.addmm(b, x, W)
    loss = F.cross_entropy(logits, y)
    if l2:
        loss = loss + l2 * W.square().sum()
    if l1:
        loss = loss + l1 * W.abs().sum()
    return loss


def _penalties(value, P: int, name: str) -> list[float]:
    t = torch.as_tensor(value, dtype=torch.float64).flatten()
    if t.numel() == 1:
        t = t.expand(P)
    if t.numel() != P or not torch.isfinite(t).all() or (t < 0).any():
        raise ValueError(f"{name} must be one non-negative number or one per problem ({P})")
    return t.tolist()


def _value_and_grad(xs, onehot, theta, shape, l2, l1, bias):
    """Every problem's ``J`` (P) and its gradient (P×D) at the flat parameters ``theta`` (P×D):
    ``∇_W J = xᵀ(softmax(xW + b) − onehot(y))/N + 2λ₂W + λ₁ sign(W)``, ``∇_b J`` the column
    means of ``softmax − onehot``. Problems share no variable: row ``p`` is problem ``p``'s."""
    P, d, C = shape
    N = xs.shape[1]
    W = theta[:, : d * C].view(P, d, C)
    logits = xs @ W
    if bias:
        logits = logits + theta[:, d * C :].unsqueeze(1)
    logp = torch.log_softmax(logits, dim=-1)
    nll = -(logp * onehot).sum((1, 2)) / N
    loss = nll + l2 * W.square().sum((1, 2)) + l1 * W.abs().sum((1, 2))
    residual = (logp.exp() - onehot) / N  # P×N×C
    gW = xs.transpose(1, 2) @ residual + 2 * l2[:, None, None] * W + l1[:, None, None] * W.sign()
    parts = [gW.reshape(P, -1)] + ([residual.sum(1)] if bias else [])
    return loss, torch.cat(parts, dim=1)


def fit(
    x: torch.Tensor,
    y: torch.Tensor,
    n_classes: int,
    l2=0.0,
    l1=0.0,
    bias: bool = True,
    tol: float = 1e-7,
    max_iter: int = 500,
    history_size: int = 10,
) -> SoftmaxFit:
    """Minimise ``J`` for each problem by L-BFGS, from ``W = b = 0``.

    ``x``: N×d or P×N×d features (float; the dtype is kept), ``y``: N labels in ``0..C−1``
    shared by all problems, ``l2``, ``l1``: a number or one per problem. Each problem has its own
    curvature history (the last ``history_size`` steps), its own backtracking (Armijo) line search
    and its own stop: when its largest gradient entry is ``≤ tol``, when its line search fails, or
    after ``max_iter`` iterations. A stopped problem no longer moves, so the answer for one
    problem does not depend on the others. Deterministic for fixed inputs.
    """
    x = torch.as_tensor(x)
    if not x.is_floating_point() or x.ndim not in (2, 3):
        raise ValueError(f"x must be a float N×d or P×N×d tensor, got {x.dtype}, {x.ndim}-d")
    xs = x if x.ndim == 3 else x.unsqueeze(0)
    P, N, d = xs.shape
    y = torch.as_tensor(y, device=x.device)
    if y.shape != (N,) or y.dtype not in (torch.int32, torch.int64):
        raise ValueError(f"y must hold {N} integer labels, got shape {tuple(y.shape)}")
    if not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError(f"n_classes must be an int ≥ 2, got {n_classes!r}")
    if N == 0 or y.min() < 0 or y.max() >= n_classes:
        raise ValueError(f"y must be non-empty with labels in 0..{n_classes - 1}")
    if not torch.isfinite(xs).all():
        raise ValueError("x must be finite (no NaN or inf)")
    if tol <= 0 or max_iter < 1 or history_size < 1:
        raise ValueError("need tol > 0, max_iter ≥ 1 and history_size ≥ 1")
    as_t = lambda v: torch.tensor(v, dtype=x.dtype, device=x.device)  # noqa: E731
    l2s, l1s = as_t(_penalties(l2, P, "l2")), as_t(_penalties(l1, P, "l1"))
    shape, y = (P, d, n_classes), y.long()
    D = d * n_classes + (n_classes if bias else 0)

    onehot = F.one_hot(y, n_classes).to(x.dtype).expand(P, -1, -1)

    def evaluate(theta):
        return _value_and_grad(xs, onehot, theta, shape, l2s, l1s, bias)

    theta = torch.zeros(P, D, dtype=x.dtype, device=x.device)
    f, g = evaluate(theta)
    rounding = 8 * torch.finfo(x.dtype).eps * f.abs()  # J's own rounding error: no descent test
    active = g.abs().amax(1) > tol
    history, gamma = [], torch.ones(P, dtype=x.dtype, device=x.device)
    remembers = torch.zeros(P, dtype=torch.bool, device=x.device)  # has curvature pairs
    for it in range(max_iter):
        if not active.any():
            break
        q, alphas = g.clone(), []
        for s, yv, rho in reversed(history):  # the two-loop recursion, per problem (row)
            a = rho * (s * q).sum(1)
            q -= a[:, None] * yv
            alphas.append(a)
        z = gamma[:, None] * q
        for (s, yv, rho), a in zip(history, reversed(alphas), strict=True):
            z += s * (a - rho * (yv * z).sum(1))[:, None]
        slope = -(g * z).sum(1)
        downhill = slope < 0
        direction = torch.where(downhill[:, None], -z, -g)  # else fall back to steepest descent
        slope = torch.where(downhill, slope, -(g * g).sum(1))
        quasi_newton = remembers & downhill
        t = torch.ones_like(f) if it else (1 / g.abs().sum(1)).clamp(max=1.0)
        t = torch.where(active, t, torch.zeros_like(t))
        for _ in range(40):  # backtracking: halve t until J falls by ≥ 1e-4·t·|slope|
            f_new, g_new = evaluate(theta + t[:, None] * direction)
            ok = (f_new <= f + 1e-4 * t * slope + rounding) | ~active
            if ok.all():
                break
            t = torch.where(ok, t, t / 2)
        restart = ~ok & quasi_newton  # a failed quasi-Newton search: forget the history, retry
        active &= ok | restart  # a failed steepest-descent search: stop
        t = torch.where(ok, t, torch.zeros_like(t))
        f_new = torch.where(ok, f_new, f)
        g_new = torch.where(ok[:, None], g_new, g)
        step, change = t[:, None] * direction, g_new - g
        theta, f, g = theta + step, f_new, g_new
        sy = (step * change).sum(1)
        curved = sy > 1e-10
        rho = torch.where(curved, 1 / sy.clamp(min=1e-10), torch.zeros_like(sy))  # 0: no update
        keep = (~restart).to(x.dtype)[:, None]
        history = [(s * keep, yv * keep, r * keep[:, 0]) for s, yv, r in history]
        history = (history + [(step, change, rho)])[-history_size:]
        remembers = (remembers & ~restart) | curved
        gamma = torch.where(curved, sy / (change * change).sum(1).clamp(min=1e-30), gamma)
        active &= g.abs().amax(1) > tol
    grad_max = g.abs().amax(1).double().cpu()
    W = theta[:, : d * n_classes].reshape(P, d, n_classes)
    b = theta[:, d * n_classes :] if bias else torch.zeros(P, n_classes, dtype=x.dtype)
    return SoftmaxFit(W, b.to(x.device), grad_max, grad_max <= tol, tol)
