import functools
import gzip
import hashlib
import http.server
import io
import json
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest

from lib import data
from tools.reliability_audit import zip_bytes as _zip


def test_shipped_corpus_is_english_prose():
    t = data.text()
    assert len(t) > 400_000
    assert t.count(" the ") > 3000
    with pytest.raises(ValueError, match="unknown corpus: name"):
        data.text("nope")


def test_corpus_bytes_shipped_text_or_enwik8(monkeypatch):
    def no_download(*args, **kwargs):  # fails if the shipped corpus needs the network
        raise AssertionError("python_docs must not download anything")

    monkeypatch.setattr(data, "fetch", no_download)
    whole = data.corpus_bytes("python_docs")
    assert whole == data.text().encode("utf-8")
    assert data.corpus_bytes("python_docs", 1000) == whole[:1000]
    assert data.corpus_bytes("python_docs", 0) == b""
    monkeypatch.setattr(data, "enwik8", lambda: b"<mediawiki>" + b"x" * 100)
    assert data.corpus_bytes("enwik8") == b"<mediawiki>" + b"x" * 100
    assert data.corpus_bytes("enwik8", 11) == b"<mediawiki>"
    with pytest.raises(ValueError, match="unknown corpus: name.*enwik8"):
        data.corpus_bytes("wikipedia")
    with pytest.raises(ValueError, match="n_bytes"):
        data.corpus_bytes("python_docs", -1)
    with pytest.raises(TypeError, match="n_bytes"):
        data.corpus_bytes("python_docs", 1.5)


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


def _digests(payload: bytes):
    return hashlib.sha256(payload).hexdigest(), hashlib.md5(payload).hexdigest()


@pytest.fixture
def local_downloads(tmp_path, monkeypatch):
    """Put small files in the MNIST/CIFAR/enwik8 formats in a cache, with their checksums."""
    rng = np.random.default_rng(0)
    table = {}

    def put(name, filename, payload, md5=True):
        (tmp_path / filename).write_bytes(payload)
        sha, m = _digests(payload)
        table[name] = (f"https://example.invalid/{filename}", sha, m if md5 else None)

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
    monkeypatch.setattr(data, "RETRIES", 0)
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
    with pytest.raises(ValueError, match="checksum.*Delete the file and retry"):
        data.mnist("train")


def test_md5_is_a_second_check(local_downloads, monkeypatch):
    url, sha, _ = data.DOWNLOADS["cifar10"]
    monkeypatch.setitem(data.DOWNLOADS, "cifar10", (url, sha, "0" * 32))
    with pytest.raises(ValueError, match="md5"):
        data.cifar10("test")


ENWIK = b"<mediawiki>not the real thing</mediawiki>"


def test_enwik8_content_is_checked(local_downloads, monkeypatch):
    directory, put = local_downloads
    put("enwik8", "enwik8.zip", _zip({"enwik8": ENWIK}), md5=False)
    with pytest.raises(ValueError, match="enwik8.*Delete"):
        data.enwik8()
    sha, md5 = _digests(ENWIK)
    monkeypatch.setattr(data, "ENWIK8_SHA256", sha)
    monkeypatch.setattr(data, "ENWIK8_MD5", md5)
    assert data.enwik8().startswith(b"<mediawiki>")
    monkeypatch.setattr(data, "ENWIK8_MD5", "0" * 32)  # MD5, the published check, also holds
    with pytest.raises(ValueError, match="md5"):
        data.enwik8()


@pytest.mark.parametrize(
    "blob",
    [_zip({"enwik8": ENWIK * 50})[:-30], _zip({"enwik8": ENWIK * 50})[:60], _zip({"other": b"x"})],
    ids=["truncated-end", "truncated-body", "missing-member"],
)
def test_damaged_zip_says_delete_and_retry(local_downloads, blob):
    directory, put = local_downloads
    put("enwik8", "enwik8.zip", blob, md5=False)
    with pytest.raises(ValueError, match="Delete the file and retry"):
        data.enwik8()


