"""A bitwise context-mixing compressor (chapter 5): many small predictors, one learned mixture.

Every byte is coded as 8 binary decisions, most significant bit first. Before each bit several
*experts* each give a probability that the bit is 1:

- context models of orders 0, 1, 2, 3, 4 and 6 (the last ``k`` bytes, hashed together with the
  bits of the current byte seen so far) and two *word* models (the letters of the current word, and
  those with the previous word). Each context owns an adaptive counter
  ``p ← p + (y − p) / (n + 1.5)``, ``n`` the number of times it was seen (capped, so old evidence
  fades);
- a *match model*: the last time the previous ``MATCH_MIN`` bytes occurred, which byte followed?
  It predicts that byte's next bit, the more confidently the longer the match has lasted.

A *logistic mixer* combines them: with ``s_i = stretch(p_i) = ln(p_i / (1 − p_i))``

    p = squash(sum_i w_i s_i),    w_i ← w_i + lr · (y − p) · s_i

(online gradient descent on the code length ``−log2 p(y)``, as ``∂(−ln p(y))/∂w_i = −(y − p) s_i``).
Each mixer keeps one weight vector per small context and uses the one of the moment: the first
mixer selects by the bits of the byte so far and the length of the current match, the second by
the previous byte; their outputs are averaged in the stretched domain. This is the simulation
argument of chapter 5 in practice: the mixture learns to follow whichever expert predicts best,
here and now, and pays little for the ones it ignores. Two *adaptive probability maps* (APM,
also called SSE) then correct the mixer's probability in the contexts of the current byte and the
last one.

The ideas are those of Mahoney's PAQ family (lpaq1, 2007) and of the book *Data Compression
Explained*; this is a new, smaller implementation written to be read. Everything is integer
arithmetic (probabilities in 12 or 16 bits, the logistic function tabulated once with the
``decimal`` module, which rounds correctly everywhere), so encoder and decoder, on any machine,
compute the same numbers.

The model is ``Predictor``, in the predict-then-observe protocol of ``lib.prequential``, whose
one driver codes it with ``coding.BinaryEncoder`` (a carry-less binary arithmetic coder on
32-bit integers) into a ``lib.coding`` container, kind ``CMX2``; corrupt or truncated input
raises ``CorruptStreamError``. ``compress``, ``decompress`` and ``code_lengths`` below are that
driver with ``model="cm"``.
"""

from __future__ import annotations

import contextlib
from array import array
from decimal import Decimal, localcontext
from operator import mul

import numpy as np

from lib import coding

KIND = b"CMX2"  # container kind: fingerprints of the probabilities
KINDS = (KIND, b"CMX1")  # CMX1 (before December 2026): fingerprints of the decoded bytes
ORDERS = (0, 1, 2, 3, 4, 6)  # context orders (bytes); the word models come on top
MATCH_MIN = 5  # the match model looks up the last MATCH_MIN bytes
TABLE_BITS = 24  # 2**TABLE_BITS counters shared by all context models (4 bytes each)
COUNT_LIMIT = 63  # a counter's rate 1/(n + 1.5) stops falling at n = COUNT_LIMIT
MIXER_RATE = 48  # learning rate of the mixers, in units of 2**-16 (fixed point)
N_INPUTS = len(ORDERS) + 4  # context models, 2 word models, match model, bias
# A bit costs at least -log2(4095/4096) bits (12-bit probabilities), a byte 8 times that: no
# stream holds more than about 2840 bytes per byte. The decoder refuses longer claims.
MAX_RATIO = 3000
# The model's probabilities carry a CRC-32 per block (1 KB, 2 KB, ... 32 KB, then 32 KB each),
# checked as they are decoded: a corrupt or forged stream stops within one block, and a header
# with k fingerprints cannot claim more bytes than k blocks hold.
FIRST_BLOCK, LAST_BLOCK = 1 << 10, 1 << 15


# ---------------------------------------------------------------- the logistic function
def _squash_table() -> list[int]:
    """``squash(d) = 4096 / (1 + e^(−d/256))`` for d in [−2047, 2047], rounded, within [1, 4095].

    Computed with ``decimal`` (correctly rounded on every platform), not ``math.exp``.
    """
    out = []
    with localcontext() as ctx:
        ctx.prec = 30
        for d in range(-2047, 2048):
            p = Decimal(4096) / (1 + (Decimal(-d) / 256).exp())
            out.append(min(4095, max(1, int(p.to_integral_value()))))
    return out


SQUASH = _squash_table()  # SQUASH[d + 2047]


def squash(d: int) -> int:
    """The logistic function in fixed point: stretch units (1/256) to a 12-bit probability."""
    return SQUASH[min(2047, max(-2047, d)) + 2047]


def _stretch_table() -> list[int]:
    """``stretch(p) = ln(p / (1 − p))`` · 256 for 12-bit p: the inverse of ``squash``."""
    out, d = [], -2047
    for p in range(4096):
        while d < 2047 and SQUASH[d + 2047] < p:
            d += 1
        out.append(d)
    return out


STRETCH = _stretch_table()  # STRETCH[p], p in [0, 4096)


