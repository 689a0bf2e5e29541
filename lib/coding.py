"""Arithmetic (range) coding: a model's probabilities turned into bits, and back.

A model that gives the next symbol probability p(s) lets a coder spend about -log2 p(s) bits on
it, so a whole sequence costs about the *ideal code length*

    L = sum_t -log2 p_t(s_t)   bits,

plus a few bytes. This is the bridge of chapter 5 (generative models are lossless compressors) and
is used in chapters 1, 3, 4 and 6 to turn code lengths into real files.

The coder works with integers only, so encoder and decoder agree bit for bit:
- ``quantize`` turns each distribution into integer frequencies summing to 2**PRECISION, every
  symbol at least 1 (no symbol is ever impossible), deterministically;
- the state is an interval [low, low + range) with 64-bit ``low`` and ``range`` kept in
  [2**56, 2**64); a symbol with frequencies (cumulative c, own f) narrows it to
  ``low += (range >> PRECISION) * c``, ``range = (range >> PRECISION) * f``; whenever the top
  byte is settled it is shipped, with a carry into the bytes already written (the scheme of
  Subbotin's and LZMA's range coders, at 64 bits).

``wrap``/``unwrap`` put a payload in a small container (magic, version, kind, length and CRC-32 of
the original, and a CRC-32 of the container itself) so that corrupt or truncated input raises
``CorruptStreamError`` instead of returning wrong data: a flipped bit anywhere in a file is
reported as corruption before any model runs.
"""

from __future__ import annotations

import struct
import zlib
from array import array

import numpy as np

PRECISION = 32  # frequencies of every distribution sum to 2**PRECISION
TOTAL = 1 << PRECISION
_TOP = 1 << 64  # low and range live below 2**64
_BOTTOM = 1 << 56  # renormalize when range falls below this (the top byte is settled)
_MASK = _TOP - 1
_FLUSH = 9  # bytes the encoder writes at the end (cache byte + 8 bytes of low)

MAGIC = b"CGBK"  # "compression and generalization book"
VERSION = 2  # version 2 added the container's own CRC-32
_HEADER = struct.Struct(">4sB4sQII")  # magic, version, kind, original length, CRC-32s
_SPAN = 1 << 24  # rows below 2**-24 in sum, or whose sum overflows, are rescaled exactly


class CorruptStreamError(ValueError):
    """The bytes are not a stream this coder (or container) wrote, or were cut short."""


