"""Real compressors as upper bounds on Kolmogorov complexity (Chapters 3 and 4).

One interface over five standard lossless compressors, each at its strongest standard setting:

=========  =====================================================  ===================
name       setting                                                window (how far back
                                                                   it can match)
=========  =====================================================  ===================
``zlib``   DEFLATE, level 9, zlib container (Adler-32)            32 KiB
``bz2``    Burrows-Wheeler, level 9 (900 KB blocks, CRC-32)        900 KB block
``lzma``   LZMA2 in the xz container, preset 9e (CRC-64)          64 MiB
``zstd``   Zstandard level 22 ("ultra"), content checksum         up to 128 MiB
``brotli`` Brotli quality 11, ``lgwin=24``                        16 MiB
=========  =====================================================  ===================

and, in ``REGISTRY``, the book's own prequential compressors (chapter 5, ``lib.prequential``):
``ngram`` (the Bayesian n-gram mixture), ``cm`` (context mixing, the best) and ``gpt`` (a
transformer trained while it codes). ``REGISTRY = {name: (compress, decompress)}`` is the one
list of compressors the chapters, the benchmarks and the command line (``lib.cli``) use;
``compress(data, name)`` and ``decompress(blob, name)`` accept every name in it.

For a compressor ``C`` the book writes ``C(x)`` for the length of the compressed string in bits,
``C(x) = 8 · len(compress(x))``. Every byte of framing (headers, checksums) is counted: a
decompressor needs it, so it belongs to the code length. ``C(x)`` is a computable upper bound
on the Kolmogorov complexity, ``K(x) ≤ C(x) + K(decompressor)`` (Chapter 3), and
``C(x∘y) − C(x)`` upper-bounds the conditional ``K(y | x)`` up to the same constant (Chapter 4).

Decompression is strict: corrupt or truncated input, and trailing bytes after the end of the
stream, raise ``ValueError``.
"""

from __future__ import annotations

import bz2
import lzma
import zlib

import brotli
import zstandard

from lib.coding import CorruptStreamError, as_bytes

NAMES = ("zlib", "bz2", "lzma", "zstd", "brotli")  # the standard ones
PREQUENTIAL = ("ngram", "cm", "gpt")  # ours (lib.prequential), weakest to slowest

ZLIB_LEVEL = 9
BZ2_LEVEL = 9
LZMA_PRESET = 9 | lzma.PRESET_EXTREME
ZSTD_LEVEL = 22
BROTLI_QUALITY, BROTLI_LGWIN = 11, 24

# window in bytes: the farthest back a match can reach (for bz2, the block size)
WINDOW = {
    "zlib": 1 << 15,
    "bz2": 900_000,
    "lzma": 1 << 26,
    "zstd": 1 << 27,
    "brotli": (1 << 24) - 16,
}


def lzma_filters(n: int) -> list[dict]:
    """Preset 9e with its dictionary cut to the smallest power of two ≥ n (4 KiB..64 MiB).

    A window that covers the whole input finds the same matches as the preset's 64 MiB one,
    so the compressed length is the same (only the header's dictionary-size byte and the
    checks differ); allocating 64 MiB for every small string would cost ~35 ms a call.
    """
    dict_size = min(max(1 << 12, 1 << max(n - 1, 0).bit_length()), 1 << 26)
    return [{"id": lzma.FILTER_LZMA2, "preset": LZMA_PRESET, "dict_size": dict_size}]


# ---------------------------------------------------------------- argument checks
def check_name(name: str) -> str:
    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError(f"unknown compressor {name!r}; choose from {tuple(REGISTRY)}")
    return name


# ---------------------------------------------------------------- compress / decompress
def compress(data: bytes, name: str) -> bytes:
    """Compress ``data`` with compressor ``name`` (any of ``REGISTRY``) at its strongest
    standard setting (ours: their default settings)."""
    data, name = as_bytes(data), check_name(name)
    return REGISTRY[name][0](data)


def decompress(blob: bytes, name: str) -> bytes:
    """Invert ``compress``; ``ValueError`` if ``blob`` is corrupt, truncated or has extra bytes."""
    blob, name = as_bytes(blob, "blob"), check_name(name)
    return REGISTRY[name][1](blob)


def _compress_standard(data: bytes, name: str) -> bytes:
    if name == "zlib":
        return zlib.compress(data, ZLIB_LEVEL)
    if name == "bz2":
        return bz2.compress(data, BZ2_LEVEL)
    if name == "lzma":
        return lzma.compress(data, format=lzma.FORMAT_XZ, filters=lzma_filters(len(data)))
    if name == "zstd":
        return zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_checksum=True).compress(data)
    return brotli.compress(data, quality=BROTLI_QUALITY, lgwin=BROTLI_LGWIN)


