import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import images
from lib.models import GPT, GPTConfig


@given(st.integers(2, 32), st.lists(st.integers(0, 255), min_size=1, max_size=50))
@settings(max_examples=50, deadline=None)
def test_quantize_round_trip(levels, values):
    x = torch.tensor(values, dtype=torch.float64)
    q = images.quantize(x, levels, 255.0)
    assert q.min() >= 0 and q.max() < levels
    back = images.dequantize(q, levels, 255.0)
    assert torch.equal(images.quantize(back, levels, 255.0), q)  # symbols survive the round trip
    assert (back - x).abs().max() <= 255.0 / levels / 2 + 1e-9  # a value moves at most half a bin


def test_quantize_is_monotone_and_uses_every_level():
    q = images.quantize(torch.arange(17), 4, 16.0)
    assert torch.all(q[1:] >= q[:-1]) and set(q.tolist()) == {0, 1, 2, 3}


def test_placed_digits_shapes_determinism_and_labels():
    digits = np.zeros((3, 8, 8), np.uint8)
    for k in range(3):
        digits[k, 2, 1 : k + 3] = 16  # digit k: a bright stroke of k + 2 pixels
    labels = np.array([5, 6, 7])
    x, y = images.placed_digits(
        digits, labels, 200, canvas=12, levels=4, generator=torch.Generator().manual_seed(3)
    )
    x2, y2 = images.placed_digits(
        digits, labels, 200, canvas=12, levels=4, generator=torch.Generator().manual_seed(3)
    )
    assert x.shape == (200, 12, 12) and y.shape == (200,)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    assert x.min() >= 0 and x.max() == 3 and set(y.tolist()) == {5, 6, 7}
    for img, label in zip(x, y, strict=True):
        ink = img.nonzero()
        assert len(ink) == label - 5 + 2  # the stroke's length names the digit: labels match
        assert 2 <= ink[0, 0] <= 2 + 4 and 1 <= ink[0, 1] <= 1 + 4  # offset in 0..canvas-8
    offsets = {tuple(img.nonzero()[0].tolist()) for img in x}
    assert len(offsets) > 10  # the digits really move around


def test_kmeans_palette_finds_toy_colours():
    centres = torch.tensor([[0.0, 0, 0], [255, 0, 0], [0, 0, 255], [255, 255, 255]])
    g = torch.Generator().manual_seed(0)
    pixels = centres.repeat_interleave(100, 0) + torch.randn(400, 3, generator=g)
    palette = images.kmeans_palette(pixels, 4, generator=torch.Generator().manual_seed(1))
    assert torch.cdist(centres, palette).min(dim=1).values.max() < 1.0
    symbols = images.to_palette(pixels.view(20, 20, 3), palette)
    assert symbols.shape == (20, 20)
    back = images.from_palette(symbols, palette).view(400, 3)
    assert (back - pixels).abs().max() < 5.0


def test_losses_samples_and_training():
    torch.manual_seed(0)
    x = torch.randint(0, 3, (8, 6))
    ar = GPT(GPTConfig(vocab_size=4, block_size=6, n_layer=1, n_head=1, n_embd=8))
    first = images.bits_per_dim(ar, x)
    assert abs(first - np.log2(3)) < 0.2  # an untrained model is about uniform over 3 values
    losses, checkpoints = images.train(
        ar, "next", x, steps=30, batch_size=8, lr=1e-2, checkpoint_every=10
    )
    assert [s for s, _ in checkpoints] == [0, 10, 20, 30]
    assert images.bits_per_dim(ar, x) < first
    assert images.bits_per_dim(checkpoints[0][1], x) == pytest.approx(first)
    out = images.complete(ar, x[:2, :3], 6, generator=torch.Generator().manual_seed(0))
    assert out.shape == (2, 6) and torch.equal(out[:, :3], x[:2, :3]) and out.max() < 3
    assert images.sample(ar, 3, 6, device=torch.device("cpu")).shape == (3, 6)
    bert = GPT(GPTConfig(vocab_size=3, block_size=6, n_layer=1, n_head=1, n_embd=8, causal=False))
    losses, _ = images.train(bert, "masked", x, steps=5, batch_size=8, mask_rate=0.5)
    assert len(losses) == 5 and all(np.isfinite(losses))


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="levels"):
        images.quantize(torch.ones(2), 1, 1.0)
    with pytest.raises(ValueError, match="x must lie"):
        images.quantize(torch.tensor([2.0]), 4, 1.0)
    with pytest.raises(ValueError, match="q must lie"):
        images.dequantize(torch.tensor([4]), 4, 1.0)
    with pytest.raises(ValueError, match="k must be"):
        images.kmeans_palette(torch.zeros(3, 3), 5)
    with pytest.raises(ValueError, match="pixels"):
        images.kmeans_palette(torch.zeros(3, 2), 1)
    with pytest.raises(ValueError, match="canvas"):
        images.placed_digits(np.zeros((1, 8, 8)), [0], 1, canvas=6)
    with pytest.raises(ValueError, match="rate"):
        images.mask_pixels(torch.zeros(2, 2, dtype=torch.long), 3, rate=1.5)
    ar = GPT(GPTConfig(vocab_size=4, block_size=6, n_layer=1, n_head=1, n_embd=8))
    bert = GPT(GPTConfig(vocab_size=3, block_size=6, n_layer=1, n_head=1, n_embd=8, causal=False))
    x = torch.zeros(2, 6, dtype=torch.long)
    with pytest.raises(ValueError, match="objective"):
        images.train(ar, "guess", x, 1, 1)
    with pytest.raises(ValueError, match="causal"):
        images.train(bert, "next", x, 1, 1)
    with pytest.raises(ValueError, match="bidirectional"):
        images.train(ar, "masked", x, 1, 1)
    with pytest.raises(ValueError, match="block_size"):
        images.complete(ar, x, 7)


