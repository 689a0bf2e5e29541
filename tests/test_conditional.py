"""lib.conditional: conditional code lengths, chain-rule terms, NCD, honest k-NN, classifiers."""

import numpy as np
import pytest

from lib import compressors, data
from lib import conditional as cd

TEXT = data.text().encode()
X, Y = TEXT[:6000], TEXT[6000:12000]


def test_conditional_bits_methods():
    assert cd.conditional_bits(Y, X, "zlib") == compressors.concat_conditional_bits(Y, X, "zlib")
    assert cd.conditional_bits(Y, X, "zstd", "dictionary") == compressors.dictionary_bits(Y, X)
    # a copy of x costs almost nothing given x, far less than alone
    assert cd.conditional_bits(X, X, "zstd", "dictionary") < 0.05 * compressors.size_bits(X, "zstd")
    with pytest.raises(ValueError, match="method"):
        cd.conditional_bits(Y, X, "zlib", "magic")
    with pytest.raises(ValueError, match="zstd"):
        cd.conditional_bits(Y, X, "zlib", "dictionary")


def test_chain_rule_row_is_consistent():
    row = cd.chain_rule_row(X, Y, "zlib")
    assert row["C(x)"] + row["C(y|x)"] == row["C(x∘y)"]
    assert row["C(y)"] + row["C(x|y)"] == row["C(y∘x)"]
    assert row["symmetry gap"] == row["C(x∘y)"] - row["C(y∘x)"]
    assert row["information found"] > 0  # two parts of the same documentation share words
    assert cd.pair_bits(X, Y, "zlib") == row["C(x∘y)"] + row["delimiting cost"]


def test_ncd_properties():
    assert cd.ncd(X, X, "zlib") < 0.1
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, 3000, dtype=np.uint8).tobytes()
    assert cd.ncd(X[:3000], noise, "zlib") > 0.9
    m = cd.ncd_matrix([X[:500], Y[:500]], [X[:500], Y[:500], noise[:500]], "zlib")
    assert m.shape == (2, 3)
    assert m[0, 0] == pytest.approx(cd.ncd(X[:500], X[:500], "zlib"))
    assert m[0, 0] < m[0, 2] and m[1, 1] < m[1, 2]
    with pytest.raises(ValueError):
        cd.ncd_matrix([], [X], "zlib")


def test_knn_tie_breaking():
    labels = np.array([0, 1, 2])
    d = np.array([[0.1, 0.2, 0.9], [0.3, 0.2, 0.9]])  # k=2: one vote each for 0 and 1: a tie
    assert list(cd.knn_predict(d, labels, 2, "nearest")) == [0, 1]
    assert list(cd.knn_predict(d, labels, 2, "optimistic", truth=[1, 0])) == [1, 0]
    picks = {
        tuple(cd.knn_predict(d, labels, 2, "random", rng=np.random.default_rng(s)))
        for s in range(30)
    }
    assert len(picks) > 1 and all(set(p) <= {0, 1} for p in picks)
    assert list(cd.knn_predict(d, labels, 1)) == [0, 1]
    with pytest.raises(ValueError, match="truth"):
        cd.knn_predict(d, labels, 2, "optimistic")
    with pytest.raises(ValueError, match="k must"):
        cd.knn_predict(d, labels, 4)
    with pytest.raises(ValueError, match="ties"):
        cd.knn_predict(d, labels, 2, "oracle")


@pytest.mark.parametrize("name", ["zlib", "zstd", "bz2"])
def test_class_code_matches_the_definition(name):
    code = cd.ClassCode(X, name)
    for y in (Y[:300], b"", X[100:400]):
        if name == "zstd":
            assert code.bits(y) == compressors.dictionary_bits(y, X)
        else:
            assert code.bits(y) == compressors.concat_conditional_bits(y, X, name)


def test_class_conditional_classifier():
    datasets = {"docs": TEXT[:20000], "noise": np.random.default_rng(1).bytes(20000)}
    classes, bits = cd.class_conditional_bits([TEXT[30000:30400], TEXT[40000:40400]], datasets)
    assert classes == ["docs", "noise"] and bits.shape == (2, 2)
    assert (bits.argmin(1) == 0).all()
    with pytest.raises(ValueError):
        cd.class_conditional_bits([X], {})


def test_topic_chunks_is_a_clean_task():
    chunks, labels, titles = cd.topic_chunks(data.text(), n_topics=4, chunk_bytes=300)
    assert len(chunks) == len(labels) and set(labels.tolist()) == set(range(4))
    assert len(titles) == 4 and len(set(chunks)) == len(chunks)
    assert all(len(c) >= 300 for c in chunks[:-1] if c)
    with pytest.raises(ValueError, match="n_topics"):
        cd.topic_chunks(data.text(), n_topics=1)
    with pytest.raises(ValueError):
        cd.documentation_sections("no headers here")


