"""Issue 16's reproducers, each run alone and classified: ``python -m tools.reliability_audit``.

Every bullet of the issue is a case below: a call that once hung, aborted, lost data, or
answered with garbage or a traceback. Each runs in its own forked process (an abort or a hang
is then the case's outcome, not the audit's end) and ends in one of five classes:

- ``clear error``: an exception of the documented class (``ValueError``/``TypeError``, or
  ``CorruptStreamError`` for a hostile file) whose message names what the case expects;
- ``right``: it returned, and the result passes the case's check;
- ``wrong``: it returned something else (or returned where only an error is right);
- ``unclear``: any other exception, a message naming nothing expected, or a dead process;
- ``hang``: more than ``HANG`` seconds of CPU time (the process is then killed).

A hostile file should be refused within ``GOAL`` seconds of CPU; the table shows each case's
CPU time (``--json``: the same as JSON). A case may use ``MEMORY`` bytes of address space: a
file that makes the decoder reserve gigabytes fails here as it would on a small machine.
Nothing touches the network: lib.data reads files made in a temporary directory.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import os
import re
import reprlib
import resource
import select
import signal
import socket
import struct
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from lib import (
    blc,
    bounds,
    cli,
    coding,
    compressors,
    context_mixing,
    data,
    matching,
    ngram,
    prequential,
    probe,
)
from lib import quantize as qz
from lib.prequential import PrequentialConfig

GOAL, HANG, WALL = 1.0, 5.0, 120.0  # CPU seconds: the goal, a hang; wall seconds at most
MEMORY = 8 << 30  # bytes of address space per case
CLASSES = ("clear error", "right", "wrong", "unclear", "hang")


@dataclass
class Case:
    group: str
    run: Callable[[], object]
    error: str | None = None  # a regex a clear error's message matches (None: it must return)
    right: Callable[[object], bool] | None = None  # the check of a result (None: it must raise)
    errors: tuple = (ValueError, TypeError)  # the documented classes
    prepare: Callable | None = None  # run before the clock starts (forging a file)


CASES: dict[str, Case] = {}


def refuse(group: str, rows, **kw) -> None:
    """Cases ``(name, call, regex)`` that must end in a clear error naming ``regex``."""
    for name, run, names in rows:
        CASES[name] = Case(group, run, error=names, **kw)


def accept(group: str, rows) -> None:
    """Cases ``(name, call, check)`` that must return a result passing ``check``."""
    for name, run, check in rows:
        CASES[name] = Case(group, run, right=check)


# ---------------------------------------------------------------- coding: tiny and huge rows
def _round_trip(row):
    """The frequencies of ``row``, and each of its symbols coded and decoded under it."""
    rows = [row] * len(row)
    symbols = coding.decode(coding.encode(range(len(row)), rows), rows).tolist()
    return coding.quantize([row]), symbols


def _valid(result) -> bool:
    f, symbols = result
    sums = (f >= 1).all() and (f.sum(axis=1) == coding.TOTAL).all()
    return bool(sums) and symbols == list(range(f.shape[1]))


TINY = [[1e-300, 1e-300]]
accept("coding", [
    ("encode([0], [[1e-300, 1e-300]])", lambda: coding.decode(coding.encode([0], TINY), TINY),
     lambda s: s.tolist() == [0]),
    ("quantize([[1e-300, 1e-300]])", lambda: coding.quantize(TINY),  # within 2 of 2**31 each
     lambda f: _valid((f, [0, 1])) and abs(f - coding.TOTAL / 2).max() <= 2),
    ("decode(encode([0], [[.5, .5]]), [[1e-300, 1e-300]])",
     lambda: coding.decode(coding.encode([0], [[0.5, 0.5]]), TINY), lambda s: s.tolist() == [0]),
] + [
    (f"a row {label}: quantize, encode, decode", lambda r=row: _round_trip(r), _valid)
    for label, row in [("summing to 2e-299", [1e-299] * 2), ("of subnormals", [5e-324] * 3),
                       ("1e-310 and 1", [1e-310, 1.0]), ("whose sum overflows", [1e308] * 2)]
])  # fmt: skip


# ---------------------------------------------------------------- the command line
TEXT = b"The prequential code pays for what the model has not yet learned. " * 40


def _cli(*argv) -> tuple[int, list[str]]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = cli.main([str(a) for a in argv])
    return code, err.getvalue().strip().splitlines()


def _one_line(code: int, lines: list[str]) -> bool:
    return code == 1 and len(lines) == 1 and lines[0].startswith("error: ")


def _keeps_output(fail, size: int = 1500) -> bool:
    """Compress ``size`` random bytes onto an existing OUT while ``fail`` makes the run fail:
    OUT is as it was, and no temporary file is left behind."""
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp, "in.txt"), Path(tmp, "out.cm")
        src.write_bytes(np.random.default_rng(0).bytes(size))
        out.write_bytes(b"precious")
        code, _ = fail(lambda: _cli("compress", src, out))
        left = sorted(p.name for p in Path(tmp).iterdir())
        return code != 0 and out.read_bytes() == b"precious" and left == ["in.txt", "out.cm"]


def _size_limit(run):  # a write that really fails, as on a full disk (Python ignores SIGXFSZ)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (500, hard))
    try:
        return run()
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def _ctrl_c_in_fsync(run):  # this process is a throw-away fork: patching os is fine
    os.fsync = lambda fd: signal.default_int_handler(signal.SIGINT, None)
    return run()


def _ctrl_c_after(seconds: float):  # wherever the run has got to by then
    def fail(run):
        signal.signal(signal.SIGALRM, signal.default_int_handler)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        return run()

    return fail


def _path_error(argv) -> bool:
    """``argv(tmp, src)``: its error is one line, and comes before any compression."""
    ran = []
    for model, (_, decompress) in list(compressors.REGISTRY.items()):
        compressors.REGISTRY[model] = (lambda *a, **k: ran.append(1) or b"", decompress)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp, "in.txt")
        src.write_bytes(TEXT)
        return _one_line(*_cli(*argv(Path(tmp), src))) and not ran


accept("cli", [
    ("failed write (file-size limit) keeps the old OUT", lambda: _keeps_output(_size_limit),
     bool),
    ("Ctrl-C while writing keeps the old OUT", lambda: _keeps_output(_ctrl_c_in_fsync), bool),
    ("Ctrl-C while compressing keeps the old OUT",
     lambda: _keeps_output(_ctrl_c_after(0.3), size=30_000), bool),
] + [
    (f"{label}: one line, before any work", lambda a=argv: _path_error(a), bool)
    for label, argv in [
        ("missing input", lambda t, s: ("compress", t / "nope", t / "o")),
        ("input is a directory", lambda t, s: ("compress", t, t / "o")),
        ("output is a directory", lambda t, s: ("compress", s, t)),
        ("output directory missing", lambda t, s: ("compress", s, t / "no" / "such" / "o")),
        ("decompress, missing input", lambda t, s: ("decompress", t / "nope", t / "o")),
        ("--train-steps 10**9", lambda t, s: ("compress", "--train-steps", 10**9, s, t / "o")),
    ]
])  # fmt: skip


# ---------------------------------------------------------------- hostile files
def container(payload: bytes, length: int, kind: bytes) -> bytes:
    """A book container around ``payload`` claiming ``length`` bytes, with a valid CRC (so the
    checks behind the CRC are the ones exercised)."""
    head = struct.pack(">4sB4sQI", coding.MAGIC, coding.VERSION, kind, length, 0)
    return head + struct.pack(">I", zlib.crc32(payload, zlib.crc32(head))) + payload


def pq(cfg=None, n=100, fps=(0,), stream=bytes(64), kind=b"PQG1", raw=None, count=None, length=0):
    """A prequential file: settings ``{"cfg": cfg, "n": n}`` (or ``raw`` JSON text as it is),
    fingerprints (``count`` of them claimed), stream; the container claims ``length``."""
    raw = zlib.compress((raw or json.dumps({"cfg": cfg or {}, "n": n})).encode())
    fp = struct.pack(f">I{len(fps)}I", len(fps) if count is None else count, *fps)
    return container(struct.pack(">I", len(raw)) + raw + fp + stream, length or n, kind)


def cm(length: int, fps, stream: bytes) -> bytes:
    return container(struct.pack(f">I{len(fps)}I", len(fps), *fps) + stream, length, b"CMX2")


def bomb(blocks: int = 64) -> bytes:
    """Valid zlib data (1 MB) inflating to ``blocks`` × 16 MiB of zeros (1 GiB). After a full
    flush the deflater starts afresh, so every block after the first has the same bytes."""
    z, block = zlib.compressobj(9), bytes(1 << 24)
    first = z.compress(block) + z.flush(zlib.Z_FULL_FLUSH)
    again = z.compress(block) + z.flush(zlib.Z_FULL_FLUSH)
    adler = functools.reduce(lambda a, _: zlib.adler32(block, a), range(blocks), 1)
    return first + again * (blocks - 1) + b"\x03\x00" + struct.pack(">I", adler)


def _with_settings(zipped: bytes) -> bytes:  # a settings block given as zlib bytes
    return container(struct.pack(">I", len(zipped)) + zipped + struct.pack(">II", 1, 0), 100,
                     b"PQG1")  # fmt: skip


def _nested(depth: int) -> str:
    return '{"cfg": {}, "n": ' + "[" * depth + "]" * depth + "}"


G = PrequentialConfig(n_layer=1, n_embd=16, lanes=4)  # a small transformer
SMALL, NG, N = {"n_layer": 1, "n_embd": 16, "lanes": 4}, {"model": "ngram"}, 10**9
BLOCKS, CM_BLOCKS = coding.count_blocks, (context_mixing.FIRST_BLOCK, context_mixing.LAST_BLOCK)
HOSTILE = [  # (name, forger of the file, what its error names)
    ("train_steps=10**9", lambda: pq({"train_steps": N}), "train_steps"),
    ("n_layer=10**6", lambda: pq({"n_layer": 10**6}), "n_layer"),
    ("ngram_order=10**7", lambda: pq(NG | {"ngram_order": 10**7}, kind=b"PQN1"), "ngram_order"),
    ("threads=100000", lambda: pq({"threads": 100_000}), "threads"),
    ("n_embd=2**24", lambda: pq({"n_embd": 2**24}), "n_embd"),
    ("n_layer: true", lambda: pq({"n_layer": True}), "n_layer"),
    ("seed=2**70 (torch overflow)", lambda: pq({"seed": 2**70}), "seed"),
    ("lanes, lane_length 4096 (memory)",
     lambda: pq({"lanes": 4096, "lane_length": 4096, "first_lane_length": 4096}), "too large"),
    ('"n": Infinity', lambda: pq(raw='{"cfg": {}, "n": Infinity}'), "Infinity"),
    ('"lr": NaN', lambda: pq(raw='{"cfg": {"lr": NaN}, "n": 100}'), "NaN"),
    ("100,000 nested [", lambda: pq(raw=_nested(100_000)), "settings"),
    ("2,000 nested [ (within the size limit)", lambda: pq(raw=_nested(2000)), "recursion"),
    ("settings inflating to 1 GiB", lambda: _with_settings(bomb()), "settings"),
    ("settings block longer than the file",
     lambda: container(b"\xff" * 4 + bytes(20), 5, b"PQG1"), "settings block"),
    ("unknown setting", lambda: pq({"depth": 3}), "depth"),
    ("header and container disagree", lambda: pq(length=99), "disagree"),
    ("fingerprint count beyond the file", lambda: pq(count=10**6, stream=b""), "fingerprints"),
    ("PQN1: 2 KB claiming 10^9 bytes", lambda: pq(NG, N, stream=bytes(2000), kind=b"PQN1"),
     "fingerprints"),
    ("PQN1: 10^9 bytes, a fingerprint per block", lambda: pq(NG, N, [0] * BLOCKS(
        N, ngram.FIRST_BLOCK, ngram.LAST_BLOCK), bytes(2000), b"PQN1"), "block 0"),
    ("PQG1: 10^9 bytes, one fingerprint", lambda: pq(n=N), "fingerprints"),
    ("PQG1: 10^9 bytes, a fingerprint per chunk", lambda: pq(n=N, fps=[0] * sum(
        1 for _ in prequential.chunks(N, PrequentialConfig()))), "chunk 0|stream"),
    ("PQG1: forged fingerprints, one per chunk", lambda: pq(SMALL, 10_000, [0] * len(list(
        prequential.chunks(10_000, G))), bytes(range(256)) * 8), "chunk 0"),
    ("CM: 121 bytes claiming 303,000",
     lambda: cm(303_000, [0] * BLOCKS(303_000, *CM_BLOCKS), bytes(61)), "cannot hold"),
    ("CM: 10^9 bytes, a fingerprint per block",
     lambda: cm(N, [0] * BLOCKS(N, *CM_BLOCKS), bytes(61)), "cannot hold"),
    ("CM: fingerprints missing", lambda: cm(303_000, [], bytes(117)), "fingerprints"),
    ("CM: forged fingerprints",
     lambda: cm(150_000, [0] * BLOCKS(150_000, *CM_BLOCKS), b"\xff" * 61), "block 0|stream"),
]  # fmt: skip
FORGED = {name: functools.cache(forge) for name, forge, _ in HOSTILE}
for name, _, names in HOSTILE:
    refuse("hostile file", [(name, lambda f=FORGED[name]: prequential.decompress(f()), names)],
           errors=(coding.CorruptStreamError,), prepare=FORGED[name])  # fmt: skip


def _cli_decompress(blob: bytes) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp, "x"), Path(tmp, "o")
        src.write_bytes(blob)
        return _one_line(*_cli("decompress", src, out)) and not out.exists()


for name in ('"n": Infinity', "100,000 nested [", "2,000 nested [ (within the size limit)",
             "threads=100000", "settings inflating to 1 GiB"):  # fmt: skip
    forged = FORGED[name]
    CASES[f"CLI decompress, {name}: one line"] = Case(
        "hostile file", lambda f=forged: _cli_decompress(f()), right=bool, prepare=forged
    )


# ---------------------------------------------------------------- bad arguments
nan, inf = float("nan"), float("inf")
M = r"\bm\b"
refuse("bounds", [
    ("hoeffding_bound(nan, .1)", lambda: bounds.hoeffding_bound(nan, 0.1), M),
    ("finite_class_epsilon(10, nan, .05)", lambda: bounds.finite_class_epsilon(10, nan, 0.05), M),
    ("vc_bound(3, inf, .05)", lambda: bounds.vc_bound(3, inf, 0.05), M),
    ("union_bound(10, nan, .1)", lambda: bounds.union_bound(10, nan, 0.1), M),
])  # fmt: skip


def _least_m(eps: float, n_hypotheses: int = 10, delta: float = 0.05):
    """``(sample_complexity, check)``: the least ``m`` with ``2|F| e^{-2mε²} ≤ δ``, in exact
    rationals (it is far beyond any float)."""
    need = Fraction(np.log(n_hypotheses) + np.log(2 / delta)) / (2 * Fraction(eps) ** 2)
    run = lambda: bounds.sample_complexity(n_hypotheses, eps, delta)  # noqa: E731
    return run, lambda m: isinstance(m, int) and m >= need > m - 1


accept("bounds", [(f"sample_complexity(10, {e}, .05)", *_least_m(e)) for e in (1e-160, 1e-170)])

X4, Y4 = torch.eye(4), torch.tensor([0, 1, 0, 1])
refuse("quantize", [
    ("decode_levels(encode_levels([0.9, -0.9], 1), 2, 1)",
     lambda: qz.decode_levels(qz.encode_levels([0.9, -0.9], 1), 2, 1), "levels"),
    ("fit_quantized(step=nan)",
     lambda: qz.fit_quantized(X4, Y4, torch.zeros(4, 2), step=nan, max_level=3), r"\bstep\b"),
    ("multinomial([2.5, 1])", lambda: qz.multinomial([2.5, 1]), "counts"),
    ("quantize_uniform([], 1)", lambda: qz.quantize_uniform([], 1), r"\bw\b"),
])  # fmt: skip


def _probe(y_test=(0, 1, 5), rows=3, poison=None):  # 20 training rows, 2 classes
    g = torch.Generator().manual_seed(0)
    train, test = [torch.randn(20, 3, generator=g)], [torch.randn(rows, 3, generator=g)]
    if poison:
        (train if poison == "train" else test)[0][0, 0] = nan
    y_test = torch.tensor(y_test, dtype=torch.long)
    return probe.linear_probes(train, torch.arange(20) % 2, test, y_test, n_classes=2)


refuse("probe", [
    ("linear_probes: test labels >= n_classes", _probe, "y_test"),
    ("linear_probes: empty test set", lambda: _probe([], rows=0), "y_test"),
    ("linear_probes: NaN train features", lambda: _probe((0, 1, 1), poison="train"), "finite"),
    ("linear_probes: NaN test features", lambda: _probe((0, 1, 1), poison="test"), "finite"),
])  # fmt: skip


def _error_vs_length(**kw):
    text = data.letters(data.text()[:20_000])
    args = dict(lengths=[20], trials=1, restarts=1, steps=5) | kw
    return matching.error_vs_length(matching.fit_ngram(text, 2), text, **args)


N_ = r"\bn\b"
refuse("matching", [
    ("decipher(n=6)", lambda: matching.decipher("hello world", n=6), N_),
    ("decipher(text, n=10**6)", lambda: matching.decipher("hi", data.text()[:5000], n=10**6), N_),
    ("decipher(n=True)", lambda: matching.decipher("hello world", n=True), N_),
    ("fit_ngram(text, n=7), decipher's table", lambda: matching.fit_ngram(data.text(), 7), N_),
    ("fit_kneser_ney(text, n=7)", lambda: matching.fit_kneser_ney(data.text(), 7), N_),
    ("error_vs_length(lengths=[0])", lambda: _error_vs_length(lengths=[0]), "lengths"),
    ("error_vs_length(trials=0)", lambda: _error_vs_length(trials=0), "trials"),
])  # fmt: skip

DEEP = "λ" * 10_000 + " 1"
refuse("blc", [
    ("normalize('junk')", lambda: blc.normalize("junk"), "term"),
    ("normalize((0, 1, 2))", lambda: blc.normalize((0, 1, 2)), "term"),
    ("decode_prefix('0010', start=-2)", lambda: blc.decode_prefix("0010", -2), "start"),
    ("count_terms(2000)", lambda: blc.count_terms(2000), N_),
])  # fmt: skip
accept("blc", [
    ("parse(10,000 nested λ)", lambda: blc.parse(DEEP), lambda t: blc.size(t) == 20_002),
    ("== of deep results", lambda: blc.normalize(blc.parse(DEEP)),
     lambda r: r.halted and r == blc.normalize(blc.parse(DEEP))),
    ("repr of a deep result", lambda: repr(blc.normalize(blc.parse(DEEP))),
     lambda s: len(s) < 200 and "halted" in s),
])  # fmt: skip


# ---------------------------------------------------------------- lib.data, offline
def _no_network(*a, **k):
    raise AssertionError("the audit tried to use the network")


def _enwik8(blob: bytes | None, own_checksum: bool = False):
    """``data.enwik8()`` with a local ``enwik8.zip`` holding ``blob`` (None: the cache path
    is a file); with ``own_checksum`` the download table holds the file's own SHA-256, so that
    the zip reader's checks are reached."""
    socket.socket.connect = socket.create_connection = _no_network  # a throw-away fork
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp, "cache")
        if blob is None:
            cache.write_text("not a directory")
        else:
            cache.mkdir()
            (cache / "enwik8.zip").write_bytes(blob)
        if own_checksum:
            url = data.DOWNLOADS["enwik8"][0]
            data.DOWNLOADS["enwik8"] = (url, hashlib.sha256(blob).hexdigest(), None)
        os.environ["BOOK_DATA"] = str(cache)
        os.environ.pop("BOOK_REHEARSAL", None)
        return data.enwik8()


