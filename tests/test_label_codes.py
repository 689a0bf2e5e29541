"""lib.label_codes: prequential label codes are causal, well normalized, and use X when it helps."""

import math

import numpy as np
import pytest

from lib import data
from lib import label_codes as lc

IMAGES, LABELS = data.digits()
ORDER = np.random.default_rng(0).permutation(len(LABELS))[:400]
X = IMAGES[ORDER].reshape(len(ORDER), -1).astype(np.float32)
Y = LABELS[ORDER]


def test_uniform_and_adaptive():
    assert lc.uniform_bits(Y, 10).sum() == pytest.approx(len(Y) * math.log2(10))
    bits = lc.adaptive_bits([0, 0, 0], 2, alpha=1.0)  # Laplace: 1/2, 2/3, 3/4
    assert bits == pytest.approx([1, math.log2(3 / 2), math.log2(4 / 3)])
    # the KT code of a sequence is at most n·H + (K−1)/2·log2 n + O(1) bits
    counts = np.bincount(Y, minlength=10) / len(Y)
    entropy = -(counts * np.log2(counts)).sum()
    assert lc.adaptive_bits(Y, 10).sum() <= len(Y) * entropy + 4.5 * math.log2(len(Y)) + 10


def _is_causal(fn):
    full = fn(X, Y)
    changed = Y.copy()
    changed[300:] = (changed[300:] + 1) % 10  # change the future labels
    return np.allclose(fn(X, changed)[:300], full[:300])


def test_codes_are_causal():
    assert _is_causal(lambda x, y: lc.knn_bits(x, y, 10, k=3, chunk=128))
    assert _is_causal(lambda x, y: lc.logistic_bits(x, y, 10, first=16))


def test_knn_probabilities_are_normalized():
    # with α only, the first label is coded uniformly
    assert lc.knn_bits(X, Y, 10, k=3)[0] == pytest.approx(math.log2(10))
    assert lc.knn_bits(X, Y, 10, chunk=64) == pytest.approx(lc.knn_bits(X, Y, 10, chunk=1000))


def test_reading_x_helps_on_digits():
    uniform = lc.uniform_bits(Y, 10).sum()
    assert lc.knn_bits(X, Y, 10).sum() < 0.6 * uniform
    logistic = lc.logistic_bits(X, Y, 10)
    assert logistic.sum() < 0.5 * uniform
    assert logistic.max() <= math.log2(10 / 0.01) + 1e-9  # the ε-mixture caps every label's cost


def test_representations():
    z = lc.pca(X, 5)
    assert z.shape == (len(X), 5)
    assert np.allclose(z.mean(0), 0, atol=1e-3)
    clusters = lc.kmeans(X, 10, seed=0)
    assert clusters.shape == (len(X),) and set(clusters.tolist()) <= set(range(10))
    assert (lc.kmeans(X, 10, seed=0) == clusters).all()
    feats = lc.rbf_features(X, 20)
    assert feats.shape == (len(X), 20) and (feats > 0).all() and (feats <= 1).all()
    assert lc.cluster_bits(clusters, Y, 10).sum() < lc.uniform_bits(Y, 10).sum()


def test_doubling_blocks_and_errors():
    assert lc.doubling_blocks(100, 16) == [0, 16, 32, 64, 100]
    assert lc.doubling_blocks(10, 16) == [0, 10]
    with pytest.raises(ValueError, match="labels"):
        lc.uniform_bits([0, 11], 10)
    with pytest.raises(ValueError, match="n_classes"):
        lc.adaptive_bits([0], 1)
    with pytest.raises(ValueError, match="features"):
        lc.knn_bits(X[:10], Y, 10)
    with pytest.raises(ValueError, match="epsilon"):
        lc.logistic_bits(X, Y, 10, epsilon=0)
    with pytest.raises(ValueError, match="clusters"):
        lc.cluster_bits([0, 1], Y, 10)
