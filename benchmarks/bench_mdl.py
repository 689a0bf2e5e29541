"""Chapter 5: the prequential compressors of ``lib`` against the standard ones, and the coder.

Rows (one run each, see ``benchmarks/__init__.py``):
- bits/byte of our best compressor, the context-mixing model of ``lib.context_mixing``, vs the best
  of xz -9e, brotli -q 11 and zstd -19 on the book's whole text (enwik8's first 10 MB at full
  scale), goal ≤ 0.90×; the same with the decoder's source code (xz-compressed) counted;
- its speed: compress + decompress of that text against a budget of 3 minutes (small scale);
- the prequential GPT (``lib.prequential``) against
  xz -9e at 32 KB, 100 KB and the whole text, from ONE run over the whole text (the code is causal,
  so the first m bytes of that run are the code of the first m bytes), with the crossover length
  if there is one;
- for information, on the first 100 KB: the n-gram mixture and the context mixing model against
  the same peers;
- the arithmetic coder's overhead: real bits vs ideal bits on ≥ 1 MB;
- the coder's throughput vs ``constriction``'s range coder on the same stream, goal ≥ 1/10.
"""

from __future__ import annotations

import lzma
import time
from pathlib import Path

import numpy as np

import lib
from benchmarks import row
from lib import coding, compressors, data, prequential

SETTINGS = {
    "small": dict(
        n_bytes=100_000,
        cm_bytes=None,  # the whole text
        budget_seconds=180,
        coder_bytes=1 << 20,
        speed_symbols=1 << 16,
        gpt=dict(n_embd=64, lanes=32, batch_size=16),
        gpt_bytes=None,  # the whole text
        ngram=True,
    ),
    "full": dict(
        n_bytes=10_000_000,
        cm_bytes=10_000_000,
        budget_seconds=None,
        coder_bytes=1 << 23,
        speed_symbols=1 << 18,
        gpt=dict(n_embd=256, n_layer=4, lanes=256, batch_size=64),
        gpt_bytes=1_000_000,
        ngram=False,
    ),
}


def corpus(scale: str, n: int | None) -> bytes:
    return data.text().encode()[:n] if scale == "small" else data.enwik8()[:n]


def peers(x: bytes) -> dict[str, int]:
    import brotli
    import zstandard

    return {
        "xz -9e": 8 * len(lzma.compress(x, preset=9 | lzma.PRESET_EXTREME)),
        "brotli -q 11": 8 * len(brotli.compress(x, quality=11)),
        "zstd -19": 8 * len(zstandard.ZstdCompressor(level=19).compress(x)),
    }


def code_bits(
    files=("prequential.py", "models.py", "coding.py", "ngram.py", "context_mixing.py"),
) -> int:
    """The decoder's source (these files of ``lib``), xz-compressed, in bits."""
    here = Path(lib.__file__).parent
    src = b"".join((here / f).read_bytes() for f in files)
    return 8 * len(lzma.compress(src, preset=9 | lzma.PRESET_EXTREME))


# all that decodes a context-mixing file: the model, the coder and the one driver
CM_DECODER = ("context_mixing.py", "coding.py", "prequential.py")


