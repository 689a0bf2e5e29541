"""Tests of lib.bounds (chapter 1): formulas, argument checks, kl-inverse, Monte Carlo kernel."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import bounds

probs = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
positive_eps = st.floats(min_value=1e-3, max_value=1.0)
sizes = st.integers(min_value=1, max_value=10**6)


# ---------------------------------------------------------------- formulas
def test_hoeffding_and_union_values():
    assert bounds.hoeffding_bound(100, 0.1) == pytest.approx(2 * math.exp(-2))
    assert bounds.union_bound(10, 100, 0.1) == pytest.approx(20 * math.exp(-2))
    assert bounds.union_bound(None, 100, 0.1, log_size=math.log(10)) == pytest.approx(
        20 * math.exp(-2)
    )
    out = bounds.union_bound(10, 100, np.array([0.1, 0.2]))
    assert out.shape == (2,) and out[0] > out[1]


def test_huge_classes_do_not_overflow():
    log_size = 10**6 * 32 * math.log(2)  # a million 32-bit weights
    assert bounds.union_bound(None, 10**9, 0.5, log_size=log_size) == 0.0 or math.isfinite(
        bounds.union_bound(None, 10**9, 0.5, log_size=log_size)
    )
    eps = bounds.finite_class_epsilon(None, 10**9, 0.05, log_size=log_size)
    assert 0 < eps < 1


def test_sample_complexity_solves_the_bound():
    m = bounds.sample_complexity(10**6, 0.05, 0.05)
    assert bounds.union_bound(10**6, m, 0.05) <= 0.05 < bounds.union_bound(10**6, m - 1, 0.05)
    assert m == math.ceil((math.log(10**6) + math.log(40)) / (2 * 0.05**2))


def test_finite_class_epsilon_inverts_the_bound():
    eps = bounds.finite_class_epsilon(1000, 500, 0.1)
    assert bounds.union_bound(1000, 500, eps) == pytest.approx(0.1)


def test_vc_bound_forms():
    ssbd = bounds.vc_bound(10, 1000, 0.05)
    assert ssbd == pytest.approx(
        (4 + math.sqrt(10 * math.log(2 * math.e * 100))) / (0.05 * math.sqrt(2000))
    )
    assert bounds.vc_bound(10, 1000, 0.05, form="mohri") < ssbd
    assert bounds.vc_bound(10, 5, 0.05) == math.inf
    assert bounds.vc_bound(10, 10**6, 0.05) < bounds.vc_bound(10, 10**4, 0.05)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: bounds.hoeffding_bound(0, 0.1), "m"),
        (lambda: bounds.hoeffding_bound(10, 0.0), "eps"),
        (lambda: bounds.hoeffding_bound(10, -1.0), "eps"),
        (lambda: bounds.union_bound(0, 10, 0.1), "n_hypotheses"),
        (lambda: bounds.union_bound(None, 10, 0.1), "exactly one"),
        (lambda: bounds.union_bound(5, 10, 0.1, log_size=1.0), "exactly one"),
        (lambda: bounds.union_bound(None, 10, 0.1, log_size=-1.0), "log_size"),
        (lambda: bounds.sample_complexity(10, 0.1, 1.0), "delta"),
        (lambda: bounds.sample_complexity(10, 0.1, 0.0), "delta"),
        (lambda: bounds.finite_class_epsilon(10, 0.5, 0.1), "m"),
        (lambda: bounds.vc_bound(0, 10, 0.1), "vc_dim"),
        (lambda: bounds.vc_bound(2, 10, 0.1, form="x"), "form"),
        (lambda: bounds.kl_bernoulli(1.5, 0.5), "q"),
        (lambda: bounds.kl_bernoulli(0.5, -0.1), "p"),
        (lambda: bounds.kl_inverse_upper(0.5, -1.0), "c"),
        (lambda: bounds.occam_bound(0.1, -1, 100, 0.05), "code_bits"),
        (lambda: bounds.occam_bound(1.1, 10, 100, 0.05), "train_err"),
        (lambda: bounds.occam_bound(0.1, 10, 100, 2.0), "delta"),
        (lambda: bounds.halfspace_test_errors(torch.ones(2, 3), torch.ones(3), 0.5), "noise"),
    ],
)
def test_bad_arguments_name_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


# ---------------------------------------------------------------- kl
def test_kl_values():
    assert bounds.kl_bernoulli(0.5, 0.5) == 0.0
    assert bounds.kl_bernoulli(0.0, 0.5) == pytest.approx(math.log(2))
    assert bounds.kl_bernoulli(0.2, 0.0) == math.inf
    assert bounds.kl_bernoulli(1.0, 1.0) == 0.0
    t = bounds.kl_bernoulli(torch.tensor([0.1, 0.2]), 0.3)
    assert isinstance(t, torch.Tensor) and t.shape == (2,)
    assert bounds.kl_inverse_upper(0.0, 0.1) == pytest.approx(1 - math.exp(-0.1), abs=1e-12)


@given(q=probs, p=probs)
def test_kl_is_nonnegative(q, p):
    assert bounds.kl_bernoulli(q, p) >= -1e-12


@given(q=st.floats(0.0, 0.99), c=st.floats(1e-6, 5.0))
def test_kl_inverse_is_the_inverse(q, c):
    p = bounds.kl_inverse_upper(q, c)
    assert q <= p <= 1
    if p < 1 - 1e-9:
        assert bounds.kl_bernoulli(q, p) == pytest.approx(c, rel=1e-5, abs=1e-9)
    # a little below p is still inside, a little above is outside
    assert bounds.kl_bernoulli(q, max(q, p - 1e-6)) <= c + 1e-9


def test_kl_inverse_vectorized():
    q = np.array([0.0, 0.1, 0.5])
    c = np.array([0.1, 0.2, 0.3])
    out = bounds.kl_inverse_upper(q, c)
    assert out.shape == (3,)
    assert np.allclose(out, [bounds.kl_inverse_upper(a, b) for a, b in zip(q, c, strict=True)])


@settings(max_examples=30, deadline=None)
@given(err=st.floats(0.0, 0.9), bits=st.floats(0.0, 1e4), m=st.integers(1, 10**6))
def test_occam_bound_at_least_train_error(err, bits, m):
    assert bounds.occam_bound(err, bits, m, 0.05) >= err


@settings(max_examples=30, deadline=None)
@given(err=st.floats(0.0, 0.5), bits=st.floats(0.0, 1e3), m=st.integers(10, 10**5))
def test_occam_bound_monotone(err, bits, m):
    b = bounds.occam_bound(err, bits, m, 0.05)
    assert bounds.occam_bound(err, bits + 10, m, 0.05) >= b - 1e-12
    assert bounds.occam_bound(err, bits, 2 * m, 0.05) <= b + 1e-12


def test_occam_kl_is_tighter_than_hoeffding_at_small_error():
    m, bits = 10_000, 200
    hoeffding = 0.01 + math.sqrt((bits * math.log(2) + math.log(20)) / (2 * m))
    assert bounds.occam_bound(0.01, bits, m, 0.05) < hoeffding


# ---------------------------------------------------------------- monotonicity
@given(n=sizes, m=st.integers(1, 10**5), eps=positive_eps)
def test_union_bound_monotone_in_m_eps_and_size(n, m, eps):
    b = bounds.union_bound(n, m, eps)
    assert bounds.union_bound(n, m + 1, eps) <= b
    assert bounds.union_bound(n, m, eps * 1.1) <= b
    assert bounds.union_bound(n + 1, m, eps) >= b
    assert b >= bounds.hoeffding_bound(m, eps) * (1 - 1e-12)


@given(n=sizes, eps=positive_eps, delta=st.floats(1e-6, 0.99))
def test_sample_complexity_monotone(n, eps, delta):
    m = bounds.sample_complexity(n, eps, delta)
    assert bounds.sample_complexity(n, eps / 2, delta) >= m
    assert bounds.sample_complexity(n + 1, eps, delta) >= m


# ---------------------------------------------------------------- the Monte Carlo kernel
def _loop_max_deviation(W, test_err, X, y):
    out = []
    for t in range(X.shape[0]):
        out.append(
            max(
                abs(float(((X[t] @ w > 0) != y[t]).float().mean()) - float(p))
                for w, p in zip(W, test_err, strict=True)
            )
        )
    return torch.tensor(out)


def test_halfspace_errors_are_exact():
    g = torch.Generator().manual_seed(1)
    w_star = torch.tensor([1.0, 0.0])
    W = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    err = bounds.halfspace_test_errors(W, w_star, 0.1)
    assert torch.allclose(err, torch.tensor([0.1, 0.5, 0.9]))
    X, y = bounds.sample_halfspace_data(w_star, 0.1, 200_000, 1, g)
    measured = ((X[0] @ W.T > 0) != y[0, :, None]).float().mean(0)
    assert torch.allclose(measured, err, atol=0.005)


def test_kernel_matches_loop_and_blocks_do_not_matter():
    g = torch.Generator().manual_seed(2)
    w_star = torch.randn(5, generator=g)
    W = torch.randn(40, 5, generator=g)
    err = bounds.halfspace_test_errors(W, w_star, 0.2)
    X, y = bounds.sample_halfspace_data(w_star, 0.2, 50, 4, g)
    got = bounds.max_deviation(W, err, X, y)
    assert torch.allclose(got, _loop_max_deviation(W, err, X, y), atol=1e-6)
    assert torch.allclose(got, bounds.max_deviation(W, err, X, y, block=7))


def test_monte_carlo_frequency_below_the_bound():
    g = torch.Generator().manual_seed(3)
    w_star = torch.randn(8, generator=g)
    W = torch.randn(200, 8, generator=g)
    err = bounds.halfspace_test_errors(W, w_star, 0.1)
    X, y = bounds.sample_halfspace_data(w_star, 0.1, 100, 400, g)
    gap = bounds.max_deviation(W, err, X, y).numpy()
    for eps in np.linspace(0.05, 0.4, 15):
        assert (gap > eps).mean() <= min(1.0, bounds.union_bound(200, 100, eps))


# ------------------------------------------------------- multiclass, exact tails, PAC-Bayes
def test_natarajan_bound_values_and_growth_in_k():
    m, d, P = 1500, 0.05, 650
    lg = P * (math.log(2 * m) + 2 * math.log(10))
    assert bounds.natarajan_bound(P, 10, m, d) == pytest.approx(
        (4 + math.sqrt(lg)) / (d * math.sqrt(2 * m))
    )
    # more classes, larger bound; the binary VC bound at the same dimension is smaller
    assert bounds.natarajan_bound(P, 10, m, d, "mohri") > bounds.natarajan_bound(
        P, 2, m, d, "mohri"
    )
    assert bounds.natarajan_bound(P, 10, m, d, "mohri") > bounds.vc_bound(P, m, d, "mohri")
    with pytest.raises(ValueError, match="n_classes"):
        bounds.natarajan_bound(P, 1, m, d)


def test_binomial_tail_inverse_is_exact_and_tighter_than_kl():
    from scipy.stats import binom

    for k, m, d in [(0, 100, 0.05), (12, 200, 0.01), (150, 1500, 0.05)]:
        p = bounds.binomial_tail_inverse(k, m, d)
        assert binom.cdf(k, m, p) == pytest.approx(d, rel=1e-6)
        assert p <= bounds.kl_inverse_upper(k / m, math.log(1 / d) / m) + 1e-12
    # zero errors: (1-p)^m = δ
    assert bounds.binomial_tail_inverse(0, 100, 0.05) == pytest.approx(1 - 0.05 ** (1 / 100))
    with pytest.raises(ValueError, match="errors"):
        bounds.binomial_tail_inverse(2.5, 10, 0.05)
    # the Occam form: never looser than the kl (Chernoff) form, even far below float range
    for k, bits in [(30, 200), (100, 1500)]:
        p = bounds.binomial_tail_inverse(k, 1500, 0.05, code_bits=bits)
        assert k / 1500 < p <= bounds.occam_bound(k / 1500, bits, 1500, 0.05) + 1e-12


def test_pac_bayes_point_mass_is_occam_with_a_larger_log_term():
    err, bits, m, d = 0.1, 300, 1500, 0.05
    pb = bounds.pac_bayes_kl_bound(err, bits * math.log(2), m, d)
    c = (bits * math.log(2) + math.log(2 * math.sqrt(m) / d)) / m
    assert pb == pytest.approx(bounds.kl_inverse_upper(err, c))
    assert pb > bounds.occam_bound(err, bits, m, d)  # ln(2√m/δ) > ln(1/δ)


@pytest.mark.parametrize(
    "call",
    [
        lambda: bounds.hoeffding_bound(math.nan, 0.1),
        lambda: bounds.finite_class_epsilon(10, math.nan, 0.05),
        lambda: bounds.vc_bound(3, math.inf, 0.05),
        lambda: bounds.union_bound(10, math.nan, 0.1),
        lambda: bounds.union_bound(math.inf, 100, 0.1),
        lambda: bounds.union_bound(None, 100, 0.1, log_size=math.nan),
        lambda: bounds.occam_bound(0.1, 10, math.nan, 0.05),
    ],
    ids=["hoeffding-nan", "finite-nan", "vc-inf", "union-nan", "union-inf-F", "log-size", "occam"],
)
def test_nan_and_inf_are_refused(call):
    # issue 16: these returned nan (nan < 1 is False, so the old checks let NaN through)
    with pytest.raises(ValueError, match="must"):
        call()


def test_sample_complexity_for_tiny_eps_is_an_exact_int():
    # issue 16: 1e-160 raised OverflowError, 1e-170 ZeroDivisionError
    for eps in (1e-160, 1e-170, 5e-324):
        m = bounds.sample_complexity(10, eps, 0.05)
        assert isinstance(m, int) and m > 10**300
    # and the exact rational formula agrees with the float one where floats suffice
    m = bounds.sample_complexity(10, 0.01, 0.05)
    assert m == math.ceil((math.log(10) + math.log(2 / 0.05)) / (2 * 0.01**2))


def test_shapes_and_types_are_named():
    with pytest.raises(ValueError, match="broadcast"):
        bounds.kl_bernoulli([0.1, 0.2], [0.1, 0.2, 0.3])
    with pytest.raises(TypeError, match="q"):
        bounds.kl_bernoulli("x", 0.5)
    with pytest.raises(ValueError, match="broadcast"):
        bounds.occam_bound([0.1, 0.2], [1, 2, 3], 100, 0.05)
    with pytest.raises(ValueError, match="w_star"):
        bounds.halfspace_test_errors(torch.ones(3, 2), torch.ones(3), 0.1)
    with pytest.raises(ValueError, match="m must be an int"):
        bounds.sample_halfspace_data(torch.ones(2), 0.1, 2.5, 3, torch.Generator())
    with pytest.raises(ValueError, match="X must be"):
        bounds.max_deviation(torch.ones(3, 2), torch.ones(3), torch.ones(2, 5, 4), torch.ones(2, 5))
