"""lib.compressors: lossless round trips, sizes in bits, strict decoding, clear errors."""

import lzma
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import compressors

TEXT = b"The quick brown fox jumps over the lazy dog. " * 200
SAMPLES = [b"", b"a", TEXT, os.urandom(5000), bytes(range(256)) * 10]


@pytest.mark.parametrize("name", compressors.NAMES)
@pytest.mark.parametrize("data", SAMPLES, ids=["empty", "one", "text", "random", "ramp"])
def test_round_trip(name, data):
    blob = compressors.compress(data, name)
    assert isinstance(blob, bytes)
    assert compressors.decompress(blob, name) == data


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=3000), st.sampled_from(compressors.NAMES))
def test_round_trip_property(data, name):
    assert compressors.decompress(compressors.compress(data, name), name) == data


def test_names_and_bytes_like():
    assert compressors.NAMES == ("zlib", "bz2", "lzma", "zstd", "brotli")
    for name in compressors.NAMES:
        assert compressors.compress(bytearray(TEXT), name) == compressors.compress(TEXT, name)


@pytest.mark.parametrize("name", compressors.NAMES)
def test_sizes_in_bits(name):
    bits = compressors.size_bits(TEXT, name)
    assert bits == 8 * len(compressors.compress(TEXT, name))
    assert bits < 8 * len(TEXT) / 10  # a repetitive text compresses well
    assert compressors.sizes(TEXT)[name] == bits
    assert set(compressors.sizes(TEXT)) == set(compressors.NAMES)
    assert compressors.bits_per_byte(TEXT, name) == bits / len(TEXT)


@pytest.mark.parametrize("name", compressors.NAMES)
def test_random_bytes_do_not_compress(name):
    data = os.urandom(4096)
    assert compressors.size_bits(data, name) >= 8 * len(data)


def test_conditional_and_mutual():
    x = os.urandom(20_000)
    for name in ("lzma", "zstd", "brotli"):  # long windows see the repeat
        assert compressors.concat_conditional_bits(x, x, name) < 0.05 * 8 * len(x)
        assert compressors.mutual_bits(x, x, name) > 0.9 * 8 * len(x)
    cond = compressors.concat_conditional_bits(b"tail", b"head", "zstd")
    assert cond == compressors.size_bits(b"headtail", "zstd") - compressors.size_bits(
        b"head", "zstd"
    )


def test_zlib_window_is_32k():
    x = os.urandom(40_000)  # a repeat farther back than 32 KiB is invisible to DEFLATE
    assert compressors.mutual_bits(x, x, "zlib") < 0.01 * 8 * len(x)
    y = x[:20_000]
    assert compressors.mutual_bits(y, y, "zlib") > 0.9 * 8 * len(y)


def test_dictionary():
    x = os.urandom(10_000)
    y = x[2000:6000]
    blob = compressors.dictionary_compress(y, x)
    assert compressors.dictionary_decompress(blob, x) == y
    assert compressors.dictionary_bits(y, x) == 8 * len(blob)
    assert compressors.dictionary_bits(y, x) < 0.05 * 8 * len(y)
    assert compressors.dictionary_bits(y, b"") > 8 * len(y)  # no dictionary, random y
    assert compressors.dictionary_decompress(compressors.dictionary_compress(y, b""), b"") == y


def test_bad_name():
    with pytest.raises(ValueError, match="zlib"):
        compressors.compress(TEXT, "gzip")
    with pytest.raises(ValueError, match="unknown compressor"):
        compressors.size_bits(TEXT, "lz4")
    with pytest.raises(ValueError):
        compressors.decompress(b"", "nope")


@pytest.mark.parametrize("bad", ["text", 3, None, [1, 2]])
def test_non_bytes(bad):
    with pytest.raises(TypeError, match="bytes"):
        compressors.compress(bad, "zlib")
    with pytest.raises(TypeError):
        compressors.sizes(bad)
    with pytest.raises(TypeError):
        compressors.concat_conditional_bits(bad, b"x", "zstd")
    with pytest.raises(TypeError):
        compressors.dictionary_bits(b"y", bad)


def test_bad_level_and_empty():
    with pytest.raises(ValueError, match="level"):
        compressors.dictionary_bits(b"y", b"x", level=0)
    with pytest.raises(ValueError, match="non-empty"):
        compressors.bits_per_byte(b"", "zlib")


@pytest.mark.parametrize("name", compressors.NAMES)
def test_corrupt_truncated_trailing(name):
    blob = compressors.compress(TEXT, name)
    with pytest.raises(ValueError):
        compressors.decompress(blob[: len(blob) // 2], name)
    with pytest.raises(ValueError):
        compressors.decompress(blob + b"\x00junk", name)
    with pytest.raises(ValueError):
        compressors.decompress(b"", name)
    flipped = bytearray(blob)
    flipped[len(blob) // 2] ^= 0xFF
    try:
        out = compressors.decompress(bytes(flipped), name)
    except ValueError:
        return
    assert out != TEXT  # brotli has no checksum: a flip may decode, but never to the original


def test_lzma_small_dictionary_has_the_preset_length():
    for data in [b"", b"x", TEXT, os.urandom(3000), TEXT * 30]:
        full = lzma.compress(data, format=lzma.FORMAT_XZ, preset=9 | lzma.PRESET_EXTREME)
        assert compressors.size_bits(data, "lzma") == 8 * len(full)


@pytest.mark.parametrize("data", SAMPLES + [os.urandom(70_000), TEXT * 40], ids=range(7))
def test_inflate_decodes_zlib(data):
    import zlib

    assert compressors.inflate(compressors.compress(data, "zlib")) == data
    assert compressors.inflate(zlib.compress(data, 1)) == data  # fixed and stored blocks too
    assert compressors.inflate(zlib.compress(data, 0)) == data


def test_inflate_rejects_corrupt_input():
    blob = compressors.compress(TEXT, "zlib")
    for bad in [b"", blob[:3], blob[:-1], blob + b"x", b"\x00\x00" + blob[2:]]:
        with pytest.raises(ValueError):
            compressors.inflate(bad)
    flipped = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(ValueError, match="Adler"):
        compressors.inflate(flipped)
    src = compressors.inflate_source()
    assert src.startswith("LENGTH_BASE") and "def inflate(" in src and "inflate_source" not in src
