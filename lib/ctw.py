"""Context-tree weighting (CTW) of bytes: an exact Bayesian mixture over context trees (ch. 4).

Willems, Shtarkov and Tjalkens (1995). Each byte is coded as 8 binary decisions, most
significant bit first; bit ``j`` of byte ``t`` is predicted from the ``j`` bits of the byte so far
and from the ``D`` bytes before it. For every context ``s`` of ``d ≤ D`` previous bytes (and every
bit prefix) a node keeps the counts ``a`` (zeros) and ``b`` (ones) of the bits seen there, the
Krichevsky–Trofimov block probability

    P_e(a, b) = Γ(a + ½) Γ(b + ½) / (π Γ(a + b + 1)),

and the *weighted* probability

    P_w(s) = ½ P_e(s) + ½ ∏_c P_w(c s)   (c: one more byte of context),   P_w(s) = P_e(s) at d = D.

``P_w`` at the root is a Bayesian mixture of every tree source of depth ≤ ``D`` with KT
(Dirichlet-½) parameters at its leaves; a tree's prior weight is ``2^{-m}``, ``m`` the number of
its nodes (leaves included) at depth below ``D``. Like every Bayesian code it depends
on the data only through the counts at the nodes: reordering the data changes ``P_w`` only through
the contexts that straddle the reordering (the symmetry experiment of chapter 4).

Sequentially, with ``β(s) = P_e(s) / ∏_c P_w(c s)`` stored as ``log β`` (Willems and Tjalkens'
implementation), the conditional probability of the next bit along the path from the leaf
up is ``p_w(s) = (β p_e(s) + p_w(child)) / (β + 1)``; after the bit is seen
``β ← β · p_e(s) / p_w(child)``. The stream starts after ``D`` virtual zero bytes.
"""

from __future__ import annotations

import math

import numpy as np

from lib import coding

__all__ = ["code_lengths", "DEFAULT_DEPTH"]

DEFAULT_DEPTH = 3  # bytes of context


BAR_BYTES = 4096  # the progress bar moves once per this many bytes


def _weight(log_beta: float) -> float:
    """``β / (β + 1)`` from ``log β``, without overflow."""
    if log_beta >= 0:
        return 1.0 / (1.0 + math.exp(-log_beta))
    e = math.exp(log_beta)
    return e / (1.0 + e)


def code_lengths(data: bytes, depth: int = DEFAULT_DEPTH, progress: bool = True) -> np.ndarray:
    """Per-byte code lengths ``-log2 P_w(x_t | x_<t)`` (bits) of CTW, ``depth`` bytes of context.

    Their sum is ``-log2 P_w(x)`` at the root, the code length an arithmetic coder reaches
    within 2 bits. Causal: ``code_lengths(x + y)[:len(x)] == code_lengths(x)``.
    ``progress``: a bar over the bytes (shown unless ``BOOK_PROGRESS=0``).
    """
    from lib import runtime

    data = coding.as_bytes(data)
    if not isinstance(depth, (int, np.integer)) or isinstance(depth, bool) or depth < 0:
        raise ValueError(f"depth must be a non-negative int, got {depth!r}")
    depth = int(depth)
    bar = runtime.progress(
        total=len(data),
        desc=f"CTW depth {depth}",
        unit="B",
        unit_scale=True,
        leave=False,
        disable=not runtime.check_progress(progress),
    )
    nodes: list[dict[int, list[float]]] = [{} for _ in range(depth + 1)]  # [a, b, log β]
    history = bytes(depth) + data
    out = np.zeros(len(data))
    for t, byte in enumerate(data):
        if t % BAR_BYTES == 0 and t:
            bar.update(BAR_BYTES)
        ctx = history[t : t + depth]  # the depth bytes before byte t
        keys = [int.from_bytes(ctx[depth - d :], "big") << 8 for d in range(depth + 1)]
        prefix, bits = 1, 0.0
        for j in range(7, -1, -1):
            bit = (byte >> j) & 1
            path = []
            for d in range(depth + 1):
                key = keys[d] | prefix
                node = nodes[d].get(key)
                if node is None:
                    node = nodes[d][key] = [0.0, 0.0, 0.0]
                path.append(node)
            # the leaf predicts with KT, every node above mixes its KT with its child's mixture
            leaf = path[depth]
            pe = (leaf[bit] + 0.5) / (leaf[0] + leaf[1] + 1.0)
            pw = pe
            leaf[bit] += 1.0
            for d in range(depth - 1, -1, -1):
                node = path[d]
                pe = (node[bit] + 0.5) / (node[0] + node[1] + 1.0)
                w = _weight(node[2])
                child = pw
                pw = w * pe + (1.0 - w) * child
                node[2] += math.log(pe) - math.log(child)
                node[bit] += 1.0
            bits -= math.log2(pw)
            prefix = (prefix << 1) | bit
        out[t] = bits
    bar.close()
    return out
