"""Images as sequences of symbols, and the two ways of learning from them (chapter 7).

iGPT (Chen et al., 2020) turns an image into a sequence of ``K`` symbols in raster order and trains
a transformer on it, either to predict the next pixel (autoregressive, like GPT) or to fill in
masked pixels (like BERT). This module holds, top to bottom:

1. pixels to symbols: grey levels ``quantize`` / ``dequantize``; colours through a k-means
   ``palette`` (``kmeans_palette``, ``to_palette``, ``from_palette``);
2. the data: ``placed_digits`` (small scale: 8×8 digits at random offsets on a larger canvas) and
   ``pixel_data`` (digits, MNIST or CIFAR-10 as symbol sequences, one code path for both scales);
3. the two objectives and their training loop: ``model_inputs``, ``next_pixel_loss`` (nats per
   pixel; divided by ``ln 2`` it is bits per dimension, ``bits_per_dim``), ``masked_pixel_loss``,
   ``train`` (checkpoints kept in memory; float16 autocast on a GPU); ``features_and_bits`` (probe
   features and bits/dim from one forward pass); ``fine_tune`` (a head on the pooled features
   of one layer, started from its probe, all weights below it trained with labels) and
   ``classifier_accuracy``;
4. ``sample`` and ``complete``: images drawn from the autoregressive model.

A causal model over ``K`` pixel values uses ``vocab_size = K + 1``: the extra symbol ``K`` is the
start-of-image token that stands before the first pixel. A masked model uses ``vocab_size = K``
and its own ``[MASK]`` symbol (``model.mask_id``).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from lib import kmeans, runtime


# ---------------------------------------------------------------- 1. pixels to symbols
def quantize(x, levels: int, max_value: float) -> torch.Tensor:
    """Grey values in ``[0, max_value]`` to symbols ``0..levels-1``.

    Equal-width bins, ``q = min(⌊levels·x / max_value⌋, levels - 1)``: the top value joins the
    top bin.
    """
    if levels < 2:
        raise ValueError(f"levels must be ≥ 2, got {levels}")
    if max_value <= 0:
        raise ValueError(f"max_value must be > 0, got {max_value}")
    x = torch.as_tensor(np.asarray(x), dtype=torch.float64)
    if x.numel() and (x.min() < 0 or x.max() > max_value):
        raise ValueError(f"x must lie in [0, {max_value}]")
    return torch.clamp((x * levels / max_value).floor(), max=levels - 1).long()


def dequantize(q: torch.Tensor, levels: int, max_value: float) -> torch.Tensor:
    """Symbols back to grey values: the centre of each bin, ``(q + ½)·max / levels``."""
    if levels < 2:
        raise ValueError(f"levels must be ≥ 2, got {levels}")
    q = torch.as_tensor(q)
    if q.numel() and (q.min() < 0 or q.max() >= levels):
        raise ValueError(f"q must lie in 0..{levels - 1}")
    return (q.double() + 0.5) * max_value / levels


def kmeans_palette(pixels: torch.Tensor, k: int, iters: int = 20, generator=None) -> torch.Tensor:
    """A colour palette of ``k`` RGB centres by k-means, as iGPT uses (``lib.kmeans``).

    ``pixels`` is ``N×3`` (any scale). Start from ``k`` distinct random pixels; then ``iters``
    Lloyd steps (a centre that loses all its pixels stays where it is). Returns ``k×3`` floats.
    """
    pixels = torch.as_tensor(pixels).float()
    if pixels.ndim != 2 or pixels.shape[1] != 3:
        raise ValueError(f"pixels must be N×3, got shape {tuple(pixels.shape)}")
    if not 1 <= k <= len(pixels):
        raise ValueError(f"k must be in 1..{len(pixels)} (the number of pixels), got {k}")
    if iters < 1:
        raise ValueError(f"iters must be ≥ 1, got {iters}")
    return kmeans.kmeans(pixels, k, iters, init="random", generator=generator)


def to_palette(images: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    """RGB images ``…×3`` to palette symbols ``…``: the index of the nearest palette colour."""
    images = torch.as_tensor(images).float()
    if images.shape[-1] != 3 or palette.ndim != 2 or palette.shape[1] != 3:
        raise ValueError("images must end in a colour axis of 3 and palette must be k×3")
    return kmeans.nearest(images.reshape(-1, 3), palette.float()).reshape(images.shape[:-1])


def from_palette(symbols: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    """Palette symbols back to RGB colours: ``palette[symbols]``."""
    return palette[symbols]


# ---------------------------------------------------------------- 2. the small-scale data
def placed_digits(images, labels, n: int, canvas: int = 12, levels: int = 4, generator=None):
    """``n`` images: each a random digit from ``images`` (uint8 N×h×w, values 0..16) quantized to
    ``levels`` grey levels and pasted at a uniformly random offset on a blank ``canvas×canvas``.

    Returns ``(x, y)``: long tensors ``n×canvas×canvas`` in ``0..levels-1`` and the ``n`` labels.
    With a fixed generator the draw is reproducible; unlimited images come from one pool of digits.
    """
    images = torch.as_tensor(np.asarray(images))
    labels = torch.as_tensor(np.asarray(labels))
    if images.ndim != 3 or len(images) != len(labels) or len(images) == 0:
        raise ValueError("images must be a non-empty N×h×w array with one label per image")
    h, w = images.shape[1:]
    if canvas < max(h, w):
        raise ValueError(f"canvas ({canvas}) must be at least the image size ({h}×{w})")
    if n < 1:
        raise ValueError(f"n must be ≥ 1, got {n}")
    g = generator or torch.Generator().manual_seed(0)
    pick = torch.randint(len(images), (n,), generator=g)
    dy = torch.randint(canvas - h + 1, (n,), generator=g)
    dx = torch.randint(canvas - w + 1, (n,), generator=g)
    q = quantize(images[pick], levels, 16.0)
    rows = (dy[:, None] + torch.arange(h))[:, :, None].expand(n, h, w)
    cols = (dx[:, None] + torch.arange(w))[:, None, :].expand(n, h, w)
    out = torch.zeros(n, canvas, canvas, dtype=torch.long)
    out[torch.arange(n)[:, None, None].expand(n, h, w), rows, cols] = q
    return out, labels[pick].long()


@dataclass
class PixelData:
    """A data set as symbols: ``unlabelled`` (N×T, raster order) for pretraining; labelled
    ``train_x``/``train_y`` for fitting probes and ``test_x``/``test_y`` (held out, also for
    bits/dim) for scoring them, images ``n×H×W``; ``n_symbols`` pixel values; ``palette`` (k×3,
    for colour) turns symbols back into a picture (``picture``)."""

    unlabelled: torch.Tensor
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    n_symbols: int
    palette: torch.Tensor | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.train_x.shape[1:3])

    def picture(self, symbols: torch.Tensor) -> np.ndarray:
        """Symbols (n×T or n×H×W) as images for ``plots.image_grid``: grey in [0, 1] or RGB."""
        x = symbols.detach().cpu().reshape(-1, *self.shape)
        if self.palette is None:
            return (x.double() / (self.n_symbols - 1)).numpy()
        return (from_palette(x, self.palette.cpu()) / 255.0).clamp(0, 1).numpy()


def _colour_symbols(xtr, xte, resolution, palette_size, g):
    """RGB images (N×H×W×3) shrunk to ``resolution``² and mapped to a k-means palette."""

    def shrink(x):
        x = F.adaptive_avg_pool2d(x.permute(0, 3, 1, 2).float(), resolution)
        return x.permute(0, 2, 3, 1).to(runtime.device())

    xtr, xte = shrink(xtr), shrink(xte)
    pixels = xtr.reshape(-1, 3)
    some = pixels[torch.randperm(len(pixels), generator=g)[:200_000].to(pixels.device)]
    palette = kmeans_palette(some, palette_size, generator=g)
    return to_palette(xtr, palette).cpu(), to_palette(xte, palette).cpu(), palette


def pixel_data(
    name: str,
    n_unlabelled: int,
    n_train: int,
    n_test: int,
    canvas: int = 12,
    levels: int = 4,
    palette_size: int = 16,
    resolution: int = 32,
    seed: int = 0,
) -> PixelData:
    """The chapter's data at either scale, on the book's device.

    - ``"digits"`` (small scale): ``placed_digits`` on a ``canvas``; the 1,797 digits are split
      2:1 *by original image*, so probe-test images show digits never seen in any training set;
      ``n_unlabelled`` fresh placements of the training digits serve for pretraining.
    - ``"mnist"``: 28×28 grey images quantized to ``levels``; pretraining on the training split.
    - ``"cifar10"``: images average-pooled to ``resolution``², colours mapped to a k-means
      ``palette`` of ``palette_size`` colours fitted on training pixels (iGPT uses 512).
    """
    from lib import data

    g = torch.Generator().manual_seed(seed)
    palette = None
    if name == "digits":
        images, labels = data.digits()
        order = torch.randperm(len(images), generator=g).numpy()
        cut = 2 * len(images) // 3
        tr, te = order[:cut], order[cut:]
        unlabelled, _ = placed_digits(images[tr], labels[tr], n_unlabelled, canvas, levels, g)
        train_x, train_y = placed_digits(images[tr], labels[tr], n_train, canvas, levels, g)
        test_x, test_y = placed_digits(images[te], labels[te], n_test, canvas, levels, g)
        n_symbols = levels
    elif name in ("mnist", "cifar10"):
        load = data.mnist if name == "mnist" else data.cifar10
        (xtr, ytr), (xte, yte) = load("train"), load("test")
        xtr, xte = torch.as_tensor(xtr), torch.as_tensor(xte)
        ytr, yte = torch.as_tensor(ytr), torch.as_tensor(yte)
        if name == "mnist":
            xtr, xte = quantize(xtr, levels, 255.0), quantize(xte, levels, 255.0)
            n_symbols = levels
        else:
            xtr, xte, palette = _colour_symbols(xtr, xte, resolution, palette_size, g)
            n_symbols = palette_size
        unlabelled = xtr[torch.randperm(len(xtr), generator=g)[:n_unlabelled]]
        i = torch.randperm(len(xtr), generator=g)[:n_train]
        j = torch.randperm(len(xte), generator=g)[:n_test]
        train_x, train_y, test_x, test_y = xtr[i], ytr[i], xte[j], yte[j]
    else:
        raise ValueError(f"name must be 'digits', 'mnist' or 'cifar10', got {name!r}")
    dev = runtime.device()
    return PixelData(
        unlabelled.reshape(len(unlabelled), -1).to(dev),
        train_x.to(dev),
        train_y.to(dev),
        test_x.to(dev),
        test_y.to(dev),
        n_symbols,
        palette,
    )


# ---------------------------------------------------------------- 3. the two objectives
def model_inputs(model, x: torch.Tensor) -> torch.Tensor:
    """What a model reads for images ``x`` (N×T symbols): a causal model reads the start token
    ``K`` then ``x_1..x_{T-1}`` (position t predicts ``x_t``); a masked model reads ``x`` itself."""
    if not model.config.causal:
        return x
    start = torch.full_like(x[:, :1], model.config.vocab_size - 1)
    return torch.cat([start, x[:, :-1]], dim=1)


def next_pixel_loss(model, x: torch.Tensor) -> torch.Tensor:
    """Mean negative log-likelihood in nats per pixel of ``x`` (B×T symbols in ``0..K-1``) under
    the causal model: ``-(1/BT) Σ_b Σ_t ln p(x_t | x_<t)``; divide by ``ln 2`` for bits/dim.

    The input is the start token ``K`` followed by ``x_1..x_{T-1}``; only the ``K`` pixel logits
    count, so the model's distribution is over pixel values alone.
    """
    k = model.config.vocab_size - 1
    logits = model(model_inputs(model, x))[..., :k]
    return F.cross_entropy(logits.reshape(-1, k), x.reshape(-1))


def mask_pixels(x: torch.Tensor, mask_id: int, rate: float = 0.15, generator=None):
    """Replace a random ``rate`` of the pixels by ``mask_id``: returns ``(corrupted, where)``."""
    if not 0 < rate < 1:
        raise ValueError(f"rate must be in (0, 1), got {rate}")
    where = torch.rand(x.shape, generator=generator, device=x.device) < rate
    return torch.where(where, torch.full_like(x, mask_id), x), where


def masked_pixel_loss(model, x: torch.Tensor, rate: float = 0.15, generator=None) -> torch.Tensor:
    """BERT on pixels: mean ``-ln p(x_t | x_unmasked)`` in nats over the masked positions."""
    corrupted, where = mask_pixels(x, model.mask_id, rate, generator)
    logits = model(corrupted)
    return F.cross_entropy(logits[where], x[where])


@torch.no_grad()
def bits_per_dim(model, x: torch.Tensor, batch_size: int = 512) -> float:
    """Held-out bits per dimension of a causal model: ``-(1/NT) Σ log₂ p(x_t | x_<t)``."""
    model.eval()
    total = sum(next_pixel_loss(model, b).item() * len(b) for b in x.split(batch_size))
    return total / len(x) / math.log(2)


@torch.no_grad()
def features_and_bits(model, x: torch.Tensor, batch_size: int = 256):
    """One forward pass over images ``x`` (N×T symbols) for two measurements: the pooled
    features of every layer (``lib.probe.layer_features``) and, for a causal model, the
    bits per dimension of ``x`` (``bits_per_dim``; ``None`` for a masked model).
    On a GPU the pass runs under ``mixed_precision``; features and losses are float32."""
    from lib import probe

    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"x must be a non-empty N×T tensor, got shape {tuple(x.shape)}")
    model.eval()
    per_batch, nats = [], 0.0
    k = model.config.vocab_size - 1
    for chunk in x.split(batch_size):
        with mixed_precision(x.device):
            logits, hidden = model(model_inputs(model, chunk), return_hidden=True)
        per_batch.append([probe.pool(h) for h in hidden])
        if model.config.causal:
            flat = logits[..., :k].float().reshape(-1, k)
            nats += F.cross_entropy(flat, chunk.reshape(-1), reduction="sum").item()
    feats = [torch.cat(layer) for layer in zip(*per_batch, strict=True)]
    bits = nats / x.numel() / math.log(2) if model.config.causal else None
    return feats, bits


def _optimiser(model, steps: int, lr: float):
    """AdamW with a linear warm-up over the first 5% of steps, then a cosine decay to 0."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95), weight_decay=0.01)
    warm = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, 0.5 * (1 + math.cos(math.pi * min(s / steps, 1.0))))
    )
    return opt, schedule


