"""Combinatory logic with its own bit code: a second universal machine beside BLC (chapter 3).

Terms are ``"S"``, ``"K"`` or a pair ``(M, N)`` for the application ``M N``; while compiling from
the lambda calculus they may also hold a de Bruijn variable (an ``int``). The bit code (Tromp's
for combinatory logic): ``K = 00``, ``S = 01``, ``M N = 1 code(M) code(N)``, prefix-free.

The machine ``V``: read the code of a closed combinator ``p`` from the front of the description,
hand it the rest as a list of booleans, and read the normal form as a list of bits, exactly the
conventions of ``lib.blc``'s ``U``. ``V`` evaluates through the standard translation
``K = λx y. x``, ``S = λx y z. x z (y z)`` and the reducer of ``lib.blc``.

Two invariance constants (chapter 3), both directions:

- ``cl_interpreter()``: a λ-term ``e`` with ``U(e ∘ d) = V(d)``, so ``K_U(x) ≤ K_V(x) + |e|``.
- ``to_combinators(blc.SELF_INTERPRETER)``: Tromp's BLC interpreter compiled to combinators by
  bracket abstraction, a program ``c`` with ``V(c ∘ d) = U(d)``, so ``K_V(x) ≤ K_U(x) + |c|``.
"""

from __future__ import annotations

from lib import blc

__all__ = [
    "encode",
    "decode_prefix",
    "to_lambda",
    "to_combinators",
    "run",
    "cl_interpreter",
    "enumerate_terms",
]

K_LAMBDA = blc.parse("λx y. x")
S_LAMBDA = blc.parse("λx y z. x z (y z)")


def encode(term) -> str:
    """The bit code of a closed combinator term: ``K = 00``, ``S = 01``, ``M N = 1 M N``."""
    out, stack = [], [term]
    while stack:
        t = stack.pop()
        if t == "K":
            out.append("00")
        elif t == "S":
            out.append("01")
        elif isinstance(t, tuple) and len(t) == 2:
            out.append("1")
            stack.extend((t[1], t[0]))
        else:
            raise ValueError(f"not a closed combinator term: {t!r}")
    return "".join(out)


def decode_prefix(bits: str, start: int = 0):
    """``(term, end)``: the combinator whose code starts at ``bits[start]``; ValueError if cut."""
    blc.check_bits(bits)
    # iterative: a stack of partial applications waiting for their arguments
    pos, stack = start, []
    while True:
        if pos >= len(bits):
            raise ValueError("bits end inside a combinator code")
        if bits[pos] == "1":
            stack.append([])
            pos += 1
            continue
        if pos + 1 >= len(bits):
            raise ValueError("bits end inside a combinator code")
        term = "K" if bits[pos + 1] == "0" else "S"
        pos += 2
        while stack:
            stack[-1].append(term)
            if len(stack[-1]) < 2:
                break
            term = tuple(stack.pop())
        if not stack:
            return term, pos


def to_lambda(term):
    """The λ-term of a combinator term (the standard translation of ``S`` and ``K``)."""
    if term == "K":
        return K_LAMBDA
    if term == "S":
        return S_LAMBDA
    return (to_lambda(term[0]), to_lambda(term[1]))


def _free0(t) -> bool:
    """Does the (compiled, variables as ints) term contain de Bruijn variable 0?"""
    if isinstance(t, int):
        return t == 0
    return isinstance(t, tuple) and (_free0(t[0]) or _free0(t[1]))


def _down(t):
    """Shift every variable down by one (the abstracted variable 0 is absent)."""
    if isinstance(t, int):
        return t - 1
    return (_down(t[0]), _down(t[1])) if isinstance(t, tuple) else t


def _abstract(t):
    """Bracket abstraction ``[x] t`` of de Bruijn variable 0: ``[x]x = S K K``,
    ``[x]M = K M`` when ``x`` is not free in ``M``, ``[x](M N) = S ([x]M) ([x]N)``."""
    if t == 0:
        return (("S", "K"), "K")
    if not _free0(t):
        return ("K", _down(t))
    return (("S", _abstract(t[0])), _abstract(t[1]))


def to_combinators(term):
    """Compile a closed λ-term (``lib.blc``'s tuples) to S and K by bracket abstraction."""
    if not blc.is_closed(term):
        raise ValueError("to_combinators needs a closed λ-term")

    def compile_(t):
        if isinstance(t, int):
            return t
        if len(t) == 1:
            return _abstract(compile_(t[0]))
        return (compile_(t[0]), compile_(t[1]))

    return compile_(term)


def run(description: str, max_steps: int = 10_000, max_work: int = 2_000_000) -> blc.Result:
    """The machine ``V``: the combinator coded at the front of ``description`` applied to the
    rest as a list of booleans, reduced (through its λ-translation) to a list of bits."""
    program, end = decode_prefix(description)
    data = blc.bits_to_term(description[end:])
    return blc.normalize((to_lambda(program), data), max_steps=max_steps, max_work=max_work)


def cl_interpreter():
    """A λ-term ``e`` with ``U(e ∘ d) = V(d)``: it parses a combinator code from its input list
    (in continuation-passing style, with the fixed point ``Y``) and applies it to the rest."""
    env = blc.definitions()
    env["K"], env["S"] = K_LAMBDA, S_LAMBDA
    env["P"] = blc.parse(
        "Y (λP l k. l (λb t d. b (t (λc u d2. k (c K S) u) d)"
        " (P t (λm r. P r (λn s. k (m n) s)))) l)",
        env,
    )
    return blc.parse("λl. P l (λp r. p r)", env)


def enumerate_terms(max_leaves: int) -> list:
    """Every combinator term with at most ``max_leaves`` occurrences of S and K (chapter 3);
    a term of ``n`` leaves has a code of ``3n - 1`` bits."""
    if not isinstance(max_leaves, int) or max_leaves < 1:
        raise ValueError(f"max_leaves must be an int >= 1, got {max_leaves!r}")
    by_leaves = {1: ["S", "K"]}
    for n in range(2, max_leaves + 1):
        by_leaves[n] = [(a, b) for k in range(1, n) for a in by_leaves[k] for b in by_leaves[n - k]]
    return [t for n in range(1, max_leaves + 1) for t in by_leaves[n]]
