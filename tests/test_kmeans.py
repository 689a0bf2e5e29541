import pytest
import torch

from lib import kmeans


def clusters(seed=0):
    centres = torch.tensor([[0.0, 0], [10, 0], [0, 10], [10, 10]])
    g = torch.Generator().manual_seed(seed)
    return centres, centres.repeat_interleave(50, 0) + 0.5 * torch.randn(200, 2, generator=g)


def test_kmeans_finds_well_separated_clusters():
    centres, x = clusters()
    g = torch.Generator().manual_seed(3)
    found = kmeans.kmeans(x, 4, 20, init="k-means++", generator=g)
    assert torch.cdist(centres, found).min(1).values.max() < 0.5  # every true centre is found
    labels = kmeans.nearest(x, found)
    assert len(set(labels.tolist())) == 4 and (torch.bincount(labels) == 50).all()


def test_lloyd_never_increases_the_within_cluster_sum_of_squares():
    _, x = clusters(1)
    g = lambda: torch.Generator().manual_seed(5)  # noqa: E731
    costs = []
    for it in range(6):
        c = kmeans.kmeans(x, 6, it, generator=g())
        costs.append(float((x - c[kmeans.nearest(x, c)]).square().sum()))
    assert all(b <= a + 1e-4 for a, b in zip(costs, costs[1:], strict=False))  # a wrong update


def test_an_empty_cluster_keeps_its_centre_and_seeds_reproduce():
    x = torch.tensor([[0.0], [0.1], [5.0]])
    c = kmeans.kmeans(x, 3, 5, generator=torch.Generator().manual_seed(0))
    assert torch.isfinite(c).all() and c.shape == (3, 1)
    again = kmeans.kmeans(x, 3, 5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(c, again)


def test_bad_input_raises():
    with pytest.raises(ValueError, match="k must"):
        kmeans.kmeans(torch.zeros(3, 2), 4)
    with pytest.raises(ValueError, match="x must"):
        kmeans.kmeans(torch.zeros(3), 1)
    with pytest.raises(ValueError, match="init"):
        kmeans.kmeans(torch.zeros(3, 2), 2, init="forgy")
