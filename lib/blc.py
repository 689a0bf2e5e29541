"""Binary lambda calculus: a universal machine with exact program lengths (Chapters 3 and 4).

Tromp's binary lambda calculus (BLC) makes Kolmogorov complexity concrete: a program is a bit
string, its length is its size, and the machine is normal-order β-reduction.

**Terms** are de Bruijn lambda terms, stored as nested tuples so that they are cheap to share:

* an ``int`` ``i ≥ 0`` is the variable bound ``i`` lambdas up (index 0 = the innermost binder;
  Tromp writes it as 1, and ``parse`` / ``show`` use his 1-based numbers);
* a 1-tuple ``(M,)`` is the abstraction ``λ M``;
* a 2-tuple ``(M, N)`` is the application ``M N``.

**Code**: ``λM ↦ 00 M``, ``M N ↦ 01 M N``, variable ``i ↦ 1^(i+1) 0``. The code is prefix-free,
so a program can be followed by data: ``|λx.x| = |0010| = 4`` bits.

**Bits as terms** (Tromp's convention): bit 0 is ``True = λx λy. x``, bit 1 is
``False = λx λy. y``; a list is nested pairs ``⟨M, N⟩ = λz. z M N`` ending in ``nil = False``.

**The universal machine** ``U``: read a closed term ``p`` from the front of the input bits and
apply it to the rest of the input, as a list; the output is the normal form read back as a list
of bits. The book's Kolmogorov complexity is then

    K(x) = min { |d| : U(d) = x },      d = p ++ data,

and ``K(x) ≤ |x| + 4`` because ``d = 0010 ++ x`` (the identity followed by ``x``) prints ``x``.
``K_t(x)`` is the same minimum over descriptions that reach their normal form within ``t``
β-steps; ``enumerate_descriptions`` computes it exactly for every ``d`` up to ``N`` bits.

The reducer is pure Python (lambda reduction is symbolic: nothing to batch on a GPU) and
iterative, so deep terms never hit Python's recursion limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

# ---------------------------------------------------------------- terms and their code
TRUE = ((1,),)  # λx λy. x   = bit 0
FALSE = ((0,),)  # λx λy. y   = bit 1 = nil
NIL = FALSE
IDENTITY = (0,)  # λx. x


MAX_INDEX = 1 << 24  # a de Bruijn index beyond this has a code of more than 16 M bits


def check_term(term, markers: bool = False) -> None:
    """``ValueError`` unless ``term`` is a well-formed term (int ≥ 0, 1-tuple or 2-tuple);
    with ``markers``, negative ints (input markers, see ``resume``) are allowed too."""
    stack = [term]
    while stack:
        t = stack.pop()
        if type(t) is int:
            if t < 0 and not markers:
                raise ValueError(f"term has a negative variable index {t}")
            if t > MAX_INDEX:
                raise ValueError(f"term has a variable index {t} above {MAX_INDEX}")
        elif type(t) is tuple and len(t) in (1, 2):
            stack.extend(t)
        else:
            raise ValueError(f"not a term: {t!r} (use int, (body,) or (function, argument))")


def encode(term) -> str:
    """The BLC code of ``term`` as a string of '0'/'1': ``λM=00M``, ``MN=01MN``, ``i=1^(i+1)0``."""
    check_term(term)
    out, stack = [], [term]
    while stack:
        t = stack.pop()
        if type(t) is int:
            out.append("1" * (t + 1) + "0")
        elif len(t) == 1:
            out.append("00")
            stack.append(t[0])
        else:
            out.append("01")
            stack.append(t[1])
            stack.append(t[0])
    return "".join(out)


def size(term) -> int:
    """``|term|``, the length of its BLC code in bits."""
    return len(encode(term))


def check_bits(bits: str, argument: str = "bits") -> str:
    if not isinstance(bits, str):
        raise TypeError(f"{argument} must be a str of '0'/'1', got {type(bits).__name__}")
    if bits.strip("01"):
        raise ValueError(f"{argument} must contain only '0' and '1', got {bits[:40]!r}")
    return bits


def decode_prefix(bits: str, start: int = 0):
    """Parse one term from ``bits[start:]``; return ``(term, end)`` with ``end`` the next position.

    ``ValueError`` if the bits run out before the term is complete.
    """
    check_bits(bits)
    if isinstance(start, bool) or not isinstance(start, int) or not 0 <= start <= len(bits):
        raise ValueError(f"start must be an int in 0..{len(bits)}, got {start!r}")
    # frames: "L" waits for a body, "A" waits for a function, ("A", f) waits for an argument
    frames, pos, n = [], start, len(bits)
    while True:
        if pos + 2 > n and not (pos < n and bits[pos] == "1"):
            raise ValueError(f"truncated term: the code ends at bit {n} inside a term")
        if bits[pos] == "1":
            j = bits.find("0", pos)
            if j < 0:
                raise ValueError("truncated term: a variable 1…1 is not closed by a 0")
            t, pos = j - pos - 1, j + 1
        elif bits[pos + 1] == "0":
            frames.append("L")
            pos += 2
            continue
        else:
            frames.append("A")
            pos += 2
            continue
        while frames:  # a complete term t: hand it to the frames waiting for it
            f = frames.pop()
            if f == "L":
                t = (t,)
            elif f == "A":
                frames.append(("A", t))
                break
            else:
                t = (f[1], t)
        else:
            return t, pos


def decode(bits: str):
    """The term whose code is exactly ``bits`` (``ValueError`` if bits are left over)."""
    term, end = decode_prefix(bits)
    if end != len(bits):
        raise ValueError(f"{len(bits) - end} bits left over after the term")
    return term


def free_bound(term) -> int:
    """``1 + the largest free index`` (0 for a closed term)."""
    bound, stack = 0, [(term, 0)]
    while stack:
        t, d = stack.pop()
        if type(t) is int:
            if t >= d:
                bound = max(bound, t - d + 1)
        elif len(t) == 1:
            stack.append((t[0], d + 1))
        else:
            stack.append((t[0], d))
            stack.append((t[1], d))
    return bound


def is_closed(term) -> bool:
    return free_bound(term) == 0


# ---------------------------------------------------------------- readable notation
TOKEN = re.compile(r"\s*(λ|\\|\.|\(|\)|[A-Za-z_][A-Za-z_0-9']*|\d+)")


def parse(src: str, env: dict | None = None):
    """A term from readable notation: ``λx y. x`` (or ``\\x y. x``), juxtaposition, parentheses.

    Numbers are Tromp's 1-based de Bruijn indices (``λ 1`` is the identity); names are bound
    by ``λ`` or looked up in ``env`` (a dict of closed terms, for definitions). The parser is
    iterative: any depth of nesting parses.
    """
    if not isinstance(src, str):
        raise TypeError(f"src must be a str, got {type(src).__name__}")
    if env is not None and not isinstance(env, dict):
        raise TypeError(f"env must be a dict of terms, got {type(env).__name__}")
    tokens, pos = [], 0
    while pos < len(src.rstrip()):
        m = TOKEN.match(src, pos)
        if not m:
            raise ValueError(f"cannot parse {src[pos : pos + 20]!r} in src")
        tokens.append(m.group(1))
        pos = m.end()
    env = env or {}
    term, i = parse_expr(tokens, 0, [], env)
    if i != len(tokens):
        raise ValueError(f"unexpected {tokens[i]!r} in src {src!r}")
    return term


def parse_expr(tokens, i, names, env):
    """Parse an application sequence (a λ extends to the right as far as possible) from
    ``tokens[i:]`` with the bound ``names`` (outermost first); returns ``(term, next i)``.

    With an explicit stack of open λs and parentheses: ``[kind, term so far, binders]``.
    """
    names = list(names)
    where: dict = {}  # name -> positions in names where it is bound (innermost last)
    for k, name in enumerate(names):
        where.setdefault(name, []).append(k)
    frames = [["top", None, 0]]
    while True:
        frame = frames[-1]
        if i < len(tokens) and tokens[i] != ")":
            tok = tokens[i]
            if tok in ("λ", "\\"):
                i += 1
                bound = []
                while i < len(tokens) and tokens[i] not in (".",) and not tokens[i].isdigit():
                    if tokens[i] in ("(", ")", "λ", "\\"):
                        break
                    bound.append(tokens[i])
                    i += 1
                if i < len(tokens) and tokens[i] == ".":
                    i += 1
                for name in bound or [None]:
                    where.setdefault(name, []).append(len(names))
                    names.append(name)
                frames.append(["lam", None, len(bound or [None])])
                continue
            if tok == "(":
                frames.append(["paren", None, 0])
                i += 1
                continue
            if tok.isdigit():
                if not 1 <= int(tok) <= len(names):
                    depth = len(names)
                    raise ValueError(f"de Bruijn index {tok} is not bound (depth {depth}) in src")
                arg = int(tok) - 1
            elif where.get(tok):
                arg = len(names) - 1 - where[tok][-1]
            elif tok in env:
                arg = env[tok]
                check_term(arg)
                if not is_closed(arg):
                    raise ValueError(f"definition {tok!r} is not closed")
            else:
                raise ValueError(f"unbound name {tok!r} in src")
            i += 1
            frame[1] = arg if frame[1] is None else (frame[1], arg)
            continue
        # the sequence of this frame ends here (at a ')' or the end of the tokens)
        kind, arg, binders = frames.pop()
        if arg is None:
            raise ValueError("empty expression in src")
        if kind == "top":
            return arg, i
        if kind == "paren":
            if i >= len(tokens) or tokens[i] != ")":
                raise ValueError("missing ')'")
            i += 1
        else:
            for _ in range(binders):
                where[names.pop()].pop()
                arg = (arg,)
        parent = frames[-1]
        parent[1] = arg if parent[1] is None else (parent[1], arg)


def show(term) -> str:
    """``term`` in Tromp's notation: ``λ`` and 1-based de Bruijn indices, e.g. ``λ λ 2``."""
    check_term(term)
    out, stack = [], [("t", term, False)]
    while stack:
        kind, t, paren = stack.pop()
        if kind == "s":
            out.append(t)
        elif type(t) is int:
            out.append(str(t + 1))
        elif len(t) == 1:
            if paren:
                stack.append(("s", ")", False))
            stack.append(("t", t[0], False))
            out.append("(λ " if paren else "λ ")
        else:
            f, a = t
            if paren:
                stack.append(("s", ")", False))
            stack.append(("t", a, type(a) is tuple))
            stack.append(("s", " ", False))
            stack.append(("t", f, type(f) is tuple and len(f) == 1))
            if paren:
                out.append("(")
    return "".join(out)