def _decompress_standard(blob: bytes, name: str) -> bytes:
    try:
        if name == "brotli":
            d = brotli.Decompressor()
            out = d.process(blob)
            finished = d.is_finished()
            rest = b""
        else:
            d = {
                "zlib": zlib.decompressobj,
                "bz2": bz2.BZ2Decompressor,
                "lzma": lambda: lzma.LZMADecompressor(format=lzma.FORMAT_XZ),
                "zstd": lambda: zstandard.ZstdDecompressor().decompressobj(),
            }[name]()
            out = d.decompress(blob)
            finished, rest = d.eof, d.unused_data
    except (
        zlib.error,
        OSError,
        EOFError,
        lzma.LZMAError,
        zstandard.ZstdError,
        brotli.error,
        ValueError,
    ) as e:
        raise ValueError(f"corrupt {name} stream: {e}") from e
    if not finished:
        raise ValueError(f"truncated {name} stream: it ended before its end-of-stream marker")
    if rest:
        raise ValueError(f"{len(rest)} trailing bytes after the end of the {name} stream")
    return out


def _prequential(model: str):
    """``(compress, decompress)`` of ``lib.prequential`` with ``model``; ``compress`` takes
    ``progress`` and any other ``PrequentialConfig`` setting by keyword."""

    def compress_(data: bytes, progress: bool = False, **settings) -> bytes:
        from lib import prequential  # torch is imported only when a prequential one is used

        cfg = prequential.PrequentialConfig(model=model, **settings)
        return prequential.compress(data, cfg, progress=progress)

    def decompress_(blob: bytes, progress: bool = False) -> bytes:
        from lib import prequential

        header = prequential.read_header(blob)
        if header.cfg.model != model:
            raise CorruptStreamError(f"a {header.cfg.model} file, not {model}")
        return prequential.decompress(blob, progress=progress)

    return compress_, decompress_


def _standard(name: str):
    return (lambda data: _compress_standard(data, name), lambda b: _decompress_standard(b, name))


REGISTRY = {name: _standard(name) for name in NAMES} | {m: _prequential(m) for m in PREQUENTIAL}


# ---------------------------------------------------------------- code lengths
def size_bits(data: bytes, name: str) -> int:
    """``C(x) = 8 · len(compress(x))``, the compressed length in bits, framing included."""
    return 8 * len(compress(data, name))


def sizes(data: bytes) -> dict[str, int]:
    """``{name: C_name(x)}`` in bits for every compressor in ``NAMES``."""
    data = as_bytes(data)
    return {name: size_bits(data, name) for name in NAMES}


def concat_conditional_bits(y: bytes, x: bytes, name: str) -> int:
    """``C(x∘y) − C(x)``: what ``y`` costs once ``x`` has been seen (upper-bounds ``K(y | x)``)."""
    y, x = as_bytes(y, "y"), as_bytes(x, "x")
    return size_bits(x + y, name) - size_bits(x, name)


def zstd_dictionary(x: bytes):
    """``x`` as a zstd raw-content dictionary (or ``None`` for an empty ``x``)."""
    return zstandard.ZstdCompressionDict(x, dict_type=zstandard.DICT_TYPE_RAWCONTENT) if x else None


def dictionary_compress(y: bytes, x: bytes, level: int = 19) -> bytes:
    """zstd-compress ``y`` with ``x`` as a raw-content dictionary known to both sides.

    The dictionary is not sent; its id is 0, so no bytes name it.
    """
    y, x = as_bytes(y, "y"), as_bytes(x, "x")
    if not isinstance(level, int) or not 1 <= level <= zstandard.MAX_COMPRESSION_LEVEL:
        raise ValueError(
            f"level must be an int in 1..{zstandard.MAX_COMPRESSION_LEVEL}, got {level!r}"
        )
    return zstandard.ZstdCompressor(level=level, dict_data=zstd_dictionary(x)).compress(y)


def dictionary_decompress(blob: bytes, x: bytes) -> bytes:
    """Invert ``dictionary_compress(y, x)`` given the same ``x``; ``ValueError`` if corrupt."""
    blob, x = as_bytes(blob, "blob"), as_bytes(x, "x")
    d = zstandard.ZstdDecompressor(dict_data=zstd_dictionary(x)).decompressobj()
    try:
        out = d.decompress(blob)
    except zstandard.ZstdError as e:
        raise ValueError(f"corrupt zstd stream: {e}") from e
    if not d.eof:
        raise ValueError("truncated zstd stream: it ended before the end of its frame")
    if d.unused_data:
        raise ValueError(f"{len(d.unused_data)} trailing bytes after the end of the zstd stream")
    return out


def dictionary_bits(y: bytes, x: bytes, level: int = 19) -> int:
    """``C_zstd(y | x)``: bits of zstd-compressed ``y`` with ``x`` as a raw-content dictionary."""
    return 8 * len(dictionary_compress(y, x, level))


def mutual_bits(x: bytes, y: bytes, name: str) -> int:
    """``Δ = C(x) + C(y) − C(x∘y)``: the shared structure compressor ``name`` finds (Chapter 3)."""
    x, y = as_bytes(x, "x"), as_bytes(y, "y")
    return size_bits(x, name) + size_bits(y, name) - size_bits(x + y, name)


