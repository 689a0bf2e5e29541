"""lib.cipher_transfer: the disjoint cipher, the three code lengths, and reading a key from
embeddings that do encode it."""

import pytest
import torch

from lib import cipher_transfer as ct
from lib import matching, ngram


def test_disjoint_cipher():
    key = "bcdefghijklmnopqrstuvwxyza"
    assert ct.encipher_disjoint("ab z", key) == "BC A"


def test_standard_codes_of_a_repeat():
    x = b"the cat sat on the mat " * 20
    c = ct.standard_codes(x, x, x, "zlib")
    d, top = ct.shared_bits(c, 0.0)
    assert c["L(Y|X)"] < c["L(Y)"] and d > 0 and top == pytest.approx(d)


def test_causal_codes_read_the_joint_code():
    coder = lambda s: ngram.code_lengths(s, [ngram.KT(0)])
    x, y = b"aaaaabbbbb", b"ABABA"
    c = ct.causal_codes(coder, x, y, b"ababa")
    assert c["L(Y)"] == pytest.approx(coder(y).sum())
    assert c["L(Y|X)"] == pytest.approx(coder(x + y)[len(x) :].sum())
    with pytest.raises(ValueError):
        ct.causal_codes(coder, x, y, b"ab")


def test_embedding_key_reads_a_planted_key():
    g = torch.Generator().manual_seed(0)
    key = matching.random_key(g)
    E = torch.randn(256, 16, generator=g)
    for p, c in enumerate(key):  # capital of key[p] sits on plain letter p, rotated
        E[ord(c.upper())] = E[ord(matching.ALPHABET[p])]
    Q, _ = torch.linalg.qr(torch.randn(16, 16, generator=g))
    E[65:91] = E[65:91] @ Q
    text = matching.ALPHABET
    assert matching.key_error(ct.embedding_key(E), key, text) < 0.2


def test_embedding_key_bad_input():
    with pytest.raises(ValueError):
        ct.embedding_key(torch.zeros(26, 4))
