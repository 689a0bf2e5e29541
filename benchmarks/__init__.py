"""Speed and quality figures of the book, each measured in one run and printed as a ratio.

Every module ``benchmarks/bench_<topic>.py`` defines ``run(scale: str) -> list[dict]``; each row is

    {"name": "...", "ours": float, "peer": float, "unit": "s" | "bits/byte" | ...,
     "ratio": ours / peer, "goal": "ratio <= 0.9" or None, "met": bool or None, "note": "..."}

A row may carry more keys (``bench_fullscale``: ``parts``, the seconds of each part of a chapter).
``python -m benchmarks`` runs them all (``python -m benchmarks coding`` just one) and prints a
table; results are also written to ``benchmarks/results/<topic>.json`` for the book's page.
"""


def row(name, ours, peer, unit, goal=None, met=None, note="") -> dict:
    """One result row in the format above, with ``ratio = ours / peer``."""
    return {
        "name": name,
        "ours": float(ours),
        "peer": float(peer),
        "unit": unit,
        "ratio": float(ours) / float(peer),
        "goal": goal,
        "met": met,
        "note": note,
    }
