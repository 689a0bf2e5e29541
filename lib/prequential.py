"""The prequential code: a model that learns while it compresses (chapter 5, used in chapter 4).

Rae's protocol, literally. Encoder and decoder start from the same untrained model (same seed).
The data is read as one stream, byte by byte; every byte is *first* coded with the current model
and, at the end of each segment, the model *then* trains on everything seen so far. The decoder
decodes with the model it has, which is the encoder's model at that moment, and takes the same
training steps on the same bytes. The length of the code is the area under the online loss curve,

    L_preq(x) = sum_t -log2 p_{theta(x_<segment(t))}(x_t | x_{t-c_t} .. x_{t-1})   bits,

and the parameters theta are never transmitted: only the code that trains them (this file,
``lib/models.py`` and ``lib/coding.py``) must be known to both sides.

The model keeps its state across the whole stream, as Bellard's NNCP does: its context is the
last ``c_t`` bytes of the stream, whatever the segment, with ``context/2 <= c_t < context`` once
that many bytes have been read (the first byte is predicted after a BOS symbol). The state is a
key/value cache of ``lib.models.GPT`` (``GPT.extend``): one incremental step per byte. When the
cache is full, and after every training round (the weights changed), the cache is recomputed
from the last ``context/2`` bytes with the current weights.

Bit-exact agreement. Arithmetic decoding only works when the decoder computes *exactly* the
probabilities the encoder used: one differing last bit in a float can change a quantized
frequency and everything after it is garbage. Floating point is not associative, so "the same
maths" is not enough; encoder and decoder must run the identical sequence of tensor operations
with identical shapes. Hence one loop, ``_run``, for encoder, decoder and ``code_lengths``:

- segment ``k`` holds ``min(segment, first_segment * 2**k)`` bytes (the first, untrained
  segments are short, so the model starts learning early);
- every byte: one ``GPT.extend`` step on the byte before it, then code/decode the byte with the
  softmax of the logits (the encoder *could* compute a whole segment in one batched pass, but
  then its floats would not match the decoder's);
- after a complete segment, ``train_steps`` AdamW steps on seeded random windows of
  ``[BOS, x_0, x_1, ...]`` seen so far, then the cache is rebuilt.

Everything runs with deterministic kernels only (``torch.use_deterministic_algorithms(True)``
without ``warn_only``, and the math attention backend for training), so that on a GPU too the
encoder's and the decoder's floats agree run after run. Each segment's probabilities are
fingerprinted (CRC-32 of the float32 arrays) into the container, so a decoder whose arithmetic
differs (another CPU, library version, thread count or GPU) stops with ``CorruptStreamError`` at
the first segment that differs, and the CRC-32 of the original catches anything else. Never
silent garbage.

Causality: the code length of byte ``p`` depends only on bytes before ``p`` (the segment
schedule does not depend on the data's length), so ``code_lengths(x + y)[:len(x)] ==
code_lengths(x)``: the total splits as L(x) + L(y | x).

``model="cm"`` is the other end of the design space: no neural network, but many small adaptive
context models mixed bit by bit (``lib.context_mixing``). It is the best compressor of the book
and the command line's default.

The same idea for the *labels* of a data set given its inputs (Blier & Ollivier 2018: two-part
versus prequential) is in ``lib.label_codes``.

Command line::

    python -m lib.prequential compress IN OUT [--model cm|gpt|ngram]
    python -m lib.prequential decompress IN OUT
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import struct
import sys
import zlib
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

from lib import coding, context_mixing, ngram, runtime
from lib.models import GPT, GPTConfig

BOS = 256  # the symbol before the first byte; the model's vocabulary is 256 bytes + BOS
KINDS = {"gpt": b"PQG2", "ngram": b"PQN1", "cm": context_mixing.KIND}  # container kinds


@dataclass(frozen=True)
class PrequentialConfig:
    """Everything both sides must agree on. Stored in the compressed file's header."""

    # "gpt" (a transformer trained online), "ngram" (lib.ngram mixture) or "cm" (lib.context_mixing,
    # which has no settings of its own)
    model: str = "gpt"
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    context: int = (
        128  # the transformer's window (block_size); it reads the last context/2..context bytes
    )
    segment: int = 1024  # longest segment: bytes coded between two training rounds
    first_segment: int = 256  # segment k has min(segment, first_segment * 2**k) bytes
    train_steps: int = 16  # optimizer steps after each segment
    batch_size: int = 16  # windows of `context` bytes per step
    lr: float = 6e-3
    seed: int = 0
    threads: int = 1  # torch threads (part of "the same arithmetic")
    ngram_order: int = 4  # model="ngram": orders 0..ngram_order are mixed

    def __post_init__(self):
        if self.model not in KINDS:
            raise ValueError(f"model must be one of {sorted(KINDS)}, got {self.model!r}")
        for name in (
            "n_layer",
            "n_head",
            "n_embd",
            "segment",
            "first_segment",
            "batch_size",
            "threads",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        for name in ("train_steps", "seed", "ngram_order"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative int, got {value!r}")
        if not isinstance(self.context, int) or self.context < 2:
            raise ValueError(f"context must be an int >= 2, got {self.context!r}")
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be a multiple of n_head ({self.n_head})")
        if self.first_segment > self.segment:
            raise ValueError("first_segment must not exceed segment")
        if not (isinstance(self.lr, (int, float)) and 0 < self.lr < 1):
            raise ValueError(f"lr must be in (0, 1), got {self.lr!r}")

    def gpt_config(self) -> GPTConfig:
        return GPTConfig(
            vocab_size=257,
            block_size=self.context,
            n_layer=self.n_layer,
            n_head=self.n_head,
            n_embd=self.n_embd,
        )


def segments(n: int, cfg: PrequentialConfig):
    """The schedule: ``(start, length)`` of every segment covering ``n`` bytes.

    The last one may reach past ``n``. The boundaries do not depend on ``n``: that makes the
    code causal.
    """
    start, k = 0, 0
    while start < n:
        length = min(cfg.segment, cfg.first_segment << min(k, 30))
        yield start, length
        start += length
        k += 1


@contextlib.contextmanager
def deterministic():
    """Only deterministic kernels inside (an error, not a warning, for any other), and the
    math backend of ``scaled_dot_product_attention``; the previous settings are restored after."""
    enabled = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS
    torch.use_deterministic_algorithms(True, warn_only=False)
    try:
        with sdpa_kernel(SDPBackend.MATH):
            yield
    finally:
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)


# ---------------------------------------------------------------- the learner
class Learner:
    """A ``lib.models.GPT`` that reads the stream one byte at a time and trains between segments.

    ``seq`` is the stream as the model reads it: ``[BOS, x_0, x_1, ...]``; ``probs()`` predicts
    the byte after the last one read.
    """

    def __init__(self, cfg: PrequentialConfig, device=None):
        self.cfg, self.device = cfg, torch.device(device or "cpu")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            self.model = GPT(cfg.gpt_config()).to(self.device)
        self.model.eval()
        self.opt = torch.optim.AdamW(
            self.model.parameters(), lr=cfg.lr, betas=(0.9, 0.99), weight_decay=0.0
        )
        self.n_trained = 0

    # -- prediction: the state is the key/value cache of the last bytes read
    def restart(self, seq: np.ndarray) -> None:
        """Rebuild the cache from the last ``context // 2`` symbols of ``seq`` (current weights)."""
        recent = seq[-max(1, self.cfg.context // 2) :]
        self.cache = self.model.new_cache(1)
        idx = torch.from_numpy(recent.astype(np.int64))[None].to(self.device)
        self.logits = self.model.extend(idx, self.cache)[0, -1]

    def read(self, symbol: int, seq: np.ndarray) -> None:
        """Read one more ``symbol`` (the last of ``seq``); restart when the cache is full."""
        if self.cache.length == self.cfg.context:
            self.restart(seq)
        else:
            idx = torch.tensor([[symbol]], device=self.device)
            self.logits = self.model.extend(idx, self.cache)[0, -1]

    def probs(self) -> torch.Tensor:
        """``p(next byte | the bytes in the cache)``: 1×256, float32, on the CPU."""
        return F.softmax(self.logits[:256], dim=-1)[None].cpu()

    # -- learning: after each complete segment, on the bytes seen so far
    def train(self, seq: np.ndarray, k: int) -> None:
        """``train_steps`` AdamW steps on seeded random windows of ``seq = [BOS, x_0 ..]``.

        A window is ``context`` inputs ``seq[s : s+w]`` and their next symbols ``seq[s+1 :
        s+w+1]`` as targets (``w = min(context, len(seq) - 1)``).
        """
        c = self.cfg
        width = min(c.context, len(seq) - 1)
        data = torch.from_numpy(seq.astype(np.int64)).to(self.device)
        g = torch.Generator().manual_seed(c.seed * 1_000_003 + k)
        offsets = torch.arange(width + 1)
        self.model.train()
        for _ in range(c.train_steps):
            starts = torch.randint(0, len(seq) - width, (c.batch_size,), generator=g)
            windows = data[(starts[:, None] + offsets).to(self.device)]
            logits = self.model(windows[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, 257), windows[:, 1:].reshape(-1))
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
            self.opt.step()
            self.n_trained += c.batch_size * width
        self.model.eval()


def _run(
    n: int, cfg: PrequentialConfig, code_step, progress: bool = False, on_chunk=None, device=None
) -> tuple[list[int], np.ndarray]:
    """The one loop of the GPT code, shared by encoder, decoder and ``code_lengths``.

    ``code_step(probs, position)`` receives the distribution (1×256) of the byte at
    ``position`` and returns that byte (the encoder and ``code_lengths`` look it up, the decoder
    decodes it). ``on_chunk(k, fingerprint)`` is called after each segment (the decoder checks
    it there). Returns the CRC-32 fingerprints of the probabilities, one per segment, and the
    bytes.
    """
    learner = Learner(cfg, device or runtime.device())
    seq = np.full(n + 1, BOS, dtype=np.int64)  # [BOS, x_0, x_1, ...]
    fingerprints = []
    bar = (
        runtime.progress(total=n, unit="B", unit_scale=True, desc="prequential")
        if progress
        else None
    )
    with runtime.threads(cfg.threads), deterministic():
        learner.restart(seq[:1])
        for k, (start, length) in enumerate(segments(n, cfg)):
            end, crc = min(start + length, n), 0
            for p in range(start, end):
                probs = learner.probs()
                crc = zlib.crc32(probs.numpy().tobytes(), crc)
                seq[p + 1] = code_step(probs, p)
                learner.read(int(seq[p + 1]), seq[: p + 2])
            if bar is not None:
                bar.update(end - start)
            fingerprints.append(crc)
            if on_chunk is not None:
                on_chunk(k, crc)
            if end < n:  # a complete segment with more to come: learn from it
                learner.train(seq[: end + 1], k)
                learner.restart(seq[: end + 1])
    if bar is not None:
        bar.close()
    return fingerprints, seq[1:].astype(np.uint8)


# ---------------------------------------------------------------- code lengths
def _check_cfg(cfg) -> PrequentialConfig:
    if cfg is None:
        return PrequentialConfig()
    if not isinstance(cfg, PrequentialConfig):
        raise ValueError(f"cfg must be a PrequentialConfig, got {type(cfg).__name__}")
    return cfg


def code_lengths(
    data: bytes, cfg: PrequentialConfig | None = None, progress: bool = False, device=None
) -> np.ndarray:
    """Per-byte ideal code lengths ``-log2 p(x_t | ...)`` (bits) of the prequential code.

    Exactly the probabilities ``compress`` codes with; their sum is the ideal compressed size.
    Causal: ``code_lengths(x + y)[:len(x)] == code_lengths(x)``.
    """
    data, cfg = coding.as_bytes(data), _check_cfg(cfg)
    if cfg.model == "ngram":
        return ngram.code_lengths(data, ngram.default_models(cfg.ngram_order))
    if cfg.model == "cm":
        return context_mixing.code_lengths(data)
    x = np.frombuffer(data, dtype=np.uint8)
    bits = np.zeros(len(x))

    def measure(probs, position):
        p = probs[0].double()
        bits[position] = -torch.log2(p[int(x[position])] / p.sum()).item()
        return x[position]

    _run(len(x), cfg, measure, progress, device=device)
    return bits


# ---------------------------------------------------------------- the compressor
_LEN = struct.Struct(">I")


def _header(cfg: PrequentialConfig, n: int, fingerprints: list[int]) -> bytes:
    changed = {
        k: v for k, v in dataclasses.asdict(cfg).items() if v != getattr(PrequentialConfig, k)
    }  # only what differs from the defaults
    meta = zlib.compress(json.dumps({"cfg": changed, "n": n}).encode(), 9)
    fps = b"".join(_LEN.pack(f) for f in fingerprints)
    return _LEN.pack(len(meta)) + meta + _LEN.pack(len(fingerprints)) + fps


def _parse_header(payload: bytes):
    try:
        (m,) = _LEN.unpack_from(payload, 0)
        meta = json.loads(zlib.decompress(payload[4 : 4 + m]).decode())
        cfg = PrequentialConfig(**meta["cfg"])
        n = int(meta["n"])
        (count,) = _LEN.unpack_from(payload, 4 + m)
        at = 8 + m
        if len(payload) < at + 4 * count:
            raise ValueError("truncated fingerprints")
        fps = [_LEN.unpack_from(payload, at + 4 * i)[0] for i in range(count)]
    except (
        struct.error,
        zlib.error,
        UnicodeDecodeError,
        json.JSONDecodeError,
        KeyError,
        TypeError,
        ValueError,
    ) as e:
        raise coding.CorruptStreamError(f"bad prequential header: {e}") from e
    return cfg, n, fps, payload[at + 4 * count :]


def compress(
    data: bytes,
    cfg: PrequentialConfig | None = None,
    progress: bool = False,
    return_code_lengths: bool = False,
    device=None,
):
    """The compressed file of ``data`` (a ``lib.coding`` container); optionally with the
    per-byte ideal code lengths it was coded with: ``(blob, bits)``."""
    data, cfg = coding.as_bytes(data), _check_cfg(cfg)
    if cfg.model == "cm":  # a container of its own (kind CMX1)
        return context_mixing.compress(data, progress, return_code_lengths)
    enc = coding.Encoder()
    x = np.frombuffer(data, dtype=np.uint8)
    bits = np.zeros(len(x))
    if cfg.model == "ngram":
        mix = ngram.Mixture(ngram.default_models(cfg.ngram_order))
        fingerprints = [mix.encode(enc, x, bits, progress)]
    else:

        def encode(probs, position):
            p = probs[0].double()
            bits[position] = -torch.log2(p[int(x[position])] / p.sum()).item()
            enc.encode(x[position : position + 1], p[None].numpy())
            return x[position]

        fingerprints, _ = _run(len(x), cfg, encode, progress, device=device)
    blob = coding.wrap(_header(cfg, len(x), fingerprints) + enc.finish(), data, KINDS[cfg.model])
    return (blob, bits) if return_code_lengths else blob


def decompress(blob: bytes, progress: bool = False, device=None) -> bytes:
    """The original bytes of a ``compress``ed blob; ``CorruptStreamError`` if anything is off."""
    payload, length, crc, kind = coding.unwrap(blob)
    if kind not in KINDS.values():
        raise coding.CorruptStreamError(f"not a prequential container (kind {kind!r})")
    if kind == KINDS["cm"]:
        return context_mixing.decompress(blob, progress)
    cfg, n, stored, stream = _parse_header(payload)
    if n != length or KINDS[cfg.model] != kind:
        raise coding.CorruptStreamError("header and container disagree (corrupt file)")
    if n == 0:
        out = b""
    else:
        dec = coding.Decoder(stream)
        if cfg.model == "ngram":
            mix = ngram.Mixture(ngram.default_models(cfg.ngram_order))
            x, fp = mix.decode(dec, n, progress)
            if [fp] != stored:
                raise coding.CorruptStreamError("model probabilities differ from the encoder's")
        else:

            def decode(probs, position):
                return int(dec.decode(probs.double().numpy())[0])

            def check(k, fingerprint):
                if k >= len(stored) or stored[k] != fingerprint:
                    raise coding.CorruptStreamError(
                        f"segment {k}: the model's probabilities differ from the encoder's. "
                        "Another device, thread count or library version computes different "
                        "floats, or the file is corrupt."
                    )

            fps, x = _run(n, cfg, decode, progress, on_chunk=check, device=device)
            if len(fps) != len(stored):
                raise coding.CorruptStreamError("wrong number of segments (corrupt file)")
        dec.finish()
        out = bytes(x)
    coding.check_original(out, length, crc)
    return out


# ---------------------------------------------------------------- command line
def main(argv: list[str] | None = None) -> int:
    """``python -m lib.prequential compress|decompress IN OUT`` (a progress bar on stderr)."""
    parser = argparse.ArgumentParser(
        prog="python -m lib.prequential", description="Prequential (train-while-coding) compressor."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compress", help="compress IN into OUT")
    c.add_argument("input")
    c.add_argument("output")
    c.add_argument("--model", choices=sorted(KINDS), default="cm", help="default: cm, the best")
    for name in ("n_layer", "n_embd", "lanes", "train_steps", "seed"):
        c.add_argument(f"--{name.replace('_', '-')}", type=int, default=None)
    d = sub.add_parser("decompress", help="decompress IN into OUT (checked byte for byte)")
    d.add_argument("input")
    d.add_argument("output")
    args = parser.parse_args(argv)
    with open(args.input, "rb") as f:
        data = f.read()
    try:
        if args.command == "compress":
            fields = {f.name for f in dataclasses.fields(PrequentialConfig)}
            chosen = {k: v for k, v in vars(args).items() if k in fields and v is not None}
            out = compress(data, PrequentialConfig(**chosen), progress=True)
        else:
            out = decompress(data, progress=True)
    except (ValueError, TypeError) as e:  # CorruptStreamError is a ValueError
        print(f"error: {e}", file=sys.stderr)
        return 1
    with open(args.output, "wb") as f:
        f.write(out)
    print(f"{args.command}ed {len(data)} -> {len(out)} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