# ---------------------------------------------------------------- bits as terms
def cons(head, tail):
    """``⟨head, tail⟩ = λz. z head tail`` for closed ``head`` and ``tail``."""
    return (((0, head), tail),)


def bits_to_term(bits: str, tail=NIL):
    """The list of booleans for ``bits`` (0 ↦ True, 1 ↦ False), ending in ``tail`` (nil)."""
    check_bits(bits)
    t = tail
    for b in reversed(bits):
        t = cons(TRUE if b == "0" else FALSE, t)
    return t


def term_to_bits(term) -> str | None:
    """Read a normal form back as a bit string; ``None`` if it is not a list of booleans."""
    out = []
    while term != NIL:
        if not (
            type(term) is tuple
            and len(term) == 1
            and type(term[0]) is tuple
            and len(term[0]) == 2
            and type(term[0][0]) is tuple
            and term[0][0][0] == 0
        ):
            return None
        head, term = term[0][0][1], term[0][1]
        if head == TRUE:
            out.append("0")
        elif head == FALSE:
            out.append("1")
        else:
            return None
    return "".join(out)


# ---------------------------------------------------------------- reduction
def shift(term, by: int, cutoff: int = 0):
    """Add ``by`` to every variable of ``term`` that is free at depth ``cutoff``."""
    out, stack = [], [(term, cutoff, False)]
    while stack:
        t, d, built = stack.pop()
        if type(t) is int:
            out.append(t + by if t >= d else t)
        elif built:
            if len(t) == 1:
                out.append((out.pop(),))
            else:
                a = out.pop()
                out.append((out.pop(), a))
        else:
            stack.append((t, d, True))
            if len(t) == 1:
                stack.append((t[0], d + 1, False))
            else:
                stack.append((t[1], d, False))
                stack.append((t[0], d, False))
    return out[0]