def test_pixel_data_digits():
    d = images.pixel_data("digits", 50, 30, 20, canvas=10, levels=3, seed=1)
    assert d.unlabelled.shape == (50, 100) and d.train_x.shape == (30, 10, 10)
    assert d.test_x.shape == (20, 10, 10) and d.shape == (10, 10) and d.n_symbols == 3
    assert d.unlabelled.max() <= 2 and d.train_y.max() <= 9
    pic = d.picture(d.train_x[:4])
    assert pic.shape == (4, 10, 10) and pic.min() >= 0 and pic.max() <= 1
    again = images.pixel_data("digits", 50, 30, 20, canvas=10, levels=3, seed=1)
    assert torch.equal(d.test_x, again.test_x)
    with pytest.raises(ValueError, match="name"):
        images.pixel_data("imagenet", 1, 1, 1)


def test_model_inputs_shift_for_the_causal_model_only():
    x = torch.tensor([[1, 2, 0]])
    ar = GPT(GPTConfig(vocab_size=4, block_size=3, n_layer=1, n_head=1, n_embd=8))
    bert = GPT(GPTConfig(vocab_size=3, block_size=3, n_layer=1, n_head=1, n_embd=8, causal=False))
    assert images.model_inputs(ar, x).tolist() == [[3, 1, 2]]
    assert torch.equal(images.model_inputs(bert, x), x)


def test_fine_tune_learns_labels_and_leaves_the_pretrained_model_alone():
    torch.manual_seed(0)
    m = GPT(GPTConfig(vocab_size=3, block_size=6, n_layer=1, n_head=1, n_embd=16))
    before = [p.detach().clone() for p in m.parameters()]
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 2, (200, 6), generator=g)
    y = x[:, 0]  # the label is the first pixel: learnable by fine-tuning
    clf = images.fine_tune(m, x, y, 2, steps=150, batch_size=32, lr=3e-3, generator=g)
    assert images.classifier_accuracy(clf, x, y) > 0.95  # catches a head that does not learn
    assert all(torch.equal(a, b) for a, b in zip(before, m.parameters(), strict=True))
    with pytest.raises(ValueError, match="one label"):
        images.fine_tune(m, x, y[:3], 2, steps=1, batch_size=1)


def test_features_and_bits_is_one_pass_of_the_two_measurements():
    from lib import probe

    torch.manual_seed(0)
    ar = GPT(GPTConfig(vocab_size=4, block_size=6, n_layer=2, n_head=1, n_embd=8))
    x = torch.randint(0, 3, (9, 6))
    feats, bits = images.features_and_bits(ar, x, batch_size=4)
    want = probe.layer_features(ar, images.model_inputs(ar, x))
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(feats, want, strict=True))
    assert bits == pytest.approx(images.bits_per_dim(ar, x), rel=1e-6)
    bert = GPT(GPTConfig(vocab_size=3, block_size=6, n_layer=1, n_head=1, n_embd=8, causal=False))
    assert images.features_and_bits(bert, x)[1] is None  # no bits/dim for a masked model


def test_classifier_started_from_a_probe_is_that_probe():
    # fine-tuning from the probe starts at the probe: same predictions at step 0, at a middle
    # layer (catches a head that reads another layer or forgets the whitening)
    from lib import probe

    torch.manual_seed(0)
    m = GPT(GPTConfig(vocab_size=3, block_size=6, n_layer=2, n_head=1, n_embd=8))
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 2, (120, 6), generator=g)
    y = x[:, 0] + x[:, 1]
    feats = probe.layer_features(m, images.model_inputs(m, x))
    head = probe.linear_head(feats[1], y, 3, l2=1e-3)
    clf = images.Classifier(m, 3, layer=1, head=head).eval()
    probe_logits = (feats[1].double() - head.mean) @ head.A @ head.W + head.b
    with torch.no_grad():
        assert torch.equal(clf(x).argmax(1), probe_logits.argmax(1))
    tuned = images.fine_tune(m, x, y, 3, steps=5, batch_size=16, lr=1e-3, layer=1, head=head)
    assert tuned.layer == 1 and 0 <= images.classifier_accuracy(tuned, x, y) <= 1
