"""lib.blc: the code round-trips, known terms, reduction, step limits, enumeration counts."""

import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import blc, integer_codes


def term_strategy(max_depth=6):
    """Random well-formed de Bruijn terms (not necessarily closed)."""
    var = st.integers(min_value=0, max_value=5)
    return st.recursive(
        var,
        lambda inner: st.one_of(st.tuples(inner), st.tuples(inner, inner)),
        max_leaves=25,
    )


@settings(max_examples=200, deadline=None)
@given(term_strategy())
def test_code_round_trip(term):
    bits = blc.encode(term)
    assert blc.decode(bits) == term
    assert blc.size(term) == len(bits)
    assert blc.decode_prefix(bits + "0110")[0] == term  # prefix-free: data may follow


@settings(max_examples=100, deadline=None)
@given(term_strategy())
def test_show_parse_round_trip(term):
    closed = term
    for _ in range(blc.free_bound(term)):
        closed = (closed,)
    assert blc.parse(blc.show(closed)) == closed


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="01", max_size=40))
def test_bits_round_trip(bits):
    assert blc.term_to_bits(blc.bits_to_term(bits)) == bits
    assert blc.run("0010" + bits).output == bits  # K(x) <= |x| + 4


def test_known_terms():
    assert blc.encode(blc.parse("λx. x")) == "0010"
    assert blc.encode(blc.parse("λx y. x")) == "0000110"
    assert blc.encode(blc.parse("λx y z. x z (y z)")) == "00000001011110100111010"
    assert blc.encode(blc.parse("λ λ 2")) == "0000110"
    assert blc.show(blc.parse("λx y z. x z (y z)")) == "λ λ λ 3 1 (2 1)"
    assert blc.TRUE == blc.parse("λx y. x") and blc.FALSE == blc.NIL == blc.parse("λx y. y")
    assert blc.size(blc.SELF_INTERPRETER) == 232
    assert blc.size(blc.church(3)) == 5 * 3 + 6


def test_decode_errors():
    for bad in ["", "0", "00", "01", "0001", "111", "01 10"]:
        with pytest.raises(ValueError):
            blc.decode(bad)
    with pytest.raises(ValueError, match="left over"):
        blc.decode("00101")
    with pytest.raises(TypeError):
        blc.decode(b"0010")
    with pytest.raises(ValueError, match="not a term"):
        blc.encode((1, 2, 3))
    with pytest.raises(ValueError):
        blc.encode(-1)
    with pytest.raises(ValueError, match="not a closed term"):
        blc.run("10")  # a free variable is not a program
    with pytest.raises(ValueError, match="unbound"):
        blc.parse("λx. y")
    with pytest.raises(ValueError):
        blc.normalize(blc.IDENTITY, max_steps=-1)


def test_reduction():
    p = blc.parse
    assert blc.normalize(p("(λx. x) (λy. y)")).term == p("λy. y")
    assert blc.normalize(p("(λx y. x) (λa. a)")).term == p("λy a. a")
    skk = p("(λx y z. x z (y z)) (λx y. x) (λx y. x)")
    r = blc.normalize(skk)
    assert r.halted and r.term == p("λz. z") and r.steps == 4
    # normal order finds the normal form even when an argument diverges
    k_omega = p("(λx y. y) ((λx. x x) (λx. x x))")
    assert blc.normalize(k_omega).term == p("λy. y")
    # free variables are kept and shifted correctly under binders
    assert blc.normalize(p("λa. (λx y. x y) a")).term == p("λa y. a y")


def test_step_limit_omega():
    omega = blc.parse("(λx. x x) (λx. x x)")
    r = blc.normalize(omega, max_steps=5000)
    assert r.status == "steps" and r.steps == 5000 and not r.halted and r.output is None
    growing = blc.parse("(λx. x x x) (λx. x x x)")  # the term grows without bound
    r = blc.normalize(growing, max_steps=10**9, max_work=100_000)
    assert r.status == "space"


def test_deep_terms_do_not_recurse():
    bits = "01" * 5000
    assert blc.run("0010" + bits).output == bits
    assert blc.encode(blc.decode(blc.encode(blc.bits_to_term(bits)))) == blc.encode(
        blc.bits_to_term(bits)
    )


def test_counts_match_an_independent_brute_force():
    # OEIS A114852 (n = 1..30); and a brute-force count of bit strings that parse
    assert [blc.count_terms(n) for n in range(1, 31)] == [
        0, 0, 0, 1, 0, 1, 1, 2, 1, 6, 5, 13, 14, 37, 44, 101, 134, 298, 431, 883, 1361,
        2736, 4405, 8574, 14334, 27465, 47146, 89270, 156360, 293840,
    ]  # fmt: skip
    for n in range(1, 15):
        brute = 0
        for i in range(2**n):
            bits = format(i, f"0{n}b")
            try:
                t, end = blc.decode_prefix(bits)
            except ValueError:
                continue
            brute += end == n and blc.is_closed(t)
        assert brute == blc.count_terms(n) == len(blc.terms(n))
    assert all(blc.is_closed(t) and blc.size(t) == 17 for t in blc.terms(17))


def test_self_interpreter_is_universal():
    for desc in ["0010" + "1101", "0010", blc.encode(blc.repetition_program("01", 3))]:
        direct = blc.run(desc)
        via = blc.run(blc.encode(blc.SELF_INTERPRETER) + desc, max_steps=100_000)
        assert direct.output is not None and via.output == direct.output


