import gzip
import hashlib
import io
import tarfile
import urllib.error
import zipfile

import numpy as np
import pytest

from lib import data


def test_shipped_corpus_is_english_prose():
    t = data.text()
    assert len(t) > 400_000
    assert t.count(" the ") > 3000
    with pytest.raises(ValueError, match="unknown corpus"):
        data.text("nope")


def test_letters_keeps_a_to_z_and_single_spaces():
    assert data.letters("Hello,  World!\n42 times") == "hello world times"
    assert set(data.letters(data.text()[:5000])) <= set("abcdefghijklmnopqrstuvwxyz ")


def test_digits_shape_and_range():
    x, y = data.digits()
    assert x.shape == (1797, 8, 8) and y.shape == (1797,)
    assert x.max() == 16 and set(np.unique(y)) == set(range(10))


def _idx_bytes(arr):
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in arr.shape)
    return gzip.compress(header + arr.astype(np.uint8).tobytes())


@pytest.fixture
def local_downloads(tmp_path, monkeypatch):
    """Put small files in the MNIST/CIFAR/enwik8 formats in a cache, with their checksums."""
    rng = np.random.default_rng(0)
    table = {}

    def put(name, filename, payload, md5=True):
        (tmp_path / filename).write_bytes(payload)
        table[name] = (
            f"https://example.invalid/{filename}",
            hashlib.md5(payload).hexdigest() if md5 else None,
        )

    for split, prefix in [("train", "train"), ("test", "t10k")]:
        put(
            f"mnist-{split}-images",
            f"{prefix}-images-idx3-ubyte.gz",
            _idx_bytes(rng.integers(0, 256, (5, 28, 28))),
        )
        put(
            f"mnist-{split}-labels",
            f"{prefix}-labels-idx1-ubyte.gz",
            _idx_bytes(rng.integers(0, 10, (5,))),
        )
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for m in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
            rec = rng.integers(0, 256, (2, 3073), dtype=np.uint8)
            rec[:, 0] %= 10
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{m}")
            info.size = rec.size
            tar.addfile(info, io.BytesIO(rec.tobytes()))
    put("cifar10", "cifar-10-binary.tar.gz", buf.getvalue())
    monkeypatch.setattr(data, "DOWNLOADS", table)
    monkeypatch.setenv("BOOK_DATA", str(tmp_path))
    return tmp_path, put


def test_loaders_parse_local_copies(local_downloads):
    x, y = data.mnist("train")
    assert x.shape == (5, 28, 28) and y.shape == (5,) and y.dtype == np.int64
    x, y = data.cifar10("train")
    assert x.shape == (10, 32, 32, 3) and y.max() < 10
    x, y = data.cifar10("test")
    assert x.shape == (2, 32, 32, 3)
    with pytest.raises(ValueError, match="split"):
        data.mnist("dev")


def test_checksum_mismatch_is_refused(local_downloads):
    directory, _ = local_downloads
    (directory / "train-labels-idx1-ubyte.gz").write_bytes(b"corrupted")
    with pytest.raises(ValueError, match="checksum"):
        data.mnist("train")


def test_enwik8_content_is_checked(local_downloads, monkeypatch):
    directory, put = local_downloads
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("enwik8", b"<mediawiki>not the real thing</mediawiki>")
    put("enwik8", "enwik8.zip", buf.getvalue(), md5=False)
    with pytest.raises(ValueError, match="enwik8"):
        data.enwik8()
    monkeypatch.setattr(
        data, "ENWIK8_MD5", hashlib.md5(b"<mediawiki>not the real thing</mediawiki>").hexdigest()
    )
    assert data.enwik8().startswith(b"<mediawiki>")


def test_offline_gives_a_plain_message(tmp_path, monkeypatch):
    def refuse(*a, **k):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(data.urllib.request, "urlopen", refuse)
    with pytest.raises(ConnectionError, match="Offline"):
        data.fetch("cifar10", tmp_path)
    assert not list(tmp_path.iterdir())  # no partial file left behind


def test_truncated_idx_is_refused(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(_idx_bytes(np.zeros((4, 3), np.uint8))[:-5])
    with pytest.raises((ValueError, EOFError)):
        data.read_idx(path)