def zip_bytes(members: dict) -> bytes:
    """A zip file in memory of ``{name: bytes}`` (also the tests' stand-in archives)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for k, v in members.items():
            z.writestr(k, v)
    return buf.getvalue()


FAKE = zip_bytes({"enwik8": b"<mediawiki>not the real thing</mediawiki>" * 50})
RETRY = "Delete the file and retry"
refuse("data", [
    ("enwik8.zip's own checksum (a zip of other text)", lambda: _enwik8(FAKE), "sha256.*" + RETRY),
    ("truncated zip", lambda: _enwik8(FAKE[:-30]), RETRY),
    ("truncated zip, its checksum matching", lambda: _enwik8(FAKE[:-30], True), RETRY),
    ("zip cut in its body, its checksum matching", lambda: _enwik8(FAKE[:60], True), RETRY),
    ("zip without the member", lambda: _enwik8(zip_bytes({"other": b"x"}), True), RETRY),
    ("zip of other text, its checksum matching", lambda: _enwik8(FAKE, True), RETRY),
    ("cache path is a file", lambda: _enwik8(None), "is a file"),
])  # fmt: skip


# ---------------------------------------------------------------- running and judging
def judge(case: Case) -> tuple[str, str]:
    """``(class, detail)`` of running ``case`` here (no fork, no time limit)."""
    try:
        value = case.run()
    except BaseException as e:  # noqa: BLE001 - any class but the documented ones is a finding
        detail = f"{type(e).__name__}: {' '.join(str(e).split())}"[:160]
        clear = case.error is not None and isinstance(e, case.errors)
        return ("clear error" if clear and re.search(case.error, str(e)) else "unclear"), detail
    try:
        right = case.right is not None and bool(case.right(value))
    except Exception as e:  # noqa: BLE001 - a result the check cannot read is a wrong one
        return "wrong", f"the check of the result failed: {type(e).__name__}: {e}"[:160]
    return ("right" if right else "wrong"), f"returned {reprlib.repr(value)}"  # deep-safe


def _child(name: str) -> tuple[str, str, float]:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, resource.getrlimit(resource.RLIMIT_AS)[1]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # an abort leaves no core file
    start = time.process_time()
    outcome, detail = judge(CASES[name])
    return outcome, detail, time.process_time() - start


def _cpu(pid: int) -> float:
    """CPU seconds used so far by process ``pid`` (Linux; 0 where /proc is missing)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_case(name: str) -> tuple[str, str, float]:
    """``(class, detail, CPU seconds)`` of case ``name``, run in a forked process."""
    if CASES[name].prepare:  # cached: the child finds it done, so its CPU time is the case's
        CASES[name].prepare()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, report as JSON, leave without any clean-up
        os.close(read)
        try:
            result = _child(name)
        except BaseException as e:  # noqa: BLE001
            result = ("unclear", f"{type(e).__name__} in the audit: {e}"[:160], 0.0)
        os.write(write, json.dumps(result).encode())
        os._exit(0)
    os.close(write)
    start, cpu = time.monotonic(), 0.0
    while not select.select([read], [], [], 0.05)[0]:
        cpu = _cpu(pid) or cpu
        if cpu > HANG or time.monotonic() - start > WALL:
            os.kill(pid, signal.SIGKILL)
            break
    chunks = []
    while chunk := os.read(read, 1 << 16):
        chunks.append(chunk)
    os.close(read)
    _, status = os.waitpid(pid, 0)
    if chunks:
        outcome, detail, cpu = json.loads(b"".join(chunks))
        return ("hang" if cpu > HANG else outcome), detail, cpu
    if cpu > HANG or time.monotonic() - start > WALL:
        return "hang", f"killed after {cpu:.1f} s of CPU", cpu
    died = signal.Signals(os.WTERMSIG(status)).name if os.WIFSIGNALED(status) else status
    return "unclear", f"the process died ({died})", cpu


