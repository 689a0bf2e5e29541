"""Speed of the binary lambda calculus machine (Chapter 3): ours vs a naive baseline, one run.

Baseline (kept here, same workload): the textbook reducer that performs each β-step by
substitution (copying the body), and the naive enumerator that tries every bit string of at
most N bits as a description, parses a program from its front and runs it on the rest.
Ours (``lib.blc``): a Krivine machine (closures, nothing copied) and lazy enumeration that
branches on input bits only when a program reads them, continuing copies of the paused machine.
Both must give the same K_t table.
"""

from __future__ import annotations

import time

from benchmarks import row
from lib import blc

IN_BOOK = True  # cheap at small scale: the benchmarks page runs it while the book builds


# ---------------------------------------------------------------- the naive baseline


def substitute(body, arg):
    """``body[0 := arg]``: the contractum of the β-redex ``(λ body) arg`` in de Bruijn form.

    Variable 0 of ``body`` (at depth d) becomes ``arg`` shifted up by d; free variables above
    it move down by one. Returns ``(term, work)``, ``work`` = nodes visited (a cost measure).
    """
    arg_closed = blc.free_bound(arg) == 0
    out, stack, work = [], [(body, 0, False)], 0
    while stack:
        t, d, built = stack.pop()
        work += 1
        if type(t) is int:
            if t < 0 or t < d:  # an input marker, or a variable bound inside body
                out.append(t)
            elif t == d:
                out.append(arg if arg_closed or d == 0 else blc.shift(arg, d))
            else:
                out.append(t - 1)
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
    return out[0], work


def normalize_by_substitution(term, max_steps: int = 10_000, max_work: int = 2_000_000):
    """The textbook reducer: normal order, one β-step at a time by substitution (copying).

    Unwinds the spine of applications; a λ meeting an argument is a β-step; a λ with no
    argument is entered; a variable at the head freezes the spine and its arguments are then
    normalized left to right. This contracts exactly the leftmost-outermost redex each time,
    so it finds the normal form whenever one exists (the standardization theorem).
    Stops with ``status="steps"`` after ``max_steps`` β-steps and ``status="space"`` after
    ``max_work`` nodes of substitution work, so that a run never hangs: ``Ω = (λx.xx)(λx.xx)``
    returns ``blc.Result("steps", max_steps)``. Negative integers are input markers: reaching
    marker ``-(j+1)`` returns ``status="input", needs=j`` (see ``run_lazy``).
    """
    if not isinstance(max_steps, int) or max_steps < 0:
        raise ValueError(f"max_steps must be a non-negative int, got {max_steps!r}")
    if not isinstance(max_work, int) or max_work < 1:
        raise ValueError(f"max_work must be a positive int, got {max_work!r}")
    steps = work = 0
    todo = [("eval", term)]  # ("eval", t) or ("build", lambdas, head, n_args)
    done = []  # normal forms of finished subterms
    while todo:
        op = todo.pop()
        if op[0] == "eval":
            t, args, lams = op[1], [], 0
            while True:
                if type(t) is int:
                    break
                if len(t) == 2:
                    args.append(t[1])
                    t = t[0]
                elif args:
                    if steps >= max_steps:
                        return blc.Result("steps", steps)
                    t, w = substitute(t[0], args.pop())
                    steps, work = steps + 1, work + w
                    if work > max_work:
                        return blc.Result("space", steps)
                else:
                    lams += 1
                    t = t[0]
            if t < 0:
                return blc.Result("input", steps, needs=-t - 1)
            todo.append(("build", lams, t, len(args)))
            todo.extend(("eval", a) for a in args)  # args is last-first: first arg pops first
        else:
            _, lams, t, n = op
            if n:
                parts = done[-n:]
                del done[-n:]
                for a in parts:
                    t = (t, a)
            for _ in range(lams):
                t = (t,)
            done.append(t)
    return blc.Result("halted", steps, done[0])


def naive_complexities(max_bits: int, max_steps: int) -> dict[str, int]:
    """K_t by brute force: every bit string d with |d| <= max_bits, run by substitution."""
    best: dict[str, int] = {}
    for n in range(max_bits + 1):
        for i in range(2**n):
            d = format(i, f"0{n}b") if n else ""
            try:
                p, end = blc.decode_prefix(d)
            except ValueError:
                continue
            if not blc.is_closed(p):
                continue
            r = normalize_by_substitution((p, blc.bits_to_term(d[end:])), max_steps, 10**6)
            x = r.output
            if x is not None and (x not in best or n < best[x]):
                best[x] = n
    return best


def ours_complexities(max_bits: int, max_steps: int) -> dict[str, int]:
    return blc.complexities(blc.enumerate_descriptions(max_bits, max_steps, 10**6))


def cpu(f, *args):
    t = time.process_time()
    out = f(*args)
    return time.process_time() - t, out


def reach(f, budget: float, max_steps: int) -> int:
    """The largest N whose enumeration finishes within ``budget`` CPU seconds (N = 8, 9, ...)."""
    n, spent = 7, 0.0
    while True:
        t, _ = cpu(f, n + 1, max_steps)
        spent += t
        if spent > budget:
            return n
        n += 1


def run(scale: str) -> list[dict]:
    n = 15 if scale == "small" else 18
    steps = 200
    t_naive, k_naive = cpu(naive_complexities, n, steps)
    t_ours, k_ours = cpu(ours_complexities, n, steps)
    if k_naive != k_ours:
        raise AssertionError("the two enumerators disagree on K_t")
    programs = sum(blc.count_terms(k) for k in range(n + 1))
    rows = [
        row(
            f"K_t table, all descriptions <= {n} bits",
            t_ours,
            t_naive,
            "s",
            goal="ratio <= 0.5",
            met=t_ours / t_naive <= 0.5,
            note=f"{programs} closed programs; identical K_t for {len(k_ours)} strings",
        ),
    ]
    # U(E p): the self-interpreter reading the program p from its input
    prog = (blc.SELF_INTERPRETER, blc.bits_to_term(blc.encode(blc.repetition_program("01", 3))))
    t_ours, r_ours = cpu(blc.normalize, prog, 10**6, 10**8)
    t_naive, r_naive = cpu(normalize_by_substitution, prog, 10**6, 10**8)
    if r_ours.term != r_naive.term or r_ours.steps != r_naive.steps:
        raise AssertionError("the two reducers disagree on the self-interpreter run")
    rows.append(
        row(
            "self-interpreter E running a program",
            t_ours,
            t_naive,
            "s",
            goal="ratio <= 0.01",
            met=t_ours / t_naive <= 0.01,
            note=f"{r_ours.steps} beta-steps, same count",
        )
    )
    budget = 2.0 if scale == "small" else 30.0
    n_ours, n_naive = (
        reach(ours_complexities, budget, steps),
        reach(naive_complexities, budget, steps),
    )
    rows.append(
        row(
            f"N reached in {budget:g} s CPU",
            float(n_ours),
            float(n_naive),
            "bits",
            goal="ratio >= 1",
            met=n_ours >= n_naive,
            note=f"step limit {steps}",
        )
    )
    return rows