def bits_per_byte(data: bytes, name: str) -> float:
    """``C(x) / |x|`` in bits per byte (8 means no compression); ``ValueError`` for empty ``x``."""
    data = as_bytes(data)
    if not data:
        raise ValueError("data must be non-empty to measure bits per byte")
    return size_bits(data, name) / len(data)


# ---------------------------------------------------------------- a decoder whose length we count
# The simulation bound K(x) ≤ C(x) + K(decoder) needs the decoder as a program. ``inflate``
# below is a complete DEFLATE/zlib decoder (RFC 1950/1951) in plain Python; Chapter 3 counts
# its source, xz-compressed, as the decoder's length in bits.
LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83,
               99, 115, 131, 163, 195, 227, 258]  # fmt: skip
LENGTH_EXTRA = [0] * 8 + [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4 + [5] * 4 + [0]
DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
             1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]  # fmt: skip
DIST_EXTRA = [0, 0, 0, 0] + [i // 2 for i in range(2, 28)]
CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]


def inflate(blob: bytes) -> bytes:
    """Decode a zlib stream (what ``compress(x, "zlib")`` makes) with nothing but Python."""
    blob = as_bytes(blob, "blob")
    if len(blob) < 6 or (blob[0] * 256 + blob[1]) % 31 or blob[0] & 0x0F != 8 or blob[1] & 0x20:
        raise ValueError("not a zlib stream (bad header)")
    pos = 16  # bit position: after the 2-byte header

    def bits(n):  # n bits, least significant first
        nonlocal pos
        if pos + n > 8 * len(blob):
            raise ValueError("truncated zlib stream")
        v = 0
        for i in range(n):
            v |= ((blob[(pos + i) >> 3] >> ((pos + i) & 7)) & 1) << i
        pos += n
        return v

    def table(lengths):  # canonical Huffman code: {(length, code): symbol}
        code, t = 0, {}
        for n in range(1, 16):
            for s, ln in enumerate(lengths):
                if ln == n:
                    t[n, code] = s
                    code += 1
            code <<= 1
        return t

    def symbol(t):
        code = n = 0
        while n < 16:
            code, n = (code << 1) | bits(1), n + 1
            if (n, code) in t:
                return t[n, code]
        raise ValueError("corrupt zlib stream: no such Huffman code")

    out = bytearray()
    last = 0
    while not last:
        last, kind = bits(1), bits(2)
        if kind == 0:  # stored
            pos = (pos + 7) // 8 * 8
            n, nn = bits(16), bits(16)
            if n ^ nn != 0xFFFF or pos // 8 + n > len(blob):
                raise ValueError("corrupt zlib stream: bad stored block")
            out += blob[pos // 8 : pos // 8 + n]
            pos += 8 * n
            continue
        if kind == 1:  # fixed Huffman codes
            lit = table([8] * 144 + [9] * 112 + [7] * 24 + [8] * 8)
            dist = table([5] * 30)
        elif kind == 2:  # dynamic Huffman codes
            hlit, hdist, hclen = bits(5) + 257, bits(5) + 1, bits(4) + 4
            cl = [0] * 19
            for i in range(hclen):
                cl[CODE_LENGTH_ORDER[i]] = bits(3)
            cl_table, lengths = table(cl), []
            while len(lengths) < hlit + hdist:
                s = symbol(cl_table)
                if s < 16:
                    lengths.append(s)
                elif s == 16:
                    if not lengths:
                        raise ValueError("corrupt zlib stream: repeat with nothing before")
                    lengths += [lengths[-1]] * (3 + bits(2))
                else:
                    lengths += [0] * (3 + bits(3) if s == 17 else 11 + bits(7))
            lit, dist = table(lengths[:hlit]), table(lengths[hlit : hlit + hdist])
        else:
            raise ValueError("corrupt zlib stream: block type 3")
        while (s := symbol(lit)) != 256:
            if s < 256:
                out.append(s)
                continue
            if s > 285:
                raise ValueError("corrupt zlib stream: bad length symbol")
            n = LENGTH_BASE[s - 257] + bits(LENGTH_EXTRA[s - 257])
            d = symbol(dist)
            if d > 29:
                raise ValueError("corrupt zlib stream: bad distance symbol")
            d = DIST_BASE[d] + bits(DIST_EXTRA[d])
            if d > len(out):
                raise ValueError("corrupt zlib stream: distance beyond the start")
            for _ in range(n):
                out.append(out[-d])
    end = (pos + 7) // 8
    if len(blob) - end != 4:
        raise ValueError("corrupt zlib stream: wrong length after the last block")
    if blob[end:] != zlib.adler32(out).to_bytes(4, "big"):
        raise ValueError("corrupt zlib stream: Adler-32 mismatch")
    return bytes(out)


def inflate_source() -> str:
    """The source text of ``inflate`` with its tables: the decoder a reader would have to ship."""
    import inspect

    src = inspect.getsource(inspect.getmodule(inflate))
    start = src.index("LENGTH_BASE = ")
    return src[start : src.index("\n\ndef inflate_source")] + "\n"
