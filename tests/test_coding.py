import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import coding


def random_probs(rng, n, v, skew=1.0):
    logits = rng.normal(size=(n, v)) * skew
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def sample(rng, p):
    c = p.cumsum(axis=1)
    return (rng.random((len(p), 1)) > c).sum(axis=1).clip(0, p.shape[1] - 1)


@st.composite
def streams(draw):
    n = draw(st.integers(0, 60))
    v = draw(st.sampled_from([1, 2, 3, 17, 256]))
    seed = draw(st.integers(0, 2**31))
    skew = draw(st.sampled_from([0.0, 1.0, 8.0, 40.0]))
    rng = np.random.default_rng(seed)
    p = random_probs(rng, n, v, skew)
    return sample(rng, p), p


@settings(max_examples=150, deadline=None)
@given(streams())
def test_round_trip(stream):
    s, p = stream
    assert np.array_equal(coding.decode(coding.encode(s, p), p), s)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40), st.integers(0, 2**31))
def test_extreme_skew_round_trips(n, seed):
    rng = np.random.default_rng(seed)
    p = np.full((n, 5), 1e-300)
    p[np.arange(n), rng.integers(0, 5, n)] = 1.0
    s = rng.integers(0, 5, n)  # often the improbable symbols: the hardest case
    assert np.array_equal(coding.decode(coding.encode(s, p), p), s)


def test_one_symbol_alphabet_costs_nothing_but_the_flush():
    p = np.ones((1000, 1))
    s = np.zeros(1000, dtype=int)
    blob = coding.encode(s, p)
    assert len(blob) <= 10 and np.array_equal(coding.decode(blob, p), s)


def test_alphabet_of_65536_symbols():
    rng = np.random.default_rng(1)
    p = rng.random((20, 1 << 16))
    s = rng.integers(0, 1 << 16, 20)
    assert np.array_equal(coding.decode(coding.encode(s, p), p), s)


def test_empty_input():
    p = np.ones((0, 4))
    blob = coding.encode([], p)
    assert coding.decode(blob, p).shape == (0,)


def test_streaming_in_batches_equals_one_shot():
    rng = np.random.default_rng(2)
    p = random_probs(rng, 300, 7, 3.0)
    s = sample(rng, p)
    enc = coding.Encoder()
    for i in range(0, 300, 37):
        enc.encode(s[i : i + 37], p[i : i + 37])
    blob = enc.finish()
    assert blob == coding.encode(s, p)
    dec = coding.Decoder(blob)
    got = np.concatenate([dec.decode(p[i : i + 50]) for i in range(0, 300, 50)])
    dec.finish()
    assert np.array_equal(got, s)


def test_torch_input_is_accepted():
    p = torch.softmax(torch.randn(50, 9, generator=torch.Generator().manual_seed(0)), dim=1)
    s = torch.multinomial(p, 1, generator=torch.Generator().manual_seed(1)).squeeze(1).numpy()
    assert np.array_equal(coding.decode(coding.encode(s, p), p), s)


def test_code_length_is_close_to_ideal_on_a_megabyte():
    rng = np.random.default_rng(3)
    n, v = 1 << 20, 16
    base = random_probs(rng, 64, v, 2.0)
    p = base[rng.integers(0, 64, n)]
    s = sample(rng, p)
    ideal = coding.ideal_bits(s, p)
    real = 8 * len(coding.encode(s, p))
    assert ideal / 8 > 1_000_000 / 4  # at least 1 M symbols, hundreds of KB of output
    assert real <= ideal * 1.001 + 32


def test_quantize_is_exact_and_keeps_every_symbol_possible():
    rng = np.random.default_rng(4)
    p = random_probs(rng, 100, 50, 30.0)
    f = coding.quantize(p)
    assert (f >= 1).all() and (f.sum(axis=1) == coding.TOTAL).all()
    assert np.array_equal(f, coding.quantize(p.copy()))


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.array([[0.5, np.nan]]), "NaN"),
        (np.array([[0.5, -0.1]]), "negative"),
        (np.array([[0.0, 0.0]]), "sums to zero"),
        (np.array([0.5, 0.5]), "2-d"),
    ],
)
def test_bad_distributions_are_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        coding.encode([0] * len(np.atleast_2d(bad)), bad)