# ---------------------------------------------------------------- inputs
def as_bytes(data, argument: str = "data") -> bytes:
    """``data`` as ``bytes``; bytes-like objects are accepted, anything else is a TypeError."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"{argument} must be bytes, got {type(data).__name__}")


# ---------------------------------------------------------------- distributions
def _as_probs(probs) -> np.ndarray:
    """A float64 (N×V) array of non-negative, finite rows with positive sums."""
    if hasattr(probs, "detach"):  # a torch tensor, on any device
        probs = probs.detach().to("cpu").double().numpy()
    try:
        p = np.asarray(probs, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f"probs must be an array of numbers, got {type(probs).__name__}") from e
    if p.ndim != 2 or p.shape[1] < 1:
        raise ValueError(f"probs must be a 2-d array (steps × alphabet), got shape {p.shape}")
    if p.shape[1] >= TOTAL:
        raise ValueError(f"alphabet of {p.shape[1]} symbols does not fit 2**{PRECISION}")
    if not p.size:
        return p
    with np.errstate(over="ignore"):
        sums = p.sum(axis=1)  # one pass catches NaN and infinity too (they make the sum so)
    if not np.isfinite(sums).all() and not np.isfinite(p).all():
        raise ValueError("probs contains NaN or infinity")  # (a finite row may overflow: rescaled)
    if p.min() < 0:
        raise ValueError("probs contains negative values")
    if (sums <= 0).any():
        raise ValueError("probs has a row that sums to zero")
    odd = ~((sums >= 1.0 / _SPAN) & (sums <= _SPAN))
    if odd.any():  # tiny or huge rows: scale by a power of two (exact) so the max is in [1/2, 1)
        p = p.copy()  # never write into the caller's array
        exponents = np.frexp(p[odd].max(axis=1))[1]
        p[odd] = np.ldexp(p[odd], -exponents[:, None])
    return p


def _floors(p: np.ndarray):
    """For valid rows ``p``: ``floor(p · (2**32 − V))`` per symbol (normalized rows, as floats,
    exact below 2**53, so their sums are exact in any order), the spare mass and the most
    probable symbol."""
    n, v = p.shape
    x = p * (float(TOTAL - v) / p.sum(axis=1, keepdims=True))
    np.floor(x, out=x)
    spare = float(TOTAL - v) - x.sum(axis=1)
    return x, spare, p.argmax(axis=1)


def quantize(probs) -> np.ndarray:
    """Integer frequencies (N×V, int64) for the rows of ``probs``: each ≥ 1, each row sums to 2**32.

    ``f = 1 + floor(p · (2**32 − V))`` with ``p`` normalized per row, and what rounding leaves
    over goes to the most probable symbol. The same floats always give the same integers.
    """
    return _quantize_valid(_as_probs(probs))


def _quantize_valid(p: np.ndarray) -> np.ndarray:
    x, spare, top = _floors(p)
    freqs = x.astype(np.int64) + 1
    freqs[np.arange(len(x)), top] += spare.astype(np.int64)
    return freqs


def _blocks(n: int, size: int = 1024):
    """Row ranges of at most ``size`` rows: quantizing block by block stays in the cache (1024
    rows of 256 floats: 2 MB; 4096 rows were 15% slower)."""
    return ((i, min(i + size, n)) for i in range(0, n, size))


def _symbols(symbols, n: int, v: int) -> np.ndarray:
    try:
        s = np.asarray(symbols)
    except (TypeError, ValueError) as e:
        raise ValueError(f"symbols must be a 1-d sequence of {n} integers") from e
    if s.ndim != 1 or s.shape[0] != n:
        raise ValueError(f"symbols must be a 1-d sequence of {n} entries (one per row of probs)")
    if n and not np.issubdtype(s.dtype, np.integer):
        raise ValueError(f"symbols must be integers, got dtype {s.dtype}")
    s = s.astype(np.int64)
    if n and (s.min() < 0 or s.max() >= v):
        raise ValueError(f"symbols must lie in [0, {v}), got range [{s.min()}, {s.max()}]")
    return s


def ideal_bits(symbols, probs) -> float:
    """The ideal code length ``sum_t -log2 p_t(s_t)`` in bits (rows of ``probs`` normalized)."""
    p = _as_probs(probs)
    s = _symbols(symbols, *p.shape)
    chosen = p[np.arange(len(s)), s] / p.sum(axis=1)
    if (chosen == 0).any():
        raise ValueError("a symbol that occurs has probability 0: no code can represent it")
    return float(-np.log2(chosen).sum())


# ---------------------------------------------------------------- the coder
class Encoder:
    """Streaming range encoder: ``encode`` any number of batches, then ``finish`` for the bytes."""

    def __init__(self):
        self.low, self.range = 0, _MASK
        self.cache, self.pending = 0, 1  # the byte held back for a carry, and 0xFF bytes after it
        self.out = bytearray()
        self.done = False

    def _shift(self):
        """Ship the top byte of ``low`` (or hold it back while a carry may still reach it)."""
        if self.low < 0xFF << 56 or self.low >= _TOP:
            carry = self.low >> 64
            self.out.append((self.cache + carry) & 0xFF)
            self.out.extend(bytes([(0xFF + carry) & 0xFF]) * (self.pending - 1))
            self.pending = 0
            self.cache = (self.low >> 56) & 0xFF
        self.pending += 1
        self.low = (self.low << 8) & _MASK

    def encode(self, symbols, probs) -> None:
        """Code ``symbols[t]`` with distribution ``probs[t]``, for t in order."""
        if self.done:
            raise RuntimeError("this encoder is finished")
        p = _as_probs(probs)
        s = _symbols(symbols, *p.shape)
        for a, b in _blocks(len(s)):
            self._encode_block(s[a:b], p[a:b], a)

    def _encode_block(self, s, p, offset):
        rows = np.arange(len(s))
        if (p[rows, s] == 0).any():
            t = int(np.flatnonzero(p[rows, s] == 0)[0])
            raise ValueError(
                f"symbol {s[t]} at step {offset + t} has probability 0: it cannot be coded"
            )
        x, spare, top = _floors(p)
        below = np.einsum("ij,ij->i", x, np.arange(p.shape[1]) < s[:, None])  # sum of x[:s]
        own = x[rows, s]
        widths = (own + 1 + spare * (top == s)).astype(np.int64).tolist()
        starts = (below + s + spare * (top < s)).astype(np.int64).tolist()
        low, rng = self.low, self.range
        for c, f in zip(starts, widths):
            r = rng >> PRECISION
            low += r * c
            rng = r * f
            while rng < _BOTTOM:
                self.low = low
                self._shift()
                low, rng = self.low, rng << 8
        self.low, self.range = low, rng

    def finish(self) -> bytes:
        """Flush the state; returns all bytes written."""
        if not self.done:
            for _ in range(_FLUSH):
                self._shift()
            self.done = True
        return bytes(self.out)


class Decoder:
    """Streaming range decoder over ``payload``: ``decode`` batches in the encoder's order."""

    def __init__(self, payload: bytes):
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise TypeError(f"payload must be bytes, got {type(payload).__name__}")
        self.data = bytes(payload)
        if len(self.data) < _FLUSH:
            raise CorruptStreamError(f"stream of {len(self.data)} bytes is too short to decode")
        if self.data[0] != 0:
            raise CorruptStreamError("stream does not start with the coder's zero byte")
        self.pos = _FLUSH
        self.code = int.from_bytes(self.data[1:_FLUSH], "big")
        self.range = _MASK

    def decode(self, probs) -> np.ndarray:
        """One symbol per row of ``probs``: the symbols the encoder coded with the same rows."""
        p = _as_probs(probs)
        return np.concatenate(
            [self._decode_block(p[a:b]) for a, b in _blocks(len(p))]
            or [np.empty(0, dtype=np.int64)]
        )

    def _decode_block(self, p) -> np.ndarray:
        freqs = _quantize_valid(p)
        cums = np.cumsum(freqs, axis=1)
        out = np.empty(len(freqs), dtype=np.int64)
        code, rng, data, pos = self.code, self.range, self.data, self.pos
        for t in range(len(freqs)):
            r = rng >> PRECISION
            target = code // r
            if target >= TOTAL:
                raise CorruptStreamError("stream is inconsistent with these probabilities")
            s = int(np.searchsorted(cums[t], target, side="right"))
            f = int(freqs[t, s])
            code -= r * (int(cums[t, s]) - f)
            rng = r * f
            while rng < _BOTTOM:
                if pos >= len(data):
                    raise CorruptStreamError("stream ended early (truncated?)")
                code = ((code << 8) | data[pos]) & _MASK
                rng <<= 8
                pos += 1
            out[t] = s
        self.code, self.range, self.pos = code, rng, pos
        return out

    def finish(self) -> None:
        """Check that the whole payload was used, as the encoder wrote exactly this much."""
        if self.pos != len(self.data):
            raise CorruptStreamError(
                f"{len(self.data) - self.pos} unexpected bytes after the stream"
            )


