"""lib.prequential: the train-while-coding compressor is lossless, deterministic, causal, and
fails loudly on bad input."""

import json
import struct
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import coding, data, prequential, runtime
from lib.prequential import PrequentialConfig

TINY = PrequentialConfig(
    n_layer=1,
    n_head=2,
    n_embd=16,
    lanes=4,
    lane_length=16,
    first_lane_length=4,
    train_steps=2,
    batch_size=4,
)
TEXT = b"The quick brown fox jumps over the lazy dog. " * 12


@settings(max_examples=8, deadline=None)
@given(st.binary(max_size=300))
def test_round_trip_random_bytes(data):
    assert prequential.decompress(prequential.compress(data, TINY)) == data


@settings(max_examples=4, deadline=None)
@given(st.text(max_size=200))
def test_round_trip_text_ngram(s):
    data = s.encode()
    cfg = PrequentialConfig(model="ngram", ngram_order=2)
    assert prequential.decompress(prequential.compress(data, cfg)) == data


def test_round_trip_text_and_code_length():
    blob, bits = prequential.compress(TEXT, TINY, return_code_lengths=True)
    assert prequential.decompress(blob) == TEXT
    # the coded stream costs the ideal code length plus a few bytes; the header is small
    stream = prequential.read_header(blob).stream
    assert 8 * len(stream) <= bits.sum() + 8 * 10
    assert len(blob) - len(stream) < 200  # container, settings, one fingerprint per chunk
    assert bits.sum() < 8 * len(TEXT)  # it learned something: better than raw bytes


def config(model: str) -> PrequentialConfig:
    return TINY if model == "gpt" else PrequentialConfig(model=model)


def test_round_trip_context_mixing():
    cfg = PrequentialConfig(model="cm")
    blob, bits = prequential.compress(TEXT, cfg, return_code_lengths=True)
    assert coding.unwrap(blob)[3] == prequential.KINDS["cm"]
    assert prequential.decompress(blob) == TEXT
    assert np.array_equal(bits, prequential.code_lengths(TEXT, cfg))
    assert 8 * len(blob) < bits.sum() + 8 * 40  # the stream is the ideal length + a few bytes
    assert len(blob) < len(prequential.compress(TEXT, PrequentialConfig(model="ngram")))


@pytest.mark.parametrize("model", ["gpt", "ngram", "cm"])
def test_empty_input(model):
    cfg = config(model)
    blob = prequential.compress(b"", cfg)
    assert prequential.decompress(blob) == b""
    assert len(prequential.code_lengths(b"", cfg)) == 0


def test_deterministic():
    assert prequential.compress(TEXT, TINY) == prequential.compress(TEXT, TINY)
    other = PrequentialConfig(**{**TINY.__dict__, "seed": 1})
    assert prequential.compress(TEXT, other) != prequential.compress(TEXT, TINY)


def test_code_lengths_match_compress():
    blob, bits = prequential.compress(TEXT, TINY, return_code_lengths=True)
    assert np.array_equal(bits, prequential.code_lengths(TEXT, TINY))


@pytest.mark.parametrize("cut", [1, 37, 64, 100, 320])
def test_code_lengths_are_causal(cut):
    whole = prequential.code_lengths(TEXT, TINY)
    assert np.array_equal(whole[:cut], prequential.code_lengths(TEXT[:cut], TINY))


def test_ngram_code_lengths_are_causal():
    cfg = PrequentialConfig(model="ngram", ngram_order=3)
    whole = prequential.code_lengths(TEXT, cfg)
    assert np.array_equal(whole[:123], prequential.code_lengths(TEXT[:123], cfg))


