"""Every chapter at ``full`` scale on a Colab T4, estimated here, against 20 minutes a chapter.

Until a GPU measures them (``make gpu-check``), each chapter's full-scale time is estimated from
its settings cell (the one source of truth, read by ``tools.rehearsal.chapter_settings``)
and its dominant parts, each run here through the chapter's own ``lib`` functions:

- **CPU-bound parts** (pure-Python context mixing, arithmetic coding, CTW and n-gram mixtures,
  zlib NCD, the BLC enumeration, ...): CPU seconds (``time.process_time``) per unit of work,
  measured at a small size on this machine, times the units at full scale. Colab's CPU is
  assumed as fast as this one (``COLAB_CPU = 1``); the work grows linearly in the units named,
  except the BLC enumeration, extrapolated by its measured growth per bit.
- **GPU parts** (GPT steps, halfspace Monte Carlo, annealing chains, ...): one step at its
  full-scale shapes runs here under ``Roofline``, which sees every kernel torch dispatches and
  charges each ``max(LAUNCH_S, flops / T4_FLOPS, bytes / T4_BYTES_S)``: launch-bound loops of
  small kernels and large matrix products are both priced. Steps times that.
- **The rest**: the cells not modelled above, charged the chapter's whole measured time at
  ``small`` scale (``results/chapters.json``), or the 180 s small-scale budget where that is
  missing.

Chapter 7 reuses ``benchmarks.bench_igpt`` (its counted FLOPs at ``T4_FLOPS`` of float16), plus
the same allowance. The peer of every row is the budget of 20 minutes; ``ratio <= 1`` meets it.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from torch.utils.flop_counter import flop_registry

from benchmarks import bench_igpt, row
from tools.rehearsal import chapter_settings

IN_BOOK = False  # minutes of CPU: `make bench` runs it, the book's page shows its results file
HERE = Path(__file__).resolve().parent
BUDGET_S = 20 * 60.0
T4_FLOPS = 4e12  # float32 on a T4: half its 8.1 TFLOP/s peak (an assumption)
T4_BYTES_S = 160e9  # half of a T4's 320 GB/s memory bandwidth (an assumption)
LAUNCH_S = 15e-6  # eager PyTorch: dispatch + kernel launch per op on Colab's CPU (assumed)
COLAB_CPU = 1.0  # Colab's CPU time for a unit of work / this machine's (assumed equal)
SMALL_BUDGET_S = 180.0
FREE = {torch.ops.aten.detach, torch.ops.aten.alias, torch.ops.aten.lift_fresh}
GATHERS = ("index", "gather", "embedding", "take")  # ops that read only the rows they return


# ---------------------------------------------------------------- measuring tools
class Roofline(TorchDispatchMode):
    """Price every dispatched kernel on a T4: ``max(LAUNCH_S, flops/T4_FLOPS, bytes/T4_BYTES_S)``.

    ``flops`` from torch's FLOP formulas (matrix products, convolutions, attention), ``bytes``
    the sizes of the op's tensor inputs and outputs (of an indexing op: what it gathers). Views
    launch nothing and are free.
    """

    def __init__(self):
        super().__init__()
        self.kernels, self.flops, self.bytes, self.seconds = 0, 0.0, 0.0, 0.0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        inputs = [t for t in tree_flatten((args, kwargs))[0] if isinstance(t, torch.Tensor)]
        outputs = [t for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor)]
        if func.is_view or func.overloadpacket in FREE:
            return out  # a view of its input, or bookkeeping: no kernel runs
        if any(word in func.__name__ for word in GATHERS):  # reads what it gathers, not all
            inputs = inputs[1:]
            outputs = outputs + outputs
        size = sum(t.numel() * t.element_size() for t in inputs + outputs)
        packet = func.overloadpacket
        flops = (
            flop_registry[packet](*args, **kwargs, out_val=out) if packet in flop_registry else 0
        )
        self.kernels += 1
        self.flops += flops
        self.bytes += size
        self.seconds += max(LAUNCH_S, flops / T4_FLOPS, size / T4_BYTES_S)
        return out


def t4_seconds(step, *args, **kwargs) -> Roofline:
    """Run ``step(*args, **kwargs)`` once here (CPU) and price its kernels on a T4."""
    with Roofline() as r:
        step(*args, **kwargs)
    return r


def cpu_seconds(work, *args, **kwargs) -> float:
    """CPU seconds (user + sys of this process) of ``work(*args, **kwargs)``, times COLAB_CPU."""
    start = time.process_time()
    work(*args, **kwargs)
    return (time.process_time() - start) * COLAB_CPU


def small_scale_seconds(stem: str) -> tuple[float, str]:
    """The chapter's measured CPU seconds at small scale (results/chapters.json), or the budget."""
    try:
        rows = json.loads((HERE / "results" / "chapters.json").read_text())["rows"]
        note = next(r["note"] for r in rows if stem in r["name"] and r["note"].startswith("cpu"))
        return float(note.split()[1]), "its measured small-scale run"
    except (OSError, StopIteration, ValueError, KeyError, IndexError):
        return SMALL_BUDGET_S, "the 180 s small-scale budget (not measured)"


