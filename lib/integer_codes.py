"""Self-delimiting codes for the positive integers: Elias gamma and delta (chapter 4).

A code for strings is *self-delimiting* (prefix-free) when no codeword is a prefix of another, so
a decoder reading a stream knows where each codeword ends without a separator. The plain binary
expansion of ``n`` is not: ``1`` is a prefix of ``10``. Chapter 4 needs this to say *where X ends*
in a description of the pair ``(X, Y)``: the O(log n) term of the chain rule is the price of a
self-delimiting length.

Codewords are strings of ``"0"`` and ``"1"`` (readable, and exact to count):

- ``gamma(n)``: ``⌊log2 n⌋`` zeros, then the binary expansion of ``n``.
  Length ``2⌊log2 n⌋ + 1``.
- ``delta(n)``: ``gamma(⌊log2 n⌋ + 1)``, then the binary expansion of ``n`` without its leading 1.
  Length ``⌊log2 n⌋ + 2⌊log2(⌊log2 n⌋ + 1)⌋ + 1 = log2 n + O(log log n)``.

Both are complete prefix codes on ``n ≥ 1``; Kraft's sum ``Σ_n 2^{-len(n)}`` equals 1.
Reference: Elias (1975), *Universal codeword sets and representations of the integers*.
"""

from __future__ import annotations

__all__ = [
    "binary",
    "gamma",
    "gamma_length",
    "gamma_decode",
    "delta",
    "delta_length",
    "delta_decode",
    "encode_sequence",
    "decode_sequence",
    "to_bytes",
    "from_bytes",
]


def _check_positive(n, name: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{name} must be an int ≥ 1 (Elias codes start at 1), got {n!r}")
    return n


def _check_pos(pos) -> int:
    if isinstance(pos, bool) or not isinstance(pos, int) or pos < 0:
        raise ValueError(f"pos must be an int ≥ 0 (a position in bits), got {pos!r}")
    return pos


def _check_bits(bits) -> str:
    if not isinstance(bits, str) or set(bits) - {"0", "1"}:
        raise ValueError("bits must be a string of '0' and '1'")
    return bits


def binary(n: int) -> str:
    """The binary expansion of ``n ≥ 1`` (not self-delimiting: ``1`` is a prefix of ``10``)."""
    return format(_check_positive(n), "b")


# ---------------------------------------------------------------- gamma
def gamma(n: int) -> str:
    """Elias gamma codeword of ``n ≥ 1``: ``⌊log2 n⌋`` zeros, then ``binary(n)``."""
    b = binary(n)
    return "0" * (len(b) - 1) + b


def gamma_length(n: int) -> int:
    """``|gamma(n)| = 2⌊log2 n⌋ + 1`` bits."""
    return 2 * (_check_positive(n).bit_length() - 1) + 1


def gamma_decode(bits: str, pos: int = 0) -> tuple[int, int]:
    """Read one gamma codeword from ``bits`` starting at ``pos``: ``(n, position after it)``.

    Raises ``ValueError`` when the stream ends inside the codeword.
    """
    _check_bits(bits)
    _check_pos(pos)
    zeros = 0
    while pos + zeros < len(bits) and bits[pos + zeros] == "0":
        zeros += 1
    end = pos + 2 * zeros + 1
    if end > len(bits):
        raise ValueError(f"truncated gamma codeword at bit {pos}")
    return int(bits[pos + zeros : end], 2), end


# ---------------------------------------------------------------- delta
def delta(n: int) -> str:
    """Elias delta codeword of ``n ≥ 1``: ``gamma(len(binary(n)))``, then ``binary(n)[1:]``."""
    b = binary(n)
    return gamma(len(b)) + b[1:]


def delta_length(n: int) -> int:
    """``|delta(n)| = ⌊log2 n⌋ + 2⌊log2(⌊log2 n⌋ + 1)⌋ + 1`` bits."""
    length = _check_positive(n).bit_length()
    return (length - 1) + gamma_length(length)


def delta_decode(bits: str, pos: int = 0) -> tuple[int, int]:
    """Read one delta codeword from ``bits`` at ``pos``: ``(n, position after it)``."""
    _check_pos(pos)
    length, pos = gamma_decode(bits, pos)
    end = pos + length - 1
    if end > len(bits):
        raise ValueError(f"truncated delta codeword at bit {pos}")
    return int("1" + bits[pos:end], 2), end


# ---------------------------------------------------------------- streams
CODES = {"gamma": (gamma, gamma_decode), "delta": (delta, delta_decode)}


def encode_sequence(numbers, code: str = "delta") -> str:
    """Concatenate the codewords of ``numbers``: no separators needed (prefix-free)."""
    if code not in CODES:
        raise ValueError(f"code must be one of {sorted(CODES)}, got {code!r}")
    if isinstance(numbers, (str, bytes)) or not hasattr(numbers, "__iter__"):
        raise TypeError(f"numbers must be a sequence of ints ≥ 1, got {type(numbers).__name__}")
    numbers = [_check_positive(n, f"numbers[{i}]") for i, n in enumerate(numbers)]
    return "".join(CODES[code][0](n) for n in numbers)


def decode_sequence(bits: str, code: str = "delta") -> list[int]:
    """Split a concatenation of codewords back into the numbers (the whole string is used)."""
    if code not in CODES:
        raise ValueError(f"code must be one of {sorted(CODES)}, got {code!r}")
    _check_bits(bits)
    out, pos = [], 0
    while pos < len(bits):
        n, pos = CODES[code][1](bits, pos)
        out.append(n)
    return out


def to_bytes(bits: str) -> bytes:
    """Pack a bit string into bytes, padding the last byte with zeros (for real compressors)."""
    _check_bits(bits)
    padded = bits + "0" * (-len(bits) % 8)
    return int(padded, 2).to_bytes(len(padded) // 8, "big") if padded else b""


def from_bytes(blob: bytes) -> str:
    """The bit string of ``blob`` (8 bits a byte, most significant first)."""
    if not isinstance(blob, (bytes, bytearray)):
        raise TypeError(f"blob must be bytes, got {type(blob).__name__}")
    return "".join(format(b, "08b") for b in blob)
