"""lib.ngram: adaptive byte models give valid distributions; the Bayesian mixture pays at most
log2 K bits over the best of its K models."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import coding, ngram

TEXT = b"abracadabra, abracadabra! " * 20


def models():
    return [ngram.KT(0), ngram.KT(2), ngram.Blend(3)]


@settings(max_examples=20, deadline=None)
@given(st.binary(max_size=200))
def test_every_model_gives_a_distribution(data):
    for m in models():
        for t in range(len(data) + 1):
            p = m.predict(data[:t])
            assert p.shape == (256,) and (p > 0).all()
            assert abs(p.sum() - 1) < 1e-12
            if t < len(data):
                m.update(data[:t], data[t])


def test_kt_is_the_add_half_rule():
    m = ngram.KT(1)
    for t, s in enumerate(b"abab"):
        m.update(b"abab"[:t], s)
    p = m.predict(b"a")  # after "a": "b" twice
    assert p[ord("b")] == pytest.approx((2 + 0.5) / (2 + 128))


@settings(max_examples=15, deadline=None)
@given(st.binary(max_size=150))
def test_mixture_regret_is_at_most_log2_k(data):
    each, mix = ngram.run(data, models())
    best = each.sum(axis=1).min()
    assert mix.sum() <= best + np.log2(len(each)) + 1e-9


def test_mixture_tracks_the_best_model():
    each, mix = ngram.run(TEXT, models())
    assert mix.sum() <= each.sum(axis=1).min() + np.log2(3) + 1e-9
    assert mix.sum() < each.sum(axis=1).max()  # much better than the worst
    assert each[:, -100:].mean() < 2.0  # repetitive text becomes cheap


def test_predictor_is_the_mixture_in_the_protocol():
    # the driver's code lengths of ngram.Predictor are the mixture's (catches a predictor
    # that predicts from the wrong history, or learns before it predicts)
    from lib import prequential

    predictor = ngram.Predictor(models())
    bits = np.zeros(len(TEXT))
    x = np.frombuffer(TEXT, dtype=np.uint8)
    fps = prequential.drive(predictor, len(x), prequential._byte_step(x, bits))
    assert np.allclose(bits, ngram.code_lengths(TEXT, models()), rtol=0, atol=1e-12)
    assert len(fps) == coding.count_blocks(len(x), ngram.FIRST_BLOCK, ngram.LAST_BLOCK)


def test_bad_arguments():
    with pytest.raises(ValueError, match="order"):
        ngram.KT(-1)
    with pytest.raises(ValueError, match="models"):
        ngram.Mixture([])
    with pytest.raises(TypeError):
        ngram.code_lengths("text", models())


def test_fixed_share_tracks_a_switch_and_is_bayes_at_zero():
    # catches a share that is not renormalised, or alpha=0 differing from the Bayes mixture
    e, mx = ngram.run(b"hello hello hello world", [ngram.KT(0), ngram.KT(1)])
    assert np.allclose(ngram.fixed_share_bits(e, 0.0), mx)
    # learner 0 is perfect (0 bits) for 50 steps, then learner 1 is: a switch in the middle
    each = np.zeros((2, 100))
    each[0, 50:] = each[1, :50] = 10.0
    bayes, fs = ngram.fixed_share_bits(each, 0.0).sum(), ngram.fixed_share_bits(each, 0.02).sum()
    bound = 2 * 1 + np.log2(1 / 0.02) + 98 * np.log2(1 / 0.98)  # m = 1 switch, K = 2
    assert fs <= bound + 1e-9 < bayes
    with pytest.raises(ValueError, match="alpha"):
        ngram.fixed_share_bits(each, 1.0)


def test_geometric_mixture_learns_weights_on_the_same_experts():
    text = b"the cat sat on the mat; the cat sat on the hat. " * 6
    bits, w = ngram.geometric_mixture_bits(text, [ngram.KT(0), ngram.KT(2)], lr=0.05)
    each, _ = ngram.run(text, [ngram.KT(0), ngram.KT(2)])
    assert bits.shape == (len(text),) and w.shape == (len(text), 2)
    assert w[-1, 1] > w[-1, 0]  # catches weights that do not move towards the better expert
    assert bits.sum() < each.sum(axis=1).max()  # better than the worse expert
