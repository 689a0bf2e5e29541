"""Conditional description length with real compressors: the chain rule, NCD, classifiers (ch. 4).

A compressor ``C`` (``lib.compressors``) gives three computable stand-ins for the conditional
Kolmogorov complexity ``K(y | x)``:

- by concatenation, ``C(y | x) = C(x∘y) − C(x)``: what ``y`` costs once ``x`` has been seen;
- by a dictionary, ``C_dict(y | x)``: zstd compresses ``y`` with ``x`` as a raw-content
  dictionary, a decoder that may *probe* ``x`` anywhere (``x`` itself is never sent);
- by a prequential model (``lib.prequential``): the code length of ``y`` after the model has
  read (and trained on) ``x``.

With them this module measures the chain rule ``C(x, y) ≈ C(x) + C(y | x)`` and the symmetry of
information ``C(x) + C(y | x) ≈ C(y) + C(x | y)``, the normalized compression distance
``NCD`` of Cilibrasi & Vitányi (2005), and two compression classifiers: k-nearest neighbours
under NCD (the "gzip classifier" of Jiang et al. 2023), with tie-breaking that never peeks at the
answer, and the class-conditional code length ``C(D_c∘x) − C(D_c)``. A small labelled text task
(paragraphs of the Python documentation by topic) is built here too.
"""

from __future__ import annotations

import math
import re
import zlib

import numpy as np
import zstandard

from lib import compressors, integer_codes

__all__ = [
    "conditional_bits",
    "pair_bits",
    "chain_rule_row",
    "chain_row_from_lengths",
    "causal_chain_row",
    "prequential_chain_row",
    "bayes_mixture_lengths",
    "ngram_chain_rows",
    "gap_over_information",
    "entropy_bits",
    "shannon_chain_rule",
    "CIPHER_KEY_BITS",
    "ncd",
    "ncd_matrix",
    "knn_predict",
    "ClassCode",
    "class_datasets",
    "class_conditional_bits",
    "documentation_sections",
    "topic_chunks",
    "substitution_cipher",
]

METHODS = ("concat", "dictionary")