def _equal(a, b) -> bool:
    """``a == b`` for nested tuples and lists of any depth, with an explicit stack."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, (tuple, list)):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y))
        elif x is not y and x != y:
            return False
    return True


@dataclass
class Result:
    """What a bounded run did: ``status`` is ``"halted"`` (normal form reached), ``"steps"``
    (did not halt within ``max_steps`` β-steps), ``"space"`` (work beyond ``max_work``) or
    ``"input"`` (it needs input bit number ``needs`` that was not supplied yet)."""

    status: str
    steps: int
    term: object = None
    needs: int | None = None
    state: tuple | None = None  # with status "input": where to resume (see ``resume``)

    def __eq__(self, other) -> bool:  # without recursion: terms may be deep
        if not isinstance(other, Result):
            return NotImplemented
        mine = (self.status, self.steps, self.term, self.needs, self.state)
        return _equal(mine, (other.status, other.steps, other.term, other.needs, other.state))

    def __repr__(self) -> str:  # without recursion, and short: a term may have a million nodes
        if self.term is None:
            term = "None"
        else:
            try:
                term = show(self.term)
            except ValueError:
                term = "<a term with input markers>"
            term = repr(term if len(term) <= 60 else term[:57] + "...")
        return (
            f"Result(status={self.status!r}, steps={self.steps}, term={term}, "
            f"needs={self.needs!r}{', state=...' if self.state is not None else ''})"
        )

    @property
    def halted(self) -> bool:
        return self.status == "halted"

    @property
    def output(self) -> str | None:
        """The normal form read as a bit string (``None`` if not halted or not a bit list)."""
        return term_to_bits(self.term) if self.halted else None


FREE = object()  # marks an environment entry for a variable bound by a λ we went under


def normalize(term, max_steps: int = 10_000, max_work: int = 2_000_000) -> Result:
    """Normal-order (leftmost-outermost) reduction of ``term`` to β-normal form.

    A Krivine machine: a closure is a term with an environment (the values of its free
    variables, innermost first), so a β-step ``(λ M) N → M[0 := N]`` only extends the
    environment of ``M`` with the closure of ``N``; nothing is copied. Unwinding the spine of
    applications, a λ meeting an argument is a β-step, a λ with no argument is entered (its
    variable becomes a fresh free variable), and a free variable at the head freezes the
    spine; its arguments are then normalized left to right. These are exactly the
    leftmost-outermost contractions, so the normal form is found whenever one exists
    (the standardization theorem) and ``steps`` counts β-steps of normal-order reduction.

    Stops with ``status="steps"`` after ``max_steps`` β-steps and ``status="space"`` after
    ``max_work`` machine transitions, so a run never hangs: ``Ω = (λx.xx)(λx.xx)`` returns
    ``Result("steps", max_steps)``. (Negative integers in ``term`` are input markers, see
    ``resume``; with no input they read as the end of the input.)
    """
    check_term(term, markers=True)
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 0:
        raise ValueError(f"max_steps must be a non-negative int, got {max_steps!r}")
    if isinstance(max_work, bool) or not isinstance(max_work, int) or max_work < 1:
        raise ValueError(f"max_work must be a positive int, got {max_work!r}")
    return resume(start(term), "", True, max_steps, max_work)


def start(term) -> tuple:
    """The machine state before the first step: ``(frames, finished subterms, steps, work)``."""
    return ([("eval", term, None, 0, (), 0)], [], 0, 0)


def resume(state, data: str, ended: bool, max_steps: int, max_work: int) -> Result:
    """Run the machine from ``state`` (see ``normalize``) with input bits ``data`` known so far.

    Marker ``-(j+1)`` stands for the input list from bit ``j`` on: it becomes
    ``⟨bit j, marker j+1⟩`` when ``j < len(data)``, nil when ``j = len(data)`` and ``ended``,
    and otherwise the run pauses with ``status="input"`` and ``Result.state``, from which the
    caller can resume (a copy per continuation: ``resume`` does not change ``state``).
    """
    frames, done, steps, work = state
    frames, done = list(frames), list(done)
    while frames:
        op = frames.pop()
        if op[0] == "build":
            _, lams, t, n = op
            if n:
                parts = done[-n:]
                del done[-n:]
                for a in parts:
                    t = (t, a)
            for _ in range(lams):
                t = (t,)
            done.append(t)
            continue
        _, t, env, depth, args, lams = op
        args = list(args)  # closures (term, env); the last one is applied first
        while True:
            work += 1
            if work > max_work:
                return Result("space", steps)
            if type(t) is int:
                if t < 0:  # the input from bit j on
                    j = -t - 1
                    if j < len(data):
                        t = (((0, TRUE if data[j] == "0" else FALSE), t - 1),)
                    elif ended:
                        t = NIL
                    else:
                        frames.append(("eval", t, env, depth, tuple(args), lams))
                        return Result("input", steps, needs=j, state=(frames, done, steps, work))
                    continue
                e, i = env, t
                while i and e is not None:
                    e, i = e[1], i - 1
                if e is None:  # a free variable of the input term: level -(i + 1)
                    level = -i - 1
                    break
                closure = e[0]
                if closure[0] is FREE:
                    level = closure[1]
                    break
                t, env = closure
            elif len(t) == 2:
                a = t[1]
                if type(a) is int and a >= 0:  # a variable argument: pass on what it stands for
                    e, i = env, a
                    while i and e is not None:
                        e, i = e[1], i - 1
                    if e is not None and e[0][0] is not FREE:
                        args.append(e[0])  # no chains of closures of variables
                        t = t[0]
                        continue
                args.append((a, env))
                t = t[0]
            elif args:
                if steps >= max_steps:
                    return Result("steps", steps)
                steps += 1
                env = (args.pop(), env)
                t = t[0]
            else:
                env = ((FREE, depth), env)
                depth, lams, t = depth + 1, lams + 1, t[0]
        frames.append(("build", lams, depth - level - 1, len(args)))
        frames.extend(("eval", a, a_env, depth, (), 0) for a, a_env in args)
    return Result("halted", steps, done[0])


# ---------------------------------------------------------------- the universal machine
def run(description: str, max_steps: int = 10_000, max_work: int = 2_000_000) -> Result:
    """``U(d)``: parse a closed term ``p`` from the front of ``d``, apply it to the rest as a list.

    ``result.output`` is the output bit string (``None`` if it did not halt or the normal form
    is not a list of bits).
    """
    check_bits(description, "description")
    program, end = decode_prefix(description)
    if not is_closed(program):
        raise ValueError("the program at the front of the description is not a closed term")
    return normalize((program, bits_to_term(description[end:])), max_steps, max_work)


# ---------------------------------------------------------------- counting and enumeration
MAX_COUNT_BITS = 400  # count_terms' largest n (its cost grows as n³)


def count_terms(n: int, free: int = 0) -> int:
    """Number of terms of exactly ``n`` bits whose free indices are all ``< free``.

    ``T(n, m) = [2 ≤ n ≤ m+1] + T(n−2, m+1) + Σ_k T(k, m) T(n−2−k, m)`` (variable, λ,
    application); ``count_terms(n)`` counts closed terms (OEIS A114852). The table is filled
    from short terms up, so no recursion deeper than one level happens, whatever ``n``.
    """
    for name, value in (("n", n), ("free", free)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    if n > MAX_COUNT_BITS:
        raise ValueError(
            f"n must be at most {MAX_COUNT_BITS}: the table takes about n³/12 products of big "
            f"integers (n = {MAX_COUNT_BITS}: seconds; n = 2000: hours), got {n}"
        )
    for j in range(n + 1):  # T(j, m) for every m that T(n, free) reaches
        for m in range(free, free + (n - j) // 2 + 1):
            _count_terms(j, m)
    return _count_terms(n, free)


@cache
def _count_terms(n: int, free: int) -> int:
    if n < 2:
        return 0
    c = 1 if n - 2 < free else 0
    c += _count_terms(n - 2, free + 1)
    c += sum(_count_terms(k, free) * _count_terms(n - 2 - k, free) for k in range(2, n - 3))
    return c


@cache
def terms(n: int, free: int = 0) -> tuple:
    """All terms of exactly ``n`` bits with free indices ``< free`` (closed for ``free=0``)."""
    if n < 2:
        return ()
    out = [n - 2] if n - 2 < free else []
    out.extend((body,) for body in terms(n - 2, free + 1))
    for k in range(2, n - 3):
        right = terms(n - 2 - k, free)
        if right:
            out.extend((f, a) for f in terms(k, free) for a in right)
    return tuple(out)


@dataclass
class Description:
    """One description ``d = p ++ data`` and what ``U`` did with it."""

    program: object
    data: str
    ended: bool  # True: the program saw the end of the input (nil) after ``data``
    status: str
    steps: int
    output: str | None

    @property
    def length(self) -> int:
        return size(self.program) + len(self.data)


def explore(program, max_bits: int, max_steps: int = 1_000, max_work: int = 200_000):
    """Every description ``program ++ data`` of at most ``max_bits`` bits, run by ``U``.

    Lazily: the program runs on a list whose rest is unknown; when it inspects the rest we
    branch into "the input ends here", "next bit 0" and "next bit 1". A description whose
    program never looks at the rest stands for all its extensions (they are longer and give
    the same output), so the shortest one is enough for ``K``.
    """
    k = size(program)
    todo, found = [(start((program, -1)), "")], []  # -1: the input, not read yet
    while todo:
        state, data = todo.pop()
        r = resume(state, data, False, max_steps, max_work)
        if r.status != "input":
            found.append(Description(program, data, False, r.status, r.steps, r.output))
            continue
        end = resume(r.state, data, True, max_steps, max_work)  # the input ends here
        found.append(Description(program, data, True, end.status, end.steps, end.output))
        if k + len(data) + 1 <= max_bits:  # or it goes on with a 1 or a 0
            todo.extend([(r.state, data + "1"), (r.state, data + "0")])
    return found


def enumerate_descriptions(
    max_bits: int, max_steps: int = 1_000, max_work: int = 200_000, progress: bool = True
):
    """All descriptions of at most ``max_bits`` bits (every closed program, every data string).

    Returns a list of ``Description``; ``K_t(x)`` is the least ``length`` among those with
    ``status == "halted"`` and ``output == x`` (see ``complexities``). ``progress``: a bar
    over the programs (shown unless ``BOOK_PROGRESS=0``).
    """
    from lib import runtime

    if not isinstance(max_bits, int) or not 0 <= max_bits <= 40:
        raise ValueError(f"max_bits must be an int in 0..40, got {max_bits!r}")
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 0:
        raise ValueError(f"max_steps must be a non-negative int, got {max_steps!r}")
    if isinstance(max_work, bool) or not isinstance(max_work, int) or max_work < 1:
        raise ValueError(f"max_work must be a positive int, got {max_work!r}")
    bar = runtime.progress(
        total=sum(count_terms(k) for k in range(4, max_bits + 1)),
        desc=f"BLC descriptions ≤ {max_bits} bits",
        unit="program",
        leave=False,
        disable=not runtime.check_progress(progress),
    )
    out = []
    for k in range(4, max_bits + 1):
        for p in terms(k):
            out.extend(explore(p, max_bits, max_steps, max_work))
            bar.update()
    bar.close()
    return out


def complexities(descriptions, max_steps: int | None = None) -> dict[str, int]:
    """``{x: K_t(x)}``: the shortest description of each output reached within ``max_steps``."""
    best: dict[str, int] = {}
    for d in descriptions:
        if d.status == "halted" and d.output is not None:
            if max_steps is None or d.steps <= max_steps:
                if d.output not in best or d.length < best[d.output]:
                    best[d.output] = d.length
    return best


# ---------------------------------------------------------------- a few programs
def definitions() -> dict:
    """Named closed terms used to write programs readably (each is expanded where it is used,
    so its bits are counted in full every time)."""
    env: dict = {}
    for name, src in [
        ("Y", "λf. (λx. f (x x)) (λx. f (x x))"),  # fixed point: Y f = f (Y f)
        ("true", "λx y. x"),
        ("false", "λx y. y"),
        ("nil", "λx y. y"),
        ("cons", "λh t z. z h t"),
        ("append", "Y (λa l m. l (λh t d. cons h (a t m)) m)"),
    ]:
        env[name] = parse(src, env)
    return env


# Tromp's universal machine for BLC written in BLC (from the lambda expression he published
# for his 2012 IOCCC entry and in "Binary Lambda Calculus and Combinatory Logic"): applied to
# a list of bits it parses a closed term p from the front and applies it to the rest.
# Without its last argument (the top-level continuation) it is his 206-bit interpreter E.
SELF_INTERPRETER = parse(
    "(λ 1 1) (λ λ λ 1 (λ λ λ λ 3 (λ 5 (3 (λ 2 (3 (λ λ 3 (λ 1 2 3))) (4 (λ 4 (λ 3 1 (2 1))))))"
    " (1 (2 (λ 1 2)) (λ 4 (λ 4 (λ 2 (1 4))) 5)))) (3 3) 2) (λ 1 ((λ 1 1) (λ 1 1)))"
)


def church(n: int):
    """The Church numeral ``n = λf λx. f^n x`` (``5n + 6`` bits: each use of ``f`` costs 5)."""
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    body = 0
    for _ in range(n):
        body = (1, body)
    return ((body,),)


def repetition_program(pattern: str, times):
    """``λ_. N (λl. pattern ++ l) nil``: prints ``pattern`` repeated N times, ignoring its input.

    ``times`` is an int (a Church numeral) or any closed numeral term, e.g. ``(church(4),
    church(4))``, which is ``4^4 = 256`` (a numeral applied to a numeral is a power:
    ``m n = n^m``).
    """
    check_bits(pattern, "pattern")
    numeral = church(times) if isinstance(times, int) else times
    if not is_closed(numeral):
        raise ValueError("times must be an int or a closed numeral term")
    prepend = 0  # the list l bound by the λ of step, then the pattern's bits consed in front
    for b in reversed(pattern):
        prepend = (((0, TRUE if b == "0" else FALSE), shift(prepend, 1)),)
    step = (prepend,)  # λl. pattern ++ l
    return (((numeral, step), NIL),)  # λ_. N step nil


# The doubling decoder: on input 1^k 0 p it prints p repeated 2^k times (and nil on nil).
def doubling_decoder():
    """``D = Y (λg l. l (λh t d. h t ((λr. append r r) (g t))) nil)``: ``D (1^k 0 p) = p^(2^k)``."""
    return parse("Y (λg l. l (λh t d. h t ((λr. append r r) (g t))) nil)", definitions())


def doubling_code(x: str) -> str:
    """The code the doubling decoder reads: ``1^k 0 p`` with ``x = p^(2^k)``, ``k`` largest."""
    check_bits(x, "x")
    k = 0
    while len(x) % 2 == 0 and len(x) > 0 and x[: len(x) // 2] == x[len(x) // 2 :]:
        x, k = x[: len(x) // 2], k + 1
    return "1" * k + "0" + x


# ---------------------------------------------------------------- prefix complexity (chapter 3)
def self_delimiting(descriptions) -> list:
    """The descriptions that halted with a bit string without ever seeing the end of their input.

    Such a ``d = p ++ data`` read exactly its own bits: every extension of ``d`` runs the same
    computation, so no two of them are prefixes of one another, and Kraft's inequality
    ``Σ_d 2^{-|d|} ≤ 1`` holds for them (chapter 3).
    """
    return [
        d for d in descriptions if d.status == "halted" and not d.ended and d.output is not None
    ]


def prefix_length(n: int) -> int:
    """``|δ(n + 1)| + n``: a description of ``n`` bits behind the Elias-delta code of its length.

    The prefix machine ``V(δ(|d| + 1) ++ d) = U(d)`` knows where its program ends before it
    starts, so its programs form a prefix-free set (chapter 3): ``KP_V(x) ≤ K(x) + 2 log₂ K(x)
    + O(1)``.
    """
    from lib.integer_codes import delta_length

    return delta_length(n + 1) + n


def prefix_complexities(descriptions) -> dict[str, int]:
    """``KP_V(x) = min{prefix_length(|d|) : U(d) = x}`` over the descriptions enumerated
    (chapter 3)."""
    best: dict[str, int] = {}
    for d in descriptions:
        if d.status == "halted" and d.output is not None:
            best[d.output] = min(best.get(d.output, 1 << 60), prefix_length(d.length))
    return best


def universal_prior(descriptions) -> dict[str, float]:
    """The algorithmic prior of the prefix machine ``V`` from the enumeration (chapter 3).

    ``m_V(x) = Σ_{d: U(d) = x} 2^{-prefix_length(|d|)}``, summed over the descriptions enumerated
    (at most ``N`` bits, within the step budget): a lower bound on the full sum, which increases
    to it as ``N`` and the budget grow. Kraft: ``Σ_x m_V(x) ≤ 1``. Levin's coding theorem, for a
    universal prefix machine: ``-log₂ m(x) = KP(x) + O(1)``.
    """
    mass: dict[str, float] = {}
    for d in descriptions:
        if d.status == "halted" and d.output is not None:
            mass[d.output] = mass.get(d.output, 0.0) + 2.0 ** -prefix_length(d.length)
    return mass
