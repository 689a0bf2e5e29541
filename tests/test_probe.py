import pytest
import torch

from lib import probe
from lib.models import GPT, GPTConfig


def blobs(n, d, classes, seed, spread=0.3):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(classes, d, generator=torch.Generator().manual_seed(99)) * 3
    y = torch.randint(classes, (n,), generator=g)
    return centres[y] + spread * torch.randn(n, d, generator=g), y


def test_probe_learns_a_linearly_separable_problem_and_ignores_noise():
    xtr, ytr = blobs(300, 5, 4, 0)
    xte, yte = blobs(200, 5, 4, 1)
    noise_tr, noise_te = torch.randn(300, 5), torch.randn(200, 5)
    r = probe.linear_probes([noise_tr, xtr], ytr, [noise_te, xte], yte, n_classes=4)
    assert r.accuracy[1] == 1.0 and r.val_accuracy[1] == 1.0
    assert r.accuracy[0] < 0.5  # features that carry no label: near chance (0.25)
    assert r.best_layer == 1 and r.best == 1.0  # the layer is chosen on validation
    assert all(w in (1e-4, 1e-3, 1e-2) for w in r.weight_decay)
    assert r.grad_max <= r.tol  # every fit converged to the stated tolerance


def test_best_layer_is_chosen_on_validation_not_on_test():
    # layer 0 is blurred on the training images and sharp on test; layer 1 the other way round
    sharp_tr, ytr = blobs(300, 5, 4, 0)
    sharp_te, yte = blobs(200, 5, 4, 1)
    blur_tr, blur_te = blobs(300, 5, 4, 0, spread=4.0)[0], blobs(200, 5, 4, 1, spread=4.0)[0]
    r = probe.linear_probes([blur_tr, sharp_tr], ytr, [sharp_te, blur_te], yte, n_classes=4)
    assert r.accuracy[0] > r.accuracy[1]  # on test, layer 0 looks better ...
    assert r.best_layer == 1 and r.best == r.accuracy[1]  # ... but test data choose nothing


def test_whitening_is_invertible_on_the_span_and_gives_unit_covariance():
    x = torch.randn(500, 4, dtype=torch.float64) @ torch.randn(4, 4, dtype=torch.float64)
    (w,) = probe.whiten(x)
    cov = w.T @ w / len(w)
    assert torch.allclose(cov, torch.eye(4, dtype=torch.float64), atol=1e-8)
    ln = x - x.mean(1, keepdim=True)  # rank 3, like layer-normalised features
    (w,) = probe.whiten(ln)
    assert torch.isfinite(w).all() and (w.T @ w / len(w)).diagonal().round().sum() == 3


def test_layer_features_shapes():
    m = GPT(GPTConfig(vocab_size=5, block_size=10, n_layer=3, n_head=2, n_embd=16))
    feats = probe.layer_features(m, torch.randint(0, 5, (7, 10)), batch_size=3)
    assert len(feats) == 4 and all(f.shape == (7, 16) for f in feats)
    # layer-normalised then averaged: every feature vector has mean 0 over its coordinates
    assert all(f.mean(dim=1).abs().max() < 1e-5 for f in feats)
    assert probe.raw_features(torch.zeros(4, 3, 3))[0].shape == (4, 9)


def test_bad_arguments_raise():
    x, y = blobs(20, 2, 2, 0)
    with pytest.raises(ValueError, match="same"):
        probe.linear_probes([x], y, [x, x], y, n_classes=2)
    with pytest.raises(ValueError, match="val_fraction"):
        probe.linear_probes([x], y, [x], y, n_classes=2, val_fraction=1.0)
    with pytest.raises(ValueError, match="y_train"):
        probe.linear_probes([x], y + 5, [x], y, n_classes=2)
    m = GPT(GPTConfig(vocab_size=5, block_size=10, n_layer=1, n_head=1, n_embd=8))
    with pytest.raises(ValueError, match="inputs"):
        probe.layer_features(m, torch.zeros(3, dtype=torch.long))


def test_bad_test_sets_and_features_name_the_argument():
    # issue 16: labels out of range, an empty test set and NaN features are clear errors
    x, y = blobs(20, 2, 2, 0)
    with pytest.raises(ValueError, match="y_test"):
        probe.linear_probes([x], y, [x], y + 2, n_classes=2)
    with pytest.raises(ValueError, match="y_test is empty"):
        probe.linear_probes([x], y, [x[:0]], y[:0], n_classes=2)
    bad = x.clone()
    bad[3, 1] = float("nan")
    with pytest.raises(ValueError, match="train features must be finite"):
        probe.linear_probes([bad], y, [x], y, n_classes=2)
    with pytest.raises(ValueError, match="test features must be finite"):
        probe.linear_probes([x], y, [bad], y, n_classes=2)
    with pytest.raises(ValueError, match="rows"):
        probe.linear_probes([x], y, [x[:5]], y, n_classes=2)


def test_mean_interval_and_partial_spearman():
    import numpy as np
    import scipy.stats

    m, h = probe.mean_interval([1.0, 2.0, 3.0])
    assert m == 2.0 and abs(h - scipy.stats.t.ppf(0.975, 2) / np.sqrt(3)) < 1e-12
    with pytest.raises(ValueError, match="at least 2"):
        probe.mean_interval([1.0])
    step = np.repeat([1, 2, 3, 4], 2)
    a = step + np.tile([0.0, 0.5], 4)  # within each step, the second model is ahead ...
    b = step + np.tile([0.0, 0.5], 4)  # ... in both quantities: correlated beyond the step
    assert probe.partial_spearman(a, b, step) > 0.99
    c = step + np.tile([0.5, 0.0], 4)  # ... or in opposite order: anti-correlated
    assert probe.partial_spearman(a, c, step) < -0.99
    assert scipy.stats.spearmanr(a, c).statistic > 0.8  # the plain rank correlation hides it


def test_split_is_disjoint_seeded_and_is_the_probes_split():
    fit, val = probe.split(50, 0.2, seed=3)
    assert len(val) == 10 and len(fit) == 40
    assert sorted(torch.cat([fit, val]).tolist()) == list(range(50))  # a partition
    again = probe.split(50, 0.2, seed=3)
    assert torch.equal(fit, again[0]) and torch.equal(val, again[1])
    with pytest.raises(ValueError, match="n must be"):
        probe.split(1)


def test_linear_head_is_the_probe_of_its_layer():
    # the head fitted on the probe's fitting split predicts what the probe predicts, so a
    # classifier started from it starts at the probe's accuracy (catches a wrong un-whitening)
    xtr, ytr = blobs(300, 5, 4, 0, spread=2.0)
    xte, yte = blobs(200, 5, 4, 1, spread=2.0)
    r = probe.linear_probes([xtr], ytr, [xte], yte, n_classes=4)
    fit, _ = probe.split(len(ytr))
    head = probe.linear_head(xtr[fit], ytr[fit], 4, l2=r.weight_decay[0])
    logits = (xte.double() - head.mean) @ head.A @ head.W + head.b
    assert (logits.argmax(1) == yte).double().mean().item() == pytest.approx(r.accuracy[0])
    with pytest.raises(ValueError, match="y"):
        probe.linear_head(xtr, ytr + 4, 4, l2=1e-3)
