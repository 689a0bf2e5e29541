"""The prequential code: a model that learns while it compresses (chapter 5, used in chapters 4,
6 and 7).

Rae's protocol, literally. Encoder and decoder start from the same untrained model (same seed).
Each symbol is *first* coded with the current model and *then* the model learns from it. The
decoder decodes with the model it has, which is the encoder's model at that moment, and then
learns the same thing from the same symbol. The length of the code is the area under the online
loss curve,

    L_preq(x) = sum_t -log2 p_{theta(x_<t)}(x_t | x_<t)   bits,

and the parameters theta are never transmitted: only the program that trains them.

One protocol, one driver. Three learners implement *predict-then-observe* (``Predictor``):

- ``GPTPredictor``: a ``lib.models.GPT`` trained online on lanes of bytes (below);
- ``lib.ngram.Predictor``: the Bayesian mixture of adaptive n-gram models;
- ``lib.context_mixing.Predictor``: the bitwise context-mixing model, the book's best.

``predict()`` returns ``(positions, probs)``: where in the stream the next symbols are, and
their distributions; ``observe(symbols)`` hands over what came and returns ``True`` when a
*block* has ended. ``drive`` is the only loop: it predicts, lets a coder step code, decode or
measure the symbols, observes, and fingerprints the probabilities of every block (CRC-32).
``code_lengths``, ``compress`` and ``decompress`` are ``drive`` with three different steps.

Why the protocol has an ``alphabet``: the symbols are bytes (``alphabet = 256``, float rows
coded by ``coding.Encoder``) for the transformer and the n-gram mixture, and *bits*
(``alphabet = 2``, 12-bit integer probabilities coded by ``coding.BinaryEncoder``) for context
mixing. A bitwise model cannot give a byte-level distribution without evaluating all 255 nodes
of its bit tree, each after the updates of the bits before it (its mixer and counters learn
within the byte), so it would cost 32 times as much or be another model; a byte-level model
given the bit-level protocol would have to be unrolled into 8 binary decisions per byte. So the
protocol's symbol is whatever the model predicts, and the driver brings the coder for it.
For bits, predict and observe are one step of a coroutine (``p = run.send(bit)``, see
``BitPredictor``) and the driver's step codes a whole block: a function call per bit between
driver, model and coder cost the context mixer a fifth of its time.

Bit-exact agreement. Arithmetic decoding only works when the decoder computes *exactly* the
probabilities the encoder used: one differing last bit in a float can change a quantized
frequency and everything after it is garbage. Floating point is not associative, so "the same
maths" is not enough; encoder and decoder must run the identical sequence of tensor operations
with identical shapes. Hence the transformer's schedule:

- chunk ``k`` holds ``B = lanes`` contiguous *lanes* of ``L_k`` bytes each (``L_k`` doubles from
  ``first_lane_length`` up to ``lane_length``: the first, untrained chunks are small);
- every lane is read by the model as ``[BOS, x_0, x_1, ...]``, so position ``t`` of a lane is
  predicted from the lane's own prefix only (the model's context is the lane);
- at step ``t`` both sides run one incremental transformer step (``GPT.extend``, a key/value
  cache) on the ``B`` lanes at once and code/decode byte ``t`` of every lane: the encoder
  *could* compute a whole chunk in one batched pass, but then its floats would not match;
- after a complete chunk, both sides train on the bytes seen so far with the same seeded batches.

Each block's fingerprint is stored in the file, so a decoder whose arithmetic differs (another
CPU, library version or thread count) stops with ``CorruptStreamError`` at the first block that
differs, and the CRC-32 of the original catches anything else. Never silent garbage. The
transformer runs inside ``deterministic()`` (deterministic kernels only, the math attention
backend), so a file coded on a GPU decodes on the same GPU.

Causality: the code length of symbol ``p`` depends only on symbols before ``p`` (no schedule
depends on the data's length), so ``code_lengths(x + y)[:len(x)] == code_lengths(x)``: the
total splits as L(x) + L(y | x).

File formats (``lib.coding`` containers, by kind): ``PQG1`` (transformer) and ``PQN1`` (n-gram)
hold the settings (zlib-compressed JSON), the fingerprints and the stream; ``CMX2`` (context
mixing) the fingerprints and the stream. ``read_header`` reads and checks any of them. ``CMX1``,
written before December 2026, fingerprinted the decoded bytes instead of the probabilities; it
is still read. The command line is ``lib.cli``; the registry of every compressor of the book is
``lib.compressors.REGISTRY``.

The same idea for the *labels* of a data set given its inputs (Blier & Ollivier 2018: two-part
versus prequential) is in ``lib.label_codes``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import math
import os
import struct
import sys
import zlib
from collections.abc import Generator
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

from lib import coding, context_mixing, ngram, runtime
from lib.models import GPT, GPTConfig

BOS = 256  # the symbol every lane starts with; the model's vocabulary is 256 bytes + BOS
KINDS = {"gpt": b"PQG1", "ngram": b"PQN1", "cm": context_mixing.KIND}  # kinds written
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


class GPTPredictor:
    """The transformer in the predict-then-observe protocol (``alphabet = 256``): the lanes of
    the schedule above, one incremental step per ``predict``; ``observe`` stores the bytes of the
    lanes and, at the end of a chunk, trains the ``Learner`` and starts the next chunk.

    ``predict`` returns the positions of *every* lane (those beyond the data's end, in the last
    chunk, are ignored by the driver) and their float32 probabilities, all of which are
    fingerprinted."""

    alphabet = 256

    def __init__(self, cfg: PrequentialConfig, device=None):
        self.cfg = cfg
        self.learner = Learner(cfg, device or runtime.device())

    def exact(self):
        """The same arithmetic on both sides: the config's thread count, deterministic kernels."""
        stack = contextlib.ExitStack()
        stack.enter_context(runtime.threads(self.cfg.threads))
        stack.enter_context(deterministic())
        return stack

    def begin(self, n: int) -> None:
        self.n, self.seen = n, np.zeros(n, dtype=np.uint8)
        self._chunks = enumerate(chunks(n, self.cfg))
        self.learner.model.eval()
        if n:
            self._next_chunk()

    def _next_chunk(self) -> None:
        c = self.cfg
        self.k, (self.start, length) = next(self._chunks)
        self.positions = self.start + np.arange(c.lanes)[:, None] * length + np.arange(length)
        self.end = self.start + c.lanes * length
        self.learner.start_lanes(c.lanes)
        self.inputs = torch.full((c.lanes,), BOS, dtype=torch.long)
        self.t, self.steps = 0, min(length, self.n - self.start)

    def predict(self) -> tuple[np.ndarray, torch.Tensor]:
        return self.positions[:, self.t], self.learner.step(self.inputs)

    def observe(self, symbols) -> bool:
        column = self.positions[:, self.t]
        active = column < self.n
        self.seen[column[active]] = symbols
        self.inputs = self.inputs.clone()
        self.inputs[torch.from_numpy(active)] = torch.as_tensor(symbols, dtype=torch.long)
        self.t += 1
        if self.t < self.steps:
            return False
        if self.end < self.n:  # a complete chunk with more to come: learn from it
            self.learner.train(self.seen[: self.end], self.k)
            self._next_chunk()
        return True


