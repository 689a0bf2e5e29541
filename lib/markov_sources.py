"""Sources whose probabilities are known: Markov chains and hidden Markov models (chapter 6).

On real data nobody knows ``-log2 P(x)``, so nobody knows how far a compressor is from the
best possible code. On data drawn from a known source we do: the *true* predictive
probabilities ``P(x_t | x_<t)`` give the shortest code on average (Shannon), and the *regret*
of a learner's code ``L`` is

    R(x_{1:n}) = L(x_{1:n}) - (-log2 P(x_{1:n})) = sum_t [ -log2 q_t(x_t) + log2 P(x_t | x_<t) ]

bits: what the learner pays for not knowing the source. Its expectation is the KL divergence
``D(P || Q)`` of the source from the learner's joint distribution over ``x_{1:n}``.

- ``MarkovChain``: order ``k`` over ``V`` symbols; ``P(x_t | x_{t-k..t-1})`` is a row of a
  table, and the first ``k`` symbols are uniform.
- ``HiddenMarkovModel``: a hidden state ``s_t`` moves by a transition matrix ``A`` and emits
  ``x_t`` by an emission matrix ``B``. The predictive probability needs the *forward algorithm*:
  with the filtered belief ``b_t(s) = P(s_t = s | x_<t)``,

      P(x_t | x_<t) = sum_s b_t(s) B[s, x_t],   b_{t+1} = (b_t * B[:, x_t]) A / P(x_t | x_<t).

Symbols are ints ``0..V-1``; ``as_bytes`` writes them as the letters ``a, b, c, ...`` so that
byte compressors and byte-level models read them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _rng(seed_or_rng) -> np.random.Generator:
    if isinstance(seed_or_rng, np.random.Generator):
        return seed_or_rng
    if isinstance(seed_or_rng, (int, np.integer)) and seed_or_rng >= 0:
        return np.random.default_rng(int(seed_or_rng))
    raise TypeError(
        f"rng must be a non-negative int seed or a numpy Generator, got {seed_or_rng!r}"
    )


def _check_count(value, name: str, least: int = 1) -> int:
    if not isinstance(value, (int, np.integer)) or value < least:
        raise ValueError(f"{name} must be an int >= {least}, got {value!r}")
    return int(value)


def _check_stochastic(M: np.ndarray, name: str) -> np.ndarray:
    M = np.asarray(M, dtype=np.float64)
    if M.ndim < 1 or not np.all(M > 0) or not np.allclose(M.sum(-1), 1.0):
        raise ValueError(f"{name} must have positive rows that sum to 1")
    return M


def _symbols(x, V: int) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 1 or not np.issubdtype(x.dtype, np.integer):
        raise ValueError("x must be a 1-D array of int symbols")
    if len(x) and (x.min() < 0 or x.max() >= V):
        raise ValueError(f"x must hold symbols in 0..{V - 1}")
    return x.astype(np.int64)


# ---------------------------------------------------------------- Markov chains
@dataclass
class MarkovChain:
    """Order-``k`` chain: ``table[c]`` is ``P(next | context c)``, ``c`` the last ``k`` symbols
    read as a base-``V`` number (oldest first). ``table`` has shape ``(V**k, V)``."""

    order: int
    table: np.ndarray

    def __post_init__(self):
        _check_count(self.order, "order", 0)
        self.table = _check_stochastic(self.table, "table")
        V = self.table.shape[-1]
        if self.table.shape != (V**self.order, V):
            raise ValueError(f"table must have shape (V**order, V) = ({V**self.order}, {V})")

    @property
    def alphabet(self) -> int:
        return self.table.shape[-1]

    def contexts(self, x: np.ndarray) -> np.ndarray:
        """For every t >= k, the context index of ``x_{t-k..t-1}``."""
        V, k = self.alphabet, self.order
        c = np.zeros(max(len(x) - k, 0), dtype=np.int64)
        for j in range(k):
            c = c * V + x[j : len(x) - k + j]
        return c

    def sample(self, n: int, rng=0) -> np.ndarray:
        """``n`` symbols of the chain (the first ``k`` uniform)."""
        n, rng = _check_count(n, "n", 0), _rng(rng)
        V, k = self.alphabet, self.order
        x = np.empty(n, dtype=np.int64)
        x[: min(k, n)] = rng.integers(0, V, min(k, n))
        cdf = np.cumsum(self.table, axis=1)
        c = 0
        for j in range(min(k, n)):
            c = c * V + x[j]
        u = rng.random(n)
        for t in range(k, n):
            x[t] = min(np.searchsorted(cdf[c], u[t], side="right"), V - 1)
            c = (c * V + x[t]) % (V**k) if k else 0
        return x

    def code_lengths(self, x) -> np.ndarray:
        """``-log2 P(x_t | x_<t)`` (bits) of every symbol under the true chain."""
        x = _symbols(x, self.alphabet)
        bits = np.full(len(x), np.log2(self.alphabet))
        if len(x) > self.order:
            bits[self.order :] = -np.log2(self.table[self.contexts(x), x[self.order :]])
        return bits

    def entropy_rate(self) -> float:
        """``H = sum_c pi(c) H(table[c])`` bits per symbol, ``pi`` the stationary law of the
        contexts."""
        V, k = self.alphabet, self.order
        if k == 0:
            return float(-(self.table[0] * np.log2(self.table[0])).sum())
        n = V**k
        M = np.zeros((n, n))  # context -> next context
        for c in range(n):
            M[c, (c * V + np.arange(V)) % n] = self.table[c]
        w, v = np.linalg.eig(M.T)
        pi = np.real(v[:, np.argmin(abs(w - 1))])
        pi = pi / pi.sum()
        return float(-(pi[:, None] * self.table * np.log2(self.table)).sum())


def random_chain(order: int, alphabet: int, concentration: float = 0.5, rng=0) -> MarkovChain:
    """A chain with every row drawn from a symmetric Dirichlet(``concentration``): small values
    give peaked rows (a predictable source), large ones nearly uniform rows."""
    order, alphabet = _check_count(order, "order", 0), _check_count(alphabet, "alphabet", 2)
    if not concentration > 0:
        raise ValueError(f"concentration must be positive, got {concentration!r}")
    table = _rng(rng).dirichlet(np.full(alphabet, float(concentration)), size=alphabet**order)
    return MarkovChain(
        order, np.clip(table, 1e-12, None) / np.clip(table, 1e-12, None).sum(1, keepdims=True)
    )


# ---------------------------------------------------------------- hidden Markov models
@dataclass
class HiddenMarkovModel:
    """Start law ``start`` (S,), transitions ``A`` (S, S), emissions ``B`` (S, V)."""

    start: np.ndarray
    A: np.ndarray
    B: np.ndarray

    def __post_init__(self):
        self.start = _check_stochastic(self.start, "start")
        self.A = _check_stochastic(self.A, "A")
        self.B = _check_stochastic(self.B, "B")
        S = len(self.start)
        if self.A.shape != (S, S) or self.B.shape[0] != S:
            raise ValueError("start (S,), A (S, S) and B (S, V) must agree on S")

    @property
    def alphabet(self) -> int:
        return self.B.shape[1]

    def sample(self, n: int, rng=0) -> np.ndarray:
        """``n`` emitted symbols (the hidden path is drawn and discarded)."""
        n, rng = _check_count(n, "n", 0), _rng(rng)
        cdf_a, cdf_b = np.cumsum(self.A, 1), np.cumsum(self.B, 1)
        S, V = self.A.shape[0], self.alphabet
        s = min(np.searchsorted(np.cumsum(self.start), rng.random(), side="right"), S - 1)
        u, w = rng.random(n), rng.random(n)
        x = np.empty(n, dtype=np.int64)
        for t in range(n):
            x[t] = min(np.searchsorted(cdf_b[s], u[t], side="right"), V - 1)
            s = min(np.searchsorted(cdf_a[s], w[t], side="right"), S - 1)
        return x

    def code_lengths(self, x) -> np.ndarray:
        """``-log2 P(x_t | x_<t)`` (bits) by the forward algorithm (module docstring)."""
        x = _symbols(x, self.alphabet)
        belief, bits = self.start.copy(), np.empty(len(x))
        for t, s in enumerate(x):
            joint = belief * self.B[:, s]
            p = joint.sum()
            bits[t] = -np.log2(p)
            belief = (joint / p) @ self.A
        return bits


def random_hmm(
    states: int, alphabet: int, stay: float = 0.9, concentration: float = 0.3, rng=0
) -> HiddenMarkovModel:
    """An HMM that keeps its state with probability ``stay`` (else moves uniformly) and emits
    from a Dirichlet(``concentration``) row per state: long runs in one regime, so predicting
    well means inferring the hidden state from the recent past."""
    states, alphabet = _check_count(states, "states", 2), _check_count(alphabet, "alphabet", 2)
    if not 0 < stay < 1:
        raise ValueError(f"stay must be in (0, 1), got {stay!r}")
    if not concentration > 0:
        raise ValueError(f"concentration must be positive, got {concentration!r}")
    A = np.full((states, states), (1 - stay) / (states - 1))
    np.fill_diagonal(A, stay)
    B = _rng(rng).dirichlet(np.full(alphabet, float(concentration)), size=states)
    B = np.clip(B, 1e-6, None)
    return HiddenMarkovModel(np.full(states, 1.0 / states), A, B / B.sum(1, keepdims=True))


# ---------------------------------------------------------------- regret
def as_bytes(x) -> bytes:
    """Symbols ``0, 1, 2, ...`` as the letters ``a, b, c, ...`` (at most 26 symbols)."""
    x = np.asarray(x)
    if len(x) and (x.min() < 0 or x.max() >= 26):
        raise ValueError("as_bytes writes symbols 0..25 only")
    return (x.astype(np.uint8) + ord("a")).tobytes()


def regret_curve(model_bits, true_bits, lengths) -> np.ndarray:
    """``R(x_{1:n}) / n`` (bits per symbol) at every ``n`` in ``lengths``, from per-symbol code
    lengths of a causal learner (``model_bits``) and of the true source (``true_bits``)."""
    model_bits, true_bits = np.asarray(model_bits, float), np.asarray(true_bits, float)
    if model_bits.shape != true_bits.shape or model_bits.ndim != 1:
        raise ValueError("model_bits and true_bits must be 1-D arrays of the same length")
    lengths = np.asarray(lengths, dtype=np.int64)
    if len(lengths) == 0 or lengths.min() < 1 or lengths.max() > len(true_bits):
        raise ValueError(f"lengths must lie in 1..{len(true_bits)}")
    gap = np.cumsum(model_bits - true_bits)
    return gap[lengths - 1] / lengths
