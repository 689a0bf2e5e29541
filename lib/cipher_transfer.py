"""Does a compressor of X∘Y discover the map between X and Y? (chapter 6)

X is English; Y is *other* English enciphered letter by letter into a disjoint alphabet (plain
``a-z`` to capitals ``A-Z`` by a secret key; spaces stay). What the compressor ``L`` finds that
X and Y share is

    Δ_L = L(Y) − L(Y | X),   L(Y | X) = L(X∘Y) − L(X),

and for a causal code (the prequential ones) ``L(Y | X)`` is read off the joint code of X∘Y
directly: the code lengths of Y's bytes when they come after X. An ideal compressor knows that
a 26-letter relabelling of English is English: ``L(Y | X) ≈ L(Y_plain | X) + log2 26!`` bits, so

    Δ_L ≤ Δ_L^max = L(Y) − L(Y_plain | X) − log2 26!   (about),

the most any compressor of this family could find. The chapter measures ``Δ_L`` and
``Δ_L^max`` for zlib, xz, the context mixer and transformers of growing size.

If a network has found the map, its symbol embeddings should say so: ``embedding_key`` reads a
key out of a model without the truth, by matching the *shapes* of the plain and the cipher
letters' embeddings (Gromov–Wasserstein, chapter 2's ``lib.alignment``) and taking the best
one-to-one assignment.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from lib import alignment, compressors, matching, prequential, runtime

PLAIN = matching.ALPHABET.encode()
CIPHER = matching.ALPHABET.upper().encode()


def encipher_disjoint(text: str, key: str) -> str:
    """``text`` (letters a-z and spaces) with plain letter ``p`` replaced by ``key[p]`` in
    capitals: the cipher alphabet ``A-Z`` shares no symbol with the plain one."""
    return matching.encipher(text, key).upper()


def standard_codes(x: bytes, y: bytes, y_plain: bytes, name: str) -> dict:
    """``L(Y)``, ``L(Y|X)`` and ``L(Y_plain|X)`` (bits) for a standard compressor
    (``lib.compressors``): ``L(Y) = C(Y) − C(ε)`` and ``L(Y|X) = C(X∘Y) − C(X)``. ``C(Y)``
    carries one container (header, checksum) that the difference ``C(X∘Y) − C(X)`` does not;
    subtracting ``C(ε)``, the empty string's file, leaves only what is coded."""
    framing = compressors.size_bits(b"", name)
    return {
        "L(Y)": compressors.size_bits(y, name) - framing,
        "L(Y|X)": compressors.concat_conditional_bits(y, x, name),
        "L(Yp|X)": compressors.concat_conditional_bits(y_plain, x, name),
    }


def causal_codes(code_lengths, x: bytes, y: bytes, y_plain: bytes | None = None) -> dict:
    """The same three code lengths for a causal code ``code_lengths(data) -> bits per byte``
    (a prequential learner, the context mixer), the conditional ones read from the joint code
    of ``X∘Y``; also the per-byte code lengths of Y (``"bits ..."``). Without ``y_plain``,
    ``L(Yp|X)`` is NaN (one run fewer)."""
    if y_plain is not None and len(y) != len(y_plain):
        raise ValueError("y and y_plain must have the same length (one is the other enciphered)")
    alone = np.asarray(code_lengths(y))
    joint = np.asarray(code_lengths(x + y))[len(x) :]
    out = {
        "L(Y)": float(alone.sum()),
        "L(Y|X)": float(joint.sum()),
        "L(Yp|X)": float("nan"),
        "bits Y": alone,
        "bits Y|X": joint,
    }
    if y_plain is not None:
        out["bits Yp|X"] = np.asarray(code_lengths(x + y_plain))[len(x) :]
        out["L(Yp|X)"] = float(out["bits Yp|X"].sum())
    return out


def shared_bits(codes: dict, key_bits: float) -> tuple[float, float]:
    """``(Δ, Δ_max)``: ``L(Y) − L(Y|X)`` and ``L(Y) − L(Y_plain|X) − key_bits``."""
    return codes["L(Y)"] - codes["L(Y|X)"], codes["L(Y)"] - codes["L(Yp|X)"] - key_bits


def coded_model(data: bytes, cfg: prequential.PrequentialConfig, progress: bool = True):
    """The transformer of ``prequential.code_lengths(data, cfg)`` after it has coded ``data``:
    the same ``prequential.Learner``, trained chunk by chunk on the same bytes in the same
    seeded steps (``prequential.chunks``), and then once more on the last chunk.
    ``progress``: a bar over the chunks (shown unless ``BOOK_PROGRESS=0``)."""
    disable = not runtime.check_progress(progress)
    learner = prequential.Learner(cfg)
    seen = np.frombuffer(data, dtype=np.uint8)
    chunks = list(enumerate(prequential.chunks(len(seen), cfg)))
    with runtime.threads(cfg.threads, learner.device):
        bar = runtime.progress(chunks, desc="training", unit="chunk", leave=False, disable=disable)
        for k, (start, length) in bar:
            learner.train(seen[: min(len(seen), start + cfg.lanes * length)], k)
    return learner.model


def embedding_key(embeddings: torch.Tensor, eps: float = 0.02) -> str:
    """A key (plain -> cipher, like ``matching.encipher``'s) read from a model's byte embeddings
    without the truth: the rows of ``a-z`` and of ``A-Z``, each set centred and normalised
    (``alignment.normalize_embeddings``), coupled by Gromov–Wasserstein on their similarity
    matrices, then the one-to-one assignment of largest total coupling."""
    if not isinstance(embeddings, torch.Tensor) or embeddings.dim() != 2 or len(embeddings) < 128:
        raise ValueError("embeddings must be a (V >= 128, d) tensor of byte embeddings")
    E = embeddings.detach().float().cpu()
    P = alignment.normalize_embeddings(E[list(PLAIN)])
    C = alignment.normalize_embeddings(E[list(CIPHER)])
    T = alignment.gromov_wasserstein(P @ P.T, C @ C.T, eps).numpy()
    plain, cipher = linear_sum_assignment(-T)
    key = [""] * 26
    for p, c in zip(plain, cipher, strict=True):
        key[p] = matching.ALPHABET[c]
    return "".join(key)


def frequency_key(plain_text: str, cipher_text: str) -> str:
    """The rank-matching key: the i-th most frequent cipher capital is the i-th most frequent
    plain letter (chapter 2's unigram distribution matching), as a key plain -> cipher."""
    return matching.decipher(cipher_text.lower(), plain_text, n=1).key
