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


# ---------------------------------------------------------------- two-part vs prequential (ch. 5)
XS = (X / 16.0)[:200]
YS = Y[:200]


def test_quantized_costs_and_rounds():
    model = lc.classifier(XS.shape[1], 10, seed=1)
    q, cost = lc.quantized(model, 3)
    assert cost == 3 * (64 * 10 + 10) + 2 * 32
    for p in q.parameters():
        r = p.abs().max()
        levels = (p / (r / 3)).detach().numpy()  # 3 levels a side and zero: 7 in all
        assert np.allclose(levels, np.round(levels), atol=1e-4)
        assert set(np.round(levels).astype(int).ravel()) <= set(range(-3, 4))
    zero, _ = lc.quantized(model, 1)  # one bit: the grid is {0}
    assert all(float(p.detach().abs().max()) == 0 for p in zero.parameters())
    with pytest.raises(ValueError, match="bits"):
        lc.quantized(model, 0)


def test_kt_integer_code_and_grid():
    # catches a wrong closed form: KT of one repeated value over a one-letter alphabet is free
    assert lc.kt_integer_bits([5, 5, 5]) == pytest.approx(32)
    direct = 32 - sum(math.log2((c + 0.5) / (t + 1)) for t, c in enumerate([0, 0, 1, 1]))
    assert lc.kt_integer_bits([0, 1, 0, 1]) == pytest.approx(direct)  # A = 2: (n_s+½)/(t+1)
    model = lc.classifier(XS.shape[1], 10, seed=1)
    q, cost = lc.on_grid(model, 1.0)  # init weights are ~0.1: all round to zero, almost free
    assert all(
        float(p.detach().abs().max()) == 0 for p in q.parameters()
    ) and cost == pytest.approx(64)
    with pytest.raises(ValueError, match="step"):
        lc.on_grid(model, 0)


def test_two_part_code_totals_and_best_precision():
    code = lc.two_part_code(XS, YS, 10, precisions=range(1, 9), steps=50)
    rows = {("bits/weight", b): v for b, v in code["by_precision"].items()}
    rows.update({("step", d): v for d, v in code["by_step"].items()})
    totals = {k: sum(v) for k, v in rows.items()}
    assert code["best"] == min(totals, key=totals.get)
    assert code["total"] == pytest.approx(code["model_bits"] + code["data_bits"])
    fixed = code["by_precision"]
    choice = math.log2(8 + len(code["by_step"]))
    assert fixed[4][0] == pytest.approx(650 * 4 + 64 + choice)
    assert fixed[8][1] < fixed[2][1]  # finer weights, smaller residual
    assert fixed[1][1] == pytest.approx(len(YS) * math.log2(10), rel=1e-6)  # zero model: uniform
    # the grid includes the zero model, so the two-part code is never much worse than uniform
    assert code["total"] <= len(YS) * math.log2(10) + 64 + choice + 1e-3


def test_prequential_label_code_is_causal_and_learns():
    bits = lc.prequential_label_code(XS, YS, 10, first=16, steps=50)
    assert bits.shape == (200,) and np.all(bits > 0)
    assert np.all(bits[:16] == math.log2(10))
    assert bits[100:].mean() < 0.5 * math.log2(10)  # it has learned the digits
    changed = YS.copy()
    changed[128:] = (changed[128:] + 1) % 10
    again = lc.prequential_label_code(XS, changed, 10, first=16, steps=50)
    assert np.array_equal(bits[:128], again[:128])  # the past does not see the future
    assert lc.prequential_label_code(XS[:5], YS[:5], 10).tolist() == [math.log2(10)] * 5
    assert lc.prequential_label_code(XS[:0], YS[:0], 10).shape == (0,)


def test_label_code_inputs_are_checked():
    with pytest.raises(ValueError, match="N×D"):
        lc.two_part_code(XS[:10], YS[:9], 10)
    with pytest.raises(ValueError, match="labels"):
        lc.prequential_label_code(XS[:10], YS[:10] + 10, 10)