def test_incremental_step_matches_the_full_forward():
    learner = prequential.Learner(TINY)
    x = torch.randint(0, 256, (3, TINY.lane_length))
    inputs = torch.cat([torch.full((3, 1), prequential.BOS), x[:, :-1]], dim=1)
    full = torch.softmax(learner.model(inputs)[..., :256], dim=-1)
    learner.start_lanes(3)
    for t in range(TINY.lane_length):
        step = learner.step(inputs[:, t])
        torch.testing.assert_close(step, full[:, t], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("model", ["gpt", "ngram", "cm"])
def test_corrupt_and_truncated_blobs_raise(model):
    cfg = config(model)
    blob = prequential.compress(TEXT, cfg)
    for bad in (blob[:10], blob[:-1], blob[: len(blob) // 2], blob + b"\0", b"", b"junk" * 9):
        with pytest.raises(coding.CorruptStreamError):
            prequential.decompress(bad)
    rng = np.random.default_rng(0)
    for _ in range(6):  # flip one byte anywhere after the container header
        b = bytearray(blob)
        i = int(rng.integers(21, len(b)))
        b[i] ^= 1 + int(rng.integers(255))
        with pytest.raises(coding.CorruptStreamError):
            prequential.decompress(bytes(b))


def test_probability_fingerprint_catches_a_different_model():
    # a decoder that computes other floats (here: another seed in the header) fails loudly
    blob = prequential.compress(TEXT, TINY)
    h = prequential.read_header(blob)
    other = PrequentialConfig(**{**h.cfg.__dict__, "seed": 7})
    forged = coding.wrap(prequential._header(other, h.n, h.fingerprints) + h.stream, TEXT, h.kind)
    with pytest.raises(coding.CorruptStreamError, match="differ|stream"):
        prequential.decompress(forged)


def test_bad_arguments():
    with pytest.raises(TypeError):
        prequential.compress("text", TINY)
    with pytest.raises(ValueError, match="model"):
        PrequentialConfig(model="lstm")
    with pytest.raises(ValueError, match="lanes"):
        PrequentialConfig(lanes=0)
    with pytest.raises(ValueError, match="cfg"):
        prequential.code_lengths(b"abc", cfg={"lanes": 2})


def test_command_line_round_trip(tmp_path):
    src, packed, out = tmp_path / "in.txt", tmp_path / "in.pq", tmp_path / "out.txt"
    src.write_bytes(TEXT[:200])
    run = [sys.executable, "-m", "lib.prequential"]
    subprocess.run(
        [
            *run,
            "compress",
            "--model",
            "gpt",
            "--n-layer",
            "1",
            "--n-embd",
            "16",
            "--lanes",
            "4",
            str(src),
            str(packed),
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run([*run, "decompress", str(packed), str(out)], check=True, capture_output=True)
    assert out.read_bytes() == src.read_bytes()
    packed.write_bytes(packed.read_bytes()[:-3])
    bad = subprocess.run([*run, "decompress", str(packed), str(out)], capture_output=True)
    assert bad.returncode == 1 and b"error" in bad.stderr


def test_command_line_default_is_context_mixing(tmp_path):
    src, packed, out = tmp_path / "in.txt", tmp_path / "in.cm", tmp_path / "out.txt"
    src.write_bytes(TEXT)
    run = [sys.executable, "-m", "lib.prequential"]
    subprocess.run([*run, "compress", str(src), str(packed)], check=True, capture_output=True)
    assert coding.unwrap(packed.read_bytes())[3] == prequential.KINDS["cm"]
    subprocess.run([*run, "decompress", str(packed), str(out)], check=True, capture_output=True)
    assert out.read_bytes() == TEXT


def test_the_coder_runs_deterministic_kernels_and_restores_the_callers_setting():
    # catches a coder that leaves torch in strict mode (or switches it off), or a guard that
    # only warns (a non-deterministic GPU kernel would then go unnoticed)
    torch.use_deterministic_algorithms(False)
    prequential.code_lengths(TEXT[:50], TINY)
    assert not torch.are_deterministic_algorithms_enabled()
    with prequential.deterministic():
        assert torch.are_deterministic_algorithms_enabled()
        assert not torch.is_deterministic_algorithms_warn_only_enabled()
    runtime.seed_everything(0)


# ---------------------------------------------------------------- formats and the one driver
STREAMS = Path(__file__).parent / "streams"  # files written by earlier versions, and by whom
WRITERS = json.loads((STREAMS / "writers.json").read_text())  # file -> its machine's probe


def float_probe() -> str:
    """A fingerprint of how this CPU computes floats in the kernels the coders use (numpy's
    exp and log, torch's matmul, softmax, layer norm and GELU). The GPT and n-gram files decode
    only where the floats are the encoder's: a machine with other vector units (AVX-512 or not)
    rounds some of them differently. Equal probes: the same floats, as far as a test can tell."""
    x = np.linspace(-30.0, 30.0, 4099)
    parts = [np.exp(x), np.log1p(np.abs(x)), np.log(np.abs(x) + 1e-3), np.log2(np.abs(x) + 1)]
    g = torch.Generator().manual_seed(0)
    a = torch.randn(96, 64, generator=g)
    h = torch.nn.functional.layer_norm(torch.softmax(a @ a.T / 8, -1) @ a, (64,))
    parts.append(torch.nn.functional.gelu(h).numpy().astype(np.float64))
    return f"{zlib.crc32(b''.join(p.tobytes() for p in parts)):08x}"


def older_text(name: str) -> bytes:
    return data.text().encode()[: 1500 if name.startswith("gpt") else 3000]


@pytest.mark.parametrize("file", sorted(WRITERS))
def test_older_files_still_decode(file):
    # catches a silent change of the file format: PQG1 and PQN1 are unchanged, byte for byte;
    # CMX1 (fingerprints of the decoded bytes) is still read although CMX2 is written
    blob, text = (STREAMS / file).read_bytes(), older_text(file)
    h = prequential.read_header(blob)
    same_floats = WRITERS[file] in ("integer", float_probe())
    if h.kind == b"CMX1":  # integer arithmetic: decodes everywhere; CMX2 is written now
        assert prequential.decompress(blob) == text
        assert prequential.compress(text, h.cfg) != blob
    elif same_floats:  # this CPU computes the writer's floats: the exact file, both ways
        assert prequential.decompress(blob) == text
        assert prequential.compress(text, h.cfg) == blob
    else:  # other floats: refused as such, never wrong bytes (catches a silent mis-decode)
        warnings.warn(
            f"{file}: written by a CPU with other floats; `python -m tests.test_prequential`"
            f" writes files with this one's (probe {float_probe()}), for the exact check",
            stacklevel=1,
        )
        try:
            assert prequential.decompress(blob) == text
        except coding.CorruptStreamError as e:
            assert "probabilities differ" in str(e)
        assert prequential.decompress(prequential.compress(text, h.cfg)) == text


def write_reference_files() -> None:
    """Write a GPT and an n-gram file with this machine's floats, and record its probe."""
    probe = float_probe()
    for name in ("gpt", "ngram"):
        h = prequential.read_header((STREAMS / f"{name}_v1.bin").read_bytes())
        file = f"{name}_v1_{probe}.bin"
        (STREAMS / file).write_bytes(prequential.compress(older_text(name), h.cfg))
        WRITERS[file] = probe
    (STREAMS / "writers.json").write_text(json.dumps(WRITERS, indent=1) + "\n")


def test_cm_writes_todays_format_byte_for_byte():
    # cm_v2.bin was written by the per-bit driver (before the block step, December 2026): the
    # fast path must write the same bytes and read them (catches any change of arithmetic)
    blob = (STREAMS / "cm_v2.bin").read_bytes()
    text = data.text().encode()[:8000]
    assert prequential.compress(text, PrequentialConfig(model="cm")) == blob
    assert prequential.decompress(blob) == text


def test_a_forged_older_cm_file_stops_at_its_first_block():
    # CMX1's fingerprints are checked as it decodes (catches a CMX1 path that checks nothing)
    blob = (STREAMS / "cm_v1.bin").read_bytes()
    h = prequential.read_header(blob)
    forged = struct.pack(f">I{len(h.fingerprints)}I", len(h.fingerprints), 0, *h.fingerprints[1:])
    bad = coding.wrap(forged + h.stream, data.text().encode()[:3000], b"CMX1")
    with pytest.raises(coding.CorruptStreamError, match="block 0"):
        prequential.decompress(bad)


def test_read_header_says_what_the_file_is():
    blob = prequential.compress(TEXT, TINY)
    h = prequential.read_header(blob)
    assert (h.kind, h.cfg, h.n) == (b"PQG1", TINY, len(TEXT))
    assert len(h.fingerprints) == len(list(prequential.chunks(len(TEXT), TINY)))
    with pytest.raises(coding.CorruptStreamError, match="kind"):
        prequential.read_header(coding.wrap(b"", b"", b"ABCD"))


@pytest.mark.parametrize("model", ["gpt", "ngram", "cm"])
def test_one_driver_measures_what_it_codes(model):
    # the three learners through the one driver: the ideal code length is the coded stream's
    # (catches a step that measures other probabilities than it codes)
    blob, bits = prequential.compress(TEXT, config(model), return_code_lengths=True)
    stream = prequential.read_header(blob).stream
    assert abs(8 * len(stream) - bits.sum()) <= 8 * 12
    assert np.allclose(prequential.code_lengths(TEXT, config(model)), bits, rtol=0, atol=1e-9)


def test_the_registry_spans_every_compressor():
    from lib import compressors

    assert set(compressors.REGISTRY) == {*compressors.NAMES, "ngram", "cm", "gpt"}
    for name in ("zlib", "ngram", "cm"):
        compress, decompress = compressors.REGISTRY[name]
        assert decompress(compress(TEXT)) == TEXT
    with pytest.raises(coding.CorruptStreamError, match="not ngram"):
        compressors.REGISTRY["ngram"][1](compressors.REGISTRY["cm"][0](TEXT))


if __name__ == "__main__":
    write_reference_files()