def mixed_precision(device) -> torch.autocast:
    """Autocast to float16 on a CUDA device (tensor cores: a T4 runs float16 matrix products
    about eight times faster than float32); a no-op on the CPU, where the numbers stay float32."""
    cuda = torch.device(device).type == "cuda"
    return torch.autocast("cuda" if cuda else "cpu", dtype=torch.float16, enabled=cuda)


def _step(model, loss, opt, schedule, scaler) -> float:
    """One optimiser step: scaled backward (float16 gradients need it), clipping, AdamW."""
    opt.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.unscale_(opt)
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    scaler.step(opt)
    scaler.update()
    schedule.step()
    return loss.item()


def _scaler(device):
    cuda = torch.device(device).type == "cuda"
    return torch.amp.GradScaler("cuda" if cuda else "cpu", enabled=cuda)


def train(
    model,
    objective: str,
    data: torch.Tensor,
    steps: int,
    batch_size: int,
    lr: float = 3e-3,
    checkpoint_every: int = 0,
    mask_rate: float = 0.15,
    generator=None,
    progress: bool = True,
):
    """Train ``model`` by AdamW on batches drawn from ``data`` (N×T symbols, on the model's device).

    ``objective`` is ``"next"`` (next-pixel prediction) or ``"masked"`` (masked-pixel, BERT).
    The learning rate warms up linearly over the first 5% of steps, then decays to 0 (cosine).
    On a GPU the forward pass runs in float16 (``mixed_precision``) with a gradient scaler.
    Returns ``(losses, checkpoints)``: the training loss of every step and, every
    ``checkpoint_every`` steps, ``(step, copy of the model)`` kept in memory (step 0 included).
    ``progress``: a bar over the steps (shown unless ``BOOK_PROGRESS=0``).
    """
    disable = not runtime.check_progress(progress)
    if objective not in ("next", "masked"):
        raise ValueError(f"objective must be 'next' or 'masked', got {objective!r}")
    if steps < 1 or batch_size < 1:
        raise ValueError("steps and batch_size must be ≥ 1")
    if objective == "next" and not model.config.causal:
        raise ValueError("next-pixel prediction needs a causal model")
    if objective == "masked" and model.config.causal:
        raise ValueError("masked-pixel prediction needs a bidirectional model (causal=False)")
    g = generator or runtime.generator(0, data.device)
    opt, schedule = _optimiser(model, steps, lr)
    scaler = _scaler(data.device)
    losses, checkpoints = [], []
    bar = runtime.progress(
        range(steps), desc=f"pretraining ({objective})", leave=False, disable=disable
    )
    for step in bar:
        if checkpoint_every and step % checkpoint_every == 0:
            checkpoints.append((step, copy.deepcopy(model).eval()))
        model.train()
        batch = data[torch.randint(len(data), (batch_size,), generator=g, device=data.device)]
        with mixed_precision(data.device):
            if objective == "next":
                loss = next_pixel_loss(model, batch)
            else:
                loss = masked_pixel_loss(model, batch, mask_rate, g)
        losses.append(_step(model, loss, opt, schedule, scaler))
    if checkpoint_every:
        checkpoints.append((steps, copy.deepcopy(model).eval()))
    return losses, checkpoints


