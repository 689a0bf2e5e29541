"""Adaptive n-gram (context) models of bytes, and their Bayesian mixture (chapter 5).

Each model predicts the next byte from the ``k`` bytes before it and learns as it goes, so it is a
prequential code by itself: ``-log2 p(x_t | x_<t)`` bits per byte, no parameters transmitted.

- ``KT(k)``: counts ``n(c, s)`` of byte ``s`` after context ``c`` (the last ``k`` bytes), with the
  Krichevsky–Trofimov estimator ``p(s | c) = (n(c, s) + 1/2) / (n(c) + 256/2)``.
- ``Blend(k)``: contexts of every length ``j ≤ k`` blended from short to long (Witten–Bell,
  as in PPM): ``p_j(s) = (n(c_j, s) + u_j p_{j-1}(s)) / (n(c_j) + u_j)``, ``u_j`` the number of
  distinct bytes seen after ``c_j``, ``p_{-1}`` uniform.
- ``Mixture(models)``: the Bayesian mixture ``p(x_t | x_<t) = sum_i w_i(t) p_i(x_t | x_<t)`` with
  posterior weights ``w_i(t) ∝ w_i(0) prod_{u<t} p_i(x_u | x_<u)``. Its total code length is
  ``-log2 sum_i w_i(0) P_i(x)``, so with the uniform prior over ``K`` models

      L_mix(x) ≤ min_i L_i(x) + log2 K   bits, for every x:

  the mixture *simulates* the best model in hindsight at a constant price (chapter 5).

The mixture is also a compressor (``lib.prequential`` with ``model="ngram"``): ``Predictor``
puts it in the predict-then-observe protocol that ``lib.prequential``'s one driver codes, so
encoder and decoder compute identical float64 probabilities.
"""

from __future__ import annotations

import contextlib

import numpy as np

from lib import coding

V = 256  # bytes


def _check_order(k) -> int:
    if not isinstance(k, (int, np.integer)) or k < 0:
        raise ValueError(f"order must be a non-negative int, got {k!r}")
    return int(k)


class KT:
    """Order-``k`` counts with the Krichevsky–Trofimov (add-1/2) estimator."""

    def __init__(self, order: int, alpha: float = 0.5):
        self.order = _check_order(order)
        if not alpha > 0:
            raise ValueError(f"alpha must be positive, got {alpha!r}")
        self.alpha = float(alpha)
        self.counts: dict[bytes, np.ndarray] = {}
        self.name = f"KT order {self.order}"

    def predict(self, history: bytes) -> np.ndarray:
        """``p(· | last k bytes of history)``, a float64 vector of 256 positive entries."""
        c = self.counts.get(history[len(history) - self.order :] if self.order else b"")
        if c is None:
            return np.full(V, 1.0 / V)
        return (c + self.alpha) / (c.sum() + V * self.alpha)

    def update(self, history: bytes, symbol: int) -> None:
        key = history[len(history) - self.order :] if self.order else b""
        c = self.counts.get(key)
        if c is None:
            c = self.counts[key] = np.zeros(V)
        c[symbol] += 1


class Blend:
    """Contexts of lengths 0..k blended Witten–Bell style (a PPM-like model)."""

    def __init__(self, order: int):
        self.order = _check_order(order)
        self.counts: list[dict[bytes, np.ndarray]] = [{} for _ in range(self.order + 1)]
        self.name = f"blend order {self.order}"

    def _keys(self, history: bytes):
        n = len(history)
        return [history[n - j :] if j else b"" for j in range(min(self.order, n) + 1)]

    def predict(self, history: bytes) -> np.ndarray:
        p = np.full(V, 1.0 / V)
        for j, key in enumerate(self._keys(history)):
            c = self.counts[j].get(key)
            if c is None:
                break  # longer contexts are unseen too
            u = np.count_nonzero(c)
            p = (c + u * p) / (c.sum() + u)
        return p

    def update(self, history: bytes, symbol: int) -> None:
        for j, key in enumerate(self._keys(history)):
            c = self.counts[j].get(key)
            if c is None:
                c = self.counts[j][key] = np.zeros(V)
            c[symbol] += 1


def default_models(order: int = 4) -> list:
    """The models the ``ngram`` compressor mixes: KT of orders 0..k and the order-k blend."""
    order = _check_order(order)
    if order > 64:
        raise ValueError(f"order must be at most 64 (one model per order), got {order}")
    return [KT(j) for j in range(order + 1)] + [Blend(order)]


FIRST_BLOCK, LAST_BLOCK = 512, 8192  # bytes per fingerprinted block (coding.doubling_blocks)


class Mixture:
    """Bayesian mixture of adaptive models with a uniform prior (posterior-weighted average)."""

    def __init__(self, models):
        if isinstance(models, (str, bytes)) or not hasattr(models, "__iter__"):
            raise TypeError(f"models must be a list of models, got {type(models).__name__}")
        self.models = list(models)
        if not self.models:
            raise ValueError("models must be a non-empty list of models")
        for m in self.models:
            if not all(hasattr(m, a) for a in ("predict", "update", "order")):
                raise TypeError(f"models must hold models (predict, update, order), got {m!r:.40}")
        self.log_w = np.full(len(self.models), -np.log(len(self.models)))  # natural log
        self.span = max(m.order for m in self.models)  # bytes of history any model looks at

    def predict(self, history: bytes) -> tuple[np.ndarray, np.ndarray]:
        """``(p_mix, P)``: the mixture's distribution (256,) and every model's (K×256)."""
        each = np.stack([m.predict(history) for m in self.models])
        w = np.exp(self.log_w - self.log_w.max())
        return w @ each / w.sum(), each

    def update(self, history: bytes, symbol: int, each: np.ndarray) -> None:
        """Bayes' rule with the probabilities ``each`` of the observed ``symbol``, then learn."""
        self.log_w += np.log(each[:, symbol])
        self.log_w -= self.log_w.max()
        for m in self.models:
            m.update(history, symbol)


