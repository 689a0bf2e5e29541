"""lib.memory_tasks: the copy task copies, and matched models have about equal sizes."""

import math

import pytest
import torch

from lib import memory_tasks as mt
from lib.models import RecurrentLM, RNNConfig


def test_copy_task_layout():
    x, mask = mt.copy_task(5, 4, 3, torch.Generator().manual_seed(0))
    assert x.shape == (5, 9) and mask.sum() == 4 and not mask[:5].any()
    assert (x[:, 4] == 3).all() and torch.equal(x[:, :4], x[:, 5:])
    assert mt.memory_bits(4, 8) == pytest.approx(12.0)


def test_matched_gpt_is_closest_in_ratio():
    target = RecurrentLM(RNNConfig(vocab_size=10, hidden=32)).n_params()
    c = mt.matched_gpt(target, 10, 21)
    ratio = mt.gpt_params(c) / target
    assert 0.5 < ratio < 2
    for w in (8, 12, 16, 24, 32, 48, 64):
        other = mt.gpt_params(type(c)(vocab_size=10, block_size=21, n_layer=1, n_head=4, n_embd=w))
        assert abs(math.log(ratio)) <= abs(math.log(other / target)) + 1e-12


def test_bad_input():
    with pytest.raises(ValueError):
        mt.copy_task(0, 4, 3)
    with pytest.raises(ValueError):
        mt.matched_gpt(0, 10, 21)
    with pytest.raises(ValueError):
        RNNConfig(hidden=0)