class Classifier(torch.nn.Module):
    """A pretrained network with a linear head on the pooled features of one layer ``l``, as
    iGPT fine-tunes (at its last layer): ``logits = (f^l − m) A W + b`` with
    ``f^l = mean_t LN(h^l_t)`` (``lib.probe.pool``). Only the embeddings and the first ``l``
    blocks take part. The whitening ``(m, A)`` is fixed (identity without a ``head``) and, like the
    head, runs in float32 even under autocast; ``W, b``
    start from ``head`` (a fitted probe, ``lib.probe.linear_head``) or from zero."""

    def __init__(self, body, n_classes: int, layer: int | None = None, head=None):
        super().__init__()
        self.body = body
        self.layer = body.config.n_layer if layer is None else layer
        d = body.config.n_embd
        self.head = torch.nn.Linear(d, n_classes)
        mean, A = torch.zeros(d), torch.eye(d)
        with torch.no_grad():
            if head is None:
                self.head.weight.zero_()
                self.head.bias.zero_()
            else:
                if head.W.shape != (d, n_classes):
                    raise ValueError(f"head must map {d} features to {n_classes} classes")
                mean, A = head.mean.reshape(d), head.A
                self.head.weight.copy_(head.W.T)
                self.head.bias.copy_(head.b)
        self.register_buffer("mean", mean.float().clone())
        self.register_buffer("A", A.float().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from lib import probe

        f = probe.pool(self.body.hidden_after(model_inputs(self.body, x), self.layer))
        with torch.autocast(f.device.type, enabled=False):  # whitening needs float32:
            return self.head((f.float() - self.mean) @ self.A)  # its axes differ in scale


def fine_tune(
    model,
    x: torch.Tensor,
    y: torch.Tensor,
    n_classes: int,
    steps: int,
    batch_size: int,
    lr: float = 1e-3,
    layer: int | None = None,
    head=None,
    generator=None,
) -> Classifier:
    """Fine-tuning (iGPT's other evaluation): a copy of ``model`` with a ``Classifier`` head
    on ``layer`` (default: the last), started from ``head`` (a fitted probe) or zero, every
    weight below the head and the head itself trained on labelled images ``x`` (N×T symbols),
    labels ``y``, by AdamW on ``-(1/B) Σ ln softmax(logits)_y`` (warm-up, cosine decay, and
    float16 autocast on a GPU, as ``train``). The pretrained ``model`` is left untouched."""
    if len(x) != len(y) or len(x) == 0:
        raise ValueError("x and y must be non-empty with one label per image")
    if steps < 1 or batch_size < 1:
        raise ValueError("steps and batch_size must be ≥ 1")
    clf = Classifier(copy.deepcopy(model), n_classes, layer, head).to(x.device)
    g = generator or runtime.generator(0, x.device)
    opt, schedule = _optimiser(clf, steps, lr)
    scaler = _scaler(x.device)
    clf.train()
    for _ in range(steps):
        i = torch.randint(len(x), (batch_size,), generator=g, device=x.device)
        with mixed_precision(x.device):
            loss = F.cross_entropy(clf(x[i]).float(), y[i])
        _step(clf, loss, opt, schedule, scaler)
    return clf.eval()


@torch.no_grad()
def classifier_accuracy(clf: Classifier, x: torch.Tensor, y: torch.Tensor, batch_size=512):
    """Fraction of images ``x`` (N×T symbols) whose predicted class is ``y``."""
    clf.eval()
    with mixed_precision(x.device):
        right = sum(
            (clf(a).argmax(-1) == b).sum().item()
            for a, b in zip(x.split(batch_size), y.split(batch_size), strict=True)
        )
    return right / len(y)


# ---------------------------------------------------------------- 4. drawing images
@torch.no_grad()
def complete(model, prefix: torch.Tensor, length: int, temperature: float = 1.0, generator=None):
    """Extend each row of ``prefix`` (B×t pixel symbols, t may be 0) to ``length`` pixels by
    sampling ``x_s ~ p(x_s | x_<s)`` from the causal model one pixel at a time."""
    if length > model.config.block_size or prefix.shape[1] > length:
        raise ValueError("need prefix length ≤ length ≤ block_size")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    model.eval()
    k = model.config.vocab_size - 1
    start = torch.full((len(prefix), 1), k, dtype=torch.long, device=prefix.device)
    x = torch.cat([start, prefix.long()], dim=1)
    while x.shape[1] < length + 1:
        logits = model(x)[:, -1, :k] / temperature
        nxt = torch.multinomial(F.softmax(logits, dim=-1), 1, generator=generator)
        x = torch.cat([x, nxt], dim=1)
    return x[:, 1:]


def sample(model, n: int, length: int, temperature: float = 1.0, generator=None, device=None):
    """``n`` unconditional samples of ``length`` pixels from the causal model."""
    empty = torch.zeros(n, 0, dtype=torch.long, device=device or runtime.device())
    return complete(model, empty, length, temperature, generator)
