"""The prequential code: a model that learns while it compresses (chapter 5, used in chapter 4).

Rae's protocol, literally. Encoder and decoder start from the same untrained model (same seed).
The data is cut into chunks; each chunk is *first* coded with the current model and *then* the
model trains on it. The decoder decodes a chunk with the model it has, which is the encoder's
model at that moment, and then takes the same training steps on the same bytes. The length of
the code is the area under the online loss curve,

    L_preq(x) = sum_t -log2 p_{theta(x_<chunk(t))}(x_t | context_t)   bits,

and the parameters theta are never transmitted: only the code that trains them (this file,
``lib/models.py`` and ``lib/coding.py``) must be known to both sides.

Bit-exact agreement. Arithmetic decoding only works when the decoder computes *exactly* the
probabilities the encoder used: one differing last bit in a float can change a quantized
frequency and everything after it is garbage. Floating point is not associative, so "the same
maths" is not enough; encoder and decoder must run the identical sequence of tensor operations
with identical shapes. Hence the schedule:

- chunk ``k`` holds ``B = lanes`` contiguous *lanes* of ``L_k`` bytes each (``L_k`` doubles from
  ``first_lane_length`` up to ``lane_length``: the first, untrained chunks are small);
- every lane is read by the model as ``[BOS, x_0, x_1, ...]``, so position ``t`` of a lane is
  predicted from the lane's own prefix only (the model's context is the lane);
- at step ``t`` both sides run one incremental transformer step (a key/value cache) on the ``B``
  lanes at once and code/decode byte ``t`` of every lane: the encoder *could* compute a whole
  chunk in one big batched pass, but then its floats would not match the decoder's;
- after a complete chunk, both sides train on the bytes seen so far with the same seeded batches.

``code_lengths``, ``compress`` and ``decompress`` all run the one loop ``_run``. Each chunk's
probabilities are fingerprinted (CRC-32 of the float32 arrays) into the container, so a decoder
whose arithmetic differs (another CPU, library version or thread count, or a GPU, whose
backward passes use non-deterministic atomics unless ``runtime.seed_everything`` made torch
choose deterministic kernels) stops with ``CorruptStreamError`` at the first chunk that differs,
and the CRC-32 of the original catches anything else. Never silent garbage.

Causality: the code length of byte ``p`` depends only on bytes before ``p`` (the chunk schedule
does not depend on the data's length), so ``code_lengths(x + y)[:len(x)] == code_lengths(x)``:
the total splits as L(x) + L(y | x).

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
import itertools
import json
import math
import os
import struct
import sys
import tempfile
import zlib
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

from lib import coding, context_mixing, ngram, runtime
from lib.models import GPT, GPTConfig

BOS = 256  # the symbol every lane starts with; the model's vocabulary is 256 bytes + BOS
KINDS = {"gpt": b"PQG1", "ngram": b"PQN1", "cm": context_mixing.KIND}  # container kinds
# The largest settings the encoder accepts. The decoder reads settings from the file, so it
# refuses anything beyond them: a hostile header cannot make it hang, abort or exhaust memory.
LIMITS = {
    "n_layer": 64,
    "n_head": 64,
    "n_embd": 4096,
    "lanes": 4096,
    "lane_length": 4096,
    "first_lane_length": 4096,
    "train_steps": 10_000,
    "batch_size": 4096,
    "seed": 2**32 - 1,
    "threads": 256,
    "ngram_order": 16,
}
MAX_FLOATS = 1 << 28  # parameters (12·n_layer·n_embd²) and cached keys/values, each (1 GiB)


@dataclass(frozen=True)
class PrequentialConfig:
    """Everything both sides must agree on. Stored in the compressed file's header."""

    # "gpt" (a transformer trained online), "ngram" (lib.ngram mixture) or "cm" (lib.context_mixing,
    # which has no settings of its own)
    model: str = "gpt"
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    lanes: int = 32  # B: parallel lanes per chunk
    lane_length: int = 64  # L: longest lane (= the transformer's context)
    first_lane_length: int = 16  # L_0: lanes of chunk k have min(L, L_0 * 2**k) bytes
    train_steps: int = 48  # optimizer steps after each chunk
    batch_size: int = 16  # windows of lane_length bytes per step
    lr: float = 2e-3
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
            "lanes",
            "lane_length",
            "first_lane_length",
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
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be a multiple of n_head ({self.n_head})")
        if self.first_lane_length > self.lane_length:
            raise ValueError("first_lane_length must not exceed lane_length")
        if not (isinstance(self.lr, (int, float)) and 0 < self.lr < 1):
            raise ValueError(f"lr must be in (0, 1), got {self.lr!r}")
        _check_limits(self)

    def gpt_config(self) -> GPTConfig:
        return GPTConfig(
            vocab_size=257,
            block_size=self.lane_length,
            n_layer=self.n_layer,
            n_head=self.n_head,
            n_embd=self.n_embd,
        )


