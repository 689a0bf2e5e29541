"""The book's data: a text corpus and images that ship offline, and checked full-scale downloads.

Offline (always there):
- ``text()``: English prose, a fixed snapshot of the Python reference documentation
  (``pydoc_data.topics`` of CPython 3.11.7, PSF licence), 465 KB, shipped in ``lib/corpora``.
- ``text("devils_dictionary")``: general English prose, Ambrose Bierce's *The Devil's Dictionary*
  (1911; public domain, copyright expired), 383 KB, the Internet Wiretap edition of 1993 as
  Debian's package dict-devil ships it (its dictd header and index dropped). Chapter 2 uses it.
- ``text("jargon_file")``: *The Jargon File* 4.4.7 (2003; public domain), 1.4 MB, hacker slang
  explained in plain English, as Debian's package dict-jargon ships it. Chapter 2 uses it.
- ``letters(text)``: the same text reduced to ``a-z`` and single spaces (for ciphers).
- ``corpus_bytes(name, n)``: a chapter's text as bytes, the shipped corpus or (full) enwik8.
- ``digits()``: scikit-learn's 8×8 handwritten digits (1,797 images, 17 grey levels).

On request only (full scale): ``mnist()``, ``cifar10()``, ``enwik8()`` download once (with
pooch: retries, a SHA-256 check, and the MD5 its source publishes as a second check) into
``~/.cache/compression-book`` (``BOOK_DATA`` overrides), and parse the raw binary formats
directly. The IDX and CIFAR parsers are our own because the usual loaders unpickle, and nothing
downloaded is ever unpickled. A damaged file is reported with the advice to delete it and retry.

In a rehearsal (``lib.runtime.rehearsal()``) the same loaders read small stand-in files with the
real names and formats from ``rehearsal_dir()`` instead; they are checked against the SHA-256s
in that directory's ``standins.json`` (``tools/standins.py`` writes both), nothing is
downloaded, and outside a rehearsal a stand-in fails the real checksums like any damaged file.
"""

from __future__ import annotations

import gzip
import hashlib
import lzma
import os
import re
import tarfile
import zipfile
import zlib
from importlib import resources
from pathlib import Path

import numpy as np

CORPORA = {"python_docs": "python_docs.txt.xz"}
CORPORA["devils_dictionary"] = "devils_dictionary.txt.xz"  # public domain (Bierce, 1911)
CORPORA["jargon_file"] = "jargon_file.txt.xz"  # public domain (The Jargon File 4.4.7, 2003)

# name -> (url, SHA-256 of the file, MD5 of the file where its source publishes one)
DOWNLOADS = {
    "mnist-train-images": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz",
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    ),
    "mnist-train-labels": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/train-labels-idx1-ubyte.gz",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "d53e105ee54ea40749a09fcbcd1e9432",
    ),
    "mnist-test-images": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-images-idx3-ubyte.gz",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "9fb629c4189551a2d022fa330f9573f3",
    ),
    "mnist-test-labels": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        "ec29112dd5afa0611ce80d1b7f02629c",
    ),
    "cifar10": (
        "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
        "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
        "c32a1d4ab5d03f1284b67883e8d87530",
    ),
    "enwik8": (
        "https://mattmahoney.net/dc/enwik8.zip",
        "547994d9980ebed1288380d652999f38a14fe291a6247c157c3d33d4932534bc",
        None,
    ),
}
# of the unzipped 10^8 bytes: SHA-256, and the MD5 that mattmahoney.net publishes
ENWIK8_SHA256 = "2b49720ec4d78c3c9fabaee6e4179a5e997302b3a70029f30f2d582218c024a8"
ENWIK8_MD5 = "a1fa5ffddb56f4953e226637dabbb36a"
STANDINS_MANIFEST = "standins.json"  # in rehearsal_dir(): {file name: SHA-256}
RETRIES = 3  # further download attempts after a failed one (pooch waits 1 s, 2 s, ... between)


# ---------------------------------------------------------------- offline data
def text(name: str = "python_docs") -> str:
    """A shipped English corpus as a string (see ``CORPORA``)."""
    if not isinstance(name, str) or name not in CORPORA:
        raise ValueError(f"unknown corpus: name must be one of {sorted(CORPORA)}, got {name!r}")
    raw = resources.files("lib").joinpath("corpora", CORPORA[name]).read_bytes()
    return lzma.decompress(raw).decode("utf-8")


