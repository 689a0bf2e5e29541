"""Tests of lib.alignment: Procrustes and Sinkhorn are exact where they must be, a rotation is
recovered from an asymmetric cloud, embeddings and the invented language behave."""

import pytest
import torch

from lib import alignment, runtime


def test_procrustes_recovers_an_exact_rotation():
    g = runtime.generator(0)
    Q = alignment.random_rotation(5, 3, g)
    X = torch.randn(3, 40, 5, generator=g, device=Q.device)
    got = alignment.procrustes(X, X @ Q.transpose(1, 2))
    assert alignment.rotation_error(got, Q).max() < 1e-4
    assert torch.allclose(Q @ Q.transpose(1, 2), torch.eye(5).expand(3, 5, 5), atol=1e-5)


def test_sinkhorn_plan_has_uniform_marginals():
    g = runtime.generator(1)
    cost = torch.rand(2, 30, 20, generator=g, device=runtime.device())
    P = alignment.sinkhorn(cost, eps=0.1, iters=300)
    assert torch.allclose(P.sum(2), torch.full((2, 30), 1 / 30), atol=1e-4)
    assert torch.allclose(P.sum(1), torch.full((2, 20), 1 / 20), atol=1e-4)
    with pytest.raises(ValueError, match="eps"):
        alignment.sinkhorn(cost, eps=0.0)


def test_rotation_is_recovered_from_a_skewed_cloud_but_not_an_isotropic_one():
    g = runtime.generator(2)
    Q = alignment.random_rotation(3, 4, g)
    X = alignment.skewed_cloud(800, 3, 4, g)
    Y = alignment.skewed_cloud(800, 3, 4, g) @ Q.transpose(1, 2)
    assert alignment.rotation_error(alignment.recover_rotation(X, Y), Q).max() < 0.1
    Xi = alignment.isotropic_gaussian(800, 3, 4, g)
    Yi = alignment.isotropic_gaussian(800, 3, 4, g) @ Q.transpose(1, 2)
    assert alignment.rotation_error(alignment.recover_rotation(Xi, Yi), Q).mean() > 0.3


def test_invented_language_is_a_bijection():
    words = "the cat sat on the mat with a cat".split()
    lex = alignment.invent_language(words, runtime.generator(0, "cpu"))
    assert set(lex) == set(words) and len(set(lex.values())) == len(lex)
    assert all(w.isalpha() for w in lex.values())


def test_embeddings_are_unit_vectors_and_cooccurrence_is_symmetric():
    tokens = ("a b c a b d " * 50).split()
    vocab = alignment.vocabulary(tokens, 4)
    assert vocab[:2] == ["a", "b"]
    C = alignment.cooccurrence(tokens, vocab, window=2)
    assert torch.equal(C, C.T)
    E = alignment.ppmi_embeddings(C, dim=3)
    assert torch.allclose(E.norm(dim=1), torch.ones(4), atol=1e-5)


def test_alignment_of_a_relabelled_space():
    g = runtime.generator(3)
    X = torch.nn.functional.normalize(
        torch.randn(150, 10, generator=g, device=runtime.device()), dim=1
    )
    X = X * torch.linspace(2, 0.5, 10, device=X.device)  # an anisotropic cloud of "words"
    X = torch.nn.functional.normalize(X, dim=1)
    Q = alignment.random_rotation(10, 1, g)[0]
    _, translation = alignment.align_embeddings(X, X @ Q.T, seed_words=150, top=150)
    assert alignment.precision_at_1(translation, torch.arange(150, device=X.device), 150) > 0.9
