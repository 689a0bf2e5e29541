"""lib.integer_codes: Elias gamma and delta round trips, exact lengths, prefix-freeness, Kraft."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import integer_codes as ic


def test_known_codewords():
    assert [ic.gamma(n) for n in (1, 2, 3, 4, 9)] == ["1", "010", "011", "00100", "0001001"]
    assert [ic.delta(n) for n in (1, 2, 3, 4, 9)] == ["1", "0100", "0101", "01100", "00100001"]


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=2**80))
def test_round_trip_and_lengths(n):
    for code, length, decode in (
        (ic.gamma, ic.gamma_length, ic.gamma_decode),
        (ic.delta, ic.delta_length, ic.delta_decode),
    ):
        word = code(n)
        assert len(word) == length(n)
        assert decode(word) == (n, len(word))
        assert decode("1" + word, 1) == (n, len(word) + 1)


def test_length_formulas():
    for n in range(1, 5000):
        assert ic.gamma_length(n) == 2 * math.floor(math.log2(n)) + 1
        lg = n.bit_length() - 1
        assert ic.delta_length(n) == lg + 2 * math.floor(math.log2(lg + 1)) + 1


def test_prefix_free_and_kraft():
    for code in (ic.gamma, ic.delta):
        words = [code(n) for n in range(1, 600)]
        as_set = set(words)
        for w in words:  # no proper prefix of a codeword is a codeword
            assert not any(w[:i] in as_set for i in range(1, len(w)))
    # gamma is complete: the Kraft sum over n < 2^m is 1 - 2^-m
    assert sum(2.0 ** -ic.gamma_length(n) for n in range(1, 2**12)) == pytest.approx(1 - 2**-12)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(min_value=1, max_value=10**12), max_size=30),
    st.sampled_from(["gamma", "delta"]),
)
def test_sequence_round_trip(numbers, code):
    bits = ic.encode_sequence(numbers, code)
    assert ic.decode_sequence(bits, code) == numbers


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="01", max_size=100))
def test_bytes_round_trip(bits):
    packed = ic.to_bytes(bits)
    assert len(packed) == math.ceil(len(bits) / 8)
    assert ic.from_bytes(packed)[: len(bits)] == bits


def test_truncated_and_bad_input():
    word = ic.delta(1000)
    for cut in range(1, len(word)):
        with pytest.raises(ValueError):
            ic.delta_decode(word[:cut])
    with pytest.raises(ValueError, match="truncated"):
        ic.gamma_decode("000")
    with pytest.raises(ValueError, match="n must be"):
        ic.gamma(0)
    with pytest.raises(ValueError, match="n must be"):
        ic.delta(True)
    with pytest.raises(ValueError, match="bits"):
        ic.gamma_decode("0102")
    with pytest.raises(ValueError, match="code"):
        ic.encode_sequence([1], "omega")
    with pytest.raises(TypeError):
        ic.from_bytes("01")
