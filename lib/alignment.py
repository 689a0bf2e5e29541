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


def wasserstein_procrustes(
    X: torch.Tensor,
    Y: torch.Tensor,
    Q0: torch.Tensor,
    iters: int = 10,
    eps: float = 0.05,
    sinkhorn_iters: int = 30,
) -> torch.Tensor:
    """Alternate (1) the entropic OT plan P between the points ``Q x_i`` and ``y_j`` (squared
    distances, scaled by their mean) and (2) ``Q = procrustes(X, N P Y)``, the rotation best
    mapping each x to its transported barycentre. Returns the final Q (B, d, d)."""
    X, Y = _batched(X, "X"), _batched(Y, "Y")
    Q = Q0.clone()
    for _ in range(iters):
        cost = torch.cdist(X @ Q.transpose(-1, -2), Y) ** 2
        plan = sinkhorn(cost / cost.mean((1, 2), keepdim=True), eps, sinkhorn_iters)
        Q = procrustes(X, X.shape[1] * plan @ Y)
    return Q


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


def cooccurrence(tokens: list[str], vocab: list[str], window: int = 4, device=None) -> torch.Tensor:
    """``C[a, b]`` = number of times word b occurs within ``window`` positions of word a (both in
    ``vocab``), weighted 1/distance. A (V, V) float tensor."""
    index = {w: i for i, w in enumerate(vocab)}
    ids = torch.tensor([index.get(t, -1) for t in tokens], device=device or runtime.device())
    V = len(vocab)
    C = torch.zeros(V * V, device=ids.device)
    for k in range(1, window + 1):
        a, b = ids[:-k], ids[k:]
        keep = (a >= 0) & (b >= 0)
        pairs = a[keep] * V + b[keep]
        C += torch.bincount(pairs, minlength=V * V).float() / k
    C = C.view(V, V)
    return C + C.T


def ppmi_embeddings(C: torch.Tensor, dim: int, alpha: float = 0.75) -> torch.Tensor:
    """Word vectors from co-occurrence counts: positive pointwise mutual information

        PPMI[a, b] = max(0, log P(a, b) / (P(a) P_alpha(b))),  P_alpha(b) ∝ count(b)^alpha,

    factorised by a truncated SVD, ``E = U_dim S_dim^{1/2}``; rows then length-normalised,
    centred and normalised again (as in Artetxe et al. 2018)."""
    total = C.sum()
    pa = C.sum(1, keepdim=True) / total
    pb = C.sum(0, keepdim=True) ** alpha
    pb = pb / pb.sum()
    pmi = torch.log((C / total).clamp_min(1e-30) / (pa * pb).clamp_min(1e-30))
    ppmi = torch.where(C > 0, pmi.clamp_min(0), torch.zeros_like(pmi))
    with runtime.threads(1, C.device):
        U, S, _ = torch.linalg.svd(ppmi)
    E = U[:, :dim] * S[:dim].sqrt()
    E = torch.nn.functional.normalize(E, dim=1)
    E = E - E.mean(0)
    return torch.nn.functional.normalize(E, dim=1)


def similarity_signature(E: torch.Tensor) -> torch.Tensor:
    """Each word's sorted similarities to all words, ``sort(sqrt-ish(E E^T))`` per row, normalised.

    Invariant under any rotation of the space and any relabelling of the words: comparable across
    languages before any alignment (the initialisation of Artetxe et al. 2018)."""
    M = E @ E.T
    M = torch.sign(M) * M.abs().sqrt()
    M = torch.sort(M, dim=1, descending=True).values
    M = M - M.mean(0)
    return torch.nn.functional.normalize(M, dim=1)


def csls(X: torch.Tensor, Y: torch.Tensor, k: int = 10) -> torch.Tensor:
    """Cross-domain similarity local scaling (Conneau et al. 2018), against hubness:
    ``2 cos(x, y) - r_Y(x) - r_X(y)``, ``r`` the mean cosine to the k nearest neighbours in the
    other space."""
    S = X @ Y.T
    rx = S.topk(k, dim=1).values.mean(1, keepdim=True)
    ry = S.topk(k, dim=0).values.mean(0, keepdim=True)
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
    T = torch.full((n, m), 1.0 / (n * m), device=Cx.device)
    for _ in range(iters):
        cost = -(Cx @ T @ Cy.T)
        cost = (cost - cost.min()) / (cost - cost.min()).mean()
        T = sinkhorn(cost[None], eps, sinkhorn_iters)[0]
    return T


def align_embeddings(
    X: torch.Tensor,
    Y: torch.Tensor,
    seed_words: int = 250,
    top: int = 500,
    iters: int = 30,
    eps: float = 0.025,
):
    """Unsupervised alignment of two embedding spaces (rows = words, most frequent first).

    1. Seed dictionary: the Gromov-Wasserstein coupling of the ``seed_words`` most frequent words
       of each side (similarity matrices only), each word paired with its most coupled partner.
    2. Self-learning (Artetxe et al. 2018): ``Q = procrustes`` on the current dictionary; a new
       dictionary from CSLS nearest neighbours, both directions, among the ``top`` words; repeat.
    Returns ``(Q, translation)``: ``translation[i]`` the index in Y of word i of X (CSLS).
    """
    with runtime.threads(1, X.device):
        k = min(seed_words, len(X), len(Y))
        T = gromov_wasserstein(X[:k] @ X[:k].T, Y[:k] @ Y[:k].T, eps)
        src, tgt = torch.arange(k, device=X.device), T.argmax(1)
        V = min(top, len(X), len(Y))
        every = torch.arange(V, device=X.device)
        for _ in range(iters):
            Q = procrustes(X[src][None], Y[tgt][None])[0]
            S = csls(X[:V] @ Q.T, Y[:V])
            src, tgt = torch.cat([every, S.argmax(0)]), torch.cat([S.argmax(1), every])
        Q = procrustes(X[src][None], Y[tgt][None])[0]
        return Q, csls(X @ Q.T, Y).argmax(1)


def precision_at_1(translation: torch.Tensor, truth: torch.Tensor, k: int) -> float:
    """Fraction of the first ``k`` source words whose predicted translation is the true one."""
    return (translation[:k] == truth[:k]).float().mean().item()


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
