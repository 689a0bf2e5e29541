"""Generalization bounds for a finite class, a VC class and a coded hypothesis (chapter 1).

Notation of the book: a hypothesis ``f`` from a class ``F``; ``m`` i.i.d. training examples;
``Train(f)`` and ``Test(f)`` its empirical and true error rates; a confidence ``1 - δ``.

- ``hoeffding_bound``: one fixed ``f``: ``P[|Test(f) - Train(f)| > ε] ≤ 2 e^{-2mε²}``.
- ``union_bound``: all of a finite ``F`` at once:
  ``P[∃f ∈ F: |Test(f) - Train(f)| > ε] ≤ 2|F| e^{-2mε²}``.
- ``sample_complexity`` and ``finite_class_epsilon``: the same bound solved for ``m`` or for ``ε``.
- ``vc_bound``: the gap for an infinite class of VC dimension ``d``.
- ``kl_bernoulli``, ``kl_inverse_upper`` and ``occam_bound``: the Occam bound in kl form,
  ``kl(Train(h) ‖ Test(h)) ≤ (|c(h)| ln 2 + ln(1/δ)) / m`` for every ``h`` of a prefix-free
  code ``c``.
- ``halfspace_test_errors``, ``sample_halfspace_data``, ``max_deviation``: a Monte Carlo check of
  the finite-class bound on halfspaces whose true errors are known in closed form.

Class sizes enter as ``ln|F|`` (``log_size``), never as ``|F|``: a network with ``P`` parameters of
``b`` bits has ``|F| = 2^{Pb}``, a number no float can hold.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import torch

__all__ = [
    "hoeffding_bound",
    "union_bound",
    "sample_complexity",
    "finite_class_epsilon",
    "vc_bound",
    "kl_bernoulli",
    "kl_inverse_upper",
    "occam_bound",
]

LN2 = math.log(2.0)


# ---------------------------------------------------------------- argument checks
def _check_m(m, name: str = "m (the number of examples)") -> float:
    if isinstance(m, bool) or not isinstance(m, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number ≥ 1, got {m!r}")
    if not 1 <= m < math.inf:  # also refuses NaN (every comparison with NaN is False)
        raise ValueError(f"{name} must be a finite number ≥ 1, got {m!r}")
    return float(m)


def _check_open_unit(x, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number in (0, 1), got {x!r}")
    if not 0 < x < 1:
        raise ValueError(f"{name} must lie in (0, 1), got {x!r}")
    return float(x)


def _check_eps(eps):
    try:
        e = np.asarray(eps, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"eps must be a number or an array of numbers, got {eps!r}") from err
    if not np.all(np.isfinite(e)) or np.any(e <= 0):
        raise ValueError(f"eps must be > 0 (and finite), got {eps!r}")
    return e


def _log_size(n_hypotheses, log_size) -> float:
    """``ln|F|`` from exactly one of ``n_hypotheses`` (``|F|``) or ``log_size`` (``ln|F|``)."""
    if (n_hypotheses is None) == (log_size is None):
        raise ValueError("give exactly one of n_hypotheses (|F|) and log_size (ln|F|)")
    if log_size is not None:
        if isinstance(log_size, bool) or not isinstance(
            log_size, (int, float, np.integer, np.floating)
        ):
            raise TypeError(f"log_size (ln|F|) must be a number, got {log_size!r}")
        if not np.isfinite(log_size) or log_size < 0:
            raise ValueError(f"log_size (ln|F|) must be finite and ≥ 0, got {log_size!r}")
        return float(log_size)
    if isinstance(n_hypotheses, bool) or not isinstance(
        n_hypotheses, (int, float, np.integer, np.floating)
    ):
        raise ValueError(f"n_hypotheses must be a number ≥ 1, got {n_hypotheses!r}")
    if not 1 <= n_hypotheses < math.inf:
        raise ValueError(f"n_hypotheses (|F|) must be finite and ≥ 1, got {n_hypotheses!r}")
    return math.log(n_hypotheses)


def _scalar_or_array(x: np.ndarray, like):
    return float(x) if np.ndim(like) == 0 else x


# ---------------------------------------------------------------- the finite class
def hoeffding_bound(m, eps):
    """Two-sided Hoeffding bound for ONE fixed hypothesis (chapter 1).

    ``P[|Test(f) - Train(f)| > ε] ≤ 2 e^{-2mε²}``, for ``m`` i.i.d. examples and a 0/1 loss.
    ``eps`` may be an array; the value is returned as is (it exceeds 1 when ``ε`` is small).
    """
    m = _check_m(m)
    e = _check_eps(eps)
    return _scalar_or_array(2.0 * np.exp(-2.0 * m * e**2), eps)


def union_bound(n_hypotheses, m, eps, *, log_size=None):
    """Hoeffding plus the union bound over a finite class ``F`` (chapter 1, Theorem ch1-thm-finite).

    ``P[∃f ∈ F: |Test(f) - Train(f)| > ε] ≤ 2|F| e^{-2mε²}``, computed as
    ``exp(ln 2 + ln|F| - 2mε²)``. Give ``|F|`` as ``n_hypotheses`` or ``ln|F|`` as ``log_size``
    (then pass ``n_hypotheses=None``). Not clipped at 1.
    """
    lf = _log_size(n_hypotheses, log_size)
    m = _check_m(m)
    e = _check_eps(eps)
    return _scalar_or_array(np.exp(LN2 + lf - 2.0 * m * e**2), eps)


def sample_complexity(n_hypotheses, eps, delta, *, log_size=None) -> int:
    """The smallest ``m`` with ``2|F| e^{-2mε²} ≤ δ`` (chapter 1).

    ``m ≥ (ln|F| + ln(2/δ)) / (2ε²)``: with that many examples, with probability ``≥ 1 - δ``
    every ``f ∈ F`` has ``|Test(f) - Train(f)| ≤ ε``.
    """
    lf = _log_size(n_hypotheses, log_size)
    e = _check_eps(eps)
    if e.ndim:
        raise ValueError(f"eps must be a single number here, got shape {e.shape}")
    d = _check_open_unit(delta, "delta")
    # in exact rationals: for tiny eps the answer exceeds every float, and is still an int
    return max(1, math.ceil(Fraction(lf + math.log(2.0 / d)) / (2 * Fraction(float(e)) ** 2)))


def finite_class_epsilon(n_hypotheses, m, delta, *, log_size=None) -> float:
    """The gap ``ε`` the finite-class bound guarantees with probability ``≥ 1 - δ`` (chapter 1).

    ``ε = sqrt((ln|F| + ln(2/δ)) / (2m))``, so that ``2|F| e^{-2mε²} = δ``.
    """
    lf = _log_size(n_hypotheses, log_size)
    m = _check_m(m)
    d = _check_open_unit(delta, "delta")
    return math.sqrt((lf + math.log(2.0 / d)) / (2.0 * m))


# ---------------------------------------------------------------- VC classes
def vc_bound(vc_dim, m, delta, form: str = "ssbd") -> float:
    """The uniform gap ``sup_f |Test(f) - Train(f)|`` for a class of VC dimension ``d`` (chapter 1).

    ``form="ssbd"``: Shalev-Shwartz & Ben-David (2014), Theorem 6.11 with Sauer's lemma
    ``τ(2m) ≤ (2em/d)^d``: with probability ``≥ 1 - δ``,
    ``ε = (4 + sqrt(d ln(2em/d))) / (δ sqrt(2m))``.

    ``form="mohri"``: Mohri, Rostamizadeh & Talwalkar (2018), Corollary 3.19 (one-sided):
    ``ε = sqrt(2d ln(em/d) / m) + sqrt(ln(1/δ) / (2m))``.

    Both need ``m ≥ d`` (Sauer's lemma in this form); below that no class of dimension ``d`` is
    learnable with a nontrivial guarantee and the function returns ``inf``.
    """
    if isinstance(vc_dim, bool) or not isinstance(vc_dim, (int, np.integer)) or vc_dim < 1:
        raise ValueError(f"vc_dim must be an int ≥ 1, got {vc_dim!r}")
    m = _check_m(m)
    d = _check_open_unit(delta, "delta")
    if not isinstance(form, str) or form not in ("ssbd", "mohri"):
        raise ValueError(f"form must be 'ssbd' or 'mohri', got {form!r}")
    if m < vc_dim:
        return math.inf
    if form == "ssbd":
        return (4.0 + math.sqrt(vc_dim * math.log(2 * math.e * m / vc_dim))) / (
            d * math.sqrt(2 * m)
        )
    return math.sqrt(2 * vc_dim * math.log(math.e * m / vc_dim) / m) + math.sqrt(
        math.log(1 / d) / (2 * m)
    )


# ---------------------------------------------------------------- kl and the Occam bound
def _as_tensor(x, name: str = "the argument") -> torch.Tensor:
    try:
        return torch.as_tensor(x, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as e:
        raise TypeError(f"{name} must be a number or an array of numbers, got {x!r}") from e


def _back(t: torch.Tensor, like):
    if isinstance(like, torch.Tensor):
        return t.to(like.device)
    return float(t) if t.ndim == 0 else t.numpy()


def _check_broadcast(a: torch.Tensor, b: torch.Tensor, name_a: str, name_b: str) -> None:
    try:
        torch.broadcast_shapes(a.shape, b.shape)
    except RuntimeError as e:
        raise ValueError(
            f"{name_a} (shape {tuple(a.shape)}) and {name_b} (shape {tuple(b.shape)}) "
            "do not broadcast"
        ) from e


def kl_bernoulli(q, p):
    """Relative entropy of two coins, in nats (chapter 1).

    ``kl(q ‖ p) = q ln(q/p) + (1-q) ln((1-q)/(1-p))``, with ``0 ln 0 = 0``; ``+inf`` where
    ``p ∈ {0, 1}`` and ``q ≠ p``. Vectorized (numpy or torch).
    """
    qt, pt = _as_tensor(q, "q"), _as_tensor(p, "p")
    if torch.any((qt < 0) | (qt > 1) | torch.isnan(qt)):
        raise ValueError("q must lie in [0, 1]")
    if torch.any((pt < 0) | (pt > 1) | torch.isnan(pt)):
        raise ValueError("p must lie in [0, 1]")
    _check_broadcast(qt, pt, "q", "p")
    qt, pt = torch.broadcast_tensors(qt, pt)
    a = torch.where(qt > 0, qt * (torch.log(qt) - torch.log(pt)), torch.zeros_like(qt))
    b = torch.where(qt < 1, (1 - qt) * (torch.log1p(-qt) - torch.log1p(-pt)), torch.zeros_like(qt))
    out = torch.nan_to_num(a, nan=math.inf, posinf=math.inf) + torch.nan_to_num(
        b, nan=math.inf, posinf=math.inf
    )
    return _back(out, q if isinstance(q, torch.Tensor) else (q if _as_tensor(q).ndim else p))


def kl_inverse_upper(q, c, iterations: int = 60):
    """The largest ``p ≥ q`` with ``kl(q ‖ p) ≤ c`` (chapter 1), by bisection.

    ``kl(q ‖ ·)`` increases on ``[q, 1]``, so bisection on ``[q, 1]`` converges; 60 halvings
    shrink the interval below float precision. The answer errs upward (the returned ``p`` satisfies
    ``kl(q ‖ p) ≥ c`` or ``p = 1``), so a bound built on it stays valid. Vectorized over ``q, c``.
    """
    qt, ct = _as_tensor(q, "q"), _as_tensor(c, "c")
    if torch.any((qt < 0) | (qt > 1) | torch.isnan(qt)):
        raise ValueError("q must lie in [0, 1]")
    if torch.any((ct < 0) | torch.isnan(ct)):
        raise ValueError("c must be ≥ 0")
    if isinstance(iterations, bool) or not isinstance(iterations, int):
        raise TypeError(f"iterations must be an int, got {iterations!r}")
    if not 1 <= iterations <= 1100:  # 1100 halvings reach the smallest float; more is a hang
        raise ValueError(f"iterations must lie in 1..1100, got {iterations!r}")
    _check_broadcast(qt, ct, "q", "c")
    qt, ct = torch.broadcast_tensors(qt, ct)
    lo, hi = qt.clone(), torch.ones_like(qt)
    for _ in range(iterations):
        mid = (lo + hi) / 2
        inside = kl_bernoulli(qt, mid) <= ct
        lo = torch.where(inside, mid, lo)
        hi = torch.where(inside, hi, mid)
    like = q if isinstance(q, torch.Tensor) else (q if _as_tensor(q).ndim else c)
    return _back(hi, like)


def occam_bound(train_err, code_bits, m, delta):
    """Occam bound in kl form (chapter 1; Langford 2005, the Occam razor bound relaxed by Chernoff).

    Fix a prefix-free code ``c`` for the hypotheses before seeing the data. With probability
    ``≥ 1 - δ`` over ``m`` i.i.d. examples, every ``h`` satisfies
    ``kl(Train(h) ‖ Test(h)) ≤ (|c(h)| ln 2 + ln(1/δ)) / m``, hence
    ``Test(h) ≤ kl⁻¹(Train(h), (|c(h)| ln 2 + ln(1/δ)) / m)``, which this returns (chapter 1).
    """
    m = _check_m(m)
    d = _check_open_unit(delta, "delta")
    bits = _as_tensor(code_bits, "code_bits").numpy()
    if np.any(bits < 0) or not np.all(np.isfinite(bits)):
        raise ValueError(f"code_bits must be finite and ≥ 0, got {code_bits!r}")
    err = _as_tensor(train_err, "train_err").numpy()
    if np.any((err < 0) | (err > 1)) or np.any(np.isnan(err)):
        raise ValueError(f"train_err must lie in [0, 1], got {train_err!r}")
    try:
        np.broadcast_shapes(bits.shape, err.shape)
    except ValueError as e:
        raise ValueError(
            f"train_err {err.shape} and code_bits {bits.shape} do not broadcast"
        ) from e
    c = (bits * LN2 + math.log(1.0 / d)) / m
    out = kl_inverse_upper(err, c)
    return float(out) if np.ndim(out) == 0 else out


# ---------------------------------------------------------------- a Monte Carlo check
# A finite class whose true errors are known exactly: homogeneous halfspaces f_w(x) = 1[w·x > 0]
# on x ~ N(0, I_d), labels y = 1[w*·x > 0] flipped with probability η. The two halfspaces disagree
# on a wedge of angle θ(w, w*), which has probability θ/π under a rotation-invariant x, so
#     Test(f_w) = η + (1 - 2η) θ(w, w*) / π.
def _check_noise(noise) -> None:
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.integer, np.floating)):
        raise TypeError(f"noise must be a number in [0, 0.5), got {noise!r}")
    if not 0 <= noise < 0.5:
        raise ValueError(f"noise must lie in [0, 0.5), got {noise!r}")


def _check_halfspaces(W, w_star) -> None:
    if not isinstance(W, torch.Tensor) or not isinstance(w_star, torch.Tensor):
        raise TypeError("W and w_star must be torch tensors")
    if w_star.ndim != 1 or W.ndim != 2 or W.shape[1] != w_star.shape[0]:
        raise ValueError(f"W must be n × d and w_star of length d, got {W.shape}, {w_star.shape}")
    if not (torch.isfinite(W).all() and torch.isfinite(w_star).all()):
        raise ValueError("W and w_star must be finite")
    if (W.norm(dim=1) == 0).any() or w_star.norm() == 0:
        raise ValueError("W and w_star must have no zero rows (a halfspace needs a normal)")


def halfspace_test_errors(W: torch.Tensor, w_star: torch.Tensor, noise: float) -> torch.Tensor:
    """Exact true errors ``η + (1-2η) θ(w, w*)/π`` of the halfspaces in the rows of ``W``
    (chapter 1)."""
    _check_noise(noise)
    _check_halfspaces(W, w_star)
    cos = (W @ w_star) / (W.norm(dim=1) * w_star.norm())
    return noise + (1 - 2 * noise) * torch.arccos(cos.clamp(-1.0, 1.0)) / math.pi


def sample_halfspace_data(
    w_star: torch.Tensor, noise: float, m: int, trials: int, generator: torch.Generator
):
    """``trials`` independent samples of size ``m`` (chapter 1): ``X`` (trials × m × d) with
    ``N(0, I)`` rows, and ``y`` (trials × m, bool): ``1[w*·x > 0]``, flipped with probability
    ``η``."""
    for name, value in (("m", m), ("trials", trials)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an int ≥ 1, got {value!r}")
    _check_noise(noise)
    if not isinstance(w_star, torch.Tensor) or w_star.ndim != 1:
        raise ValueError("w_star must be a 1-d torch tensor")
    m, trials = int(m), int(trials)
    if m * trials * w_star.numel() > 1 << 30:
        raise ValueError(f"m·trials·d = {m * trials * w_star.numel()} numbers: too many to sample")
    dev = w_star.device
    X = torch.randn(trials, m, w_star.numel(), generator=generator, device=dev)
    flip = torch.rand(trials, m, generator=generator, device=dev) < noise
    return X, (X @ w_star > 0) ^ flip


def max_deviation(
    W: torch.Tensor, test_err: torch.Tensor, X: torch.Tensor, y: torch.Tensor, block: int = 1 << 16
) -> torch.Tensor:
    """For each trial, ``max_{f ∈ F} |Train(f) - Test(f)|`` over all rows of ``W`` (chapter 1).

    Batched: one matrix product ``X Wᵀ`` per trial and block of hypotheses gives every prediction
    at once. ``X`` is (trials × m × d), ``y`` (trials × m); returns a (trials,) tensor.
    """
    if not all(isinstance(t, torch.Tensor) for t in (W, test_err, X, y)):
        raise TypeError("W, test_err, X and y must be torch tensors")
    if W.ndim != 2 or test_err.shape != (W.shape[0],):
        raise ValueError(
            f"W must be n × d and test_err of length n, got {W.shape}, {test_err.shape}"
        )
    if X.ndim != 3 or X.shape[2] != W.shape[1] or y.shape != X.shape[:2]:
        raise ValueError(f"X must be trials × m × d and y trials × m, got {X.shape}, {y.shape}")
    if isinstance(block, bool) or not isinstance(block, int) or block < 1:
        raise ValueError(f"block must be a positive int, got {block!r}")
    out = torch.zeros(X.shape[0], device=X.device)
    for start in range(0, W.shape[0], block):
        Wb, tb = W[start : start + block], test_err[start : start + block]
        for t in range(X.shape[0]):
            wrong = (X[t] @ Wb.T > 0) != y[t, :, None]  # m × block
            train = wrong.float().mean(0)
            out[t] = torch.maximum(out[t], (train - tb).abs().max())
    return out


# ------------------------------------------------------- multiclass, exact tails, PAC-Bayes
def natarajan_bound(natarajan_dim, n_classes, m, delta, form: str = "ssbd") -> float:
    """The uniform gap ``sup_f |Test(f) - Train(f)|`` for a k-class predictor (chapter 1).

    Natarajan's lemma (Shalev-Shwartz & Ben-David 2014, Lemma 29.4): a class of Natarajan dimension
    ``d`` has at most ``|C|^d k^{2d}`` restrictions to a set ``C``, so its growth function obeys
    ``ln τ(n) ≤ d ln n + 2d ln k``. The 0-1 loss vector of ``f`` on a sample is fixed by ``f``'s
    restriction, so the growth-function bounds of the binary case hold as they stand:

    - ``form="ssbd"`` (their Theorem 6.11): ``ε = (4 + sqrt(ln τ(2m))) / (δ sqrt(2m))``;
    - ``form="mohri"`` (Mohri et al. 2018, Corollary 3.9, through Massart's lemma on the loss
      class): ``ε = sqrt(2 ln τ(m) / m) + sqrt(ln(1/δ) / (2m))``.

    A linear k-class predictor ``argmax_c (x W)_c`` with ``P = kd`` weights has Natarajan
    dimension at most ``P`` (their Theorem 29.7), so ``natarajan_dim = P`` is a valid choice.
    """
    if isinstance(natarajan_dim, bool) or not isinstance(natarajan_dim, (int, np.integer)):
        raise ValueError(f"natarajan_dim must be an int ≥ 1, got {natarajan_dim!r}")
    if natarajan_dim < 1:
        raise ValueError(f"natarajan_dim must be an int ≥ 1, got {natarajan_dim!r}")
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
        raise ValueError(f"n_classes must be an int ≥ 2, got {n_classes!r}")
    m = _check_m(m)
    d = _check_open_unit(delta, "delta")
    if form not in ("ssbd", "mohri"):
        raise ValueError(f"form must be 'ssbd' or 'mohri', got {form!r}")

    def log_growth(n):
        return natarajan_dim * (math.log(n) + 2 * math.log(n_classes))

    if form == "ssbd":
        return (4.0 + math.sqrt(log_growth(2 * m))) / (d * math.sqrt(2 * m))
    return math.sqrt(2 * log_growth(m) / m) + math.sqrt(math.log(1 / d) / (2 * m))


def binomial_tail_inverse(errors, m, delta, *, code_bits=0.0, iterations: int = 60) -> float:
    """Langford's exact bounds (chapter 1): the largest ``p`` with ``P[Bin(m, p) ≤ k] ≥ δ'``.

    ``Bin⁻¹(m, k, δ') = max{p : Σ_{j ≤ k} C(m, j) p^j (1-p)^{m-j} ≥ δ'}``. With ``code_bits = 0``
    it is the test-set bound: a hypothesis fixed before the sample, with ``k`` errors on ``m``
    examples, has ``Test ≤ Bin⁻¹(m, k, δ)`` with probability ``≥ 1 - δ``. With
    ``code_bits = |c(h)|`` for a prefix-free code fixed in advance it is Langford's Occam's razor
    bound, ``δ' = δ 2^{-|c(h)|}`` (Langford 2005). It is exact where the kl form relaxes the tail by
    Chernoff, so it is never looser than ``kl⁻¹(k/m, (|c| ln 2 + ln(1/δ))/m)``. Bisection on ``p``
    (the tail decreases in ``p``), in logs so that ``δ 2^{-|c|}`` may be far below float range;
    the answer errs upward.
    """
    from scipy.stats import binom

    m = int(_check_m(m))
    d = _check_open_unit(delta, "delta")
    k = int(errors)
    if k != errors or not 0 <= k <= m:
        raise ValueError(f"errors must be an integer count in [0, m], got {errors!r}")
    if not math.isfinite(code_bits) or code_bits < 0:
        raise ValueError(f"code_bits must be finite and ≥ 0, got {code_bits!r}")
    log_target = math.log(d) - code_bits * LN2
    lo, hi = k / m, 1.0
    for _ in range(iterations):
        mid = (lo + hi) / 2
        if binom.logcdf(k, m, mid) >= log_target:
            lo = mid
        else:
            hi = mid
    return hi


def pac_bayes_kl_bound(train_err, kl_posterior_prior, m, delta) -> float:
    """The PAC-Bayes-kl bound (Seeger 2002; Maurer 2004) on the posterior's test error (chapter 1).

    For a prior ``P`` fixed before the sample and any posterior ``Q``, with probability ``≥ 1 - δ``
    ``kl(Train(Q) ‖ Test(Q)) ≤ (KL(Q ‖ P) + ln(2 sqrt(m) / δ)) / m``; this returns
    ``kl⁻¹(Train(Q), that)``. With the Occam prior ``P(h) = 2^{-|c(h)|}`` and a point mass
    ``Q = δ_h``, ``KL(Q ‖ P) = |c(h)| ln 2``: the Occam bound with ``ln(1/δ)`` replaced by
    ``ln(2 sqrt(m)/δ)``.
    """
    m = _check_m(m)
    d = _check_open_unit(delta, "delta")
    if not math.isfinite(kl_posterior_prior) or kl_posterior_prior < 0:
        raise ValueError(f"kl_posterior_prior must be finite and ≥ 0, got {kl_posterior_prior!r}")
    if not 0 <= train_err <= 1:
        raise ValueError(f"train_err must lie in [0, 1], got {train_err!r}")
    return float(
        kl_inverse_upper(train_err, (kl_posterior_prior + math.log(2 * math.sqrt(m) / d)) / m)
    )
