"""Distribution matching in continuous spaces: aligning two point clouds with no correspondences.

Chapter 2. Given samples ``x_1..x_N`` of ``P_X`` and ``y_1..y_N`` of ``P_Y = Q_# P_X`` (the same
distribution, rotated by an unknown orthogonal ``Q``), find

    Q* = argmin_{Q orthogonal}  W_2^2(Q_# P_X, P_Y),

the Wasserstein-Procrustes problem. We alternate an entropic optimal transport plan between
``Q x`` and ``y`` (Sinkhorn) with the orthogonal Procrustes solution given that plan (an SVD).
The same machinery aligns word embeddings of two languages without a dictionary.

Conventions: clouds are tensors (B, N, d) (a batch of B problems) or (N, d); ``Q`` maps x to y,
``y ≈ Q x``, i.e. ``Y ≈ X Q^T`` for row-vector clouds.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from lib import runtime


def _batched(t: torch.Tensor, name: str) -> torch.Tensor:
    if not isinstance(t, torch.Tensor) or t.dim() not in (2, 3):
        raise ValueError(f"{name} must be a tensor of shape (N, d) or (B, N, d)")
    return t if t.dim() == 3 else t[None]


# ---------------------------------------------------------------- orthogonal maps
def random_rotation(
    d: int,
    batch: int = 1,
    generator: torch.Generator | None = None,
    device: torch.device | None = None,
) -> torch.Tensor:
    """Haar-random orthogonal matrices (batch, d, d): QR of a Gaussian matrix, signs fixed."""
    if not isinstance(d, int) or d < 1:
        raise ValueError(f"d must be a positive int, got {d!r}")
    g = torch.randn(batch, d, d, generator=generator, device=device or runtime.device())
    q, r = torch.linalg.qr(g)
    return q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1))[:, None, :]


def procrustes(X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """Orthogonal Procrustes: ``argmin_Q ||X Q^T - Y||_F`` over orthogonal Q is ``U V^T`` where
    ``Y^T X = U S V^T``. Batched over a leading axis."""
    u, _, vh = torch.linalg.svd(Y.transpose(-1, -2) @ X)
    return u @ vh


def rotation_error(Q_hat: torch.Tensor, Q: torch.Tensor) -> torch.Tensor:
    """``||Q_hat - Q||_F / sqrt(2d)``: 0 for the right map, about 1 for an unrelated rotation."""
    d = Q.shape[-1]
    return torch.linalg.matrix_norm(Q_hat - Q) / math.sqrt(2 * d)


# ---------------------------------------------------------------- optimal transport
def sinkhorn(cost: torch.Tensor, eps: float, iters: int = 100) -> torch.Tensor:
    """Entropic OT plan between uniform weights: ``argmin_P <P, C> - eps H(P)`` with marginals
    ``1/N`` and ``1/M``: ``P = diag(u) K diag(v)``, ``K = exp(-C / eps)``, alternately rescaling
    rows and columns (Sinkhorn's iterations). Batched over a leading axis: (B, N, M) -> (B, N, M).
    Costs are shifted per row first (the plan does not change) so that K does not underflow."""
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps!r}")
    B, N, M = cost.shape
    K = torch.exp(-(cost - cost.amin(2, keepdim=True)) / eps)
    Kt = K.transpose(1, 2).contiguous()
    u = torch.full((B, N, 1), 1.0 / N, dtype=K.dtype, device=K.device)
    for _ in range(iters):
        v = (1.0 / M) / (Kt @ u).clamp_min(1e-30)
        u = (1.0 / N) / (K @ v).clamp_min(1e-30)
    return u * K * v.transpose(1, 2)


def alternate_transport(cost, eps: float, iters: int, sinkhorn_iters: int) -> torch.Tensor:
    """The loop shared by Wasserstein-Procrustes and Gromov-Wasserstein: ``iters`` times, a cost
    from the current plan, ``cost(plan)`` (B, N, M) (``plan`` is None the first time), then the
    entropic transport plan for that cost, shifted to minimum 0 and scaled to mean 1 so that
    ``eps`` is relative to the typical cost. Returns the last plan (B, N, M)."""
    plan = None
    for _ in range(iters):
        C = cost(plan)
        C = C - C.amin((1, 2), keepdim=True)
        plan = sinkhorn(C / C.mean((1, 2), keepdim=True).clamp_min(1e-30), eps, sinkhorn_iters)
    return plan


def wasserstein_procrustes(
    X: torch.Tensor,
    Y: torch.Tensor,
    Q0: torch.Tensor,
    iters: int = 10,
    eps: float = 0.05,
    sinkhorn_iters: int = 30,
) -> torch.Tensor:
    """Alternate (1) the entropic OT plan P between the points ``Q x_i`` and ``y_j`` (squared
    distances) and (2) ``Q = procrustes(X, N P Y)``, the rotation best mapping each x to its
    transported barycentre (``alternate_transport``). Returns the final Q (B, d, d)."""
    X, Y = _batched(X, "X"), _batched(Y, "Y")
    N = X.shape[1]
    rotation = lambda plan: Q0 if plan is None else procrustes(X, N * plan @ Y)
    cost = lambda plan: torch.cdist(X @ rotation(plan).transpose(-1, -2), Y) ** 2
    return rotation(alternate_transport(cost, eps, iters, sinkhorn_iters))


# ---------------------------------------------------------------- initialisation from moments
def moment_init(X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """A first guess of Q from the moments alone (no matching).

    Second moments give the principal axes, ``Cov X = U_X L U_X^T`` and likewise for Y, which
    determine Q up to one sign per axis when the eigenvalues are distinct; the sign of the third
    moment (skewness) along each axis picks the sign. ``Q0 = U_Y S U_X^T``. Both steps fail exactly
    when the distribution is symmetric: equal eigenvalues, zero skewness.
    """
    X, Y = _batched(X, "X"), _batched(Y, "Y")
    X, Y = X - X.mean(1, keepdim=True), Y - Y.mean(1, keepdim=True)
    _, ux = torch.linalg.eigh(X.transpose(1, 2) @ X)
    _, uy = torch.linalg.eigh(Y.transpose(1, 2) @ Y)
    skew_x = ((X @ ux) ** 3).mean(1)
    skew_y = ((Y @ uy) ** 3).mean(1)
    signs = torch.sign(skew_x * skew_y)
    return uy @ (signs[:, :, None] * ux.transpose(1, 2))


# ---------------------------------------------------------------- the point clouds
def skewed_cloud(
    n: int, d: int, batch: int = 1, generator: torch.Generator | None = None, device=None
) -> torch.Tensor:
    """Samples (batch, n, d) of an anisotropic, asymmetric distribution in R^d: independent
    coordinates ``x_k = s_k (E_k - 1)`` with ``E_k`` exponential (skewness 2) and distinct scales
    ``s_k`` from 1 down to 0.3. Distinct variances fix the axes, skewness fixes their signs: the
    distribution has no non-trivial orthogonal symmetry."""
    device = device or runtime.device()
    scales = torch.linspace(1.0, 0.3, d, device=device)
    e = torch.empty(batch, n, d, device=device).exponential_(1.0, generator=generator)
    return (e - 1.0) * scales


def isotropic_gaussian(
    n: int, d: int, batch: int = 1, generator: torch.Generator | None = None, device=None
) -> torch.Tensor:
    """Samples (batch, n, d) of N(0, I): invariant under every rotation, so Q is unidentifiable."""
    return torch.randn(batch, n, d, generator=generator, device=device or runtime.device())


def recover_rotation(X: torch.Tensor, Y: torch.Tensor, iters: int = 10, eps: float = 0.05):
    """``wasserstein_procrustes`` started from ``moment_init``: the chapter's rotation solver."""
    with runtime.threads(1, X.device):
        return wasserstein_procrustes(X, Y, moment_init(X, Y), iters, eps)


# ---------------------------------------------------------------- word embeddings, two languages
CONSONANTS, VOWELS = "bdfgklmnprstvz", "aeiou"


def invent_language(words: list[str], generator: torch.Generator | None = None) -> dict[str, str]:
    """A word-level substitution: every distinct word gets an invented, pronounceable word
    (consonant-vowel syllables, about one per two letters of the original); all distinct."""
    lexicon, used = {}, set()
    for w in sorted(set(words)):
        syllables = max(1, (len(w) + 1) // 2)
        while True:
            c = torch.randint(0, len(CONSONANTS), (syllables,), generator=generator, device="cpu")
            v = torch.randint(0, len(VOWELS), (syllables,), generator=generator, device="cpu")
            new = "".join(
                CONSONANTS[i] + VOWELS[j] for i, j in zip(c.tolist(), v.tolist(), strict=True)
            )
            if new not in used:
                break
            syllables += 1 if torch.rand(1, generator=generator, device="cpu").item() < 0.5 else 0
        lexicon[w] = new
        used.add(new)
    return lexicon


def vocabulary(tokens: list[str], size: int) -> list[str]:
    """The ``size`` most frequent words, most frequent first (ties broken alphabetically)."""
    counts: dict[str, int] = {}
    for t in tokens:
        counts[t] = counts.get(t, 0) + 1
    return sorted(counts, key=lambda w: (-counts[w], w))[:size]


def cooccurrence(
    tokens: list[str], vocab: list[str], window: int = 4, harmonic: bool = True, device=None
) -> torch.Tensor:
    """``C[a, b]`` = number of times word b occurs within ``window`` positions of word a (both in
    ``vocab``), on either side (a symmetric window), each occurrence weighted ``1/distance`` when
    ``harmonic`` and 1 otherwise. A symmetric (V, V) float tensor."""
    if not isinstance(window, int) or window < 1:
        raise ValueError(f"window must be a positive int, got {window!r}")
    if len(vocab) == 0 or len(set(vocab)) != len(vocab):
        raise ValueError("vocab must be a non-empty list of distinct words")
    index = {w: i for i, w in enumerate(vocab)}
    ids = torch.tensor([index.get(t, -1) for t in tokens], device=device or runtime.device())
    V = len(vocab)
    C = torch.zeros(V * V, device=ids.device)
    for k in range(1, min(window, len(ids) - 1) + 1):
        a, b = ids[:-k], ids[k:]
        keep = (a >= 0) & (b >= 0)
        pairs = a[keep] * V + b[keep]
        C += torch.bincount(pairs, minlength=V * V).float() / (k if harmonic else 1)
    C = C.view(V, V)
    return C + C.T


def normalize_embeddings(E: torch.Tensor) -> torch.Tensor:
    """Rows to unit length, the mean row subtracted, rows to unit length again (Artetxe et al.
    2018): cosine similarity becomes a dot product and no direction is shared by all words."""
    E = torch.nn.functional.normalize(E, dim=-1)
    E = E - E.mean(-2, keepdim=True)
    return torch.nn.functional.normalize(E, dim=-1)


def ppmi_embeddings(
    C: torch.Tensor, dim: int, alpha: float = 0.75, power: float = 0.5
) -> torch.Tensor:
    """Word vectors from co-occurrence counts: positive pointwise mutual information with
    context-distribution smoothing (Levy et al. 2015)

        PPMI[a, b] = max(0, log P(a, b) / (P(a) P_alpha(b))),  P_alpha(b) ∝ count(b)^alpha,

    factorised by a truncated SVD with eigenvalue weighting ``E = U_dim S_dim^power``, then
    ``normalize_embeddings``. A (V, dim) tensor."""
    if not isinstance(dim, int) or not 1 <= dim <= min(C.shape):
        raise ValueError(f"dim must be an int in 1..{min(C.shape)}, got {dim!r}")
    total = C.sum()
    if not total > 0:
        raise ValueError("the co-occurrence matrix is empty: no two vocabulary words co-occur")
    pa = C.sum(1, keepdim=True) / total
    pb = C.sum(0, keepdim=True) ** alpha
    pb = pb / pb.sum()
    pmi = torch.log((C / total).clamp_min(1e-30) / (pa * pb).clamp_min(1e-30))
    ppmi = torch.where(C > 0, pmi.clamp_min(0), torch.zeros_like(pmi))
    with runtime.threads(1, C.device):
        U, S, _ = torch.linalg.svd(ppmi)
    return normalize_embeddings(U[:, :dim] * S[:dim] ** power)


def word_vectors(
    tokens: list[str], vocab: list[str], dim: int, window: int, harmonic: bool = True
) -> torch.Tensor:
    """``ppmi_embeddings(cooccurrence(tokens, vocab, window), dim)``: one language's vectors."""
    return ppmi_embeddings(cooccurrence(tokens, vocab, window, harmonic), dim)


def similarity_signature(E: torch.Tensor) -> torch.Tensor:
    """Each word's sorted similarities to all words under the square root of the similarity
    matrix: with ``E = U S V^T``, ``sqrt(E E^T) = U S U^T``; each row sorted, then normalised.

    Invariant under any rotation of the space and any relabelling of the words, so comparable
    across languages before any alignment: the initialisation of Artetxe et al. (2018), who
    observed that the square root makes the two languages' similarity distributions more alike."""
    U, S, _ = torch.linalg.svd(E, full_matrices=False)
    M = (U * S) @ U.T
    return normalize_embeddings(torch.sort(M, dim=1, descending=True).values)


def csls(X: torch.Tensor, Y: torch.Tensor, k: int = 10) -> torch.Tensor:
    """Cross-domain similarity local scaling (Conneau et al. 2018), against hubness:
    ``2 cos(x, y) - r_Y(x) - r_X(y)``, ``r`` the mean cosine to the k nearest neighbours in the
    other space. Batched over a leading axis."""
    S = X @ Y.transpose(-1, -2)
    k = min(k, S.shape[-1], S.shape[-2])
    rx = S.topk(k, dim=-1).values.mean(-1, keepdim=True)
    ry = S.topk(k, dim=-2).values.mean(-2, keepdim=True)
    return 2 * S - rx - ry


def gromov_wasserstein(
    Cx: torch.Tensor,
    Cy: torch.Tensor,
    eps: float = 0.03,
    iters: int = 50,
    sinkhorn_iters: int = 100,
) -> torch.Tensor:
    """Entropic Gromov-Wasserstein coupling of two similarity matrices (Peyré et al. 2016):

        min_T  sum_{i,k,j,l} (Cx[i,k] - Cy[j,l])^2 T[i,j] T[k,l] - eps H(T),

    compares the *shapes* of the two spaces, not their coordinates, so no rotation is needed. For
    the square loss each step is a Sinkhorn problem with cost ``-Cx T Cy^T`` (plus constants)."""
    n, m = len(Cx), len(Cy)
    start = torch.full((1, n, m), 1.0 / (n * m), device=Cx.device)
    cost = lambda T: -(Cx @ (start if T is None else T) @ Cy.T)
    return alternate_transport(cost, eps, iters, sinkhorn_iters)[0]


# ---------------------------------------------------------------- aligning two vocabularies
class Alignment(NamedTuple):
    """The result of ``align_embeddings``: the map ``Q`` (d, d) with ``Y ≈ X Q^T``, the
    ``translation`` (index in Y of each word of X, by CSLS), and two unsupervised criteria by
    which runs can be compared without any dictionary: ``criterion`` (``heldout_agreement``) and
    ``similarity`` (``dictionary_similarity``, Conneau et al.'s)."""

    Q: torch.Tensor
    translation: torch.Tensor
    criterion: float
    similarity: float


def signature_dictionary(X: torch.Tensor, Y: torch.Tensor, words: int = 1000):
    """An initial dictionary without any alignment: each of the first ``words`` words on either
    side paired with its CSLS nearest neighbour by ``similarity_signature`` (both directions).
    Returns ``(src, tgt)`` index tensors."""
    n = min(words, len(X), len(Y))
    S = csls(similarity_signature(X[:n]), similarity_signature(Y[:n]))
    every = torch.arange(n, device=X.device)
    return torch.cat([every, S.argmax(0)]), torch.cat([S.argmax(1), every])


def induce_dictionary(
    S: torch.Tensor, keep: float, generator: torch.Generator | None = None, mutual: bool = False
):
    """A bidirectional dictionary from a (V, V) score matrix: every source word's best target and
    every target word's best source, after dropping each score at random with probability
    ``1 - keep`` (stochastic dictionary induction, Artetxe et al. 2018: it lets self-learning
    escape the poor local optimum of its first dictionary). With ``mutual``, only the pairs that
    are each other's best in both directions. Returns ``(src, tgt, objective)``,
    the objective being the mean best score (without dropout)."""
    if keep < 1:
        drop = torch.rand(S.shape, generator=generator, device=S.device) >= keep
        S_kept = S.masked_fill(drop, float("-inf"))
    else:
        S_kept = S
    every = torch.arange(len(S), device=S.device)
    forward, backward = S_kept.argmax(1), S_kept.argmax(0)
    if mutual:  # only the pairs that are each other's best: fewer, surer pairs
        src = (backward[forward] == every).nonzero()[:, 0]
        tgt = forward[src]
    else:
        src, tgt = torch.cat([every, backward]), torch.cat([forward, every])
    objective = (S.amax(1).mean() + S.amax(0).mean()).item() / 2
    return src, tgt, objective


def self_learning(
    X: torch.Tensor,
    Y: torch.Tensor,
    src: torch.Tensor,
    tgt: torch.Tensor,
    top: int = 2000,
    keep: float = 1.0,
    patience: int = 10,
    max_iters: int = 300,
    generator: torch.Generator | None = None,
    mutual: bool = False,
):
    """Robust self-learning (Artetxe et al. 2018): ``Q = procrustes`` on the current dictionary;
    a new bidirectional dictionary from CSLS scores among the ``top`` most frequent words
    (``induce_dictionary``, keeping each score with probability ``keep``, mutual pairs only if
    ``mutual``); repeat. When the objective has not improved for ``patience`` iterations,
    ``keep`` doubles; at ``keep = 1`` the next stall ends the loop. Returns ``(Q, iterations)``."""
    if len(src) == 0 or len(src) != len(tgt):
        raise ValueError("src and tgt must be index tensors of the same, non-zero length")
    V = min(top, len(X), len(Y))
    best, stall, iterations = -math.inf, 0, 0
    while iterations < max_iters:
        iterations += 1
        Q = procrustes(X[src][None], Y[tgt][None])[0]
        src, tgt, objective = induce_dictionary(csls(X[:V] @ Q.T, Y[:V]), keep, generator, mutual)
        if objective > best + 1e-6:
            best, stall = objective, 0
        else:
            stall += 1
        if stall >= patience:
            if keep >= 1:
                break
            keep, stall = min(1.0, 2 * keep), 0
    return procrustes(X[src][None], Y[tgt][None])[0], iterations


def dictionary_similarity(X: torch.Tensor, Y: torch.Tensor, Q: torch.Tensor, words: int = 1000):
    """The unsupervised validation criterion of Conneau et al. (2018): the mean cosine between
    each of the ``words`` most frequent source words, mapped by Q, and its CSLS translation. It
    needs no dictionary; a good map brings translations close together."""
    n = min(words, len(X))
    mapped = X[:n] @ Q.T
    tgt = csls(mapped, Y).argmax(1)
    return (mapped * Y[tgt]).sum(1).mean().item()


def heldout_agreement(X: torch.Tensor, Y: torch.Tensor, Q: torch.Tensor, words: int = 300) -> float:
    """A cross-validated criterion: does the map's dictionary generalise to words it was not fitted
    on? The mutual CSLS nearest neighbours among the ``words`` most frequent words of each side
    form a dictionary; it is split in two (alternate pairs); Procrustes fitted on either half
    translates the other half's source words, and the criterion is the fraction of them that land
    on their partner, averaged over the two folds. No true dictionary is used.

    A rotation in d dimensions has d(d-1)/2 parameters, enough to fit a wrong dictionary of a few
    hundred pairs almost as well as the right one, so in-sample similarities can be fooled; a
    wrong dictionary is arbitrary and does not predict held-out pairs, the right one does."""
    n = min(words, len(X), len(Y))
    S = csls(X[:n] @ Q.T, Y[:n])
    forward, backward = S.argmax(1), S.argmax(0)
    src = (backward[forward] == torch.arange(n, device=X.device)).nonzero()[:, 0]
    tgt = forward[src]
    if len(src) < 4:
        return 0.0
    agree = []
    for fold in (0, 1):
        fit = torch.arange(len(src), device=X.device) % 2 == fold
        Q_fold = procrustes(X[src[fit]][None], Y[tgt[fit]][None])[0]
        guess = csls(X[src[~fit]] @ Q_fold.T, Y[:n]).argmax(1)
        agree.append((guess == tgt[~fit]).float().mean().item())
    return sum(agree) / 2


def align_embeddings(
    X: torch.Tensor,
    Y: torch.Tensor,
    init: str = "gromov",
    init_words: int = 250,
    top: int = 500,
    eps: float = 0.025,
    keep: float = 1.0,
    patience: int = 10,
    criterion_words: int = 300,
    generator: torch.Generator | None = None,
) -> Alignment:
    """Unsupervised alignment of two embedding spaces (rows = words, most frequent first; rows
    normalised as by ``normalize_embeddings``).

    1. Initial dictionary among the ``init_words`` most frequent words of each side, with no
       alignment: ``init="gromov"``, each word paired with its most coupled partner under the
       Gromov-Wasserstein coupling (entropy ``eps``) of the two similarity matrices, or
       ``init="signature"`` (``signature_dictionary``, Artetxe et al. 2018).
    2. ``self_learning`` among the ``top`` most frequent words (``keep < 1``: stochastic).
    Returns an ``Alignment``: Q, the CSLS translation of every word of X, and the criteria
    ``heldout_agreement`` and ``dictionary_similarity`` over the ``criterion_words`` most
    frequent words."""
    for name, E in (("X", X), ("Y", Y)):
        if not isinstance(E, torch.Tensor) or E.dim() != 2 or len(E) < 2:
            raise ValueError(f"{name} must be a (V, d) tensor of word vectors with V >= 2")
    if X.shape[1] != Y.shape[1]:
        raise ValueError(f"X and Y must have the same dimension, got {X.shape[1]} and {Y.shape[1]}")
    if not 0 < keep <= 1:
        raise ValueError(f"keep must be in (0, 1], got {keep!r}")
    with runtime.threads(1, X.device):
        if init == "signature":
            src, tgt = signature_dictionary(X, Y, init_words)
        elif init == "gromov":
            k = min(init_words, len(X), len(Y))
            T = gromov_wasserstein(X[:k] @ X[:k].T, Y[:k] @ Y[:k].T, eps)
            src, tgt = torch.arange(k, device=X.device), T.argmax(1)
        else:
            raise ValueError(f"init must be 'signature' or 'gromov', got {init!r}")
        Q, _ = self_learning(X, Y, src, tgt, top, keep, patience, generator=generator)
        translation = csls(X @ Q.T, Y).argmax(1)
        return Alignment(
            Q,
            translation,
            heldout_agreement(X, Y, Q, criterion_words),
            dictionary_similarity(X, Y, Q, criterion_words),
        )


def refine_alignment(
    X: torch.Tensor, Y: torch.Tensor, start: Alignment, top: int, criterion_words: int = 300
) -> Alignment:
    """A last round of self-learning from a chosen run, over the ``top`` most frequent words (more
    than the run used) and with mutual nearest neighbours only, so that the rarer, noisier words
    add only the pairs both sides agree on. Kept only if ``heldout_agreement`` rises: the
    criterion, not the truth, decides. Returns the better ``Alignment``."""
    with runtime.threads(1, X.device):
        V = min(top, len(X), len(Y))
        src, tgt, _ = induce_dictionary(csls(X[:V] @ start.Q.T, Y[:V]), 1.0, mutual=True)
        Q, _ = self_learning(X, Y, src, tgt, V, mutual=True)
        criterion = heldout_agreement(X, Y, Q, criterion_words)
        if criterion <= start.criterion:
            return start
        translation = csls(X @ Q.T, Y).argmax(1)
        return Alignment(Q, translation, criterion, dictionary_similarity(X, Y, Q, criterion_words))


class Bilingual(NamedTuple):
    """Two monolingual embedding spaces and the hidden truth, from ``bilingual_embeddings``."""

    X: torch.Tensor
    Y: torch.Tensor
    truth: torch.Tensor
    vocab_a: list[str]
    vocab_b: list[str]
    counts_a: torch.Tensor


def bilingual_embeddings(
    half_a: list[str],
    half_b: list[str],
    lexicon: dict[str, str],
    vocab: int,
    dim: int,
    window: int,
) -> Bilingual:
    """Word vectors of the ``vocab`` most frequent words of each half (``word_vectors``), the true
    translation (for evaluation only) and the source words' counts in their half."""
    vocab_a, vocab_b = vocabulary(half_a, vocab), vocabulary(half_b, vocab)
    if min(len(vocab_a), len(vocab_b)) <= dim:
        raise ValueError(
            f"dim = {dim} needs more than {dim} distinct words per half, "
            f"got {len(vocab_a)} and {len(vocab_b)}"
        )
    counts: dict[str, int] = {}
    for t in half_a:
        counts[t] = counts.get(t, 0) + 1
    return Bilingual(
        word_vectors(half_a, vocab_a, dim, window),
        word_vectors(half_b, vocab_b, dim, window),
        true_translation(vocab_a, vocab_b, lexicon),
        vocab_a,
        vocab_b,
        torch.tensor([counts[w] for w in vocab_a]),
    )


def select_alignment(X: torch.Tensor, Y: torch.Tensor, runs: list[dict]):
    """Run ``align_embeddings(X, Y, **settings)`` for every settings dict in ``runs`` and choose
    the run with the highest unsupervised criterion. Returns ``(best_index, alignments)``."""
    if not runs:
        raise ValueError("runs must hold at least one settings dict")
    alignments = [align_embeddings(X, Y, **settings) for settings in runs]
    best = max(range(len(runs)), key=lambda i: alignments[i].criterion)
    return best, alignments


def precision_at_1(translation: torch.Tensor, truth: torch.Tensor, k: int, start: int = 0) -> float:
    """Fraction of the source words of ranks ``start..k-1`` (most frequent first) whose predicted
    translation is the true one (a word whose translation is missing from Y counts as wrong)."""
    if not 0 <= start < k:
        raise ValueError(f"need 0 <= start < k, got start={start!r}, k={k!r}")
    return (translation[start:k] == truth[start:k]).float().mean().item()


def two_languages(words: list[str], block: int = 1000, generator: torch.Generator | None = None):
    """Split a token list into two disjoint halves (alternate blocks of ``block`` words) and rewrite
    the second half in an invented language. Returns ``(half_a, half_b_invented, lexicon)``."""
    if not isinstance(block, int) or block < 1:
        raise ValueError(f"block must be a positive int, got {block!r}")
    if len(words) < 4 * block:
        raise ValueError(
            f"words must hold at least 4 blocks ({4 * block} tokens), got {len(words)}"
        )
    halves = ([], [])
    for start in range(0, len(words), block):
        halves[(start // block) % 2].extend(words[start : start + block])
    lexicon = invent_language(words, generator)
    return halves[0], [lexicon[w] for w in halves[1]], lexicon


def true_translation(
    vocab_a: list[str], vocab_b: list[str], lexicon: dict[str, str]
) -> torch.Tensor:
    """For each word of ``vocab_a``, the index of its invented form in ``vocab_b`` (or -1)."""
    where = {w: i for i, w in enumerate(vocab_b)}
    return torch.tensor([where.get(lexicon[w], -1) for w in vocab_a], device=runtime.device())
