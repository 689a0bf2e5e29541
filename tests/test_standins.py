"""The rehearsal's stand-in data (tools/standins.py): the CIFAR-10 stand-in's class structure.

Chapter 7 checks that pretrained features beat the same network's random ones. That check means
something only if the class is *not* readable linearly from what a random network's pooled
features carry (about the colour histogram), and *is* readable from what a model of the images
must learn (which colours go together)."""

import numpy as np
import pytest

from lib import data
from tools import standins


@pytest.fixture(scope="module")
def cifar(tmp_path_factory):
    path = tmp_path_factory.mktemp("cifar") / "cifar-10-binary.tar.gz"
    path.write_bytes(standins.cifar_file(np.random.default_rng(standins.SEED + 2)))
    train = data.read_cifar_binary(path, [f"data_batch_{i}.bin" for i in range(1, 6)])
    return train, data.read_cifar_binary(path, ["test_batch.bin"])


def test_the_matchings_hold_every_pair_once_and_every_colour_once_each():
    matchings = standins.colour_matchings()
    n = len(standins.CIFAR_COLOURS)
    assert len(matchings) == n - 1 >= 10  # one matching per class
    assert all(sorted(c for pair in m for c in pair) == list(range(n)) for m in matchings)
    pairs = {tuple(sorted(pair)) for m in matchings for pair in m}
    assert len(pairs) == n * (n - 1) // 2


def _colour_histograms(x):
    """Per image: the share of its pixels nearest to each of the stand-in's colours."""
    colours = standins.CIFAR_COLOURS
    flat = x.reshape(len(x), -1, 1, 3).astype(float)
    nearest = ((flat - colours) ** 2).sum(-1).argmin(-1)
    return np.stack([np.bincount(r, minlength=len(colours)) for r in nearest]) / nearest.shape[1]


def test_cifar_class_is_the_colour_pair_not_the_histogram(cifar):
    (x, y), (xt, yt) = cifar
    assert x.shape[1:] == (32, 32, 3) and set(y.tolist()) == set(range(10))
    h, ht = _colour_histograms(x), _colour_histograms(xt)
    # fails if the class became a linear function of the colours (then a random network's
    # features read it as well as pretrained ones, and chapter 7's check is luck again)
    means = np.stack([h[y == c].mean(0) for c in range(10)])
    nearest_mean = ((ht[:, None] - means[None]) ** 2).sum(-1).argmin(1)
    assert (nearest_mean == yt).mean() < 0.3
    # fails if the images lost their class structure: the two main colours name the class
    pair_class = {tuple(sorted(p)): c for c, m in enumerate(standins.colour_matchings()) for p in m}
    pairs = np.sort(np.argsort(-ht, axis=1)[:, :2], axis=1)
    assert np.mean([pair_class[tuple(p)] == t for p, t in zip(pairs, yt, strict=True)]) > 0.9