def test_programs():
    r = blc.run(blc.encode(blc.repetition_program("011", 5)))
    assert r.output == "011" * 5
    r = blc.run(blc.encode(blc.repetition_program("01", (blc.church(3), blc.church(2)))))
    assert r.output == "01" * 8  # 3 2 = 2^3
    d = blc.encode(blc.doubling_decoder())
    for x in ["", "1", "0110" * 4, "10" * 8 + "1"]:
        code = blc.doubling_code(x)
        assert blc.run(d + code, max_steps=100_000).output == x
    assert blc.doubling_code("0110" * 4) == "11" + "0" + "0110"


def test_enumeration_and_complexities():
    ds = blc.enumerate_descriptions(12, max_steps=200)
    assert len({(blc.encode(d.program), d.data, d.ended) for d in ds}) == len(ds)
    k = blc.complexities(ds)
    for n in range(0, 9):  # every string up to 8 bits is printed by 0010 x
        for i in range(2**n):
            x = format(i, f"0{n}b") if n else ""
            assert k[x] <= n + 4
    assert all(d.length <= 12 for d in ds)
    with pytest.raises(ValueError):
        blc.enumerate_descriptions(-1)


def test_lazy_enumeration_matches_running_each_description():
    for d in blc.enumerate_descriptions(13, max_steps=300):
        r = blc.run(blc.encode(d.program) + d.data, max_steps=300, max_work=200_000)
        assert (r.status, r.steps, r.output) == (d.status, d.steps, d.output)
        if not d.ended:  # the program never looked past its data: any continuation is the same
            r = blc.run(blc.encode(d.program) + d.data + "10", max_steps=300, max_work=200_000)
            assert (r.status, r.output) == (d.status, d.output)


# ---------------------------------------------------------------- prefix complexity (chapter 3)
def test_self_delimiting_descriptions_satisfy_kraft_and_plain_ones_do_not():
    ds = blc.enumerate_descriptions(14, max_steps=500)
    own = blc.self_delimiting(ds)
    assert own and all(not d.ended and d.status == "halted" for d in own)
    assert sum(2.0**-d.length for d in own) <= 1
    # no self-delimiting description is a proper prefix of another
    codes = sorted(blc.encode(d.program) + d.data for d in own)
    assert not any(b.startswith(a) for a, b in zip(codes, codes[1:]))
    plain = [d for d in ds if d.status == "halted" and d.output is not None]
    plain_codes = sorted(blc.encode(d.program) + d.data for d in plain)  # "0010" + x for every x
    assert any(b.startswith(a) for a, b in zip(plain_codes, plain_codes[1:]))


def test_universal_prior_and_prefix_complexities():
    ds = blc.enumerate_descriptions(14, max_steps=500)
    prior, KP, K = blc.universal_prior(ds), blc.prefix_complexities(ds), blc.complexities(ds)
    assert sum(prior.values()) <= 1 and set(prior) == set(KP)
    for x in prior:
        assert prior[x] >= 2.0 ** -KP[x]  # the shortest description alone
        assert KP[x] == blc.prefix_length(K[x]) >= K[x]
    assert blc.prefix_length(0) == 1 and blc.prefix_length(3) == 3 + len(integer_codes.delta(4))


# ---------------------------------------------------------------- hostile arguments (issue 16)
def test_deep_terms_parse_compare_and_print_without_recursion():
    deep = blc.parse("λ" * 10_000 + " 1")  # was a RecursionError
    assert blc.size(deep) == 2 * 10_000 + 2
    nested = blc.parse("(" * 5_000 + "λ 1" + ")" * 5_000)
    assert nested == blc.IDENTITY
    result = blc.normalize(deep)
    assert result == blc.normalize(deep)  # == of deep results used to recurse
    assert result != blc.normalize(blc.IDENTITY)
    assert len(repr(result)) < 200 and "halted" in repr(result)  # so did repr


def test_parse_is_unchanged_on_ordinary_input():
    assert blc.parse("λx y. x") == blc.TRUE
    assert blc.parse(r"\x. x x") == ((0, 0),)
    assert blc.parse("(λx y. x y) (λ 1)") == ((((1, 0),),), (0,))
    assert blc.parse("λ λ 2") == blc.TRUE
    for bad, match in [
        ("λx. y", "unbound"),
        ("(λ 1", "missing"),
        ("λ 2", "not bound"),
        ("", "empty"),
    ]:
        with pytest.raises(ValueError, match=match):
            blc.parse(bad)
    with pytest.raises(ValueError, match="unexpected"):
        blc.parse("λ 1)")


def test_normalize_validates_its_term():
    for bad in ("x", (1, 2, 3), [0], 1.5, ((0,), "a")):
        with pytest.raises(ValueError, match="not a term"):
            blc.normalize(bad)
    with pytest.raises(ValueError, match="max_steps"):
        blc.normalize(blc.IDENTITY, max_steps=True)


def test_decode_prefix_start_is_checked():
    bits = blc.encode(blc.IDENTITY)
    for start in (-2, -1, len(bits) + 1, 1.0, True):
        with pytest.raises(ValueError, match="start"):
            blc.decode_prefix(bits, start=start)  # -2 used to return a wrong term
    assert blc.decode_prefix("11" + bits, start=2) == (blc.IDENTITY, 6)


def test_count_terms_without_recursion():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(150)  # the old recursion needed n/2 levels and more
    try:
        assert blc.count_terms(160) > 10**30
    finally:
        sys.setrecursionlimit(limit)
    with pytest.raises(ValueError, match="at most"):
        blc.count_terms(2000)  # hours of work: refused with a reason
    with pytest.raises(ValueError, match="n must"):
        blc.count_terms(-1)