def text_sample(n: int) -> bytes:
    """``n`` bytes of the shipped English corpus (enwik8 stands in for itself at full scale)."""
    from lib import data

    return data.corpus_bytes("python_docs", n)


# ---------------------------------------------------------------- shared GPU kernels
def prequential_plan(n: int, pcfg) -> tuple[int, int]:
    """``(incremental steps, training steps)`` of ``prequential`` on ``n`` bytes (its schedule)."""
    from lib import prequential

    steps = trains = 0
    for start, length in prequential.chunks(n, pcfg):
        steps += min(length, n - start)
        trains += pcfg.train_steps if start + pcfg.lanes * length < n else 0
    return steps, trains


_PREQ_CACHE: dict = {}


def prequential_seconds(n: int, pcfg, coded: bool = False) -> float:
    """T4 seconds of one prequential pass over ``n`` bytes (``code_lengths``; ``coded``: with
    arithmetic coding, as ``compress``/``decompress``): incremental steps at a half-full cache
    and training steps, each priced by ``Roofline``, plus the CPU work of each step (CRC-32 of
    the probabilities, coding the lanes' bytes)."""
    from lib import coding, prequential

    key = (pcfg, coded)
    if key not in _PREQ_CACHE:
        learner = prequential.Learner(pcfg, "cpu")
        learner.start_lanes(pcfg.lanes)
        inputs = torch.zeros(pcfg.lanes, dtype=torch.long)
        with torch.no_grad():
            for _ in range(pcfg.lane_length // 2):
                learner.step(inputs)
        ext = t4_seconds(learner.step, inputs).seconds
        seen = np.frombuffer(text_sample(8 * pcfg.lane_length * pcfg.batch_size), np.uint8)
        learner.cfg = dataclasses.replace(pcfg, train_steps=1)
        train = t4_seconds(learner.train, seen, 0).seconds
        probs = np.full((pcfg.lanes, 256), 1 / 256, np.float32)
        symbols = np.zeros(pcfg.lanes, dtype=np.int64)

        reps = 200
        host = cpu_seconds(
            lambda: [
                (zlib.crc32(probs.tobytes()), coded and coding.encode(symbols, probs))
                for _ in range(reps)
            ]
        )
        _PREQ_CACHE[key] = (ext + host / reps, train)
    ext, train = _PREQ_CACHE[key]
    steps, trains = prequential_plan(n, pcfg)
    return steps * ext + trains * train


def sgd_step_seconds(model, examples: torch.Tensor, vocab: int, mask=None) -> float:
    """T4 seconds of one step of ``online_learning.sgd_code`` (code a batch, then Adam on it)."""
    from lib import online_learning

    batch = examples[:32]
    return t4_seconds(online_learning.sgd_code, model, batch, vocab, mask=mask).seconds


# ---------------------------------------------------------------- the chapters
def chapter1(cfg) -> dict:
    from lib import bounds, quantize

    g = torch.Generator().manual_seed(0)
    block = 1 << 16
    w_star = torch.randn(cfg.dim, generator=g)
    W = torch.randn(block, cfg.dim, generator=g)
    err = bounds.halfspace_test_errors(W, w_star, cfg.noise)
    X, y = bounds.sample_halfspace_data(w_star, cfg.noise, cfg.m_mc, 2, g)
    mc = t4_seconds(bounds.max_deviation, W, err, X, y).seconds
    mc *= math.ceil(cfg.n_hypotheses / block) * cfg.trials / 2
    n_train = 60_000 if cfg.dataset == "mnist" else 1_500
    d = 28 * 28 + 1 if cfg.dataset == "mnist" else 65
    Xm = torch.randn(n_train, d)
    ym = torch.randint(0, 10, (n_train,))
    W0 = torch.zeros(d, 10)
    qat = t4_seconds(quantize.fit_quantized, Xm, ym, W0, 0.5, 3, l1=3e-3, epochs=2).seconds
    qat *= 8 * cfg.qat_epochs / 2  # the menu of 8 (levels, step) pairs
    fit = t4_seconds(quantize.fit_softmax, Xm, ym, l1=1e-4).seconds * 3
    return {
        "GPU: max |Train - Test| over the hypotheses (Monte Carlo)": mc,
        "GPU: quantization-aware fits, 8 menu items": qat,
        "GPU: softmax fits": fit,
    }


def anneal_seconds(text: str, n: int, lengths, trials: int, restarts: int, steps: int) -> float:
    """T4 seconds of ``matching.error_vs_length``'s annealing: one step priced at its batch
    (``trials`` ciphers of every length, ``restarts`` chains each, order ``n``), times ``steps``."""
    from lib import matching

    model = matching.fit_ngram(text, n)
    g = torch.Generator().manual_seed(0)
    ciphers = [
        matching.to_indices(text[i * 997 : i * 997 + length], "cpu")
        for length in lengths
        for i in range(trials)
    ]
    batch = matching.cipher_batch(ciphers, n, restarts)
    keys = torch.stack([torch.randperm(26, generator=g) for _ in range(len(ciphers) * restarts)])
    return steps * t4_seconds(matching.anneal, model, batch, keys, 1, generator=g).seconds


def chapter2(cfg) -> dict:
    import inspect

    from lib import alignment, data, matching

    text = data.letters(text_sample(465_000).decode("utf-8", "ignore")).replace(" ", "")
    sweep = sum(
        anneal_seconds(text, n, cfg.lengths, cfg.trials, cfg.restarts, cfg.steps)
        for n in cfg.orders
    )
    defaults = {k: p.default for k, p in inspect.signature(matching.decipher).parameters.items()}
    n_cross = defaults["n"]
    # two curves (in-domain and other English), both with decipher's search settings
    cross = 2 * anneal_seconds(
        text,
        n_cross,
        cfg.cross_lengths,
        cfg.cross_trials,
        defaults["restarts"],
        defaults["steps"],
    )
    # the search with and without its coarse stage (every step priced at order n: an upper bound)
    schedules = 2 * anneal_seconds(
        text,
        n_cross,
        [cfg.schedule_length],
        cfg.schedule_trials,
        defaults["restarts"],
        defaults["steps"],
    )
    uniform = anneal_seconds(text, 3, cfg.uniform_lengths, cfg.trials, cfg.restarts, cfg.steps)
    anneal = {
        f"GPU: annealing, {len(cfg.orders)} orders × {cfg.steps} steps": sweep,
        "GPU: annealing, decipher's defaults on two texts": cross,
        "GPU: annealing, two search schedules": schedules,
        "GPU: annealing, uniform letters": uniform,
    }
    # alignment: word counting on the corpus (Python, per word), then per window and half a
    # co-occurrence count and an SVD of the V×V PPMI matrix (GPU), then the alignment runs
    words = data.letters(text_sample(465_000).decode("utf-8", "ignore")).split()
    secs = []
    for n in (len(words) // 2, len(words)):
        a, b, lexicon = alignment.two_languages(words[:n], 1000, torch.Generator())
        secs.append(cpu_seconds(alignment.bilingual_embeddings, a, b, lexicon, 1000, 50, 4))
    per_word = max(secs[1] - secs[0], 0.0) / (len(words) - len(words) // 2)
    words_full = cfg.corpus_bytes / 6  # about 6 bytes a word of English
    counting = per_word * words_full * len(cfg.windows)
    svd = 4 * len(cfg.windows) * 22 * cfg.vocab**3 / (0.1 * T4_FLOPS)  # 10% of the rate
    g = torch.Generator().manual_seed(0)
    X = alignment.normalize_embeddings(torch.randn(cfg.vocab, cfg.embed_dim, generator=g))
    Y = alignment.normalize_embeddings(torch.randn(cfg.vocab, cfg.embed_dim, generator=g))
    n_runs = len(cfg.windows) * (len(cfg.init_words) + 2 + 1)
    init = int(np.median(cfg.init_words))
    one = t4_seconds(
        alignment.align_embeddings,
        X,
        Y,
        init_words=init,
        top=cfg.induction_words,
        criterion_words=cfg.criterion_words,
        generator=g,
    ).seconds
    return anneal | {
        "CPU: counting the corpus's words (Python)": counting,
        "GPU: PPMI SVDs (22 V³ flops at 10% of the rate)": svd,
        f"GPU: {n_runs} alignment runs (random vectors, init {init} words)": n_runs * one,
    }


def chapter3(cfg) -> dict:
    from lib import blc, combinators, compressors

    rng = np.random.default_rng(0)
    strings = [rng.bytes(cfg.random_bytes) for _ in range(200)]
    per = cpu_seconds(
        lambda: [compressors.size_bits(s, n) for s in strings for n in compressors.NAMES]
    )
    random_part = per / len(strings) * cfg.n_random
    x = text_sample(256 * 1024)
    per_byte = cpu_seconds(
        lambda: [compressors.mutual_bits(x, x, n) for n in compressors.NAMES]
    ) / len(x)
    window_bytes = sum(1024 * s for s in cfg.window_kib if 1024 * s <= cfg.text_bytes)
    windows = per_byte * window_bytes
    parts = cpu_seconds(
        lambda: [compressors.mutual_bits(x[:20_000], x[:20_000], n) for n in compressors.NAMES]
    )
    pairs = parts / 20_000 * cfg.part_bytes * 4
    # BLC enumeration: measured at 16..19 bits, extrapolated by the growth per bit
    secs = {
        b: cpu_seconds(blc.enumerate_descriptions, b, max_steps=cfg.blc_steps, max_work=200_000)
        for b in (16, 17, 18, 19)
    }
    growth = (secs[19] / secs[16]) ** (1 / 3)
    enum = secs[19] * growth ** (cfg.blc_bits - 19)
    d = [d for d in blc.enumerate_descriptions(14, max_steps=1000) if d.output is not None]
    E = blc.encode(blc.SELF_INTERPRETER)
    sample = d[:: max(1, len(d) // 40)]
    check = cpu_seconds(
        lambda: [
            blc.run(E + blc.encode(s.program) + s.data, max_steps=10**6, max_work=10**7)
            for s in sample
        ]
    )
    checks = check / len(sample) * cfg.interpreter_checks
    # (01)^(2^j) printed and checked for j <= repeat_run_max: growth per j measured at 11..13
    # (smaller runs take milliseconds, too few for a stable ratio)
    rep = {}
    for j in (11, 13):
        prog = blc.repetition_program("01", (blc.church(j), blc.church(2)))
        rep[j] = cpu_seconds(blc.run, blc.encode(prog), max_steps=10**7, max_work=10**8)
    per_j = (rep[13] / rep[11]) ** 0.5
    repeat = sum(rep[13] * per_j ** (j - 13) for j in range(1, cfg.repeat_run_max + 1))
    # the invariance theorem both ways: CL programs of cl_leaves leaves run through BLC, and
    # every (5 step)-th printing description through the CL simulation of BLC
    e_cl = blc.encode(combinators.cl_interpreter())
    c_blc = combinators.encode(combinators.to_combinators(blc.SELF_INTERPRETER))
    few = combinators.enumerate_terms(3)
    sim = cpu_seconds(
        lambda: [
            blc.run(e_cl + combinators.encode(t) + x, max_steps=10**5, max_work=10**6)
            for t in few
            for x in ("", "0", "1", "01", "110")
        ]
    )
    cl = sim / len(few) * len(combinators.enumerate_terms(cfg.cl_leaves))
    back = cpu_seconds(
        lambda: [
            combinators.run(c_blc + blc.encode(s.program) + s.data, max_steps=10**6, max_work=10**7)
            for s in sample[:10]
        ]
    )
    cl += back / 10 * cfg.interpreter_checks / 5
    return {
        f"CPU: (01)^(2^j) run for j <= {cfg.repeat_run_max}": repeat,
        f"CPU: CL and BLC simulating each other ({cfg.cl_leaves} leaves)": cl,
        f"CPU: BLC enumeration to {cfg.blc_bits} bits (×{growth:.2f} a bit)": enum,
        f"CPU: self-interpreter checks, {cfg.interpreter_checks}": checks,
        f"CPU: 5 compressors on {cfg.n_random} random strings": random_part,
        "CPU: x∘x window sweep and the pairs, 5 compressors": windows + pairs,
    }


def chapter4(cfg) -> dict:
    from lib import compressors, conditional, ctw, data, prequential

    x = text_sample(4000)
    ctw_s = sum(cpu_seconds(ctw.code_lengths, x, d) / len(x) for d in cfg.ctw_depths)
    n_pairs = 7  # the pairs of section 2 (x, y)
    ctw_part = ctw_s * n_pairs * 2 * 2 * cfg.pair_bytes  # both orders, |x∘y| = 2 n
    gpt = prequential.PrequentialConfig()
    gpt_part = 2 * len(cfg.gpt_pairs) * prequential_seconds(2 * cfg.pair_bytes, gpt)
    gpt_part += prequential_seconds(cfg.pair_bytes, gpt)
    gpt_part += prequential_seconds(2 * cfg.pair_bytes, gpt)
    # NCD and class-conditional codes on MNIST-like images: digits blown up to 28×28 bytes
    pics = mnist_like(10 + cfg.ncd_train // 10)
    refs = pics[10:50]
    pair = cpu_seconds(lambda: [compressors.size_bits(pics[0] + r, "zlib") for r in refs])
    ncd_pairs = 2 * cfg.ncd_test * cfg.ncd_train  # the two image tasks
    ncd = pair / len(refs) * ncd_pairs
    dataset = b"".join(pics[10:])  # one class's training images
    per_query = 0.0
    for name in ("zlib", "zstd"):
        code = conditional.ClassCode(dataset, name)
        per_query += cpu_seconds(lambda c=code: [c.bits(q) for q in pics[:10]]) / 10
    classes = 2 * cfg.ncd_test * 10 * per_query  # two tasks, ten classes
    chunks, topic, _ = conditional.topic_chunks(data.text(), cfg.n_topics, cfg.chunk_bytes)
    extra = [c for c in cfg.class_compressors if c not in ("zlib", "zstd", "bz2")]
    text_set = b"".join(chunks[: len(chunks) // (2 * cfg.n_topics)])
    lz = 0.0
    for name in extra:
        code = conditional.ClassCode(text_set, name)
        lz += cpu_seconds(lambda c=code: [c.bits(q) for q in chunks[:5]]) / 5
    lz *= len(chunks) // 2 * cfg.n_topics
    return {
        f"CPU: NCD k-NN, {ncd_pairs / 1e6:.1f} M zlib calls": ncd,
        "CPU: class-conditional codes of the image tasks (zlib, zstd)": classes,
        f"CPU: class-conditional codes of the text task ({', '.join(extra)})": lz,
        f"CPU: CTW, depths {cfg.ctw_depths}, {n_pairs} pairs both orders": ctw_part,
        f"GPU: prequential GPT, {len(cfg.gpt_pairs)} pairs both orders": gpt_part,
    }


def mnist_like(n: int) -> list[bytes]:
    """``n`` 28×28 byte images shaped like MNIST's: sklearn's digits blown up 3×, padded."""
    from lib import data

    images, _ = data.digits()
    out = []
    for i in range(n):
        big = np.kron(images[i % len(images)], np.ones((3, 3), np.uint8)) * 15
        out.append(np.pad(big, 2).astype(np.uint8).tobytes())
    return out


def chapter5(cfg) -> dict:
    from lib import coding, context_mixing, ngram, prequential

    cm_x = text_sample(20_000)
    blob = context_mixing.compress(cm_x)
    cm = cpu_seconds(context_mixing.compress, cm_x) + cpu_seconds(context_mixing.decompress, blob)
    cm_part = cm / len(cm_x) * (cfg.cm_bytes + 2 * cfg.cli_bytes)
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.full(16, 0.3), size=20_000)
    sym = probs.argmax(1)
    payload = coding.encode(sym, probs)
    coder = (
        cpu_seconds(coding.encode, sym, probs)
        + cpu_seconds(coding.decode, payload, probs)
        + cpu_seconds(lambda: [coding.huffman_lengths(p) for p in probs])
    )
    coder_part = coder / len(sym) * cfg.coder_symbols
    x = text_sample(10_000)
    models = [ngram.KT(k) for k in range(5)]
    ng = cpu_seconds(ngram.run, x, models) + cpu_seconds(ngram.geometric_mixture_bits, x, models)
    ng_part = ng / len(x) * cfg.ngram_bytes
    ng_preq = cpu_seconds(prequential.compress, x, prequential.PrequentialConfig(model="ngram"))
    ng_part += ng_preq / len(x) * cfg.n_bytes
    big = prequential.PrequentialConfig(n_embd=cfg.d_big, batch_size=cfg.batch)
    little = dataclasses.replace(big, n_embd=cfg.d_little)
    gpt = 2 * prequential_seconds(cfg.n_bytes, big, coded=True)
    gpt += prequential_seconds(cfg.n_bytes, little) + prequential_seconds(2000, big)
    return {
        f"CPU: context mixing, {cfg.cm_bytes / 1e6:.1f} MB both ways + the CLI": cm_part,
        f"GPU: prequential GPT (d={cfg.d_big} both ways, d={cfg.d_little})": gpt,
        "CPU: arithmetic coder and Huffman": coder_part,
        "CPU: n-gram mixtures": ng_part,
    }


def chapter6(cfg) -> dict:
    from lib import context_mixing, memory_tasks, prequential
    from lib.models import GPT, GPTConfig, RecurrentLM, RNNConfig

    cm_x = text_sample(10_000)
    cm = cpu_seconds(context_mixing.code_lengths, cm_x) / len(cm_x)
    n_xy = cfg.x_letters + cfg.y_letters
    cm_part = cm * (cfg.y_letters + 2 * n_xy)
    gpt = 0.0
    for width, layers in cfg.cipher_sizes:
        pcfg = prequential.PrequentialConfig(n_embd=width, n_layer=layers, lanes=cfg.lanes)
        gpt += prequential_seconds(cfg.y_letters, pcfg) + 3 * prequential_seconds(n_xy, pcfg)
    for width, layers in cfg.hmm_sizes:
        pcfg = prequential.PrequentialConfig(n_embd=width, n_layer=layers, lanes=cfg.lanes)
        gpt += prequential_seconds(cfg.hmm_symbols, pcfg)
    width, layers = cfg.chain_size
    pcfg = prequential.PrequentialConfig(n_embd=width, n_layer=layers, lanes=cfg.lanes)
    gpt += prequential_seconds(cfg.chain_symbols, pcfg)
    V, k = 8, cfg.copy_length
    train, mask = memory_tasks.copy_task(64, k, V, torch.Generator().manual_seed(0))
    copy = 0.0
    for h in cfg.rnn_hidden:
        rnn = RecurrentLM(RNNConfig(vocab_size=V + 2, hidden=h))
        net = GPT(memory_tasks.matched_gpt(rnn.n_params(), V + 2, 2 * k + 1))
        for model in (rnn, net):
            copy += sgd_step_seconds(model, train, V + 1, mask) * cfg.copy_examples / 32
    T = 32
    net = GPT(GPTConfig(vocab_size=V + 1, block_size=T, n_layer=1, n_embd=cfg.order_width))
    d = torch.randint(0, V, (64, T))
    order = sgd_step_seconds(net, d, V) * 3 * cfg.order_seeds * 2 * cfg.order_examples / 32
    return {
        "GPU: prequential transformers (cipher, HMM, chain)": gpt,
        "GPU: copy task, GRUs and transformers": copy,
        f"GPU: order of the data, 3 orders × {cfg.order_seeds} seeds": order,
        "CPU: context mixing on the cipher pairs": cm_part,
    }


def chapter7(cfg) -> dict:
    total, parts = bench_igpt.plan_flops(bench_igpt.chapter_settings("full"))
    return {
        f"GPU: {k} (counted FLOPs at {bench_igpt.T4_FLOPS / 1e12:.1f} TFLOP/s)": v
        / bench_igpt.T4_FLOPS
        for k, v in parts.items()
        if k != "large AR step"
    }


ESTIMATES = {
    "01_pac_bound": chapter1,
    "02_distribution_matching": chapter2,
    "03_kolmogorov": chapter3,
    "04_chain_rule": chapter4,
    "05_mdl": chapter5,
    "06_neural_compressors": chapter6,
    "07_igpt": chapter7,
}


def estimate(stem: str, settings: dict | None = None) -> tuple[float, dict]:
    """Full-scale T4 seconds of chapter ``stem`` and its parts (``settings`` override the cell)."""
    cfg = chapter_settings(stem)
    if settings:
        cfg = SimpleNamespace(**(vars(cfg) | settings))
    parts = ESTIMATES[stem](cfg)
    rest, how = small_scale_seconds(stem)
    parts[f"the rest: {how}"] = rest
    return sum(parts.values()), parts


def update(stems: list[str]) -> None:
    """Re-estimate only ``stems`` and replace their rows in results/fullscale.json."""
    path = HERE / "results" / "fullscale.json"
    record = json.loads(path.read_text())
    fresh = {r["name"]: r for r in run("full", stems)}
    record["rows"] = [fresh.get(r["name"], r) for r in record["rows"]]
    path.write_text(json.dumps(record, indent=1))


def run(scale: str, stems=None) -> list[dict]:
    rows = []
    for stem in stems or ESTIMATES:
        try:
            with torch.random.fork_rng(devices=[]):
                torch.set_num_threads(1)
                seconds, parts = estimate(stem)
        except Exception as e:  # an estimate that fails is reported, not hidden
            rows.append(
                row(
                    f"chapter {stem} full scale, T4 estimate",
                    math.nan,
                    BUDGET_S,
                    "s",
                    goal="ratio <= 1",
                    met=False,
                    note=f"failed: {type(e).__name__}: {e}",
                )
            )
            continue
        top = sorted(parts.items(), key=lambda kv: -kv[1])
        note = "; ".join(f"{k} {v:.0f} s" for k, v in top)
        rows.append(
            row(
                f"chapter {stem} full scale, T4 estimate",
                seconds,
                BUDGET_S,
                "s",
                goal="ratio <= 1",
                met=seconds <= BUDGET_S,
                note=note,
            )
            | {"parts": parts}
        )
    return rows