def cpu_seconds(fn, repeats: int = 3) -> float:
    """The best of ``repeats`` CPU times of ``fn()`` (CPU time: the machine may be shared)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def context_mixing_rows(scale: str) -> list[dict]:
    """The best compressor of the book on the whole text: size, size with its decoder, speed."""
    s = SETTINGS[scale]
    x = corpus(scale, s["cm_bytes"])
    compress, decompress = compressors.REGISTRY["cm"]
    start = time.process_time()
    blob = compress(x)
    t_enc = time.process_time() - start
    start = time.process_time()
    ok = decompress(blob) == x
    t_dec = time.process_time() - start
    if not ok:
        raise AssertionError("context mixing: the round trip failed")
    theirs = peers(x)
    peer_name = min(theirs, key=theirs.get)
    n, b, p, c = len(x), 8 * len(blob), theirs[peer_name], code_bits(CM_DECODER)
    detail = ", ".join(f"{k} {v / n:.3f}" for k, v in {"cm": b, **theirs}.items())
    speed = (
        f"{n} bytes; compress {1e6 * t_enc / n:.0f} µs/byte, "
        f"decompress {1e6 * t_dec / n:.0f} µs/byte (CPU time, pure Python)"
    )
    rows = [
        row(
            f"bits/byte: context mixing vs {peer_name}",
            b / n,
            p / n,
            "bits/byte",
            "ratio <= 0.9",
            b / p <= 0.9,
            f"{n} bytes (the whole text); {detail}",
        ),
        row(
            "bits/byte with decoder source counted",
            (b + c) / n,
            p / n,
            "bits/byte",
            None,
            None,
            f"+{c // 8} bytes: {' and '.join(CM_DECODER)}, xz-compressed",
        ),
    ]
    if s["budget_seconds"]:
        rows.append(
            row(
                "context mixing: compress + decompress",
                t_enc + t_dec,
                s["budget_seconds"],
                "s",
                "ratio <= 1",
                t_enc + t_dec <= s["budget_seconds"],
                speed,
            )
        )
    return rows


def prefix_rows(scale: str) -> list[dict]:
    """For information: all our compressors on the first ``n_bytes`` (the GPT is slow)."""
    s = SETTINGS[scale]
    x = corpus(scale, s["n_bytes"])
    ours = {}
    if s["ngram"]:
        ours["n-gram mixture"] = compressors.size_bits(x, "ngram")
    ours["context mixing"] = compressors.size_bits(x, "cm")
    best_name = min(ours, key=ours.get)
    theirs = peers(x)
    peer_name = min(theirs, key=theirs.get)
    n, b, p = len(x), ours[best_name], theirs[peer_name]
    detail = ", ".join(f"{k} {v / n:.3f}" for k, v in {**ours, **theirs}.items())
    return [
        row(
            f"first {n // 1000} KB: {best_name} vs {peer_name}",
            b / n,
            p / n,
            "bits/byte",
            None,
            None,
            f"{n} bytes; {detail}",
        )
    ]


def coder_rows(scale: str) -> list[dict]:
    s = SETTINGS[scale]
    text = corpus(scale, s["n_bytes"]) if scale == "full" else data.text().encode()
    x = np.frombuffer((text * (s["coder_bytes"] // len(text) + 1))[: s["coder_bytes"]], np.uint8)
    # an order-1 model estimated from the data itself: a realistic, varied set of rows
    counts = np.ones((256, 256))
    np.add.at(counts, (x[:-1], x[1:]), 1)
    table = counts / counts.sum(axis=1, keepdims=True)
    prev = np.r_[0, x[:-1]]
    enc, ideal, block = coding.Encoder(), 0.0, 1 << 14
    for lo in range(0, len(x), block):
        p = table[prev[lo : lo + block]]
        enc.encode(x[lo : lo + block], p)
        ideal += coding.ideal_bits(x[lo : lo + block], p)
    real = 8 * len(enc.finish())
    rows = [
        row(
            "coder: real bits vs ideal bits",
            real,
            ideal,
            "bits",
            "ratio <= 1.001",
            real / ideal <= 1.001,
            f"{len(x)} bytes, overhead {100 * (real / ideal - 1):.4f} %",
        )
    ]

    # throughput on the same stream: ours vs constriction's range coder
    import constriction

    m = s["speed_symbols"]
    sym, p = x[:m], table[prev[:m]]

    def ours_encode():
        coding.encode(sym, p)

    def their_encode():
        e = constriction.stream.queue.RangeEncoder()
        e.encode(sym.astype(np.int32), constriction.stream.model.Categorical(perfect=False), p)
        e.get_compressed()

    ours, theirs = m / cpu_seconds(ours_encode), m / cpu_seconds(their_encode)
    rows.append(
        row(
            "coder throughput vs constriction",
            ours,
            theirs,
            "symbols/s",
            "ratio >= 0.1",
            ours / theirs >= 0.1,
            f"encode, {m} symbols over 256 bytes, CPU time",
        )
    )
    return rows


def gpt_rows(scale: str) -> list[dict]:
    """The prequential GPT vs xz -9e on prefixes of one run: bits/byte at 32 KB, 100 KB, all."""
    s = SETTINGS[scale]
    x = corpus(scale, s["gpt_bytes"])
    start = time.process_time()
    bits = prequential.code_lengths(x, prequential.PrequentialConfig(**s["gpt"]))
    seconds = time.process_time() - start
    total = np.cumsum(bits)
    marks = sorted({m for m in (32_000, 100_000) if m < len(x)} | {len(x)})
    xz = {m: 8 * len(lzma.compress(x[:m], preset=9 | lzma.PRESET_EXTREME)) for m in marks}
    grid = np.unique(np.geomspace(1000, len(x), 24).astype(int))
    xz_grid = np.array(
        [8 * len(lzma.compress(x[:m], preset=9 | lzma.PRESET_EXTREME)) for m in grid]
    )
    ahead = grid[total[grid - 1] < xz_grid]
    if len(ahead):
        cross = f"ahead of xz from m = {ahead[0]}"
    else:  # where straight lines in log m through the last half of the grid would cross
        half = len(grid) // 2
        logm = np.log10(grid[half:])
        fit_gpt = np.polyfit(logm, total[grid[half:] - 1] / grid[half:], 1)
        fit_xz = np.polyfit(logm, xz_grid[half:] / grid[half:], 1)
        if fit_gpt[0] < fit_xz[0]:
            m_cross = 10 ** ((fit_xz[1] - fit_gpt[1]) / (fit_gpt[0] - fit_xz[0]))
            where = f"lines in log m through the last {len(grid) - half} points cross at "
            where += f"m ≈ {m_cross:.2g}"
        else:
            where = "its curve does not fall faster than xz's"
        cross = f"behind xz at every length measured; {where}"
    return [
        row(
            f"bits/byte: prequential GPT vs xz -9e, first {m // 1000} KB",
            total[m - 1] / m,
            xz[m] / m,
            "bits/byte",
            "ratio < 1",
            bool(total[m - 1] < xz[m]),
            f"one run over {len(x)} bytes ({seconds:.0f} s CPU); {cross}",
        )
        for m in marks
    ]


def run(scale: str) -> list[dict]:
    return coder_rows(scale) + context_mixing_rows(scale) + gpt_rows(scale) + prefix_rows(scale)
