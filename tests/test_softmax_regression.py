import pytest
import torch

from lib import softmax_regression as sr


def blobs(n, d, classes, seed, spread=1.0):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(classes, d, generator=torch.Generator().manual_seed(99)) * 2
    y = torch.randint(classes, (n,), generator=g)
    return (centres[y] + spread * torch.randn(n, d, generator=g)).double(), y


def test_gradient_is_the_gradient_of_the_objective():
    x, y = blobs(50, 4, 3, 0)
    theta = torch.randn(
        2, 4 * 3 + 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
    )
    lam = torch.tensor([0.1, 0.0], dtype=torch.float64)
    onehot = torch.nn.functional.one_hot(y, 3).double().expand(2, -1, -1)
    xs = torch.stack([x, 2 * x])
    loss, grad = sr._value_and_grad(xs, onehot, theta, (2, 4, 3), lam, lam * 0, True)
    for p in range(2):
        W = theta[p, :12].view(4, 3).clone().requires_grad_(True)
        b = theta[p, 12:].clone().requires_grad_(True)
        J = sr.objective(xs[p], y, W, b, l2=float(lam[p]))
        J.backward()
        assert torch.allclose(J, loss[p])  # catches a wrong loss for a problem in the batch
        assert torch.allclose(torch.cat([W.grad.flatten(), b.grad]), grad[p])  # a wrong gradient


def test_every_problem_converges_and_batched_fits_equal_single_fits():
    # three problems of very different conditioning, batched and one at a time
    x, y = blobs(300, 5, 4, 2)
    x = (x - x.mean(0)) / x.std(0)
    g = torch.Generator().manual_seed(4)
    xs = torch.stack([x, 0.5 * x, x + torch.randn(x.shape, dtype=x.dtype, generator=g)])
    lam = torch.tensor([1e-3, 1e-2, 1e-4])
    tol = 1e-7
    batched = sr.fit(xs, y, 4, l2=lam, tol=tol, max_iter=1000)
    assert batched.converged.all() and (batched.grad_max <= tol).all()  # each to the tolerance
    for p in range(3):
        single = sr.fit(xs[p], y, 4, l2=float(lam[p]), tol=tol, max_iter=1000)
        assert single.converged.all()
        # a shared line search or stopping rule would leave a problem elsewhere (issue 14: ΔW 1.8)
        assert torch.allclose(batched.W[p], single.W[0], atol=1e-5)
        assert torch.allclose(batched.b[p], single.b[0], atol=1e-5)
    # strongly convex: ‖W − W*‖ ≤ ‖∇J‖/(2λ); the larger penalty gives the smaller weights
    assert batched.W[1].norm() < batched.W[0].norm()


def test_the_fit_reaches_the_minimiser_of_a_tiny_problem():
    # two classes, one feature, no bias: J(w) = mean softplus(∓ x w ...) has a known minimiser
    x = torch.tensor([[1.0], [2.0], [-1.0], [-0.5]], dtype=torch.float64)
    y = torch.tensor([1, 1, 0, 1])
    f = sr.fit(x, y, 2, l2=0.05, bias=False, tol=1e-10)
    w = f.W[0].clone().requires_grad_(True)
    J = sr.objective(x, y, w, None, l2=0.05)
    (g,) = torch.autograd.grad(J, w)
    assert g.abs().max() < 1e-9  # a stationary point, found by autograd, not by the fit's own code
    # the model is symmetric in the two classes' columns: w[:,1] = -w[:,0] at the minimum
    assert torch.allclose(w[:, 1], -w[:, 0], atol=1e-8)


def test_l1_gives_sparser_weights_and_no_bias_means_zero_bias():
    x, y = blobs(200, 8, 3, 3)
    dense = sr.fit(x, y, 3, bias=False, max_iter=200)
    sparse = sr.fit(x, y, 3, l1=0.05, bias=False, max_iter=200)
    assert (sparse.b == 0).all()
    assert sparse.W.abs().sum() < 0.5 * dense.W.abs().sum()


def test_bad_input_raises():
    x, y = blobs(20, 2, 2, 0)
    with pytest.raises(ValueError, match="y must"):
        sr.fit(x, y + 5, 2)
    with pytest.raises(ValueError, match="l2"):
        sr.fit(x, y, 2, l2=-1.0)
    with pytest.raises(ValueError, match="l2"):
        sr.fit(torch.stack([x, x]), y, 2, l2=[0.1, 0.1, 0.1])
    with pytest.raises(ValueError, match="finite"):
        sr.fit(x.clone().fill_(float("nan")), y, 2)
    with pytest.raises(ValueError, match="x must"):
        sr.fit(torch.zeros(3, dtype=torch.long), y, 2)
    with pytest.raises(ValueError, match="n_classes"):
        sr.fit(x, y, 1)
