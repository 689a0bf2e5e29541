"""Hostile input: crafted and corrupted files, and the command line's failure modes.

Every case here was a reproducer (issue 16): a file the decoders accepted and then hung on,
aborted on, allocated gigabytes for, or answered with a traceback. Each crafted file must now end
in ``CorruptStreamError`` within a second of CPU time; the container's CRC is recomputed for
each, so that the checks behind it (header limits, length bounds, per-block fingerprints) are
the ones exercised, not merely the CRC.
"""

import json
import os
import resource
import struct
import subprocess
import sys
import time
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import cli, coding, context_mixing, ngram, prequential
from lib.prequential import PrequentialConfig

TEXT = b"The prequential code pays for what the model has not yet learned. " * 40


# ---------------------------------------------------------------- forging files
def container(payload: bytes, length: int, kind: bytes, crc: int = 0) -> bytes:
    """A book container around ``payload`` claiming ``length`` bytes, with a valid own CRC."""
    head = struct.pack(">4sB4sQI", coding.MAGIC, coding.VERSION, kind, length, crc)
    return head + struct.pack(">I", zlib.crc32(payload, zlib.crc32(head))) + payload


def prequential_file(meta, fps=(), stream=b"\0" * 64, kind=b"PQG1", length=None, raw=None):
    """A prequential file with settings ``meta`` (a dict, or ``raw`` zlib bytes as they are)."""
    if raw is None:
        raw = zlib.compress(json.dumps(meta).encode())
    if length is None:
        length = meta["n"]
    fp = b"".join(struct.pack(">I", f) for f in fps)
    payload = struct.pack(">I", len(raw)) + raw + struct.pack(">I", len(fps)) + fp + stream
    return container(payload, length, kind)


def cm_file(length: int, fps, stream: bytes) -> bytes:
    payload = struct.pack(f">I{len(fps)}I", len(fps), *fps) + stream
    return container(payload, length, context_mixing.KIND)


def refused_quickly(blob: bytes, match: str | None = None) -> str:
    """Decompressing ``blob`` raises CorruptStreamError within 1 s of CPU time."""
    start = time.process_time()
    with pytest.raises(coding.CorruptStreamError, match=match) as info:
        prequential.decompress(blob)
    assert time.process_time() - start < 1.0, "a hostile file must fail fast"
    return str(info.value)