class Predictor:
    """The Bayesian mixture of ``models`` in the predict-then-observe protocol of
    ``lib.prequential`` (``alphabet = 256``): ``predict()`` gives ``(positions, probs)``, the
    index of the next byte and its float64 distribution (1×256), ``observe(symbols)`` learns
    the byte and says whether a fingerprinted block (``FIRST_BLOCK`` bytes, doubling up to
    ``LAST_BLOCK``) has just ended."""

    alphabet = V

    def __init__(self, models):
        self.mixture = Mixture(models)

    def begin(self, n: int) -> None:
        self.history, self._t = bytearray(), 0
        self._ends = (hi for _, hi in coding.doubling_blocks(n, FIRST_BLOCK, LAST_BLOCK))
        self._end = next(self._ends, -1)

    def exact(self):
        """float64 numpy on one thread: nothing to set."""
        return contextlib.nullcontext()

    def predict(self) -> tuple[np.ndarray, np.ndarray]:
        self._context = bytes(self.history[max(0, len(self.history) - self.mixture.span) :])
        p, self._each = self.mixture.predict(self._context)
        return np.array([self._t]), p[None]

    def observe(self, symbols) -> bool:
        s = int(symbols[0])
        self.mixture.update(self._context, s, self._each)
        self.history.append(s)
        self._t += 1
        if self._t == self._end:
            self._end = next(self._ends, -1)
            return True
        return False


def run(data: bytes, models) -> tuple[np.ndarray, np.ndarray]:
    """Code lengths (bits) of every byte: ``(each, mix)`` with ``each`` K×n (one row per model,
    each learning on its own) and ``mix`` (n,) for their Bayesian mixture, in one pass."""
    data = coding.as_bytes(data)
    mix = Mixture(models)
    x = np.frombuffer(data, dtype=np.uint8)
    each_bits = np.zeros((len(mix.models), len(x)))
    mix_bits = np.zeros(len(x))
    for t in range(len(x)):
        history = data[max(0, t - mix.span) : t]
        p, each = mix.predict(history)
        each_bits[:, t] = -np.log2(each[:, x[t]])
        mix_bits[t] = -np.log2(p[x[t]])
        mix.update(history, x[t], each)
    return each_bits, mix_bits


def code_lengths(data: bytes, models) -> np.ndarray:
    """Per-byte code lengths (bits) of the Bayesian mixture of ``models`` on ``data``."""
    return run(data, models)[1]


# ---------------------------------------------------------------- other ways to mix (chapter 5)
def fixed_share_bits(each_bits, alpha: float) -> np.ndarray:
    """Per-step code lengths (bits) of the *fixed-share* mixture (Herbster & Warmuth 1998) of
    ``K`` learners whose per-step code lengths are the rows of ``each_bits`` (K×n).

    After Bayes' rule every weight gives a share ``alpha`` to the others,
    ``w_i ← (1 − alpha) w_i + alpha / K``, so a learner that starts to lead late is followed
    quickly (a switch costs about ``log2 K + log2(1/alpha)`` bits): for every partition of the
    steps into ``m + 1`` segments, each coded by one learner,

        L_fs ≤ sum over segments of that learner's bits + (m+1) log2 K
               + m log2(1/alpha) + (n − 1 − m) log2(1/(1 − alpha)).

    ``alpha = 0`` is the Bayesian mixture of ``Mixture``."""
    b = np.asarray(each_bits, dtype=np.float64)
    if b.ndim != 2 or b.shape[0] < 1:
        raise ValueError(f"each_bits must be K×n, got shape {b.shape}")
    if not 0 <= alpha < 1:
        raise ValueError(f"alpha must be in [0, 1), got {alpha!r}")
    k, n = b.shape
    w = np.full(k, 1 / k)
    out = np.zeros(n)
    for t in range(n):
        p = 2.0 ** -b[:, t]
        mixed = float(w @ p)
        out[t] = -np.log2(mixed)
        w = w * p / mixed
        w = (1 - alpha) * w + alpha / k
    return out


def geometric_mixture_bits(data: bytes, models, lr: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
    """Code lengths of a *learned* mixture of the same ``models`` as ``Mixture`` (chapter 5):
    ``p(s) ∝ prod_i p_i(s)^{w_i}``, the weights ``w`` trained online by gradient descent on the
    code length itself, ``w ← w + lr (log p_i(x_t) − E_p[log p_i])`` (the byte-level form of the
    logistic mixing of ``lib.context_mixing``). Returns ``(bits, weights)``: per-byte bits (n,)
    and the weights after every byte (n×K). Starts at ``w = 1/K``."""
    data = coding.as_bytes(data)
    mix = Mixture(models)
    k = len(mix.models)
    w = np.full(k, 1 / k)
    x = np.frombuffer(data, dtype=np.uint8)
    bits, trace = np.zeros(len(x)), np.zeros((len(x), k))
    for t in range(len(x)):
        history = data[max(0, t - mix.span) : t]
        _, each = mix.predict(history)
        logs = np.log(each)  # K×256, natural log
        z = w @ logs
        p = np.exp(z - z.max())
        p /= p.sum()
        bits[t] = -np.log2(p[x[t]])
        w = w + lr * (logs[:, x[t]] - logs @ p)
        trace[t] = w
        mix.update(history, x[t], each)
    return bits, trace