def encode(symbols, probs) -> bytes:
    """Range-code ``symbols`` (one per row of ``probs``); about ``ideal_bits`` + 9 bytes."""
    enc = Encoder()
    enc.encode(symbols, probs)
    return enc.finish()


def decode(payload: bytes, probs) -> np.ndarray:
    """The symbols ``encode`` coded with the same ``probs``."""
    dec = Decoder(payload)
    out = dec.decode(probs)
    dec.finish()
    return out


# ---------------------------------------------------------------- the binary coder
class BinaryEncoder:
    """Arithmetic coder for bits with 12-bit probabilities, on 32-bit integers, without carries
    (the coder of Mahoney's lpaq1; used by ``lib.context_mixing``, whose models are bitwise).

    The interval ``[x1, x2]`` is split at ``x1 + ((x2 − x1) >> 12) · p``, ``p`` the probability
    of a 1 in units of 2**-12; a 1 keeps the lower part. Leading bytes are shipped once ``x1``
    and ``x2`` agree on them. A bit costs ``−log2(p/4096)`` bits (or of ``1 − p``) up to the
    truncation of ``(x2 − x1) >> 12``, and the stream ends with the 4 bytes of ``x1``."""

    def __init__(self):
        self.x1, self.x2 = 0, 0xFFFFFFFF
        self.out = bytearray()

    def encode(self, bit: int, p: int) -> None:
        """Code ``bit`` (0 or 1) with ``P(1) = p / 4096``, ``p`` an int in [1, 4095]."""
        self.encode_bits([bit], [p])

    def encode_bits(self, bits, probs) -> None:
        """Code ``bits[t]`` with ``P(1) = probs[t] / 4096``, for t in order: the arguments are
        checked once, then one loop without calls (a whole block of ``lib.context_mixing``)."""
        try:  # ints in range, checked in C: bytes (0..255) and unsigned 16-bit
            bits, probs = bytes(bits), array("H", probs)
        except (TypeError, ValueError, OverflowError) as e:
            raise TypeError("bits and probs must be sequences of ints") from e
        if len(bits) != len(probs):
            raise ValueError(f"{len(bits)} bits but {len(probs)} probabilities")
        if bits and (max(bits) > 1 or min(probs) < 1 or max(probs) > 4095):
            raise ValueError("bits must be 0 or 1 and probabilities in [1, 4095]")
        x1, x2, out = self.x1, self.x2, self.out
        for bit, p in zip(bits, probs):
            xmid = x1 + ((x2 - x1) >> 12) * p
            if bit:
                x2 = xmid
            else:
                x1 = xmid + 1
            while not (x1 ^ x2) & 0xFF000000:
                out.append(x2 >> 24)
                x1 = x1 << 8 & 0xFFFFFFFF
                x2 = (x2 << 8 & 0xFFFFFFFF) | 0xFF
        self.x1, self.x2 = x1, x2

    def finish(self) -> bytes:
        return bytes(self.out) + self.x1.to_bytes(4, "big")