def warm_up() -> None:
    """Start torch before the forks (a model's first run costs a second, which is not a
    hostile file's doing), on one thread: no OpenMP pool exists then to break in a fork."""
    os.environ["BOOK_PROGRESS"] = "0"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    prequential.code_lengths(b"warm", G)
    torch.set_num_threads(threads)


def audit(names=None) -> dict[str, tuple[str, str, float]]:
    """``{name: (class, detail, CPU seconds)}`` of every case (or of ``names``). Run it in a
    process whose torch has not computed yet, as ``python -m tools.reliability_audit`` does."""
    warm_up()
    return {name: run_case(name) for name in names or CASES}


def counts(results) -> dict[str, int]:
    tally = {"tried": len(results)} | dict.fromkeys(CLASSES, 0)
    for outcome, _, _ in results.values():
        tally[outcome] += 1
    return tally


def main(argv: list[str]) -> int:
    """Print the table (or ``--json``) of the cases named in ``argv``, or of all; exit code 1
    unless every one is a clear error or right."""
    results = audit([a for a in argv if a != "--json"] or None)
    tally = counts(results)
    if "--json" in argv:
        print(json.dumps({"results": results, "counts": tally}))
    else:
        print(f"{'group':12} {'case':52} {'class':11} {'CPU s':>5}  detail")
        for name, (outcome, detail, cpu) in results.items():
            group = CASES[name].group
            slow = " (over the 1 s goal)" if group == "hostile file" and cpu > GOAL else ""
            print(f"{group:12} {name[:52]:52} {outcome:11} {cpu:5.2f}  {detail[:80]}{slow}")
        print(" / ".join(tally) + "\n" + " / ".join(str(v) for v in tally.values()))
    return 0 if tally["clear error"] + tally["right"] == tally["tried"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
