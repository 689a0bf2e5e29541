"""Stand-in files for a rehearsal: small data in the real formats of MNIST, CIFAR-10, enwik8.

A rehearsal (``tools/rehearsal.py``) runs every chapter's ``full`` code path on a CPU. Its
loaders are the real ones (``lib.data.mnist``, ``cifar10``, ``enwik8``); only the files differ.
They are made here from what ships offline, so that nothing is downloaded and nothing big is
committed, and they carry enough structure for a chapter's checks to mean something:

- MNIST (``*-idx3-ubyte.gz``, ``*-idx1-ubyte.gz``): scikit-learn's 8×8 digits, upscaled 3× to
  24×24 and pasted at a random offset on a 28×28 canvas, grey levels 0..255; the train and
  test images come from disjoint original digits.
- CIFAR-10 (``cifar-10-binary.tar.gz`` with ``cifar-10-batches-bin/data_batch_{1..5}.bin``
  and ``test_batch.bin``): two-colour stripes. Each image shows one pair of twelve colours in
  a low-frequency stripe pattern (the class's direction and frequency, at a random shift),
  with a random tint and pixel noise. The class is *which pair*: the 66 pairs are split into
  eleven perfect matchings (each colour once in each), and class ``c`` draws its pair from
  matching ``c``. So every colour is equally common in every class: the class is no linear
  function of the colour histogram, and with the random shifts hardly one of the pixels, but
  a model that predicts the next pixel must learn which colours go together, and its
  features show it (chapter 7's check that pretrained features beat random ones).
- enwik8 (``enwik8.zip`` with the member ``enwik8``): the shipped English corpus in
  MediaWiki-like XML pages.

``write(directory)`` writes them with ``standins.json`` (file name -> SHA-256, the SHA-256
of the unzipped enwik8, and the generator's ``version``), which ``lib.data`` checks in a
rehearsal. The files are the same on every run (fixed seeds, fixed archive timestamps).
CLI: ``python -m tools.standins DIR``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np

from lib import data

SEED = 0
MNIST_TRAIN, MNIST_TEST = 12_000, 2_000  # images in each split (chapter 1 needs m >> P)
CIFAR_PER_BATCH, CIFAR_TEST = 600, 600  # records per training batch (five of them), test
WIKI_PAGE_CHARS = 4000
# what the files depend on; a manifest of another version is rewritten
VERSION = f"4:{SEED}:{MNIST_TRAIN}:{MNIST_TEST}:{CIFAR_PER_BATCH}:{CIFAR_TEST}:{WIKI_PAGE_CHARS}"


def _idx(array: np.ndarray) -> bytes:
    """IDX (unsigned bytes), gzipped with a fixed timestamp."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes(), mtime=0)


def _pasted(digits8, labels, n, side, rng):
    """``n`` digits drawn from ``digits8`` (N×8×8, 0..16), 24×24, at random places on side²."""
    pick = rng.integers(0, len(digits8), n)
    big = np.kron(digits8[pick], np.ones((3, 3))) * (255 / 16)  # n×24×24 in 0..255
    out = np.zeros((n, side, side))
    room = side - 24
    for k, (dy, dx) in enumerate(rng.integers(0, room + 1, (n, 2))):
        out[k, dy : dy + 24, dx : dx + 24] = big[k]
    return out, labels[pick]


def _split_digits(rng):
    images, labels = data.digits()
    order = rng.permutation(len(labels))
    cut = 2 * len(labels) // 3
    return (images[order[:cut]], labels[order[:cut]]), (images[order[cut:]], labels[order[cut:]])


def mnist_files(rng) -> dict[str, bytes]:
    (tr_x, tr_y), (te_x, te_y) = _split_digits(rng)
    files = {}
    for prefix, (x, y), n in [
        ("train", (tr_x, tr_y), MNIST_TRAIN),
        ("t10k", (te_x, te_y), MNIST_TEST),
    ]:
        images, labels = _pasted(x, y, n, 28, rng)
        files[f"{prefix}-images-idx3-ubyte.gz"] = _idx(np.round(images))
        files[f"{prefix}-labels-idx1-ubyte.gz"] = _idx(labels)
    return files


# chapter 7's stand-in: twelve colours far apart (so a 16-colour k-means palette keeps them)
CIFAR_COLOURS = np.array(
    [[r, g, b] for r in (40, 215) for g in (40, 215) for b in (40, 215)]
    + [[128, 128, 128], [215, 128, 40], [40, 128, 215], [128, 215, 128]]
)
# cycles per image (down, across) of each class's stripes: low enough to survive 8×8 pooling
CIFAR_STRIPES = np.array(
    [(1, 0), (0, 1), (1, 1), (1, -1), (2, 0), (0, 2), (2, 1), (1, 2), (2, -1), (1, -2)]
)