def test_damaged_archives_say_delete_and_retry(local_downloads):
    directory, put = local_downloads
    whole = (directory / "cifar-10-binary.tar.gz").read_bytes()
    put("cifar10", "cifar-10-binary.tar.gz", whole[: len(whole) // 2])
    with pytest.raises(ValueError, match="Delete the file and retry"):
        data.cifar10("train")
    put("mnist-train-images", "train-images-idx3-ubyte.gz", gzip.compress(b"\0\0\x08"))
    with pytest.raises(ValueError, match="Delete the file and retry"):
        data.mnist("train")


def test_cache_path_that_is_a_file(tmp_path, monkeypatch):
    (tmp_path / "cache").write_text("not a directory")
    monkeypatch.setenv("BOOK_DATA", str(tmp_path / "cache"))
    with pytest.raises(ValueError, match="is a file"):
        data.fetch("cifar10")


@pytest.fixture
def server(tmp_path):
    """A local HTTP server over ``tmp_path / "served"``: pooch's real download path, offline."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_download_with_pooch_checks_sha256(server, tmp_path, monkeypatch):
    root, base = server
    payload = _idx_bytes(np.arange(12).reshape(3, 4))
    (root / "x.gz").write_bytes(payload)
    sha, md5 = _digests(payload)
    monkeypatch.setattr(data, "RETRIES", 0)
    monkeypatch.setattr(data, "DOWNLOADS", {"x": (f"{base}/x.gz", sha, md5)})
    cache = tmp_path / "cache" / "deeper"  # created on demand
    path = data.fetch("x", cache)
    assert path == cache / "x.gz" and path.read_bytes() == payload
    assert np.array_equal(data.read_idx(path), np.arange(12).reshape(3, 4))
    (root / "y.gz").write_bytes(payload)
    monkeypatch.setattr(data, "DOWNLOADS", {"y": (f"{base}/y.gz", "0" * 64, None)})
    with pytest.raises(ValueError, match="SHA-256"):
        data.fetch("y", cache)
    assert sorted(p.name for p in cache.iterdir()) == ["x.gz"]  # nothing half-written kept


def test_offline_gives_a_plain_message(server, tmp_path, monkeypatch):
    root, base = server
    monkeypatch.setattr(data, "RETRIES", 0)
    monkeypatch.setattr(data, "DOWNLOADS", {"z": (f"{base}/absent.gz", "0" * 64, None)})
    with pytest.raises(ConnectionError, match="Offline"):
        data.fetch("z", tmp_path / "cache")
    monkeypatch.setattr(data, "DOWNLOADS", {"z": ("http://127.0.0.1:9/z.gz", "0" * 64, None)})
    with pytest.raises(ConnectionError, match="Offline"):
        data.fetch("z", tmp_path / "cache")
    assert not list((tmp_path / "cache").iterdir())  # no partial file left behind


def test_truncated_idx_is_refused(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(_idx_bytes(np.zeros((4, 3), np.uint8))[:-5])
    with pytest.raises(ValueError, match="Delete"):
        data.read_idx(path)


# ---------------------------------------------------------------- rehearsal stand-ins
@pytest.fixture(scope="module")
def standin_dir(tmp_path_factory):
    from tools import standins

    directory = tmp_path_factory.mktemp("standins")
    standins.write(directory)
    return directory


@pytest.fixture
def rehearsing(standin_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("BOOK_SCALE", "full")
    monkeypatch.setenv("BOOK_REHEARSAL", "1")
    monkeypatch.setenv("BOOK_REHEARSAL_DATA", str(standin_dir))
    monkeypatch.setenv("BOOK_DATA", str(tmp_path))  # the real downloads' place: empty
    monkeypatch.setattr(data, "RETRIES", 0)
    return standin_dir


def test_rehearsal_reads_standins_in_the_real_formats(rehearsing):
    x, y = data.mnist("train")
    assert x.shape[1:] == (28, 28) and x.dtype == np.uint8 and set(y.tolist()) == set(range(10))
    xt, yt = data.mnist("test")
    assert len(xt) == len(yt) > 0 and x.max() == 255
    x, y = data.cifar10("train")
    assert x.shape[1:] == (32, 32, 3) and set(y.tolist()) == set(range(10))
    assert data.cifar10("test")[0].shape[1:] == (32, 32, 3)
    text = data.corpus_bytes("enwik8", 1000)
    assert text.startswith(b"<mediawiki>") and len(data.enwik8()) > 400_000
    # nothing was downloaded or written where the real files belong
    assert not any(Path(data.cache_dir()).iterdir())


def test_standins_are_learnable_not_noise(rehearsing):
    # a nearest-class-mean classifier must beat chance clearly (else checks mean nothing);
    # CIFAR-10's stand-in is built *not* to be linearly readable: tests/test_standins.py
    for load in (data.mnist,):
        (x, y), (xt, yt) = load("train"), load("test")
        x, xt = x.reshape(len(x), -1) / 255.0, xt.reshape(len(xt), -1) / 255.0
        means = np.stack([x[y == c].mean(0) for c in range(10)])
        guess = ((xt[:, None, :] - means[None]) ** 2).sum(-1).argmin(1)
        assert (guess == yt).mean() > 0.3, load.__name__


def test_standins_are_the_same_on_every_run(standin_dir, tmp_path):
    from tools import standins

    first = json.loads((standin_dir / data.STANDINS_MANIFEST).read_text())
    assert standins.write(tmp_path / "again") == first


def test_a_standin_never_passes_for_the_real_file(standin_dir, tmp_path, monkeypatch):
    # stand-ins copied to where the real downloads belong, outside a rehearsal
    for f in standin_dir.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    monkeypatch.setenv("BOOK_DATA", str(tmp_path))
    monkeypatch.delenv("BOOK_REHEARSAL", raising=False)
    monkeypatch.setenv("BOOK_SCALE", "full")
    for load in (data.mnist, data.cifar10, data.enwik8):
        with pytest.raises(ValueError, match="checksum mismatch.*Delete the file and retry"):
            load()


def test_a_damaged_or_missing_standin_is_refused(standin_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_SCALE", "full")
    monkeypatch.setenv("BOOK_REHEARSAL", "1")
    for f in standin_dir.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    monkeypatch.setenv("BOOK_REHEARSAL_DATA", str(tmp_path))
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"damaged")
    with pytest.raises(ValueError, match="stand-in checksum mismatch"):
        data.mnist("test")
    (tmp_path / "enwik8.zip").unlink()
    with pytest.raises(FileNotFoundError, match="tools.standins"):
        data.enwik8()