class BinaryDecoder:
    """The inverse of ``BinaryEncoder``: ``decode(p)`` returns the bit the encoder coded with
    the same ``p``; ``CorruptStreamError`` if the stream ends early or has bytes left over."""

    def __init__(self, stream: bytes):
        if len(stream) < 4:
            raise CorruptStreamError(f"a binary stream of {len(stream)} bytes (at least 4)")
        self.stream, self.pos = bytes(stream), 4
        self.x1, self.x2, self.x = 0, 0xFFFFFFFF, int.from_bytes(stream[:4], "big")

    def decode(self, p: int) -> int:
        x1, x2, x = self.x1, self.x2, self.x
        xmid = x1 + ((x2 - x1) >> 12) * p
        if x <= xmid:
            bit, x2 = 1, xmid
        else:
            bit, x1 = 0, xmid + 1
        while not (x1 ^ x2) & 0xFF000000:
            if self.pos >= len(self.stream):
                raise CorruptStreamError("binary stream ended early (truncated?)")
            x = (x << 8 & 0xFFFFFFFF) | self.stream[self.pos]
            self.pos += 1
            x1 = x1 << 8 & 0xFFFFFFFF
            x2 = (x2 << 8 & 0xFFFFFFFF) | 0xFF
        self.x1, self.x2, self.x = x1, x2, x
        return bit

    def finish(self) -> None:
        if self.pos != len(self.stream):
            raise CorruptStreamError("binary stream has the wrong length")


# ---------------------------------------------------------------- fingerprinted blocks
def doubling_blocks(n: int, first: int, last: int):
    """``(lo, hi)`` of consecutive blocks covering ``n`` items, of lengths ``first``,
    ``2·first``, ... up to ``last``, then ``last`` each (the last block may be shorter).

    The decoders of chapter 5 check a fingerprint after every block, so corrupt or forged input
    is caught within one block, and a header with ``k`` fingerprints cannot claim more than the
    first ``k`` blocks hold: the decoded length is bounded by the file's size.
    """
    lo, size = 0, first
    while lo < n:
        yield lo, min(n, lo + size)
        lo, size = lo + size, min(last, 2 * size)