def colour_matchings(n: int = len(CIFAR_COLOURS)) -> list[list[tuple[int, int]]]:
    """The ``n - 1`` perfect matchings of the round-robin schedule of ``n`` (even) colours:
    together they hold every pair once, and each holds every colour once."""
    last = n - 1
    return [
        [(last, c)] + [((c + k) % last, (c - k) % last) for k in range(1, n // 2)]
        for c in range(last)
    ]


def _cifar_images(labels, rng) -> np.ndarray:
    """``len(labels)`` images (uint8 N×32×32×3): class ``c``'s stripes in a pair of matching c."""
    n = len(labels)
    pairs = np.array(colour_matchings())[labels, rng.integers(0, len(CIFAR_COLOURS) // 2, n)]
    pairs = np.where(rng.integers(0, 2, (n, 1)) == 1, pairs, pairs[:, ::-1])  # either on top
    fy, fx = CIFAR_STRIPES[labels].T[:, :, None, None]
    yy, xx = np.mgrid[0:32, 0:32]
    shift = rng.uniform(0, 2 * np.pi, (n, 1, 1))
    ink = (np.cos(2 * np.pi * (fy * yy + fx * xx) / 32 + shift) > 0)[..., None]
    first, second = (CIFAR_COLOURS[pairs[:, i]][:, None, None, :] for i in (0, 1))
    images = np.where(ink, first, second) + rng.normal(0, 15, (n, 1, 1, 3))  # a tint
    images = images + rng.normal(0, 12, images.shape)
    return np.clip(images, 0, 255).round().astype(np.uint8)


def _cifar_records(n, rng) -> bytes:
    labels = rng.integers(0, 10, n)
    images = _cifar_images(labels, rng)
    planes = images.transpose(0, 3, 1, 2).reshape(n, -1)  # CIFAR stores R, G, B planes
    return np.concatenate([labels[:, None].astype(np.uint8), planes], 1).tobytes()


def cifar_file(rng) -> bytes:
    members = {f"data_batch_{i}.bin": _cifar_records(CIFAR_PER_BATCH, rng) for i in range(1, 6)}
    members["test_batch.bin"] = _cifar_records(CIFAR_TEST, rng)
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w") as tar:
            for name, payload in members.items():
                info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
                info.size, info.mtime = len(payload), 0
                tar.addfile(info, io.BytesIO(payload))
    return buf.getvalue()


def enwik8_bytes() -> bytes:
    """The shipped corpus as MediaWiki-like XML pages (about 0.5 MB)."""
    text = data.text()
    pages = [
        f"  <page>\n    <title>Section {k}</title>\n    <text>{text[i : i + WIKI_PAGE_CHARS]}"
        "</text>\n  </page>\n"
        for k, i in enumerate(range(0, len(text), WIKI_PAGE_CHARS))
    ]
    return ("<mediawiki>\n" + "".join(pages) + "</mediawiki>\n").encode("utf-8")


def enwik8_file(content: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("enwik8", date_time=(1980, 1, 1, 0, 0, 0))
        z.writestr(info, content, compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def write(directory: Path | str) -> dict[str, str]:
    """Write every stand-in and ``standins.json`` into ``directory``; returns the manifest.

    Already there, of this ``VERSION`` and with matching checksums: nothing is rewritten.
    """
    directory = Path(directory)
    manifest_path = directory / data.STANDINS_MANIFEST
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("version") == VERSION and all(
            (directory / name).is_file() and data._digest(directory / name, "sha256") == sha
            for name, sha in manifest.items()
            if name not in ("enwik8", "version")
        ):
            return manifest
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    files = mnist_files(rng)
    # its own generator: CIFAR's files do not change when MNIST's sizes do
    files["cifar-10-binary.tar.gz"] = cifar_file(np.random.default_rng(SEED + 2))
    content = enwik8_bytes()
    files["enwik8.zip"] = enwik8_file(content)
    manifest = {"version": VERSION}
    for name, payload in files.items():
        (directory / name).write_bytes(payload)
        manifest[name] = hashlib.sha256(payload).hexdigest()
    manifest["enwik8"] = hashlib.sha256(content).hexdigest()  # the unzipped member
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m tools.standins DIRECTORY")
    for name, sha in write(sys.argv[1]).items():
        print(f"{sha[:16]}  {name}")
