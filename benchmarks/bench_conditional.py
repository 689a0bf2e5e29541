"""Speed of the class-conditional code ``C(D∘x) − C(D)`` (Chapter 4): ours vs recompressing.

Baseline (the definition, run literally): for every query ``x`` compress ``D∘x`` from scratch
(zlib) or build a new zstd dictionary from ``D`` (``compressors.dictionary_bits``). Ours
(``conditional.ClassCode``): zlib compresses ``D`` once and copies the compressor's state for
each query; zstd loads ``D`` as a dictionary once. Both must give the same bits.
"""

from __future__ import annotations

import time

from benchmarks import row
from lib import compressors, conditional, data

IN_BOOK = True  # cheap at small scale: the benchmarks page runs it while the book builds


def cpu(fn, *args):
    start = time.process_time()
    out = fn(*args)
    return time.process_time() - start, out


def run(scale: str) -> list[dict]:
    text = data.text().encode()
    size, n_queries = (30_000, 200) if scale == "small" else (30_000, 2000)
    dataset = text[:size]
    queries = [text[size + 400 * i : size + 400 * (i + 1)] for i in range(n_queries)]
    rows = []
    for name, naive in [
        ("zlib", lambda q: compressors.concat_conditional_bits(q, dataset, "zlib")),
        ("zstd", lambda q: compressors.dictionary_bits(q, dataset)),
    ]:
        t_naive, b_naive = cpu(lambda f=naive: [f(q) for q in queries])
        code = conditional.ClassCode(dataset, name)
        t_ours, b_ours = cpu(lambda c=code: [c.bits(q) for q in queries])
        if b_naive != b_ours:
            raise AssertionError(f"{name}: ClassCode and the definition disagree")
        rows.append(
            row(
                f"class-conditional bits, {name}, {n_queries} queries, |D| = {size} B",
                t_ours,
                t_naive,
                "s",
                goal="ratio <= 0.5",
                met=t_ours / t_naive <= 0.5,
                note="identical bits; peer recompresses D (zlib) or rebuilds the dictionary (zstd)",
            )
        )
    return rows