# ---------------------------------------------------------------- the protocol and the driver
class Predictor(Protocol):
    """Predict-then-observe: what ``drive`` needs of a learner (see the module's docstring).

    For symbols (``alphabet = 256``, bytes): ``begin(n)`` starts a stream of ``n`` symbols with
    a fresh model; ``predict()`` is ``(positions, probs)``, float rows and where they are in the
    stream; ``observe(symbols)`` learns them, ``True`` at the end of a block. ``exact()`` is the
    context its arithmetic is reproducible in."""

    alphabet: int

    def begin(self, n: int) -> None: ...

    def exact(self) -> contextlib.AbstractContextManager: ...

    def predict(self) -> tuple: ...

    def observe(self, symbols) -> bool: ...


class BitPredictor(Protocol):
    """Predict-then-observe for bits (``alphabet = 2``: the bits of the bytes, most significant
    first). ``begin(n)`` returns the model as a coroutine: ``p = next(run)`` predicts the first
    bit, ``p = run.send(bit)`` observes a bit and predicts the next (``p`` the 12-bit integer
    probability of a 1); ``blocks(n)`` lists the ``(lo, hi)`` bit ranges of the blocks.

    Why a coroutine: a bit is 8 times as many steps as a byte, and a method call per step
    between driver, model and coder cost the context mixer a fifth of its time; resuming a
    coroutine costs less than any call, and the model's state stays in fast local variables."""

    alphabet: int

    def begin(self, n: int) -> Generator[int, int, None]: ...

    def blocks(self, n: int) -> list[tuple[int, int]]: ...

    def exact(self) -> contextlib.AbstractContextManager: ...


