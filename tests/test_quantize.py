"""Tests of lib.quantize (chapter 1): quantization, the enumerative code, round trips."""

import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from lib import quantize

level_lists = st.integers(1, 3).flatmap(
    lambda k: st.tuples(st.just(k), st.lists(st.integers(-k, k), min_size=1, max_size=300))
)


def test_multinomial():
    assert quantize.multinomial([2, 1]) == 3
    assert quantize.multinomial([0, 0]) == 1
    assert quantize.multinomial([3, 2, 1]) == math.factorial(6) // (6 * 2)


def test_rank_is_a_bijection_onto_the_type_class():
    counts = [2, 1, 2]
    seqs = sorted(set(itertools.permutations([0, 0, 1, 2, 2])))
    ranks = [quantize.enumerative_rank(s, 3)[0] for s in seqs]
    assert ranks == list(range(quantize.multinomial(counts)))  # lexicographic order, no gaps
    for r, s in zip(ranks, seqs, strict=True):
        assert tuple(quantize.enumerative_unrank(r, counts)) == s


@given(level_lists)
def test_levels_round_trip(case):
    k, levels = case
    bits = quantize.encode_levels(levels, k)
    decoded, end = quantize.decode_levels(bits, len(levels), k)
    assert end == len(bits)
    assert decoded.tolist() == levels


@given(level_lists, st.integers(0, 15))
def test_classifier_round_trip_and_length(case, index):
    k, levels = case
    word = quantize.encode_classifier(index, 16, levels, k)
    got_index, got = quantize.decode_classifier(word, 16, lambda i: len(levels), lambda i: k)
    assert got_index == index and got.tolist() == levels
    counts = np.bincount(np.asarray(levels) + k, minlength=2 * k + 1)
    enumerative = (quantize.multinomial(counts.tolist()) - 1).bit_length()
    assert len(word) >= 4 + enumerative  # menu index + the index among arrangements + counts


def test_sparse_levels_get_short_codes():
    rng = np.random.default_rng(0)
    dense = rng.integers(-1, 2, size=650)
    sparse = np.where(rng.random(650) < 0.1, rng.choice([-1, 1], size=650), 0)
    assert len(quantize.encode_levels(sparse, 1)) < 0.5 * len(quantize.encode_levels(dense, 1))
    # near the entropy: n H(p) bits plus a small header
    p = np.bincount(sparse + 1, minlength=3) / 650
    entropy = -650 * sum(x * math.log2(x) for x in p if x > 0)
    assert len(quantize.encode_levels(sparse, 1)) < entropy + 40


@given(level_lists, st.data())
def test_corrupt_or_truncated_words_are_detected(case, data):
    k, levels = case
    word = quantize.encode_classifier(3, 16, levels, k)
    cut = data.draw(st.integers(0, len(word) - 1))
    with pytest.raises(ValueError):
        quantize.decode_classifier(word[:cut], 16, lambda i: len(levels), lambda i: k)
    with pytest.raises(ValueError):
        quantize.decode_classifier(word + "0", 16, lambda i: len(levels), lambda i: k)


def test_bad_arguments():
    with pytest.raises(ValueError, match="bits"):
        quantize.quantize_uniform([1.0], 0)
    with pytest.raises(ValueError, match="finite"):
        quantize.quantize_uniform([np.nan], 4)
    with pytest.raises(ValueError, match="levels"):
        quantize.encode_levels([2], 1)
    with pytest.raises(ValueError, match="menu_index"):
        quantize.encode_classifier(16, 16, [0], 1)
    with pytest.raises(ValueError, match="bits"):
        quantize.decode_classifier("012", 16, lambda i: 1, lambda i: 1)
    with pytest.raises(ValueError, match="rank"):
        quantize.enumerative_unrank(3, [2, 1])
    with pytest.raises(ValueError, match="step"):
        quantize.fit_quantized(
            torch.ones(2, 2), torch.zeros(2, dtype=torch.long), torch.zeros(2, 2), 0.0, 1
        )
    with pytest.raises(ValueError, match="l1"):
        quantize.fit_softmax(torch.ones(2, 2), torch.zeros(2, dtype=torch.long), l1=-1.0)


@given(st.lists(st.floats(-10, 10), min_size=1, max_size=50), st.integers(1, 12))
def test_quantize_uniform_levels_and_error(w, bits):
    levels, step = quantize.quantize_uniform(w, bits)
    top = 1 if bits == 1 else 2 ** (bits - 1) - 1
    assert step > 0 and np.all(np.abs(levels) <= top)
    if bits >= 2:  # never worse than rounding to the grid max|w| / K
        w = np.asarray(w)
        grid = (np.abs(w).max() / top) or 1.0
        naive = np.clip(np.round(w / grid), -top, top) * grid
        assert ((w - levels * step) ** 2).sum() <= ((w - naive) ** 2).sum() + 1e-9


def test_more_bits_less_error():
    w = np.random.default_rng(1).normal(size=1000)
    errors = [
        ((w - np.multiply(*quantize.quantize_uniform(w, b))) ** 2).mean() for b in (2, 4, 8, 16)
    ]
    assert errors == sorted(errors, reverse=True) and errors[-1] < 1e-8


def test_training_is_deterministic_and_learns():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(200, 3, generator=g)
    y = (X[:, 0] > 0).long()
    W1, W2 = quantize.fit_softmax(X, y), quantize.fit_softmax(X, y)
    assert torch.equal(W1, W2)
    assert (X @ W1).argmax(1).eq(y).float().mean() > 0.95
    levels = quantize.fit_quantized(X, y, W1, W1.abs().max().item() / 2, 1, epochs=50)
    assert set(np.unique(levels)) <= {-1, 0, 1}
    assert (X @ torch.tensor(levels, dtype=torch.float32)).argmax(1).eq(y).float().mean() > 0.9


def test_silent_garbage_is_refused():
    # issue 16: each of these returned a wrong answer without a word
    with pytest.raises(ValueError, match="levels must be whole"):
        quantize.encode_levels([0.9, -0.9], 1)  # was truncated to [0, 0]
    with pytest.raises(ValueError, match="step"):
        quantize.fit_quantized(
            torch.ones(2, 3), torch.tensor([0, 1]), torch.zeros(3, 2), step=math.nan, max_level=1
        )  # gave levels of -2**63
    with pytest.raises(ValueError, match="counts"):
        quantize.multinomial([2.5, 1])  # returned 3
    with pytest.raises(ValueError, match="empty"):
        quantize.quantize_uniform([], 1)  # returned step nan
    assert quantize.multinomial([2.0, 1]) == 3  # whole floats are fine
    assert quantize.decode_levels(quantize.encode_levels([1.0, -1.0], 1), 2, 1)[0].tolist() == [
        1,
        -1,
    ]


def test_arguments_are_named():
    with pytest.raises(TypeError, match="max_level"):
        quantize.encode_levels([0, 1], 1.5)
    with pytest.raises(ValueError, match="pos"):
        quantize.decode_levels("0101", 1, 1, pos=-2)
    with pytest.raises(ValueError, match="labels"):
        quantize.fit_softmax(torch.ones(3, 2), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="l1"):
        quantize.fit_softmax(torch.ones(2, 2), torch.tensor([0, 1]), l1=math.nan)
    with pytest.raises(ValueError, match="W0"):
        quantize.fit_quantized(torch.ones(2, 3), torch.tensor([0, 1]), torch.zeros(2, 2), 0.1, 1)
    with pytest.raises(TypeError, match="rank"):
        quantize.enumerative_unrank(1.5, [1, 1])
