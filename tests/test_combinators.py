"""Tests of lib.combinators (chapter 3): the bit code round-trips, bracket abstraction keeps the
meaning, and the two interpreters simulate one machine on the other."""

import itertools

import pytest

from lib import blc
from lib import combinators as cl

IDENTITY = (("S", "K"), "K")


def small_terms(leaves):
    if leaves == 1:
        return ["S", "K"]
    return [
        (a, b) for k in range(1, leaves) for a in small_terms(k) for b in small_terms(leaves - k)
    ]


def test_code_round_trips_and_is_prefix_free():
    codes = set()
    for n in range(1, 5):
        for t in small_terms(n):
            c = cl.encode(t)
            assert len(c) == 3 * n - 1 and cl.decode_prefix(c + "0110") == (t, len(c))
            codes.add(c)
    assert not any(a != b and b.startswith(a) for a, b in itertools.product(codes, codes))
    with pytest.raises(ValueError, match="end"):
        cl.decode_prefix("10")


def test_identity_prints_its_input():
    for x in ["", "0", "1", "0110"]:
        assert cl.run(cl.encode(IDENTITY) + x).output == x


def test_blc_simulates_cl():
    E = blc.encode(cl.cl_interpreter())
    for t in small_terms(1) + small_terms(3) + [IDENTITY]:
        for x in ["", "1", "01"]:
            d = cl.encode(t) + x
            v = cl.run(d, max_steps=2000)
            u = blc.run(E + d, max_steps=10**5, max_work=10**6)
            if v.output is not None:
                assert u.output == v.output


def test_cl_simulates_blc():
    C = cl.encode(cl.to_combinators(blc.SELF_INTERPRETER))
    for src, x in [("λx. x", "0110"), ("λl. l (λh t. t)", "101"), ("λl. l", "")]:
        p = blc.encode(blc.parse(src))
        assert cl.run(C + p + x, max_steps=10**6, max_work=10**7).output == blc.run(p + x).output


def test_bracket_abstraction_rejects_open_terms():
    with pytest.raises(ValueError, match="closed"):
        cl.to_combinators((0, 1))


def test_enumerate_terms_counts():
    # 2^n labelled binary trees with n leaves: Catalan(n - 1) * 2^n
    assert [len(cl.enumerate_terms(n)) for n in (1, 2, 3, 4)] == [2, 6, 22, 102]
    with pytest.raises(ValueError, match="max_leaves"):
        cl.enumerate_terms(0)