# ---------------------------------------------------------------- adaptive counters
def _counter_tables(limit: int) -> tuple[array, array]:
    """State updates of a counter: ``state = p16 · 64 + n`` (probability of a 1 in 16 bits, and
    how often it was seen), tabulated for both bits: ``NEXT[y][state]``.

    ``p ← p + (65535·y − p) / (n + 1.5)``, ``n ← min(n + 1, limit)``: the first observations
    count a lot, later ones less, down to a rate of ``1/(limit + 1.5)``.
    """
    state = np.arange(1 << 22, dtype=np.int64)
    p, n = state >> 6, state & 63
    recip = 65536 * 2 // (2 * n + 3)  # 65536 / (n + 1.5), in integers
    n_next = np.minimum(n + 1, limit)
    tables = []
    for y in (0, 1):
        q = p + (((65535 * y - p) * recip) >> 16)
        q = np.clip(q, 32, 65503)  # never certain
        tables.append(array("I", ((q << 6) | n_next).astype(np.uint32).tobytes()))
    return tables[0], tables[1]


NEXT0, NEXT1 = _counter_tables(COUNT_LIMIT)
FRESH = 32768 << 6  # p = 1/2, never seen


# ---------------------------------------------------------------- hashing
_M64 = (1 << 64) - 1
_MATCH_MASK = (1 << 8 * MATCH_MIN) - 1
_PRIMES = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93)


def _slot(context: int, salt: int, bits: int) -> int:
    """A hash of ``context`` (any non-negative int) into a 16-aligned index below 2**bits."""
    h = ((context + 1) * _PRIMES[salt & 3] + salt * _PRIMES[(salt + 1) & 3]) & _M64
    h ^= h >> 29
    h = (h * _PRIMES[2]) & _M64
    return (h >> (64 - bits)) & ~15  # the low 4 bits: the partial nibble