def _check_limits(cfg: PrequentialConfig) -> None:
    """``ValueError`` for settings beyond ``LIMITS`` (or a bool where an int belongs)."""
    for name, limit in LIMITS.items():
        value = getattr(cfg, name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an int, got {value!r}")
        if value > limit:
            raise ValueError(f"{name} must be at most {limit}, got {value}")
    if isinstance(cfg.lr, bool) or not math.isfinite(cfg.lr):
        raise ValueError(f"lr must be a finite number, got {cfg.lr!r}")
    if cfg.model == "gpt":
        if 12 * cfg.n_layer * cfg.n_embd**2 > MAX_FLOATS:
            raise ValueError(f"n_layer={cfg.n_layer}, n_embd={cfg.n_embd}: model too large")
        if 2 * cfg.n_layer * cfg.lanes * cfg.lane_length * cfg.n_embd > MAX_FLOATS:
            raise ValueError("n_layer·lanes·lane_length·n_embd: key/value cache too large")


def chunks(n: int, cfg: PrequentialConfig):
    """The schedule: ``(start, lane_length)`` of every chunk covering ``n`` bytes.

    Chunk ``k`` spans ``lanes * L_k`` bytes from ``start``; the last one may be partly empty.
    The boundaries do not depend on ``n``: that makes the code causal.
    """
    start, k = 0, 0
    while start < n:
        length = min(cfg.lane_length, cfg.first_lane_length << min(k, 30))
        yield start, length
        start += cfg.lanes * length
        k += 1


@contextlib.contextmanager
def deterministic():
    """Only deterministic kernels inside (an error, not a warning, for any other) and the math
    backend of ``scaled_dot_product_attention``, so that a file coded on a GPU decodes on the same
    GPU; the caller's settings are restored after."""
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
    """A ``lib.models.GPT`` that predicts lanes one step at a time and trains between chunks."""

    def __init__(self, cfg: PrequentialConfig, device=None):
        self.cfg, self.device = cfg, torch.device(device or "cpu")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            self.model = GPT(cfg.gpt_config()).to(self.device)
        self.opt = torch.optim.AdamW(
            self.model.parameters(), lr=cfg.lr, betas=(0.9, 0.99), weight_decay=0.0
        )
        self.n_trained = 0

    # -- prediction: one new position for every lane, with the model's key/value cache
    def start_lanes(self, batch: int) -> None:
        """Empty caches for ``batch`` lanes; the first input of every lane is BOS."""
        self.cache = self.model.new_cache(batch)

    @torch.no_grad()
    def step(self, inputs: torch.Tensor) -> torch.Tensor:
        """``p(next byte | lane so far)`` (B×256, float32) after feeding ``inputs`` (B,).

        One incremental step of ``GPT.extend`` (``lib.models``): the new position attends to the
        cached keys and values, ``softmax(q K^T / sqrt(d)) V``.
        """
        logits = self.model.extend(inputs.to(self.device)[:, None], self.cache)[:, 0]
        return F.softmax(logits[:, :256], dim=-1).cpu()

    # -- learning: after each complete chunk, on the bytes seen so far
    def train(self, seen: np.ndarray, chunk: int) -> None:
        """``train_steps`` AdamW steps on seeded random windows of ``seen`` (the data so far)."""
        c = self.cfg
        width = min(c.lane_length, len(seen))
        data = torch.from_numpy(seen.astype(np.int64)).to(self.device)
        g = torch.Generator().manual_seed(c.seed * 1_000_003 + chunk)
        self.model.train()
        for _ in range(c.train_steps):
            starts = torch.randint(0, len(seen) - width + 1, (c.batch_size,), generator=g)
            windows = data[(starts[:, None] + torch.arange(width)).to(self.device)]
            bos = torch.full((c.batch_size, 1), BOS, device=self.device)
            inputs = torch.cat([bos, windows[:, :-1]], dim=1)
            loss = F.cross_entropy(self.model(inputs).reshape(-1, 257), windows.reshape(-1))
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

    ``code_step(probs, positions)`` receives the distributions (rows of the active lanes, in
    lane order) and the data positions they predict, and returns the bytes there (the encoder
    and ``code_lengths`` look them up, the decoder decodes them). ``on_chunk(k, fingerprint)``
    is called after each chunk (the decoder checks it there). Returns the CRC-32 fingerprints
    of the probabilities, one per chunk, and the bytes.
    """
    learner = Learner(cfg, device or runtime.device())
    seen = np.zeros(n, dtype=np.uint8)
    fingerprints = []
    bar = (
        runtime.progress(total=n, unit="B", unit_scale=True, desc="prequential")
        if progress
        else None
    )
    with runtime.threads(cfg.threads), deterministic():
        learner.model.eval()
        for k, (start, length) in enumerate(chunks(n, cfg)):
            positions = start + np.arange(cfg.lanes)[:, None] * length + np.arange(length)
            learner.start_lanes(cfg.lanes)
            inputs = torch.full((cfg.lanes,), BOS, dtype=torch.long)
            crc = 0
            for t in range(min(length, n - start)):
                probs = learner.step(inputs)
                crc = zlib.crc32(probs.numpy().tobytes(), crc)
                active = positions[:, t] < n
                symbols = code_step(probs[torch.from_numpy(active)], positions[active, t])
                seen[positions[active, t]] = symbols
                inputs = inputs.clone()
                inputs[torch.from_numpy(active)] = torch.as_tensor(symbols, dtype=torch.long)
                if bar is not None:
                    bar.update(int(active.sum()))
            fingerprints.append(crc)
            if on_chunk is not None:
                on_chunk(k, crc)
            end = start + cfg.lanes * length
            if end < n:  # a complete chunk with more to come: learn from it
                learner.train(seen[:end], k)
    if bar is not None:
        bar.close()
    return fingerprints, seen


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

    def measure(probs, positions):
        p = probs.double()
        symbols = x[positions]
        chosen = p[torch.arange(len(positions)), torch.from_numpy(symbols.astype(np.int64))]
        bits[positions] = (-torch.log2(chosen / p.sum(1))).numpy()
        return symbols

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


_META_LIMIT = 1 << 12  # bytes the settings may inflate to (they take about a hundred)


def _no_constant(name):
    raise ValueError(f"{name} in the settings")


def _parse_header(payload: bytes):
    """``(cfg, n, fingerprints, stream)`` of a prequential payload, or ``CorruptStreamError`` for
    anything the encoder cannot have written: settings beyond ``LIMITS``, a settings block that
    inflates beyond ``_META_LIMIT``, or a number of fingerprints that does not fit ``n``."""
    try:
        (m,) = _LEN.unpack_from(payload, 0)
        if m > len(payload) - 8:
            raise ValueError(f"a settings block of {m} bytes in a payload of {len(payload)}")
        inflate = zlib.decompressobj()
        raw = inflate.decompress(payload[4 : 4 + m], _META_LIMIT)
        if inflate.unconsumed_tail or inflate.unused_data or not inflate.eof:
            raise ValueError(f"the settings block is not {_META_LIMIT} bytes or fewer of zlib")
        meta = json.loads(raw.decode(), parse_constant=_no_constant)
        if not isinstance(meta, dict) or set(meta) != {"cfg", "n"}:
            raise ValueError("the settings are not an object with keys cfg and n")
        if not isinstance(meta["cfg"], dict):
            raise ValueError("cfg is not an object")
        cfg = PrequentialConfig(**meta["cfg"])
        n = meta["n"]
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n < 1 << 63:
            raise ValueError(f"n must be a non-negative int, got {n!r}")
        (count,) = _LEN.unpack_from(payload, 4 + m)
        at = 8 + m
        if len(payload) < at + 4 * count:
            raise ValueError("truncated fingerprints")
        if cfg.model == "ngram":
            expected = coding.count_blocks(n, ngram.FIRST_BLOCK, ngram.LAST_BLOCK)
        else:  # counted up to one more than stored: n may be huge
            expected = sum(1 for _ in itertools.islice(chunks(n, cfg), count + 1))
        if expected != count:
            raise ValueError(f"{count} fingerprints cannot cover a length of {n} bytes")
        fps = list(struct.unpack_from(f">{count}I", payload, at))
    except (
        struct.error,
        zlib.error,
        UnicodeDecodeError,
        json.JSONDecodeError,
        KeyError,
        TypeError,
        ValueError,
        OverflowError,
        RecursionError,
        MemoryError,
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
        fingerprints = mix.encode(enc, x, bits, progress)
    else:

        def encode(probs, positions):
            symbols = x[positions]
            p = probs.double()
            chosen = p[torch.arange(len(positions)), torch.from_numpy(symbols.astype(np.int64))]
            bits[positions] = (-torch.log2(chosen / p.sum(1))).numpy()
            enc.encode(symbols, p.numpy())
            return symbols

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
            x, fps = mix.decode(dec, n, progress, expected=stored)
            if fps != stored:
                raise coding.CorruptStreamError("model probabilities differ from the encoder's")
        else:

            def decode(probs, positions):
                return dec.decode(probs.double().numpy()).astype(np.uint8)

            def check(k, fingerprint):
                if k >= len(stored) or stored[k] != fingerprint:
                    raise coding.CorruptStreamError(
                        f"chunk {k}: the model's probabilities differ from the encoder's. Another "
                        "device, thread count or library version computes different floats, or "
                        "the file is corrupt."
                    )

            fps, x = _run(n, cfg, decode, progress, on_chunk=check, device=device)
            if len(fps) != len(stored):
                raise coding.CorruptStreamError("wrong number of chunks (corrupt file)")
        dec.finish()
        out = bytes(x)
    coding.check_original(out, length, crc)
    return out


# ---------------------------------------------------------------- command line
# what the command line reports as one line "error: ..." (exit code 1), never as a traceback
_ERRORS = (ValueError, TypeError, OverflowError, RecursionError, MemoryError, RuntimeError, OSError)


def _check_paths(source: str, target: str) -> None:
    """``OSError`` with a one-line reason, before any work, if IN cannot be read or OUT written."""
    if not os.path.exists(source):
        raise OSError(f"{source}: no such file")
    if os.path.isdir(source):
        raise OSError(f"{source} is a directory, not a file")
    if os.path.isdir(target):
        raise OSError(f"{target} is a directory, not a file")
    folder = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(folder):
        raise OSError(f"{folder}: the output's directory does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OSError(f"{folder}: no permission to write there")
    if os.path.exists(target) and not os.access(target, os.W_OK):
        raise OSError(f"{target}: no permission to overwrite it")


def _write_atomically(path: str, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, then rename it onto
    ``path``: a failed or interrupted write leaves ``path`` as it was."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        mask = os.umask(0)
        os.umask(mask)
        mode = os.stat(path).st_mode & 0o7777 if os.path.exists(path) else 0o666 & ~mask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable (not possible on every system)
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def main(argv: list[str] | None = None) -> int:
    """``python -m lib.prequential compress|decompress IN OUT`` (a progress bar on stderr).

    Paths are checked before any work; OUT is replaced atomically, so a failed run leaves it as
    it was; every error is one line on stderr with exit code 1 (130 if interrupted).
    """
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
    try:
        _check_paths(args.input, args.output)
        if args.command == "compress":  # settings first: a bad one fails before any work
            fields = {f.name for f in dataclasses.fields(PrequentialConfig)}
            chosen = {k: v for k, v in vars(args).items() if k in fields and v is not None}
            cfg = PrequentialConfig(**chosen)
        with open(args.input, "rb") as f:
            data = f.read()
        if args.command == "compress":
            out = compress(data, cfg, progress=True)
        else:
            out = decompress(data, progress=True)
        _write_atomically(args.output, out)
    except KeyboardInterrupt:
        print("error: interrupted; the output was not written", file=sys.stderr)
        return 130
    except _ERRORS as e:  # CorruptStreamError is a ValueError
        message = " ".join(str(e).split()) or type(e).__name__
        print(f"error: {message}", file=sys.stderr)
        return 1
    print(f"{args.command}ed {len(data)} -> {len(out)} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
