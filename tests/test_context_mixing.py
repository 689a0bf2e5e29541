"""lib.context_mixing: the bitwise context-mixing compressor is lossless, deterministic, causal,
compresses text, and fails loudly on bad input."""

import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import coding, data
from lib import context_mixing as cm

TEXT = data.text().encode()[:6000]


@pytest.mark.parametrize(
    "x", [b"", b"a", b"\x00", b"\xff" * 3, bytes(range(256)), b"ab" * 500, TEXT[:1500]]
)
def test_round_trip(x):
    assert cm.decompress(cm.compress(x)) == x


@settings(max_examples=6, deadline=None)
@given(st.binary(max_size=400))
def test_round_trip_random_bytes(x):
    assert cm.decompress(cm.compress(x)) == x


def test_incompressible_bytes_cost_little_extra():
    x = np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8).tobytes()
    blob = cm.compress(x)
    assert cm.decompress(blob) == x
    assert len(blob) < 1.05 * len(x) + 40  # a few percent of learning cost, plus the container


def test_deterministic_and_code_lengths_match_the_stream():
    blob, bits = cm.compress(TEXT, return_code_lengths=True)
    assert blob == cm.compress(TEXT)
    assert np.array_equal(bits, cm.code_lengths(TEXT))
    payload, *_ = coding.unwrap(blob)
    assert bits.sum() <= 8 * len(payload) <= bits.sum() + 8 * 8 + 0.01 * bits.sum()


def test_code_lengths_are_causal():
    whole = cm.code_lengths(TEXT[:800])
    assert np.array_equal(whole[:300], cm.code_lengths(TEXT[:300]))


def test_better_than_order_zero_and_than_zlib_on_text():
    import zlib

    counts = np.bincount(np.frombuffer(TEXT, np.uint8), minlength=256)
    p = counts[counts > 0] / len(TEXT)
    order0 = -(counts[counts > 0] * np.log2(p)).sum()  # the empirical entropy: a lower bound
    blob = cm.compress(TEXT)
    assert 8 * len(blob) < 0.75 * order0
    assert len(blob) < len(zlib.compress(TEXT, 9))


def test_match_model_finds_a_long_repeat():
    rng = np.random.default_rng(1)
    block = rng.integers(0, 256, 1000, dtype=np.uint8).tobytes()
    bits = cm.code_lengths(block + block)
    assert bits[:1000].mean() > 7.5  # random bytes cannot be compressed
    assert bits[1100:].mean() < 0.5  # the repeat is predicted from the first copy


def test_logistic_tables():
    assert cm.squash(0) == 2048 and cm.squash(-10_000) == 1 and cm.squash(10_000) == 4095
    for d in range(-1200, 1201, 97):  # (beyond, squash is too flat to invert finely)
        assert abs(cm.STRETCH[cm.squash(d)] - d) <= 40  # stretch inverts squash (up to rounding)
    assert all(a <= b for a, b in zip(cm.SQUASH, cm.SQUASH[1:]))  # monotone


def test_corrupt_and_truncated_streams_raise():
    blob = cm.compress(TEXT[:1500])
    for bad in (blob[:10], blob[:-1], blob[:-4], blob[: len(blob) // 2], blob + b"\0", b""):
        with pytest.raises(coding.CorruptStreamError):
            cm.decompress(bad)
    rng = np.random.default_rng(0)
    for _ in range(8):  # one flipped byte anywhere, header included
        b = bytearray(blob)
        i = int(rng.integers(0, len(b)))
        b[i] ^= 1 + int(rng.integers(255))
        with pytest.raises(coding.CorruptStreamError):
            cm.decompress(bytes(b))
    other = coding.wrap(b"\0" * 20, b"x" * 10, b"PQN1")
    with pytest.raises(coding.CorruptStreamError, match="kind"):
        cm.decompress(other)
    huge = coding.wrap(b"\0" * 8, b"", cm.KIND)
    huge = huge[:9] + (10**9).to_bytes(8, "big") + huge[17:]  # claims a gigabyte from 8 bytes
    huge = huge[:21] + zlib.crc32(huge[25:], zlib.crc32(huge[:21])).to_bytes(4, "big") + huge[25:]
    with pytest.raises(coding.CorruptStreamError, match="cannot"):
        cm.decompress(huge)


def test_bad_arguments():
    with pytest.raises(TypeError):
        cm.compress("text")
    with pytest.raises(TypeError):
        cm.decompress("text")
