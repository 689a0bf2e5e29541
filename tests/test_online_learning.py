"""lib.online_learning: the SGD code is a prequential code (each batch coded before it is
learned), and the KT learner is exchangeable over the order of the examples."""

import math

import numpy as np
import pytest
import torch

from lib import online_learning as ol
from lib.models import GPT, GPTConfig, RecurrentLM, RNNConfig


def examples(n=64, T=8, V=4, seed=0):
    return torch.randint(0, V, (n, T), generator=torch.Generator().manual_seed(seed))


def test_kt_code_is_exchangeable():
    data = examples()
    perm = torch.randperm(len(data), generator=torch.Generator().manual_seed(1))
    a, b = ol.kt_code(data, 4, order=1).sum(), ol.kt_code(data[perm], 4, order=1).sum()
    assert a == pytest.approx(b, abs=1e-6)


def test_kt_code_of_one_symbol():
    assert ol.kt_code(torch.tensor([[3]]), 4, order=2).sum() == pytest.approx(8.0)  # log2 256


def test_sgd_code_first_batch_is_the_untrained_model():
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=5, block_size=8, n_layer=1, n_head=2, n_embd=8))
    data = examples()
    before = ol.example_bits(model, data[:16], 4).detach().numpy()
    bits = ol.sgd_code(model, data, 4, batch_size=16)
    assert np.allclose(bits[:16], before, atol=1e-5)  # coded before any step
    assert abs(bits[:16].mean() / 8 - math.log2(4)) < 0.2  # near uniform at the start


def test_sgd_learns_a_constant_sequence():
    torch.manual_seed(0)
    model = RecurrentLM(RNNConfig(vocab_size=5, hidden=16))
    data = torch.full((512, 8), 2, dtype=torch.long)
    bits = ol.sgd_code(model, data, 4, batch_size=16, lr=1e-2)
    assert bits[-16:].mean() < 0.1 * bits[:16].mean()
    assert ol.heldout_bits(model, data[:10], 4) < 0.05


def test_mask_counts_only_masked_positions():
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=5, block_size=8, n_layer=1, n_head=2, n_embd=8))
    data = examples(8)
    mask = torch.zeros(8, dtype=torch.bool)
    mask[3] = True
    full = ol.example_bits(model, data, 4)
    one = ol.example_bits(model, data, 4, mask)
    assert (one < full).all()


def test_bad_input():
    with pytest.raises(TypeError):
        ol.kt_code(np.zeros((2, 2)), 4)
    with pytest.raises(ValueError):
        ol.kt_code(torch.tensor([[4]]), 4)
    model = GPT(GPTConfig(vocab_size=5, block_size=8, n_layer=1, n_head=2, n_embd=8))
    with pytest.raises(ValueError):
        ol.sgd_code(model, examples(), 4, batch_size=0)
    with pytest.raises(ValueError):
        ol.sgd_code(model, examples(), 4, mask=torch.zeros(8, dtype=torch.bool))
