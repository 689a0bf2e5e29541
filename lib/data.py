"""The book's data: a text corpus and images that ship offline, and checked full-scale downloads.

Offline (always there):
- ``text()``: English prose, a fixed snapshot of the Python reference documentation
  (``pydoc_data.topics`` of CPython 3.11.7, PSF licence), 465 KB, shipped in ``lib/corpora``.
- ``letters(text)``: the same text reduced to ``a-z`` and single spaces (for ciphers).
- ``digits()``: scikit-learn's 8×8 handwritten digits (1,797 images, 17 grey levels).

On request only (full scale): ``mnist()``, ``cifar10()``, ``enwik8()`` download once into
``~/.cache/compression-book`` (``BOOK_DATA`` overrides), verify an MD5 checksum, and parse the
raw binary formats directly. Nothing downloaded is ever unpickled.
"""

from __future__ import annotations

import gzip
import hashlib
import lzma
import os
import re
import tarfile
import urllib.error
import urllib.request
import zipfile
from importlib import resources
from pathlib import Path

import numpy as np

CORPORA = {"python_docs": "python_docs.txt.xz"}

# name -> (url, md5 of the file; None where the content is checked after unpacking)
DOWNLOADS = {
    "mnist-train-images": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz",
        "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    ),
    "mnist-train-labels": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/train-labels-idx1-ubyte.gz",
        "d53e105ee54ea40749a09fcbcd1e9432",
    ),
    "mnist-test-images": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-images-idx3-ubyte.gz",
        "9fb629c4189551a2d022fa330f9573f3",
    ),
    "mnist-test-labels": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz",
        "ec29112dd5afa0611ce80d1b7f02629c",
    ),
    "cifar10": (
        "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
        "c32a1d4ab5d03f1284b67883e8d87530",
    ),
    "enwik8": ("https://mattmahoney.net/dc/enwik8.zip", None),
}
ENWIK8_MD5 = "a1fa5ffddb56f4953e226637dabbb36a"  # of the unzipped 10^8 bytes


# ---------------------------------------------------------------- offline data
def text(name: str = "python_docs") -> str:
    """A shipped English corpus as a string (see ``CORPORA``)."""
    if name not in CORPORA:
        raise ValueError(f"unknown corpus {name!r}; choose from {sorted(CORPORA)}")
    raw = resources.files("lib").joinpath("corpora", CORPORA[name]).read_bytes()
    return lzma.decompress(raw).decode("utf-8")


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


def md5sum(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(name: str, directory: Path | None = None) -> Path:
    """The local path of download ``name``, fetching it first if needed; checksum verified.

    A file already in ``directory`` (e.g. a copy made by hand) is used as is once its checksum
    matches. Offline, this raises ``ConnectionError`` saying what to download and where.
    """
    if name not in DOWNLOADS:
        raise ValueError(f"unknown download {name!r}; choose from {sorted(DOWNLOADS)}")
    url, md5 = DOWNLOADS[name]
    directory = Path(directory or cache_dir())
    path = directory / url.rsplit("/", 1)[-1]
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(path.suffix + ".part")
        try:
            with urllib.request.urlopen(url, timeout=60) as r, open(partial, "wb") as f:
                while block := r.read(1 << 20):
                    f.write(block)
        except (urllib.error.URLError, OSError) as e:
            partial.unlink(missing_ok=True)
            raise ConnectionError(
                f"could not download {name} from {url} ({e}). Offline? Put the file at {path} "
                f"by hand, or run at BOOK_SCALE=small, which needs no download."
            ) from e
        partial.rename(path)
    got = md5sum(path) if md5 else None
    if got != md5:
        raise ValueError(
            f"checksum mismatch for {path}: md5 {got}, expected {md5}. "
            "Delete the file and download it again."
        )
    return path


def read_idx(path: Path) -> np.ndarray:
    """Parse an IDX file (MNIST's format, optionally gzipped) into a uint8 array."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says {shape}, found {body.size} bytes of data")
    return body.reshape(shape)


def mnist(split: str = "train", directory: Path | None = None):
    """MNIST ``(images uint8 N×28×28, labels int64 N)`` for ``split`` in {train, test}."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    images = read_idx(fetch(f"mnist-{split}-images", directory))
    labels = read_idx(fetch(f"mnist-{split}-labels", directory)).astype(np.int64)
    return images, labels


def read_cifar_binary(path: Path, members: list[str]):
    """Parse CIFAR-10's binary batches (1 label byte + 3072 pixel bytes per record)."""
    images, labels = [], []
    with tarfile.open(path, "r:gz") as tar:
        for m in members:
            raw = tar.extractfile(f"cifar-10-batches-bin/{m}").read()
            if len(raw) % 3073:
                raise ValueError(f"{m}: {len(raw)} bytes is not a whole number of records")
            rec = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3073)
            labels.append(rec[:, 0].astype(np.int64))
            images.append(rec[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
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
    with zipfile.ZipFile(path) as z:
        data = z.read("enwik8")
    if hashlib.md5(data).hexdigest() != ENWIK8_MD5:
        raise ValueError(f"{path} does not unpack to enwik8 (checksum mismatch); delete it.")
    return data