# ---------------------------------------------------------------- the model
def _model():
    """The model as a coroutine: it yields ``p``, the probability (12 bits) that the next bit is
    a 1, and is sent the bit that came; bits are the bytes' bits, most significant first.

    A coroutine rather than an object so that the state lives in local variables (the inner
    loop is pure Python, and attribute look-ups would cost a third of its time)."""
    buf = bytearray()  # the bytes so far (the match model looks back into them)

    # the experts' memory
    table_mask = (1 << TABLE_BITS) - 1
    t = array("I", [FRESH]) * (1 << TABLE_BITS)  # counters of all context models
    match_t = array("I", [FRESH]) * (64 * 2)  # counters of the match model: by length, bit
    match_at: dict[int, int] = {}  # the last MATCH_MIN bytes (as one int) -> position after them
    match_ptr, match_len = 0, 0
    # the mixers' weights (16.16 fixed point): one vector per (match length / 16, bits so far),
    # and one per previous byte
    weights = [1 << 14] * (N_INPUTS * 1024)
    weights2 = [1 << 14] * (N_INPUTS * 256)
    # the APMs: 33 interpolation points per context, 16-bit probabilities
    apm_points = [squash((i - 16) * 128) * 16 for i in range(33)]
    apm1 = apm_points * 256
    apm2 = apm_points * 65536

    hist, word, last_word = 0, 0, 0  # the last 8 bytes, hashes of this word and the last
    pos = 0
    while True:
        # ---- per byte: the contexts of this byte, and the match model's prediction
        ctx = [hist & ((1 << 8 * k) - 1) for k in ORDERS] + [word, word ^ last_word << 32]
        hashes = [_slot(c, i, TABLE_BITS) for i, c in enumerate(ctx)]
        bases = hashes  # 16 counters from here on: one per partial nibble 1, 1x, 1xx, 1xxx
        if match_len:
            expected = buf[match_ptr] | 0x100  # the predicted byte with a leading 1
        else:
            expected = 0
        match_ctx = min(match_len, 63) * 2
        # the second mixer and APM 2 select by the previous byte: the same row for 8 bits
        wsel2 = (hist & 0xFF) * N_INPUTS
        w2 = weights2[wsel2 : wsel2 + N_INPUTS]
        a2_row = (hist & 0xFF) << 8
        c0 = 1  # the bits of this byte so far, behind a leading 1
        nib = 1  # the bits of this nibble so far, behind a leading 1
        for j in range(8):
            if j == 4:
                bases = [(h ^ c0 * 0x9E3779B1) & table_mask & ~15 for h in hashes]  # 2nd nibble
                nib = 1
            # ---- predict: every expert, then the mixer, then the APMs
            idx = [b + nib for b in bases]
            states = list(map(t.__getitem__, idx))
            st = [STRETCH[s >> 10] for s in states]
            if expected and (expected >> (8 - j)) == c0:
                e_bit = (expected >> (7 - j)) & 1
                m_state = match_t[match_ctx + e_bit]
                s_match = STRETCH[m_state >> 10]
                st.append(s_match if e_bit else -s_match)
                wsel = ((1 + min(match_len, 47) // 16) * 256 + c0) * N_INPUTS
            else:
                m_state = -1
                st.append(0)
                wsel = c0 * N_INPUTS
            st.append(256)
            w = weights[wsel : wsel + N_INPUTS]
            dot1 = sum(map(mul, w, st)) >> 16
            dot2 = sum(map(mul, w2, st)) >> 16
            dot = min(2047, max(-2047, (dot1 + dot2) >> 1))  # (squash's range)
            pm = SQUASH[dot + 2047]
            # APM 1 (this byte's bits) and APM 2 (with the previous byte), interpolated
            d = dot + 2048
            lo, frac = d >> 7, d & 127
            a1 = c0 * 33 + lo
            a2 = (a2_row | c0) * 33 + lo
            p1 = (apm1[a1] * (128 - frac) + apm1[a1 + 1] * frac) >> 11
            p2 = (apm2[a2] * (128 - frac) + apm2[a2 + 1] * frac) >> 11
            p = (pm + p1 + 2 * p2 + 2) >> 2

            # ---- the bit: p (the probability of a 1, in 12 bits) out, the bit in
            y = yield min(4095, max(1, p))

            # ---- learn: counters, match counter, mixer weights, APMs
            nxt = NEXT1 if y else NEXT0
            for i, s in zip(idx, states):
                t[i] = nxt[s]
            if m_state >= 0:
                match_t[match_ctx + e_bit] = (NEXT1 if y == e_bit else NEXT0)[m_state]
            err = ((y << 12) - squash(dot1)) * MIXER_RATE
            weights[wsel : wsel + N_INPUTS] = [wi + ((si * err) >> 16) for wi, si in zip(w, st)]
            err = ((y << 12) - squash(dot2)) * MIXER_RATE
            w2 = [wi + ((si * err) >> 16) for wi, si in zip(w2, st)]
            target = y << 16
            k1 = a1 + (frac >> 6)
            apm1[k1] += (target - apm1[k1]) >> 6
            k2 = a2 + (frac >> 6)
            apm2[k2] += (target - apm2[k2]) >> 6
            c0 = (c0 << 1) | y
            nib = (nib << 1) | y

        # ---- after the byte: the second mixer's row, history, contexts, match model
        weights2[wsel2 : wsel2 + N_INPUTS] = w2
        c = c0 & 0xFF
        buf.append(c)
        hist = (hist << 8 | c) & _M64
        if 97 <= (c | 32) <= 122:  # a letter
            word = (word * 0x2F0B1 + (c | 32)) & 0xFFFFFFFF
        elif word:
            word, last_word = 0, word
        if match_len and expected & 0xFF == c:
            match_len += 1
            match_ptr += 1
        else:
            match_len = 0
        if pos + 1 >= MATCH_MIN:
            key = hist & _MATCH_MASK
            if not match_len:
                found = match_at.get(key)
                if found is not None:
                    match_ptr, match_len = found, 1
            match_at[key] = pos + 1
        pos += 1


class Predictor:
    """The context-mixing model in the predict-then-observe protocol of ``lib.prequential`` for
    bits (``alphabet = 2``): ``begin(n)`` returns the model as a coroutine (``p = run.send(bit)``
    observes a bit and predicts the next: ``p`` is the 12-bit probability of a 1), ``blocks(n)``
    the ranges of bits whose probabilities are fingerprinted (1 KB, 2 KB, ... 32 KB of bytes,
    then 32 KB each)."""

    alphabet = 2

    def begin(self, n: int):
        """A stream of ``n`` bits (8 per byte) starts: a fresh model."""
        return _model()

    def blocks(self, n: int) -> list[tuple[int, int]]:
        return [(8 * lo, 8 * hi) for lo, hi in coding.doubling_blocks(n // 8, *_BLOCKS)]

    def exact(self):
        """Integer arithmetic only: the same numbers everywhere, nothing to set."""
        return contextlib.nullcontext()


_BLOCKS = (FIRST_BLOCK, LAST_BLOCK)


# ---------------------------------------------------------------- as a compressor
def code_lengths(data: bytes) -> np.ndarray:
    """Per-byte code lengths ``−log2 p(x_t | x_<t)`` (bits) of the context-mixing model."""
    from lib import prequential  # the one driver of every prequential model

    return prequential.code_lengths(data, prequential.PrequentialConfig(model="cm"))


def compress(data: bytes, progress: bool = False, return_code_lengths: bool = False):
    """``data`` compressed into a ``lib.coding`` container (kind ``CMX2``): the number of
    blocks, the CRC-32s of the model's probabilities in each, then the stream
    (``prequential.compress`` with ``model="cm"``)."""
    from lib import prequential

    cfg = prequential.PrequentialConfig(model="cm")
    return prequential.compress(data, cfg, progress, return_code_lengths)


def decompress(blob: bytes, progress: bool = False) -> bytes:
    """The original bytes of a ``compress``ed blob (``CMX2``, or the older ``CMX1``);
    ``CorruptStreamError`` if anything is off."""
    from lib import prequential

    payload, length, crc, kind = coding.unwrap(blob)
    if kind not in KINDS:
        raise coding.CorruptStreamError(f"not a context-mixing container (kind {kind!r})")
    return prequential.decompress(blob, progress)
