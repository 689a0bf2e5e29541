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
    r = probe.linear_probes([xtr, noise_tr], ytr, [xte, noise_te], yte, n_classes=4)
    assert r.accuracy[0] == 1.0 and r.val_accuracy[0] == 1.0
    assert r.accuracy[1] < 0.5  # features that carry no label: near chance (0.25)
    assert r.best == 1.0 and all(w in (1e-6, 1e-4, 1e-2) for w in r.weight_decay)


def test_batched_fit_equals_separate_fits():
    x, y = blobs(200, 3, 3, 2, spread=2.0)
    lam = torch.tensor([1e-3, 1e-1])
    W, b = probe.fit_logistic(torch.stack([x, x]), y, 3, lam)
    for p in range(2):
        Wp, bp = probe.fit_logistic(x[None], y, 3, lam[p : p + 1])
        assert torch.allclose(W[p], Wp[0], atol=1e-3) and torch.allclose(b[p], bp[0], atol=1e-3)
    assert W[1].norm() < W[0].norm()  # a larger penalty gives smaller weights


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
    with pytest.raises(ValueError, match="labels"):
        probe.fit_logistic(x[None], y + 5, 2, torch.tensor([0.1]))
    with pytest.raises(ValueError, match="weight_decay"):
        probe.fit_logistic(x[None], y, 2, torch.tensor([-1.0]))
    m = GPT(GPTConfig(vocab_size=5, block_size=10, n_layer=1, n_head=1, n_embd=8))
    with pytest.raises(ValueError, match="inputs"):
        probe.layer_features(m, torch.zeros(3, dtype=torch.long))