def test_zero_probability_symbol_and_bad_symbols_are_refused():
    with pytest.raises(ValueError, match="probability 0"):
        coding.encode([1], np.array([[1.0, 0.0]]))
    with pytest.raises(ValueError, match="lie in"):
        coding.encode([2], np.array([[0.5, 0.5]]))
    with pytest.raises(ValueError, match="entries"):
        coding.encode([0, 1], np.array([[0.5, 0.5]]))


def _stream(n=2000, seed=5):
    rng = np.random.default_rng(seed)
    p = random_probs(rng, n, 30, 2.0)
    return sample(rng, p), p


def test_truncated_or_corrupt_streams_raise_or_are_caught_by_the_container():
    s, p = _stream()
    original = s.astype(np.uint8).tobytes()
    blob = coding.wrap(coding.encode(s, p), original)
    for cut in (0, 5, len(blob) // 2, len(blob) - 3):
        with pytest.raises(coding.CorruptStreamError):
            payload, n, crc, _ = coding.unwrap(blob[:cut])
            got = coding.decode(payload, p).astype(np.uint8).tobytes()
            coding.check_original(got, n, crc)
    rng = np.random.default_rng(6)
    for _ in range(30):
        bad = bytearray(blob)
        i = int(rng.integers(0, len(bad)))
        bad[i] ^= 1 << int(rng.integers(0, 8))
        with pytest.raises(coding.CorruptStreamError):
            payload, n, crc, _ = coding.unwrap(bytes(bad))
            got = coding.decode(payload, p).astype(np.uint8).tobytes()
            coding.check_original(got, n, crc)


def test_container_round_trip_and_errors():
    blob = coding.wrap(b"xyz", b"original", kind=b"TEST")
    payload, n, crc, kind = coding.unwrap(blob)
    assert (payload, n, kind) == (b"xyz", 8, b"TEST")
    coding.check_original(b"original", n, crc)
    with pytest.raises(coding.CorruptStreamError, match="magic"):
        coding.unwrap(b"XXXX" + blob[4:])
    with pytest.raises(coding.CorruptStreamError, match="version"):
        coding.unwrap(blob[:4] + b"\x09" + blob[5:])
    with pytest.raises(ValueError, match="kind"):
        coding.wrap(b"", b"", kind=b"TOOLONG")
    with pytest.raises(TypeError):
        coding.Decoder("text")


def test_huffman_lengths_are_optimal_integers():
    # catches a tree that is not full (Kraft sum < 1) or lengths that miss H <= L < H + 1
    p = np.array([0.5, 0.25, 0.125, 0.125, 0.0])
    assert coding.huffman_lengths(p).tolist() == [1, 2, 3, 3, 0]  # dyadic: L = H exactly
    q = np.random.default_rng(0).dirichlet(np.ones(20))
    lengths = coding.huffman_lengths(q)
    h = -(q * np.log2(q)).sum()
    assert np.isclose((2.0**-lengths).sum(), 1.0) and h <= q @ lengths < h + 1
    assert coding.huffman_lengths([0.99, 0.01]).tolist() == [1, 1]  # the integer-length penalty
    with pytest.raises(ValueError, match="probs"):
        coding.huffman_lengths([-1.0, 2.0])


def test_binary_coder_in_blocks_equals_bit_by_bit_and_checks_its_arguments():
    # catches a batched encoder that codes other bytes than the single-bit one, or that lets a
    # probability outside [1, 4095] (a certain bit: an empty interval) or a float through
    rng = np.random.default_rng(3)
    bits = rng.integers(0, 2, 5000).tolist()
    probs = rng.integers(1, 4096, 5000).tolist()
    one = coding.BinaryEncoder()
    for y, p in zip(bits, probs):
        one.encode(y, p)
    batched = coding.BinaryEncoder()
    batched.encode_bits(bits[:1234], probs[:1234])
    batched.encode_bits(bits[1234:], probs[1234:])
    stream = batched.finish()
    assert stream == one.finish()
    dec = coding.BinaryDecoder(stream)
    assert [dec.decode(p) for p in probs] == bits
    dec.finish()
    for bad_bits, bad_probs in (([1], [0]), ([0], [4096]), ([2], [7]), ([1, 0], [5]), ([1], [0.5])):
        with pytest.raises((TypeError, ValueError)):
            coding.BinaryEncoder().encode_bits(bad_bits, bad_probs)