def test_substitution_cipher():
    s = b"Hello, World! abc xyz"
    c = cd.substitution_cipher(s, seed=3)
    assert len(c) == len(s) and c != s
    assert c[5:7] == b", " and c[12] == ord("!")
    assert cd.substitution_cipher(s, seed=3) == c
    assert c.lower() == cd.substitution_cipher(s.lower(), seed=3)


def test_prequential_chain_row_splits_exactly():
    from lib import prequential

    cfg = prequential.PrequentialConfig(model="ngram")
    x, y = X[:1500], Y[:1500]
    row, per_byte = cd.prequential_chain_row(x, y, cfg)
    alone = prequential.code_lengths(x, cfg)
    assert np.array_equal(per_byte["x∘y"][: len(x)], alone)  # L(x∘y) = L(x) + L(y|x), exactly
    assert row["C(x)"] == pytest.approx(alone.sum())
    assert row["C(x)"] + row["C(y|x)"] == pytest.approx(row["C(x∘y)"])
    assert row["C(y)"] + row["C(x|y)"] == pytest.approx(row["C(y∘x)"])
    assert row["compressor"] == "prequential ngram"


def test_class_datasets():
    sets = cd.class_datasets([b"a", b"b", b"c", b"d"], [1, 0, 1, 0])
    assert sets == {0: b"bd", 1: b"ac"}
    with pytest.raises(ValueError, match="labels"):
        cd.class_datasets([b"a"], [0, 1])


def test_causal_rows_and_bayes_mixture():
    from lib import ctw

    x, y = X[:1500], Y[:1500]
    row, per_byte = cd.causal_chain_row(x, y, lambda d: ctw.code_lengths(d, 2), "ctw")
    assert row["C(x∘y)"] == pytest.approx(row["C(x)"] + row["C(y|x)"])
    assert row["symmetry gap"] == pytest.approx(row["C(x∘y)"] - row["C(y∘x)"])
    assert per_byte["x∘y"].shape == (3000,)
    with pytest.raises(ValueError, match="entries"):
        cd.chain_row_from_lengths(per_byte["x∘y"], per_byte["y∘x"], 1000, 1000, "bad")
    # the mixture's total is within log2 K of the best code, and never below it
    each = np.stack([ctw.code_lengths(x, d) for d in (0, 1, 2)])
    mix = cd.bayes_mixture_lengths(each).sum()
    best = each.sum(1).min()
    assert best - 1e-9 <= mix <= best + np.log2(3) + 1e-9
    with pytest.raises(ValueError, match="K × n"):
        cd.bayes_mixture_lengths(np.zeros(5))


def test_ngram_rows_kt_symmetric_blend_not():
    rows = cd.ngram_chain_rows(X[:1500], Y[:1500], order=2)
    assert set(rows) >= {"KT order 0", "KT order 2", "blend order 2"}
    # a KT code depends on the counts only: reordering moves only the boundary contexts,
    # a few dozen bits; the Witten–Bell blend is order-sensitive by far more
    for k in (0, 1, 2):
        assert abs(rows[f"KT order {k}"]["symmetry gap"]) < 40
    assert abs(rows["KT order 0"]["symmetry gap"]) < 1e-6  # no context: exactly exchangeable
    assert abs(rows["blend order 2"]["symmetry gap"]) > 3 * abs(rows["KT order 2"]["symmetry gap"])


def test_gap_over_information():
    assert cd.gap_over_information({"symmetry gap": 5.0, "information found": 50.0}) == 0.1
    assert np.isnan(cd.gap_over_information({"symmetry gap": 5.0, "information found": -1.0}))


def test_shannon_chain_rule_exact():
    p = np.array([[0.3, 0.1, 0.0], [0.05, 0.25, 0.3]])
    h = cd.shannon_chain_rule(p)
    assert h["H(X,Y)"] == pytest.approx(h["H(X)"] + h["H(Y|X)"], abs=1e-12)
    assert h["H(X,Y)"] == pytest.approx(h["H(Y)"] + h["H(X|Y)"], abs=1e-12)
    assert h["I(X;Y)"] == pytest.approx(h["I(Y;X)"], abs=1e-12) and h["I(X;Y)"] > 0
    indep = np.outer([0.5, 0.5], [0.25, 0.75])
    assert cd.shannon_chain_rule(indep)["I(X;Y)"] == pytest.approx(0, abs=1e-12)
    assert cd.entropy_bits([0.5, 0.5]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="probability"):
        cd.entropy_bits([0.5, 0.6])
    with pytest.raises(ValueError, match="2-d"):
        cd.shannon_chain_rule([0.5, 0.5])


def test_cipher_key_bits():
    import math

    assert cd.CIPHER_KEY_BITS == pytest.approx(math.log2(math.factorial(26)))
    assert 88 < cd.CIPHER_KEY_BITS < 89
