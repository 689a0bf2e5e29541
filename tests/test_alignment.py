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
    result = alignment.align_embeddings(X, X @ Q.T, init_words=150, top=150)
    assert (
        alignment.precision_at_1(result.translation, torch.arange(150, device=X.device), 150) > 0.9
    )
    assert result.criterion > 0.99  # identical spaces: every translation has cosine 1


def anisotropic_words(n, d, seed):
    g = runtime.generator(seed)
    X = torch.randn(n, d, generator=g, device=runtime.device()) * torch.linspace(2, 0.5, d)
    return alignment.normalize_embeddings(X), g


def test_signature_is_invariant_and_recovers_a_relabelled_rotated_space():
    X, g = anisotropic_words(120, 8, 4)
    Q = alignment.random_rotation(8, 1, g)[0]
    perm = torch.randperm(120, generator=torch.Generator().manual_seed(0)).to(X.device)
    Y = (X @ Q.T)[perm]  # row j of Y is word perm[j] of X
    sx, sy = alignment.similarity_signature(X), alignment.similarity_signature(Y)
    assert torch.allclose(sx[perm], sy, atol=1e-4)
    src, tgt = alignment.signature_dictionary(X, Y, 120)
    inverse = torch.argsort(perm)
    assert (tgt[:120] == inverse).float().mean() > 0.95
    # stochastic self-learning from that start keeps the right map
    Q_hat, _ = alignment.self_learning(
        X, Y, src, tgt, top=120, keep=0.5, patience=3, generator=runtime.generator(1)
    )
    assert alignment.rotation_error(Q_hat, Q) < 1e-3


def test_gromov_wasserstein_finds_a_permutation_of_a_point_set():
    X, _ = anisotropic_words(40, 5, 5)
    perm = torch.randperm(40, generator=torch.Generator().manual_seed(1)).to(X.device)
    T = alignment.gromov_wasserstein(X @ X.T, X[perm] @ X[perm].T, eps=0.01)
    assert (T.argmax(1) == torch.argsort(perm)).float().mean() > 0.9
    assert torch.allclose(T.sum(), torch.tensor(1.0), atol=1e-4)


def test_induce_dictionary_is_bidirectional():
    S = torch.tensor([[0.9, 0.1, 0.0], [0.2, 0.8, 0.7], [0.1, 0.6, 0.5]])
    src, tgt, objective = alignment.induce_dictionary(S, keep=1.0)
    assert src.tolist() == [0, 1, 2, 0, 1, 1] and tgt.tolist() == [0, 1, 1, 0, 1, 2]
    assert objective == pytest.approx((0.9 + 0.8 + 0.6 + 0.9 + 0.8 + 0.7) / 6, abs=1e-6)
    src, tgt, _ = alignment.induce_dictionary(
        S, keep=0.5, generator=torch.Generator().manual_seed(0)
    )
    assert len(src) == len(tgt) == 6


def test_selection_picks_the_highest_criterion_and_rejects_bad_input():
    X, g = anisotropic_words(100, 10, 6)
    Q = alignment.random_rotation(10, 1, g)[0]
    runs = [dict(init_words=100, top=100), dict(init="signature", init_words=100, top=100)]
    best, results = alignment.select_alignment(X, X @ Q.T, runs)
    assert results[best].criterion == max(r.criterion for r in results)
    assert alignment.precision_at_1(results[best].translation, torch.arange(100), 100) > 0.9
    with pytest.raises(ValueError, match="runs"):
        alignment.select_alignment(X, X, [])
    with pytest.raises(ValueError, match="dimension"):
        alignment.align_embeddings(X, X[:, :5])
    with pytest.raises(ValueError, match="init"):
        alignment.align_embeddings(X, X, init="magic")
    with pytest.raises(ValueError, match="keep"):
        alignment.align_embeddings(X, X, keep=0.0)
    with pytest.raises(ValueError, match="X must be"):
        alignment.align_embeddings(X[0], X)
    with pytest.raises(ValueError, match="src and tgt"):
        alignment.self_learning(X, X, torch.arange(3), torch.arange(2))
    with pytest.raises(ValueError, match="start"):
        alignment.precision_at_1(torch.arange(5), torch.arange(5), 3, start=3)


def markov_text(words, length, seed):
    """A toy language: each word is followed by one of a few words of its own (a sparse Markov
    chain), frequencies roughly Zipfian."""
    g = torch.Generator().manual_seed(seed)
    V = len(words)
    nxt = torch.randint(0, V, (V, 4), generator=g) ** 2 // V  # favours frequent successors
    out, w = [], 0
    choice = torch.randint(0, 4, (length,), generator=g)
    for t in range(length):
        out.append(words[w])
        w = int(nxt[w, choice[t]])
    return out


def test_bilingual_pipeline_runs_at_full_scale_settings_on_a_small_text():
    # The full-scale path (many words, a high dimension, both initialisations) through the same
    # functions, on a toy text: shapes, truth and selection work; the vocabulary is clipped.
    words = markov_text([f"w{i}" for i in range(400)], 30_000, 0)
    words = [w.replace("w", "") for w in words]
    words = ["".join("abcdefghij"[int(c)] for c in w) for w in words]
    half_a, half_b, lexicon = alignment.two_languages(words, 1000, runtime.generator(0, "cpu"))
    bi = alignment.bilingual_embeddings(half_a, half_b, lexicon, vocab=5000, dim=50, window=5)
    assert len(bi.vocab_a) <= 400 and bi.X.shape == (len(bi.vocab_a), 50)
    assert (bi.truth >= 0).float().mean() > 0.9 and bi.counts_a[0] >= bi.counts_a[-1]
    runs = [
        dict(init_words=200, top=300),
        dict(init="signature", init_words=200, top=300, keep=0.1),
    ]
    best, results = alignment.select_alignment(bi.X, bi.Y, runs)
    assert all(r.translation.shape == (len(bi.vocab_a),) for r in results)
    assert 0 <= best < 2
    with pytest.raises(ValueError, match="dim"):
        alignment.bilingual_embeddings(half_a, half_b, lexicon, vocab=5000, dim=1000, window=5)
    with pytest.raises(ValueError, match="window"):
        alignment.cooccurrence(half_a, bi.vocab_a, window=0)


def test_heldout_agreement_prefers_the_true_map_to_a_wrong_one():
    X, g = anisotropic_words(200, 20, 7)
    Q = alignment.random_rotation(20, 1, g)[0]
    Y = alignment.normalize_embeddings(X @ Q.T + 0.05 * torch.randn(200, 20, generator=g))
    right = alignment.heldout_agreement(X, Y, Q, 200)
    wrong = [alignment.heldout_agreement(X, Y, R, 200) for R in alignment.random_rotation(20, 3, g)]
    assert right > 0.9 and max(wrong) < right - 0.3
    assert alignment.dictionary_similarity(X, Y, Q, 200) > 0.9


def test_refinement_never_lowers_the_criterion():
    X, g = anisotropic_words(200, 20, 8)
    Q = alignment.random_rotation(20, 1, g)[0]
    Y = alignment.normalize_embeddings(X @ Q.T + 0.05 * torch.randn(200, 20, generator=g))
    start = alignment.align_embeddings(X, Y, init_words=100, top=100, criterion_words=200)
    refined = alignment.refine_alignment(X, Y, start, top=200, criterion_words=200)
    assert refined.criterion >= start.criterion
    assert alignment.precision_at_1(refined.translation, torch.arange(200), 200) > 0.9
