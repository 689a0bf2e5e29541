"""lib.markov_sources: the true code lengths are those of valid distributions, samples follow
the source, and the regret of the truth against itself is zero."""

import itertools

import numpy as np
import pytest

from lib import markov_sources as ms


def test_chain_code_lengths_are_its_table():
    chain = ms.random_chain(2, 3, 0.5, rng=0)
    x = np.array([0, 1, 2, 2, 1])
    bits = chain.code_lengths(x)
    assert bits[:2] == pytest.approx([np.log2(3)] * 2)
    assert bits[2] == pytest.approx(-np.log2(chain.table[0 * 3 + 1, 2]))


def test_hmm_predictive_probabilities_sum_to_one():
    hmm = ms.random_hmm(3, 4, rng=1)
    prefix = [0, 3, 1]
    total = sum(2 ** -hmm.code_lengths(np.array(prefix + [s]))[-1] for s in range(4))
    assert total == pytest.approx(1.0)


def test_hmm_joint_probabilities_sum_to_one():  # the forward algorithm is a distribution
    hmm = ms.random_hmm(2, 3, stay=0.7, rng=2)
    total = sum(
        2 ** -hmm.code_lengths(np.array(x)).sum() for x in itertools.product(range(3), repeat=4)
    )
    assert total == pytest.approx(1.0)


def test_samples_follow_the_source():
    chain = ms.random_chain(1, 4, 0.5, rng=3)
    x = chain.sample(20_000, rng=4)
    assert chain.code_lengths(x).mean() == pytest.approx(chain.entropy_rate(), abs=0.05)
    hmm = ms.random_hmm(3, 5, rng=5)
    y = hmm.sample(5_000, rng=6)
    uniform = np.log2(5)
    assert hmm.code_lengths(y).mean() < uniform  # the truth compresses its own samples


def test_regret_curve():
    true = np.ones(10)
    assert ms.regret_curve(true, true, [1, 10]) == pytest.approx([0, 0])
    assert ms.regret_curve(true + 1, true, [5]) == pytest.approx([1])
    with pytest.raises(ValueError):
        ms.regret_curve(true, true, [11])


def test_as_bytes_and_bad_input():
    assert ms.as_bytes(np.array([0, 1, 25])) == b"abz"
    with pytest.raises(ValueError):
        ms.as_bytes(np.array([26]))
    with pytest.raises(ValueError):
        ms.MarkovChain(1, np.array([[0.5, 0.5]]))  # wrong shape for V=2, order 1
    with pytest.raises(ValueError):
        ms.random_hmm(1, 3)
    with pytest.raises(TypeError):
        ms.random_chain(1, 3, rng="seed")
    with pytest.raises(ValueError):
        ms.random_chain(1, 3).code_lengths(np.array([0, 3]))