def count_blocks(n: int, first: int, last: int) -> int:
    """``len(list(doubling_blocks(n, first, last)))``, without the loop over blocks."""
    count, lo, size = 0, 0, first
    while lo < n and size < last:
        count, lo, size = count + 1, lo + size, 2 * size
    return count + max(0, -(-(n - lo) // last))


# ---------------------------------------------------------------- the container
def wrap(payload: bytes, original: bytes, kind: bytes = b"RAW0") -> bytes:
    """``payload`` behind a header: magic, version, ``kind`` (4 bytes), length and CRC-32 of
    ``original``."""
    if not isinstance(kind, bytes) or len(kind) != 4:
        raise ValueError(f"kind must be 4 bytes, got {kind!r}")
    payload, original = as_bytes(payload, "payload"), as_bytes(original, "original")
    head = _HEADER.pack(MAGIC, VERSION, kind, len(original), zlib.crc32(original), 0)[:-4]
    return head + struct.pack(">I", zlib.crc32(payload, zlib.crc32(head))) + payload


def unwrap(blob: bytes) -> tuple[bytes, int, int, bytes]:
    """``(payload, original_length, original_crc32, kind)`` of a ``wrap``ped blob."""
    if not isinstance(blob, (bytes, bytearray, memoryview)):
        raise TypeError(f"blob must be bytes, got {type(blob).__name__}")
    blob = bytes(blob)
    if len(blob) < _HEADER.size:
        raise CorruptStreamError(
            f"{len(blob)} bytes is shorter than the {_HEADER.size}-byte header"
        )
    magic, version, kind, length, crc, own = _HEADER.unpack_from(blob)
    if magic != MAGIC:
        raise CorruptStreamError(f"not a book container (magic {magic!r}, expected {MAGIC!r})")
    if version != VERSION:
        raise CorruptStreamError(f"container version {version}, this code reads version {VERSION}")
    payload = blob[_HEADER.size :]
    if zlib.crc32(payload, zlib.crc32(blob[: _HEADER.size - 4])) != own:
        raise CorruptStreamError("the file fails its CRC-32 check (a flipped bit, or truncated)")
    return payload, length, crc, kind


def check_original(data: bytes, length: int, crc32: int) -> None:
    """Raise ``CorruptStreamError`` unless ``data`` has the recorded length and CRC-32."""
    data = as_bytes(data)
    for name, value in (("length", length), ("crc32", crc32)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise TypeError(f"{name} must be a non-negative int, got {value!r}")
    if len(data) != length:
        raise CorruptStreamError(f"decoded {len(data)} bytes, the header says {length}")
    if zlib.crc32(data) != crc32:
        raise CorruptStreamError("decoded data fails its CRC-32 check")


# ---------------------------------------------------------------- integer lengths (chapter 5)
def huffman_lengths(probs) -> np.ndarray:
    """Code word lengths (bits) of a Huffman code for the distribution ``probs`` (zeros get no
    code word, length 0): the optimal prefix code with *integer* lengths. They satisfy Kraft's
    inequality ``sum 2^-l <= 1`` with equality, and ``H <= sum p l < H + 1``."""
    import heapq

    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 1 or np.any(p < 0) or not p.sum() > 0:
        raise ValueError("probs must be a 1-d array of non-negative numbers with a positive sum")
    lengths = np.zeros(len(p), dtype=np.int64)
    heap = [(float(q), i, [i]) for i, q in enumerate(p) if q > 0]
    heapq.heapify(heap)
    if len(heap) == 1:
        lengths[heap[0][2]] = 1
        return lengths
    while len(heap) > 1:  # merge the two least likely subtrees: their symbols get one bit more
        qa, ia, a = heapq.heappop(heap)
        qb, ib, b = heapq.heappop(heap)
        lengths[a + b] += 1
        heapq.heappush(heap, (qa + qb, min(ia, ib), a + b))
    return lengths