def predictor(cfg: PrequentialConfig, device=None) -> Predictor | BitPredictor:
    """The learner of ``cfg.model``, untrained."""
    if cfg.model == "ngram":
        return ngram.Predictor(ngram.default_models(cfg.ngram_order))
    if cfg.model == "cm":
        return context_mixing.Predictor()
    return GPTPredictor(cfg, device)


def _fingerprint(probs) -> bytes:
    if isinstance(probs, torch.Tensor):
        probs = probs.numpy()
    return np.ascontiguousarray(probs).tobytes()


def drive(model, n: int, step, on_block=None, progress: bool = False) -> list[int]:
    """The one loop of every prequential code: ``n`` symbols, predicted, coded, observed.

    ``step(positions, probs)`` returns ``(symbols, count)``: the symbols at ``positions`` (the
    encoder and ``code_lengths`` look them up, the decoder decodes them) and how many of the
    stream they are. ``on_block(k, fingerprint)`` is called after block ``k`` (the decoder
    checks it there). Returns the CRC-32 of the probabilities of every block.

    Bit models (``BitPredictor``) go a block at a time: ``step(run, p, lo, hi)`` codes bits
    ``lo``..``hi`` with the model's coroutine ``run`` (``p``: its prediction of bit ``lo``) and
    returns their probabilities and the prediction of bit ``hi``; see ``_bit_step``."""
    if model.alphabet == 2:
        return _drive_bits(model, n, step, on_block, progress)
    fingerprints, crc, done, shown = [], 0, 0, 0
    bar = None
    if progress:
        bar = runtime.progress(total=n, unit="sym", unit_scale=True, desc="prequential")
    with model.exact():
        model.begin(n)
        while done < n:
            positions, probs = model.predict()
            crc = zlib.crc32(_fingerprint(probs), crc)
            symbols, count = step(positions, probs)
            done += count
            if model.observe(symbols):
                fingerprints.append(crc)
                if on_block is not None:
                    on_block(len(fingerprints) - 1, crc)
                crc = 0
            if bar is not None and done - shown >= 4096:
                bar.update(done - shown)
                shown = done
    if bar is not None:
        bar.update(done - shown)
        bar.close()
    return fingerprints