def corpus_bytes(name: str, n_bytes: int | None = None) -> bytes:
    """A chapter's English text as bytes: a shipped corpus (small scale) or enwik8 (full scale).

    ``name`` is a key of ``CORPORA`` (its text, UTF-8 encoded; nothing is downloaded) or
    ``"enwik8"`` (downloaded once, see ``enwik8()``); the first ``n_bytes`` bytes, or all of
    them when ``n_bytes`` is None. Chapters 2, 3, 4 and 5 use it.
    """
    if n_bytes is not None and (isinstance(n_bytes, bool) or not isinstance(n_bytes, int)):
        raise TypeError(f"n_bytes must be an int or None, got {type(n_bytes).__name__}")
    if n_bytes is not None and n_bytes < 0:
        raise ValueError(f"n_bytes must be >= 0, got {n_bytes}")
    if isinstance(name, str) and name in CORPORA:
        raw = text(name).encode("utf-8")
    elif name == "enwik8":
        raw = enwik8()
    else:
        names = sorted(CORPORA) + ["enwik8"]
        raise ValueError(f"unknown corpus: name must be one of {names}, got {name!r}")
    return raw if n_bytes is None else raw[:n_bytes]


def letters(s: str) -> str:
    """Lower-case ``s`` and keep only ``a-z``, with every other run of characters as one space."""
    return re.sub(r"[^a-z]+", " ", s.lower()).strip()


def digits():
    """scikit-learn's digits: ``(images uint8 N×8×8 in 0..16, labels int64 N)``."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.images.astype(np.uint8), d.target.astype(np.int64)


# ---------------------------------------------------------------- downloads
def cache_dir() -> Path:
    """Where downloads are kept: ``$BOOK_DATA`` or ``~/.cache/compression-book``."""
    return Path(os.environ.get("BOOK_DATA", Path.home() / ".cache" / "compression-book"))


def rehearsal_dir() -> Path:
    """Where a rehearsal's stand-in files are: ``$BOOK_REHEARSAL_DATA``, else ``rehearsal/``
    inside ``cache_dir()`` (never the directory of the real downloads)."""
    return Path(os.environ.get("BOOK_REHEARSAL_DATA", cache_dir() / "rehearsal"))


def _rehearsing() -> bool:
    from lib import runtime

    return runtime.rehearsal()


def _standin(name: str) -> Path:
    """A rehearsal's stand-in for download ``name``, checked against ``standins.json``."""
    import json

    directory = rehearsal_dir()
    path = directory / DOWNLOADS[name][0].rsplit("/", 1)[-1]
    manifest = directory / STANDINS_MANIFEST
    if not manifest.is_file() or not path.is_file():
        raise FileNotFoundError(
            f"rehearsal: no stand-in {path.name} (with {STANDINS_MANIFEST}) in {directory}; "
            f"`python -m tools.standins {directory}` writes them (BOOK_REHEARSAL_DATA moves them)"
        )
    expected = json.loads(manifest.read_text()).get(path.name)
    got = _digest(path, "sha256")
    if got != expected:
        raise _damaged(path, f"stand-in checksum mismatch (sha256 {got}, expected {expected})")
    return path


def _standin_sha256(key: str) -> str | None:
    import json

    return json.loads((rehearsal_dir() / STANDINS_MANIFEST).read_text()).get(key)


def _digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def md5sum(path: Path) -> str:
    return _digest(path, "md5")


def _damaged(path: Path, what: str) -> ValueError:
    return ValueError(f"{path}: {what}. Delete the file and retry (it will be downloaded again).")


def _check(path: Path, sha256: str, md5: str | None) -> None:
    got = _digest(path, "sha256")
    if got != sha256:
        raise _damaged(path, f"checksum mismatch (sha256 {got}, expected {sha256})")
    if md5 is not None and md5sum(path) != md5:
        raise _damaged(path, f"checksum mismatch (md5 differs from the published {md5})")