def _deep_json() -> bytes:
    return zlib.compress(b'{"cfg": {}, "n": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")


def _bomb(size: int = 1 << 26) -> bytes:
    """zlib data that inflates to ``size`` bytes (64 MiB here; the decoder stops at 4 KiB)."""
    z = zlib.compressobj(9)
    block = b" " * (1 << 22)
    return b"".join(z.compress(block) for _ in range(size >> 22)) + z.flush()


N = 10**9  # a length claimed by a small file
SMALL_GPT = PrequentialConfig(n_layer=1, n_embd=16, lanes=4)
CRAFTED = {
    # the settings are trusted by the decoder: refused now, before any model is built
    "train_steps=10**9": prequential_file({"cfg": {"train_steps": 10**9}, "n": 100}, [0]),
    "n_layer=10**6": prequential_file({"cfg": {"n_layer": 10**6}, "n": 100}, [0]),
    "ngram_order=10**7": prequential_file(
        {"cfg": {"model": "ngram", "ngram_order": 10**7}, "n": 100}, [0], kind=b"PQN1"
    ),
    "threads=100000": prequential_file({"cfg": {"threads": 100_000}, "n": 100}, [0]),
    "n_embd=2**24": prequential_file({"cfg": {"n_embd": 2**24}, "n": 100}, [0]),
    "n_layer=true": prequential_file({"cfg": {"n_layer": True}, "n": 100}, [0]),
    "seed=2**70 (torch overflow)": prequential_file({"cfg": {"seed": 2**70}, "n": 100}, [0]),
    "lr=NaN": prequential_file(
        None, [0], length=100, raw=zlib.compress(b'{"cfg":{"lr":NaN},"n":100}')
    ),
    "lanes*lane_length*n_embd (memory)": prequential_file(
        {"cfg": {"lanes": 4096, "lane_length": 4096, "first_lane_length": 4096}, "n": 100}, [0]
    ),
    '"n": Infinity': prequential_file(
        None, [0], length=100, raw=zlib.compress(b'{"cfg": {}, "n": Infinity}')
    ),
    '"n": 1.5': prequential_file(None, [0], length=1, raw=zlib.compress(b'{"cfg": {}, "n": 1.5}')),
    "100,000 nested [": prequential_file(None, [0], length=100, raw=_deep_json()),
    "2,000 nested [ (within the size limit)": prequential_file(
        None,
        [0],
        length=100,
        raw=zlib.compress(b'{"cfg": {}, "n": ' + b"[" * 2000 + b"]" * 2000 + b"}"),
    ),
    "settings inflating to 64 MiB": prequential_file(None, [0], length=100, raw=_bomb()),
    "settings block longer than the file": container(b"\xff\xff\xff\xff" + b"\0" * 20, 5, b"PQG1"),
    "unknown setting": prequential_file({"cfg": {"depth": 3}, "n": 100}, [0]),
    "settings not an object": prequential_file(None, [0], length=1, raw=zlib.compress(b"[1, 2]")),
    # the length is bounded by what the file can hold
    "PQN1: 2 KB claiming 10^9 bytes": prequential_file(
        {"cfg": {"model": "ngram"}, "n": N}, [0], stream=bytes(2000), kind=b"PQN1"
    ),
    "PQG1: one fingerprint for 10^9 bytes": prequential_file({"cfg": {}, "n": N}, [0]),
    "fingerprint count beyond the file": prequential_file(
        {"cfg": {}, "n": 100}, [0], stream=b"", length=100
    )[:-4],
    "CM: 121 bytes claiming 303,000": cm_file(
        303_000, [0] * coding.count_blocks(303_000, 1024, 32768), bytes(61)
    ),
    "CM: fingerprints missing": cm_file(303_000, [], bytes(117)),
    "CM: 10^9 bytes, a fingerprint per block": cm_file(
        N, [0] * coding.count_blocks(N, 1024, 32768), bytes(61)
    ),
    # the claim fits, but the fingerprints stop the decoder within one block
    "PQN1: forged fingerprints": prequential_file(
        {"cfg": {"model": "ngram"}, "n": 20_000},
        [0] * coding.count_blocks(20_000, ngram.FIRST_BLOCK, ngram.LAST_BLOCK),
        stream=bytes(range(256)) * 8,
        kind=b"PQN1",
    ),
    "PQG1: forged fingerprints": prequential_file(
        {"cfg": {"n_layer": 1, "n_embd": 16, "lanes": 4}, "n": 10_000},
        [0] * len(list(prequential.chunks(10_000, SMALL_GPT))),  # the right count: see below
        stream=bytes(range(256)) * 8,
    ),
    "CM: forged fingerprints, zeros": cm_file(
        150_000, [0] * coding.count_blocks(150_000, 1024, 32768), bytes(61)
    ),
    "CM: forged fingerprints, 0xFF": cm_file(
        150_000, [0] * coding.count_blocks(150_000, 1024, 32768), b"\xff" * 61
    ),
    "header and container disagree": prequential_file({"cfg": {}, "n": 100}, [0], length=99),
    "model and kind disagree": prequential_file({"cfg": {"model": "ngram"}, "n": 100}, [0]),
}


@pytest.fixture(scope="module", autouse=True)
def warm_torch():
    """torch's one-time start-up (a second or two) is not the hostile file's doing."""
    prequential.code_lengths(b"warm", SMALL_GPT)


@pytest.mark.parametrize("name", list(CRAFTED))
def test_crafted_file_is_refused_within_a_second(name):
    refused_quickly(CRAFTED[name])


def test_forged_fingerprints_stop_at_the_first_block():
    assert "block 0" in refused_quickly(CRAFTED["PQN1: forged fingerprints"])
    assert "chunk 0" in refused_quickly(CRAFTED["PQG1: forged fingerprints"])  # not the count
    message = refused_quickly(CRAFTED["CM: forged fingerprints, 0xFF"])
    assert "block 0" in message or "stream" in message


def test_limits_are_the_encoders_too():
    # what the decoder refuses, the encoder cannot write
    for bad in ({"train_steps": 10**9}, {"threads": 100_000}, {"n_layer": True}, {"seed": 2**70}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            PrequentialConfig(**bad)
    with pytest.raises(ValueError, match="too large"):
        PrequentialConfig(n_embd=2**12, n_head=4, n_layer=64)
    largest = {k: v for k, v in prequential.LIMITS.items() if k in ("train_steps", "threads")}
    PrequentialConfig(**largest)  # the limits themselves are allowed


# ---------------------------------------------------------------- corruption of real files
@pytest.fixture(scope="module")
def real_files():
    tiny = PrequentialConfig(n_layer=1, n_embd=16, lanes=4, train_steps=2)
    return {
        "gpt": prequential.compress(TEXT[:400], tiny),
        "ngram": prequential.compress(TEXT, PrequentialConfig(model="ngram", ngram_order=2)),
        "cm": prequential.compress(TEXT[:1200]),
    }


@pytest.mark.parametrize("model", ["gpt", "ngram", "cm"])
def test_every_flipped_bit_is_reported_as_corruption(real_files, model):
    # issue 18: a flipped bit is corruption, reported before any model runs, never "another
    # device" (the container's CRC covers its header and payload)
    blob = real_files[model]
    rng = np.random.default_rng(1)
    for i in rng.choice(len(blob) * 8, size=40, replace=False):
        bad = bytearray(blob)
        bad[i // 8] ^= 1 << (i % 8)
        message = refused_quickly(bytes(bad))
        assert "differ" not in message


@settings(max_examples=40, deadline=None)
@given(
    st.binary(max_size=300),
    st.sampled_from([b"PQG1", b"PQN1", b"CMX1", b"CMX2"]),
    st.integers(0, N),
)
def test_random_payloads_are_refused_quickly(payload, kind, length):
    # random bytes behind a valid container: any decoder must refuse them, fast
    start = time.process_time()
    try:
        out = prequential.decompress(container(payload, length, kind))
    except coding.CorruptStreamError:
        out = None
    assert time.process_time() - start < 1.0
    assert out is None or len(out) == length


@pytest.mark.parametrize(
    "probs",
    [[[1e-300, 1e-300]], [[5e-324, 5e-324, 5e-324]], [[1e308, 1e308]], [[1e-310, 1.0]]],
    ids=["1e-300", "subnormal", "overflowing-sum", "mixed"],
)
def test_tiny_and_huge_rows_code_safely(probs):
    # used to hang (encode), return -2**63 (quantize) or raise IndexError (decode)
    f = coding.quantize(probs)
    assert (f >= 1).all() and (f.sum(axis=1) == coding.TOTAL).all()
    for s in range(len(probs[0])):
        assert coding.decode(coding.encode([s], probs), probs).tolist() == [s]
    assert coding.decode(coding.encode([0], [[0.5, 0.5]]), [[1e-300, 1e-300]]).tolist() == [0]


def test_scaling_a_row_by_a_power_of_two_changes_nothing():
    p = np.array([[0.1, 0.2, 0.7], [0.25, 0.25, 0.5]])
    assert np.array_equal(coding.quantize(p), coding.quantize(p * 2.0**-1000))


# ---------------------------------------------------------------- the command line
def run_main(capsys, *argv):
    code = cli.main(list(map(str, argv)))
    err = capsys.readouterr().err.strip().splitlines()
    return code, err[-1] if err else ""


def test_cli_path_errors_are_one_line_and_come_first(tmp_path, capsys, monkeypatch):
    src = tmp_path / "in.txt"
    src.write_bytes(TEXT)

    def never(*a, **k):
        raise AssertionError("compressed before checking the paths")

    monkeypatch.setattr(prequential, "compress", never)
    cases = {
        "missing input": ("compress", tmp_path / "nope", tmp_path / "o"),
        "input is a directory": ("compress", tmp_path, tmp_path / "o"),
        "output is a directory": ("compress", src, tmp_path),
        "output directory missing": ("compress", src, tmp_path / "no" / "such" / "o"),
        "decompress, missing input": ("decompress", tmp_path / "nope", tmp_path / "o"),
    }
    for name, argv in cases.items():
        code, line = run_main(capsys, *argv)
        assert code == 1 and line.startswith("error: "), name
    code, line = run_main(capsys, "compress", "--train-steps", 10**9, src, tmp_path / "o")
    assert code == 1 and "train_steps" in line


def test_cli_corrupt_input_is_one_line(tmp_path, capsys):
    for name, blob in list(CRAFTED.items())[:6] + [("junk", b"junk")]:
        src = tmp_path / "x.pq"
        src.write_bytes(blob)
        code, line = run_main(capsys, "decompress", src, tmp_path / "out")
        assert code == 1 and line.startswith("error: "), name
        assert not (tmp_path / "out").exists()


def test_cli_failed_write_keeps_the_old_output(tmp_path, capsys, monkeypatch):
    src, out = tmp_path / "in.txt", tmp_path / "out.cm"
    src.write_bytes(TEXT[:300])
    out.write_bytes(b"precious")

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(prequential.os, "fsync", disk_full)
    code, line = run_main(capsys, "compress", src, out)
    assert code == 1 and "No space left" in line
    assert out.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt", "out.cm"]  # no temp file


def test_cli_interrupted_run_keeps_the_old_output(tmp_path, capsys, monkeypatch):
    src, out = tmp_path / "in.txt", tmp_path / "out.cm"
    src.write_bytes(TEXT[:300])
    out.write_bytes(b"precious")

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(prequential, "compress", interrupted)
    code, line = run_main(capsys, "compress", src, out)
    assert code == 130 and out.read_bytes() == b"precious"


def test_cli_file_size_limit_keeps_the_old_output(tmp_path):
    # the reproducer: a write that fails for real (RLIMIT_FSIZE, as a full disk would)
    src, out = tmp_path / "in.txt", tmp_path / "out.cm"
    src.write_bytes(np.random.default_rng(0).bytes(1500))  # compresses to about 1500 bytes
    out.write_bytes(b"precious")

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (500, 500))

    env = {**os.environ, "BOOK_PROGRESS": "0"}
    run = subprocess.run(
        [sys.executable, "-m", "lib.prequential", "compress", str(src), str(out)],
        capture_output=True,
        preexec_fn=limit,
        env=env,
    )
    assert run.returncode == 1
    assert run.stderr.decode().strip().splitlines()[-1].startswith("error: ")
    assert out.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt", "out.cm"]


def test_cli_round_trip_keeps_permissions(tmp_path, capsys):
    src, packed, out = tmp_path / "in.txt", tmp_path / "in.cm", tmp_path / "out.txt"
    src.write_bytes(TEXT[:500])
    packed.write_bytes(b"old")
    packed.chmod(0o640)
    assert run_main(capsys, "compress", src, packed)[0] == 0
    assert packed.stat().st_mode & 0o777 == 0o640
    assert run_main(capsys, "decompress", packed, out)[0] == 0
    assert out.read_bytes() == src.read_bytes()
