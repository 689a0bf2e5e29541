"""lib.ctw: the sequential CTW equals the block formula, is causal, and symmetric where exact."""

import math
from collections import defaultdict

import numpy as np
import pytest

from lib import ctw, data


def log2_kt(a: int, b: int) -> float:
    """log2 of the KT block probability Γ(a+½)Γ(b+½) / (π Γ(a+b+1))."""
    return (
        math.lgamma(a + 0.5) + math.lgamma(b + 0.5) - math.log(math.pi) - math.lgamma(a + b + 1)
    ) / math.log(2)


def block_ctw_bits(x: bytes, depth: int) -> float:
    """``-log2 P_w(root)`` from the counts alone, by the recursion of the definition."""
    counts = defaultdict(lambda: [0, 0])  # (context bytes, bit prefix) -> [zeros, ones]
    padded = bytes(depth) + x
    for t, byte in enumerate(x):
        ctx = padded[t : t + depth]
        prefix = 1
        for j in range(7, -1, -1):
            bit = (byte >> j) & 1
            for d in range(depth + 1):
                counts[ctx[depth - d :], prefix][bit] += 1
            prefix = (prefix << 1) | bit

    def log2_pw(s: bytes, prefix: int) -> float:
        a, b = counts[s, prefix]
        pe = log2_kt(a, b)
        if len(s) == depth:
            return pe
        children = [
            c for c in counts if c[1] == prefix and len(c[0]) == len(s) + 1 and c[0][1:] == s
        ]
        below = sum(log2_pw(c[0], prefix) for c in children if sum(counts[c]) > 0)
        hi = max(pe, below)
        return hi + math.log2(0.5 * 2 ** (pe - hi) + 0.5 * 2 ** (below - hi))

    prefixes = {p for (s, p) in list(counts) if s == b""}
    return -sum(log2_pw(b"", p) for p in prefixes)


@pytest.mark.parametrize("depth", [0, 1, 2])
def test_sequential_equals_block_formula(depth):
    rng = np.random.default_rng(depth)
    x = bytes(rng.choice([97, 98, 99, 120], size=60).tolist())
    assert ctw.code_lengths(x, depth).sum() == pytest.approx(block_ctw_bits(x, depth), abs=1e-7)


def test_causal_and_compresses_text():
    text = data.text().encode()[:4000]
    x, y = text[:2500], text[2500:]
    assert np.array_equal(ctw.code_lengths(x + y)[: len(x)], ctw.code_lengths(x))
    bits = ctw.code_lengths(text, 3)
    assert bits.mean() < 3.5  # English text: far below 8 bits a byte
    assert ctw.code_lengths(text, 3).sum() < ctw.code_lengths(text, 0).sum()  # context helps


def test_depth_zero_is_exchangeable():
    # with no byte context, P_w depends only on the counts per bit prefix: any order of the bytes
    # gives the same code length (the exact symmetry of a Bayesian code)
    text = data.text().encode()[:3000]
    x, y = text[:1000], text[1000:]
    assert ctw.code_lengths(x + y, 0).sum() == pytest.approx(ctw.code_lengths(y + x, 0).sum())


def test_bad_input():
    with pytest.raises(ValueError, match="depth"):
        ctw.code_lengths(b"abc", -1)
    with pytest.raises(ValueError, match="depth"):
        ctw.code_lengths(b"abc", 1.5)
    with pytest.raises(TypeError):
        ctw.code_lengths("not bytes")
    assert len(ctw.code_lengths(b"")) == 0