def _drive_bits(model: BitPredictor, n: int, step, on_block, progress: bool) -> list[int]:
    """``drive`` for bit models: block by block, the fingerprint of a block is the CRC-32 of
    its probabilities, 2 bytes each (big-endian)."""
    fingerprints = []
    bar = runtime.progress(
        total=n // 8, unit="B", unit_scale=True, desc="prequential", disable=not progress
    )  # updated per block
    with model.exact():
        run = model.begin(n)
        p = next(run)
        for lo, hi in model.blocks(n):
            probs, p = step(run, p, lo, hi)
            fingerprints.append(zlib.crc32(struct.pack(f">{len(probs)}H", *probs)))
            if on_block is not None:
                on_block(len(fingerprints) - 1, fingerprints[-1])
            bar.update((hi - lo) // 8)
    bar.close()
    return fingerprints


def _byte_step(x: np.ndarray, bits: np.ndarray | None, enc=None, dec=None):
    """The step for byte models: look up the bytes in ``x`` (or decode them into it), code
    them, count their bits into ``bits`` (None when decoding: the decoder needs no lengths,
    and a forged header's length must not make it reserve 8 bytes a symbol)."""
    n = len(x)

    def step(positions, probs):
        p = probs.double().numpy() if isinstance(probs, torch.Tensor) else probs
        active = positions < n
        if not active.all():
            positions, p = positions[active], p[active]
        if dec is None:
            symbols = x[positions]
        else:  # decoding: into x
            symbols = x[positions] = dec.decode(p).astype(np.uint8)
        if bits is not None:
            bits[positions] = -np.log2(p[np.arange(len(positions)), symbols] / p.sum(1))
        if enc is not None:
            enc.encode(symbols, p)
        return symbols, len(positions)

    return step


# the cost of a bit coded with 12-bit probability p of itself: -log2(p / 4096)
_BIT_COST = np.array([12.0] + [-math.log2(p / 4096) for p in range(1, 4096)])


def _bit_step(x: list, cost: list | None, enc=None, dec=None):
    """The step for bit models, a block of bits at a time: look the bits up in ``x`` (or decode
    them, appending them to ``x``), code them into ``enc``, and append their costs (an array
    per block) to ``cost``."""

    def step(run, p, lo, hi):
        probs = []
        # The hot loop: per bit only the model's work (one coroutine resume) and, decoding, one
        # call of the decoder. The encoder codes the whole block after it, from the same probs.
        if dec is None:
            bits = x[lo:hi]
            for y in bits:
                probs.append(p)
                p = run.send(y)
        else:
            decode, append = dec.decode, x.append
            for _ in range(lo, hi):
                probs.append(p)
                y = decode(p)
                append(y)
                p = run.send(y)
            bits = x[lo:hi]
        if enc is not None:
            enc.encode_bits(bits, probs)
        if cost is not None:
            q = np.array(probs)
            cost.append(_BIT_COST[np.where(np.array(bits, dtype=bool), q, 4096 - q)])
        return probs, p

    return step


def _per_byte(cost: list) -> np.ndarray:
    """Bit costs summed per byte, in order (``((c0 + c1) + c2) + ...``, as they were coded)."""
    c = np.concatenate(cost or [np.zeros(0)]).reshape(-1, 8)
    total = c[:, 0].copy()
    for j in range(1, 8):
        total += c[:, j]
    return total


def _run(data: bytes, model, enc=None, progress: bool = False):
    """``drive`` over ``data`` (looked up, optionally coded into ``enc``): (fingerprints, bits)."""
    x = np.frombuffer(data, dtype=np.uint8)
    if model.alphabet == 2:
        cost: list[np.ndarray] = []
        bits_in = np.unpackbits(x).tolist()
        fps = drive(model, 8 * len(x), _bit_step(bits_in, cost, enc), progress=progress)
        return fps, _per_byte(cost)
    bits = np.zeros(len(x))
    return drive(model, len(x), _byte_step(x, bits, enc), progress=progress), bits


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
    return _run(data, predictor(cfg, device), None, progress)[1]


# ---------------------------------------------------------------- the file
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
    model = predictor(cfg, device)
    enc = coding.BinaryEncoder() if model.alphabet == 2 else coding.Encoder()
    fingerprints, bits = _run(data, model, enc, progress)
    if cfg.model == "cm":  # no settings: the model has none
        head = struct.pack(f">I{len(fingerprints)}I", len(fingerprints), *fingerprints)
    else:
        head = _header(cfg, len(data), fingerprints)
    blob = coding.wrap(head + enc.finish(), data, KINDS[cfg.model])
    return (blob, bits) if return_code_lengths else blob


@dataclass(frozen=True)
class Header:
    """What a prequential file says about itself, checked by ``read_header``."""

    kind: bytes  # the container's kind: PQG1, PQN1, CMX2 (or the older CMX1)
    cfg: PrequentialConfig  # the settings both sides run (context mixing: model="cm" only)
    n: int  # length of the original, in bytes
    crc: int  # CRC-32 of the original
    fingerprints: tuple[int, ...]  # CRC-32 of the model's probabilities, one per block
    stream: bytes  # the arithmetic-coded stream


def _parse_cm(payload: bytes, length: int) -> tuple[tuple[int, ...], bytes]:
    """Fingerprints and stream of a context-mixing payload, checked against ``length``."""
    if len(payload) < 4:
        raise coding.CorruptStreamError("context-mixing payload shorter than 4 bytes")
    (count,) = struct.unpack_from(">I", payload)
    blocks = (context_mixing.FIRST_BLOCK, context_mixing.LAST_BLOCK)
    if count != coding.count_blocks(length, *blocks) or len(payload) < 4 + 4 * count:
        raise coding.CorruptStreamError(f"{count} fingerprints cannot cover {length} bytes")
    stream = payload[4 + 4 * count :]
    if length > context_mixing.MAX_RATIO * (len(stream) + 1):
        raise coding.CorruptStreamError(f"{len(stream)} bytes cannot hold {length} bytes")
    return struct.unpack_from(f">{count}I", payload, 4), stream


def read_header(blob: bytes) -> Header:
    """The header of a ``compress``ed file, or ``CorruptStreamError`` for anything the encoder
    cannot have written (settings beyond ``LIMITS``, a length its fingerprints or stream cannot
    cover, a kind this code does not read). Nothing is decoded."""
    payload, length, crc, kind = coding.unwrap(blob)
    if kind in context_mixing.KINDS:
        fingerprints, stream = _parse_cm(payload, length)
        return Header(kind, PrequentialConfig(model="cm"), length, crc, fingerprints, stream)
    if kind not in (KINDS["gpt"], KINDS["ngram"]):
        raise coding.CorruptStreamError(f"not a prequential container (kind {kind!r})")
    cfg, n, fingerprints, stream = _parse_header(payload)
    if n != length or KINDS[cfg.model] != kind:
        raise coding.CorruptStreamError("header and container disagree (corrupt file)")
    return Header(kind, cfg, n, crc, tuple(fingerprints), stream)


def decompress(blob: bytes, progress: bool = False, device=None) -> bytes:
    """The original bytes of a ``compress``ed blob; ``CorruptStreamError`` if anything is off."""
    h = read_header(blob)
    model = predictor(h.cfg, device)
    unit = "chunk" if h.cfg.model == "gpt" else "block"
    if model.alphabet == 2:
        dec, out, n = coding.BinaryDecoder(h.stream), [], 8 * h.n
        step = _bit_step(out, None, dec=dec)
    else:
        dec, out, n = coding.Decoder(h.stream), np.zeros(h.n, dtype=np.uint8), h.n
        step = _byte_step(out, None, dec=dec)
    ends = [hi for _, hi in coding.doubling_blocks(h.n, *_CM_BLOCKS)]

    def check(k, fingerprint):
        if k >= len(h.fingerprints):
            raise coding.CorruptStreamError(f"more {unit}s than fingerprints (corrupt file)")
        if h.kind == b"CMX1":  # the older format: CRC-32 of the decoded bytes of the block
            lo = ends[k - 1] if k else 0
            fingerprint = zlib.crc32(_pack(out[8 * lo : 8 * ends[k]]))
        if fingerprint != h.fingerprints[k]:
            raise coding.CorruptStreamError(
                f"{unit} {k}: the model's probabilities differ from the encoder's. Another "
                "device, thread count or library version computes different floats, or the "
                "file is corrupt."
            )

    fingerprints = drive(model, n, step, on_block=check, progress=progress)
    if len(fingerprints) != len(h.fingerprints):
        raise coding.CorruptStreamError(f"wrong number of {unit}s (corrupt file)")
    dec.finish()
    data = _pack(out) if model.alphabet == 2 else out.tobytes()
    coding.check_original(data, h.n, h.crc)
    return data


_CM_BLOCKS = (context_mixing.FIRST_BLOCK, context_mixing.LAST_BLOCK)


def _pack(bits: list[int]) -> bytes:
    """Bits, most significant first, as bytes."""
    return np.packbits(np.array(bits, dtype=np.uint8)).tobytes()


if __name__ == "__main__":  # the command line (lib.cli), under its old name
    from lib import cli

    sys.exit(cli.main(prog="python -m lib.prequential"))