# ---------------------------------------------------------------- conditional code lengths
def conditional_bits(y: bytes, x: bytes, name: str = "zstd", method: str = "concat") -> int:
    """``C(y | x)`` in bits: ``C(x∘y) − C(x)`` (``concat``) or zstd with ``x`` as dictionary.

    ``method="dictionary"`` is zstd's: ``y`` compressed by a coder that may copy from ``x``; the
    ``name`` argument must then be ``"zstd"``.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "dictionary":
        if name != "zstd":
            raise ValueError(f"method='dictionary' needs name='zstd', got {name!r}")
        return compressors.dictionary_bits(y, x)
    return compressors.concat_conditional_bits(y, x, name)


def pair_bits(x: bytes, y: bytes, name: str) -> int:
    """``C(⟨x, y⟩)``: a code for the *pair*, ``delta(|x| + 1)∘x∘y`` compressed.

    ``x∘y`` alone does not say where ``x`` ends; the Elias-delta prefix does, at a cost of
    ``log2 |x| + O(log log |x|)`` bits before compression: the O(log n) of the chain rule.
    """
    x, y = compressors.as_bytes(x, "x"), compressors.as_bytes(y, "y")
    prefix = integer_codes.to_bytes(integer_codes.delta(len(x) + 1))
    return compressors.size_bits(prefix + x + y, name)


def chain_rule_row(x: bytes, y: bytes, name: str) -> dict:
    """All the terms of the chain rule and of symmetry of information for one compressor.

    Returns bits: ``C(x)``, ``C(y)``, ``C(x∘y)``, ``C(y∘x)``, ``C(y|x) = C(x∘y) − C(x)``,
    ``C(x|y) = C(y∘x) − C(y)``, the *symmetry gap* ``[C(x) + C(y|x)] − [C(y) + C(x|y)]``
    ``= C(x∘y) − C(y∘x)``, the *information found* ``I = C(x) + C(y) − C(x∘y)``, and the
    *delimiting cost* ``C(⟨x, y⟩) − C(x∘y)`` of saying where ``x`` ends.
    """
    cx, cy = compressors.size_bits(x, name), compressors.size_bits(y, name)
    cxy, cyx = compressors.size_bits(x + y, name), compressors.size_bits(y + x, name)
    return {
        "compressor": name,
        "C(x)": cx,
        "C(y)": cy,
        "C(x∘y)": cxy,
        "C(y∘x)": cyx,
        "C(y|x)": cxy - cx,
        "C(x|y)": cyx - cy,
        "symmetry gap": cxy - cyx,
        "information found": cx + cy - cxy,
        "delimiting cost": pair_bits(x, y, name) - cxy,
    }


def chain_row_from_lengths(xy_bits, yx_bits, nx: int, ny: int, name: str) -> dict:
    """The terms of ``chain_rule_row`` for a *causal* code, from its per-byte code lengths.

    ``xy_bits`` are the lengths (bits) of the bytes of ``x∘y``, ``yx_bits`` those of ``y∘x``.
    A causal code spends on the first ``|x|`` bytes of ``x∘y`` exactly what it spends on ``x``
    alone, so ``L(x)`` is the sum of that prefix and ``L(x∘y) = L(x) + L(y | x)`` holds exactly.
    """
    xy, yx = np.asarray(xy_bits, dtype=float), np.asarray(yx_bits, dtype=float)
    if xy.shape != (nx + ny,) or yx.shape != (nx + ny,):
        raise ValueError(f"xy_bits and yx_bits must both have {nx} + {ny} entries")
    lx, ly = float(xy[:nx].sum()), float(yx[:ny].sum())
    lxy, lyx = float(xy.sum()), float(yx.sum())
    return {
        "compressor": name,
        "C(x)": lx,
        "C(y)": ly,
        "C(x∘y)": lxy,
        "C(y∘x)": lyx,
        "C(y|x)": lxy - lx,
        "C(x|y)": lyx - ly,
        "symmetry gap": lxy - lyx,
        "information found": lx + ly - lxy,
        "delimiting cost": float("nan"),
    }


def causal_chain_row(x: bytes, y: bytes, code_lengths, name: str) -> tuple[dict, dict]:
    """``chain_row_from_lengths`` for ``code_lengths(data) -> bits per byte`` run on both orders.

    Returns ``(row, per_byte)`` with ``per_byte = {"x∘y": ..., "y∘x": ...}``.
    """
    x, y = compressors.as_bytes(x, "x"), compressors.as_bytes(y, "y")
    xy, yx = np.asarray(code_lengths(x + y)), np.asarray(code_lengths(y + x))
    return chain_row_from_lengths(xy, yx, len(x), len(y), name), {"x∘y": xy, "y∘x": yx}


def prequential_chain_row(x: bytes, y: bytes, cfg=None) -> tuple[dict, dict]:
    """``causal_chain_row`` for the prequential code ``L`` of ``lib.prequential``.

    ``L(y | x)`` is the sum of the per-byte code lengths of ``x∘y`` after the boundary ``|x|``:
    the model has read and trained on ``x`` first. Since the code is causal, the bytes before the
    boundary cost exactly ``L(x)``, so ``L(x∘y) = L(x) + L(y | x)`` holds with equality.
    """
    from lib import prequential  # the neural compressor (chapter 5); imported only when used

    cfg = cfg or prequential.PrequentialConfig()
    return causal_chain_row(
        x, y, lambda d: prequential.code_lengths(d, cfg), f"prequential {cfg.model}"
    )


def bayes_mixture_lengths(each_bits) -> np.ndarray:
    """Per-byte code lengths of the Bayesian mixture, uniform prior, of ``K`` causal codes.

    ``each_bits`` is ``K × n`` (row ``i``: the lengths of code ``i``). The mixture's code for the
    first ``t`` bytes is ``-log2 (1/K) sum_i 2^{-L_i(x_≤t)}``; its per-byte lengths are the
    differences. The total is within ``log2 K`` bits of the best code's (chapter 5).
    """
    each = np.asarray(each_bits, dtype=float)
    if each.ndim != 2 or len(each) == 0:
        raise ValueError(f"each_bits must be a K × n array with K ≥ 1, got shape {each.shape}")
    cum = -np.cumsum(each, axis=1) * np.log(2.0)  # natural log of each code's prefix probability
    top = cum.max(axis=0)
    log_mix = top + np.log(np.exp(cum - top).mean(axis=0))
    total = -log_mix / np.log(2.0)
    return np.diff(np.concatenate([[0.0], total]))


def ngram_chain_rows(x: bytes, y: bytes, order: int = 4) -> dict:
    """Chain-rule rows of every model of ``lib.ngram``'s mixture, of order ≤ ``order``.

    One ``ngram.run`` per order of the pair (``x∘y`` and ``y∘x``) gives, each learning on its
    own: the KT models of orders ``0..order`` (exact Bayesian codes: Dirichlet(½) counts per
    context), the Witten–Bell blend (not Bayesian: its escape weights depend on the order in which
    the counts arrived), and two mixtures from the same lengths: the Bayesian mixture of the KT
    orders alone (``bayes_mixture_lengths``) and the book's n-gram compressor (KT orders and blend).
    Returns ``{name: row}`` (``chain_row_from_lengths``).
    """
    from lib import ngram  # chapter 5's models; imported only when used

    x, y = compressors.as_bytes(x, "x"), compressors.as_bytes(y, "y")
    names = [m.name for m in ngram.default_models(order)]
    (each_xy, mix_xy), (each_yx, mix_yx) = (
        ngram.run(d, ngram.default_models(order)) for d in (x + y, y + x)
    )
    lengths = {name: (each_xy[i], each_yx[i]) for i, name in enumerate(names)}
    kt = [i for i, name in enumerate(names) if name.startswith("KT")]
    lengths["Bayesian mixture of the KT orders"] = (
        bayes_mixture_lengths(each_xy[kt]),
        bayes_mixture_lengths(each_yx[kt]),
    )
    lengths["n-gram mixture (KT orders and blend)"] = (mix_xy, mix_yx)
    return {
        name: chain_row_from_lengths(a, b, len(x), len(y), name) for name, (a, b) in lengths.items()
    }


def gap_over_information(row: dict) -> float:
    """The symmetry gap as a fraction of the information found, ``(C(x∘y) − C(y∘x)) / I``.

    ``I = C(x) + C(y) − C(x∘y)`` is the compressor's estimate of the mutual information; its
    other estimate, from the other order, is ``I − gap``. So the ratio says how much of the
    information found depends on the order of the data. ``nan`` where ``I ≤ 0`` (nothing found).
    """
    info = row["information found"]
    return row["symmetry gap"] / info if info > 0 else float("nan")


# ---------------------------------------------------------------- Shannon's chain rule
def entropy_bits(p) -> float:
    """``H(p) = −sum_i p_i log2 p_i`` bits (terms with ``p_i = 0`` contribute 0)."""
    p = np.asarray(p, dtype=float).ravel()
    if np.any(p < 0) or not np.isclose(p.sum(), 1.0):
        raise ValueError("p must be a probability vector (non-negative, summing to 1)")
    q = p[p > 0]
    return float(-(q * np.log2(q)).sum())


def shannon_chain_rule(joint) -> dict:
    """Every term of ``H(X, Y) = H(X) + H(Y | X) = H(Y) + H(X | Y)`` for a joint table ``p(x, y)``.

    ``H(Y | X) = sum_x p(x) H(Y | X = x)`` is computed from the conditional distributions, not
    as a difference, so the chain rule is a fact to check, not a definition. Also
    ``I(X; Y) = H(Y) − H(Y | X)`` and ``I(Y; X) = H(X) − H(X | Y)``.
    """
    p = np.asarray(joint, dtype=float)
    if p.ndim != 2:
        raise ValueError(f"joint must be a 2-d table p(x, y), got shape {p.shape}")
    h_xy = entropy_bits(p)
    px, py = p.sum(1), p.sum(0)
    h_y_x = sum(px[i] * entropy_bits(p[i] / px[i]) for i in range(len(px)) if px[i] > 0)
    h_x_y = sum(py[j] * entropy_bits(p[:, j] / py[j]) for j in range(len(py)) if py[j] > 0)
    h_x, h_y = entropy_bits(px), entropy_bits(py)
    return {
        "H(X,Y)": h_xy,
        "H(X)": h_x,
        "H(Y)": h_y,
        "H(Y|X)": h_y_x,
        "H(X|Y)": h_x_y,
        "I(X;Y)": h_y - h_y_x,
        "I(Y;X)": h_x - h_x_y,
    }


# ---------------------------------------------------------------- normalized compression distance
def ncd(x: bytes, y: bytes, name: str = "zlib") -> float:
    """``NCD(x, y) = (C(x∘y) − min(C(x), C(y))) / max(C(x), C(y))`` (Cilibrasi & Vitányi 2005).

    About 0 for identical strings, about 1 for unrelated ones (slightly more with real compressors).
    """
    cx, cy = compressors.size_bits(x, name), compressors.size_bits(y, name)
    return (compressors.size_bits(x + y, name) - min(cx, cy)) / max(cx, cy)


def ncd_matrix(queries, references, name: str = "zlib", progress: bool = True) -> np.ndarray:
    """``D[i, j] = NCD(queries[i], references[j])``, with each ``C(·)`` of a single string once.

    ``progress``: a bar over the queries (shown unless ``BOOK_PROGRESS=0``)."""
    from lib import runtime

    queries, references = list(queries), list(references)
    if not queries or not references:
        raise ValueError("queries and references must be non-empty")
    bar = runtime.progress(
        queries, desc="NCD", unit="query", leave=False, disable=not runtime.check_progress(progress)
    )
    cq = np.array([compressors.size_bits(q, name) for q in queries], dtype=float)
    cr = np.array([compressors.size_bits(r, name) for r in references], dtype=float)
    joint = np.array(
        [[compressors.size_bits(q + r, name) for r in references] for q in bar], dtype=float
    )
    return (joint - np.minimum.outer(cq, cr)) / np.maximum.outer(cq, cr)


TIES = ("random", "nearest", "optimistic")


def knn_predict(distances, labels, k: int, ties: str = "random", rng=None, truth=None):
    """k-nearest-neighbour vote on a distance matrix (rows: queries, columns: references).

    ``ties`` says what happens when several classes share the largest vote:

    - ``"random"``: pick one of them uniformly (with ``rng``, a ``numpy.random.Generator``);
    - ``"nearest"``: pick the tied class of the nearest neighbour among the ``k``;
    - ``"optimistic"``: pick the true class whenever it is among the tied ones. This peeks at the
      answer (``truth`` must be given). It is what the code released with Jiang et al. (2023) did
      for ``k = 2``, as Schutte (2023) found; kept here only to measure how much it inflates.
    """
    d = np.asarray(distances, dtype=float)
    labels = np.asarray(labels)
    if d.ndim != 2 or d.shape[1] != len(labels):
        raise ValueError(f"distances must be (queries × {len(labels)} references), got {d.shape}")
    if not isinstance(k, int) or not 1 <= k <= d.shape[1]:
        raise ValueError(f"k must be an int in 1..{d.shape[1]}, got {k!r}")
    if ties not in TIES:
        raise ValueError(f"ties must be one of {TIES}, got {ties!r}")
    if ties == "optimistic" and (truth is None or len(truth) != len(d)):
        raise ValueError("ties='optimistic' needs truth: the true label of every query")
    rng = rng if rng is not None else np.random.default_rng(0)
    nearest = np.argsort(d, axis=1, kind="stable")[:, :k]
    out = np.empty(len(d), dtype=labels.dtype)
    for i, row in enumerate(nearest):
        votes = labels[row]
        classes, counts = np.unique(votes, return_counts=True)
        tied = classes[counts == counts.max()]
        if len(tied) == 1:
            out[i] = tied[0]
        elif ties == "random":
            out[i] = rng.choice(tied)
        elif ties == "nearest":
            out[i] = next(v for v in votes if v in tied)  # votes are ordered nearest first
        else:
            out[i] = truth[i] if truth[i] in tied else tied[0]
    return out


# ---------------------------------------------------------------- class-conditional code length
class ClassCode:
    """``x ↦ C(D∘x) − C(D)``: the cost of ``x`` after a whole dataset ``D``, for one compressor.

    ``zlib`` compresses ``D`` once and reuses the compressor state for every ``x`` (exactly
    ``C(D∘x)``, since DEFLATE is deterministic), but it can only see the last 32 KiB of ``D``.
    ``zstd`` uses ``D`` as a raw-content dictionary (``C_dict(x | D)``; the whole of ``D`` is
    visible up to zstd's window). ``lzma`` and the others recompress ``D∘x`` each time.
    """

    def __init__(self, dataset: bytes, name: str = "zstd"):
        self.dataset, self.name = compressors.as_bytes(dataset, "dataset"), name
        compressors.check_name(name)
        if name == "zlib":
            self._state = zlib.compressobj(compressors.ZLIB_LEVEL)
            self._head = len(self._state.compress(self.dataset))
            self.base = 8 * (self._head + len(self._state.copy().flush()))
        elif name == "zstd":
            d = compressors.zstd_dictionary(self.dataset)
            self._zstd = zstandard.ZstdCompressor(level=19, dict_data=d)
            self.base = 0
        else:
            self.base = compressors.size_bits(self.dataset, name)

    def bits(self, x: bytes) -> int:
        """``C(D∘x) − C(D)`` (``zstd``: ``C_dict(x | D)``) in bits."""
        x = compressors.as_bytes(x, "x")
        if self.name == "zlib":
            state = self._state.copy()
            return 8 * (self._head + len(state.compress(x)) + len(state.flush())) - self.base
        if self.name == "zstd":
            return 8 * len(self._zstd.compress(x))
        return compressors.size_bits(self.dataset + x, self.name) - self.base


def class_datasets(examples, labels) -> dict:
    """``{c: D_c}``: the concatenation, in order, of the examples (bytes) of each class ``c``."""
    examples, labels = list(examples), np.asarray(labels)
    if len(examples) != len(labels):
        raise ValueError(f"{len(examples)} examples but {len(labels)} labels")
    return {
        c.item(): b"".join(examples[i] for i in np.flatnonzero(labels == c))
        for c in np.unique(labels)
    }


def class_conditional_bits(
    queries, datasets: dict, name: str = "zstd", progress: bool = True
) -> tuple[list, np.ndarray]:
    """``B[i, c] = C(D_c∘x_i) − C(D_c)`` for every query and class; returns ``(classes, B)``.

    Classify by ``classes[B.argmin(1)]``: the class whose data makes ``x`` cheapest.
    ``progress``: a bar over the queries (shown unless ``BOOK_PROGRESS=0``).
    """
    from lib import runtime

    if not datasets:
        raise ValueError("datasets must map at least one class to its bytes")
    disable = not runtime.check_progress(progress)
    classes = list(datasets)
    codes = [ClassCode(datasets[c], name) for c in classes]
    bar = runtime.progress(queries, desc="class codes", unit="query", leave=False, disable=disable)
    return classes, np.array([[code.bits(q) for code in codes] for q in bar], dtype=float)


# ---------------------------------------------------------------- a labelled text task
_HEADER = re.compile(r"^(\S[^\n]*)\n(\*+)\n", re.M)


def documentation_sections(text: str) -> list[tuple[str, str]]:
    """Split ``lib.data.text()`` into ``(title, body)`` sections at its underlined headers."""
    heads = [m for m in _HEADER.finditer(text) if len(m.group(2)) == len(m.group(1))]
    if not heads:
        raise ValueError("text has no 'Title' lines underlined with '*'")
    ends = [m.start() for m in heads[1:]] + [len(text)]
    return [(m.group(1), text[m.end() : e].strip()) for m, e in zip(heads, ends, strict=True)]


def topic_chunks(text: str, n_topics: int = 6, chunk_bytes: int = 400):
    """A labelled text task: chunks of paragraphs, labelled by the documentation topic of origin.

    Paragraphs (blank-line separated) that occur more than once anywhere in ``text`` are dropped
    (several topics quote each other), so no chunk has an exact copy elsewhere. The ``n_topics``
    largest remaining sections are the classes; consecutive paragraphs are merged into chunks of
    about ``chunk_bytes`` bytes. Returns ``(chunks: list[bytes], labels: np.ndarray, titles)``.
    """
    if not isinstance(n_topics, int) or n_topics < 2:
        raise ValueError(f"n_topics must be an int ≥ 2, got {n_topics!r}")
    if not isinstance(chunk_bytes, int) or chunk_bytes < 1:
        raise ValueError(f"chunk_bytes must be a positive int, got {chunk_bytes!r}")
    sections = [
        (t, [p for p in body.split("\n\n") if p.strip()])
        for t, body in documentation_sections(text)
    ]
    seen: dict[str, int] = {}
    for _, paragraphs in sections:
        for p in paragraphs:
            seen[p.strip()] = seen.get(p.strip(), 0) + 1
    unique = [(t, [p for p in ps if seen[p.strip()] == 1]) for t, ps in sections]
    unique.sort(key=lambda tp: -sum(len(p) for p in tp[1]))
    chunks, labels, titles = [], [], []
    for label, (title, paragraphs) in enumerate(unique[:n_topics]):
        titles.append(title)
        current = ""
        for p in paragraphs:
            current = f"{current}\n\n{p}" if current else p
            if len(current.encode()) >= chunk_bytes:
                chunks.append(current.encode())
                labels.append(label)
                current = ""
    return chunks, np.array(labels), titles


CIPHER_KEY_BITS = math.log2(math.factorial(26))  # the cipher's key: one permutation of 26 letters


def substitution_cipher(s: bytes, seed: int = 0) -> bytes:
    """``s`` with its letters permuted by a random key (upper and lower case alike).

    The key is one permutation of the 26 letters, so ``K(cipher(s) | s) ≤ log2 26! + O(1)``
    ``≈ 88.4 + O(1)`` bits (``CIPHER_KEY_BITS``): a bound on the conditional complexity.
    """
    s = compressors.as_bytes(s, "s")
    rng = np.random.default_rng(seed)
    lower = bytes(range(ord("a"), ord("z") + 1))
    key = bytes(rng.permutation(list(lower)).tolist())
    return s.translate(bytes.maketrans(lower + lower.upper(), key + key.upper()))