def fetch(name: str, directory: Path | None = None) -> Path:
    """The local path of download ``name``, fetching it first if needed; checksums verified.

    pooch downloads (``RETRIES`` more attempts after a failure) into ``directory`` (default
    ``cache_dir()``) and checks the SHA-256; the MD5 a source publishes is checked as well. A
    file already there (e.g. a copy made by hand) is used once its checksums match, and refused
    with the advice to delete it otherwise. Offline, this raises ``ConnectionError`` saying
    what to download and where. In a rehearsal: the stand-in from ``rehearsal_dir()``.
    """
    if not isinstance(name, str) or name not in DOWNLOADS:
        raise ValueError(f"name must be one of {sorted(DOWNLOADS)}, got {name!r}")
    if _rehearsing():
        return _standin(name)
    url, sha256, md5 = DOWNLOADS[name]
    directory = Path(directory or cache_dir())
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"the data directory {directory} is a file; set BOOK_DATA to a directory")
    path = directory / url.rsplit("/", 1)[-1]
    if path.is_dir():
        raise ValueError(f"{path} is a directory where the download {name} belongs; remove it")
    if not path.exists():
        import pooch  # only when something must be downloaded
        import requests

        store = pooch.create(
            path=directory,
            base_url="",
            registry={path.name: f"sha256:{sha256}"},
            urls={path.name: url},
            retry_if_failed=RETRIES,
        )
        try:
            store.fetch(path.name, progressbar=os.environ.get("BOOK_PROGRESS", "1") != "0")
        except (requests.exceptions.RequestException, OSError) as e:
            raise ConnectionError(
                f"could not download {name} from {url} ({type(e).__name__}). Offline? Put the "
                f"file at {path} by hand, or run at BOOK_SCALE=small, which needs no download."
            ) from e
        except ValueError as e:  # pooch: the downloaded file fails its SHA-256
            raise ValueError(f"{url} does not match its SHA-256 after download: {e}") from e
    _check(path, sha256, md5)
    return path


def read_idx(path: Path) -> np.ndarray:
    """Parse an IDX file (MNIST's format, optionally gzipped) into a uint8 array."""
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise _damaged(Path(path), f"not a whole gzip file ({e})") from e
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or raw[3] == 0:
        raise _damaged(Path(path), "not an unsigned-byte IDX file")
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise _damaged(Path(path), "the IDX header is cut short")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise _damaged(Path(path), f"the header says {shape}, found {body.size} bytes of data")
    return body.reshape(shape)


def mnist(split: str = "train", directory: Path | None = None):
    """MNIST ``(images uint8 N×28×28, labels int64 N)`` for ``split`` in {train, test}."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    images = read_idx(fetch(f"mnist-{split}-images", directory))
    labels = read_idx(fetch(f"mnist-{split}-labels", directory)).astype(np.int64)
    if len(images) != len(labels):
        raise ValueError(f"MNIST {split}: {len(images)} images but {len(labels)} labels")
    return images, labels


def read_cifar_binary(path: Path, members: list[str]):
    """Parse CIFAR-10's binary batches (1 label byte + 3072 pixel bytes per record)."""
    images, labels = [], []
    try:
        with tarfile.open(path, "r:gz") as tar:
            for m in members:
                raw = tar.extractfile(f"cifar-10-batches-bin/{m}").read()
                if len(raw) % 3073:
                    raise _damaged(Path(path), f"{m} is not a whole number of records")
                rec = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3073)
                labels.append(rec[:, 0].astype(np.int64))
                images.append(rec[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, KeyError) as e:
        raise _damaged(Path(path), f"not a whole CIFAR-10 archive ({type(e).__name__}: {e})") from e
    return np.concatenate(images), np.concatenate(labels)


def cifar10(split: str = "train", directory: Path | None = None):
    """CIFAR-10 ``(images uint8 N×32×32×3, labels int64 N)`` from the binary release."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    members = (
        [f"data_batch_{i}.bin" for i in range(1, 6)] if split == "train" else ["test_batch.bin"]
    )
    return read_cifar_binary(fetch("cifar10", directory), members)


def enwik8(directory: Path | None = None) -> bytes:
    """The first 10^8 bytes of English Wikipedia (Hutter prize data), as bytes."""
    path = fetch("enwik8", directory)
    try:
        with zipfile.ZipFile(path) as z:
            data = z.read("enwik8")
    except (zipfile.BadZipFile, KeyError, EOFError, zlib.error) as e:
        raise _damaged(path, f"not a whole enwik8.zip ({type(e).__name__}: {e})") from e
    if _rehearsing():  # the stand-in's content, as its manifest records it
        if hashlib.sha256(data).hexdigest() != _standin_sha256("enwik8"):
            raise _damaged(path, "it does not unpack to the rehearsal's stand-in enwik8")
        return data
    if hashlib.sha256(data).hexdigest() != ENWIK8_SHA256:
        raise _damaged(path, "it does not unpack to enwik8 (sha256 mismatch)")
    if hashlib.md5(data).hexdigest() != ENWIK8_MD5:
        raise _damaged(path, "it does not unpack to enwik8 (md5 mismatch)")
    return data
