"""Learning from a stream of examples, one pass, coding each before learning it (chapter 6).

The prequential code of chapter 5, with *examples* (short sequences) as the unit: the learner
sees examples in a given order, in batches; each batch is first coded with the current model and
then trained on, so the total is a code length of the whole data set,

    L_order(D) = sum_b sum_{i in batch b} -log2 q_{theta_b}(x^(i)),
    theta_{b+1} = one Adam step from theta_b on batch b,

(the parameters are never sent: the receiver re-runs the training). Two learners:

- ``sgd_code``: any network with ``model(idx) -> logits`` (``lib.models.GPT`` or
  ``RecurrentLM``) trained by Adam, one step per batch. The code length depends on the *order*
  of the examples, and so does the final model: SGD is a path, not a posterior.
- ``kt_code``: the Krichevsky–Trofimov learner of ``lib.ngram`` (order ``k``, contexts reset at
  the start of every example). Its probability of the data is a product of Dirichlet integrals,
  one per context, that depends only on the counts (chapter 4's symmetry), so ``L_order(D)`` is
  the same for every order of the examples: an *exchangeable* learner.

Examples are rows of an int tensor ``N×T`` over symbols ``0..V-1``; the network reads
``[BOS, x_0, ..., x_{T-2}]`` with ``BOS = V`` (so its vocabulary is ``V + 1``) and predicts
``x_0 .. x_{T-1}``; only positions where ``mask`` is true are counted (and trained on).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from lib import ngram, runtime


def _check_examples(examples, alphabet: int) -> torch.Tensor:
    if (
        not isinstance(examples, torch.Tensor)
        or examples.dim() != 2
        or examples.dtype != torch.long
    ):
        raise TypeError("examples must be an N×T tensor of dtype torch.long")
    if examples.numel() and (examples.min() < 0 or examples.max() >= alphabet):
        raise ValueError(f"examples must hold symbols in 0..{alphabet - 1}")
    return examples


def _check_mask(mask, T: int) -> torch.Tensor:
    if mask is None:
        return torch.ones(T, dtype=torch.bool)
    mask = torch.as_tensor(mask, dtype=torch.bool)
    if mask.shape != (T,) or not mask.any():
        raise ValueError(f"mask must be a bool vector of length {T} with at least one True")
    return mask


def example_bits(model, examples: torch.Tensor, alphabet: int, mask=None) -> torch.Tensor:
    """``-log2 q(x^(i))`` (bits, summed over the masked positions) of every example, with the
    softmax over the ``alphabet`` real symbols (the model never has to predict BOS)."""
    mask = _check_mask(mask, examples.shape[1])
    device = next(model.parameters()).device
    x = examples.to(device)
    bos = torch.full((len(x), 1), alphabet, dtype=torch.long, device=device)
    logits = model(torch.cat([bos, x[:, :-1]], dim=1))[..., :alphabet]
    nll = F.cross_entropy(logits.transpose(1, 2), x, reduction="none")  # nats, N×T
    return nll[:, mask.to(device)].sum(1) / math.log(2)


def sgd_code(
    model,
    examples: torch.Tensor,
    alphabet: int,
    batch_size: int = 32,
    lr: float = 3e-3,
    mask=None,
    threads: int = 1,
    progress: bool = True,
) -> np.ndarray:
    """One pass of Adam over ``examples`` in their order: each batch coded, then one step on it.

    Returns the per-example code lengths (bits, over the masked positions); ``model`` is left
    trained (for held-out losses or a look at its weights). ``L_order(D)`` is their sum.
    ``progress``: a bar over the batches (shown unless ``BOOK_PROGRESS=0``).
    """
    disable = not runtime.check_progress(progress)
    examples = _check_examples(examples, alphabet)
    mask = _check_mask(mask, examples.shape[1])
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if not 0 < lr < 1:
        raise ValueError(f"lr must be in (0, 1), got {lr!r}")
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    bits = np.zeros(len(examples))
    with runtime.threads(threads, next(model.parameters()).device):
        model.train()
        starts = range(0, len(examples), batch_size)
        for lo in runtime.progress(
            starts, desc="SGD code", unit="batch", leave=False, disable=disable
        ):
            b = example_bits(model, examples[lo : lo + batch_size], alphabet, mask)
            bits[lo : lo + len(b)] = b.detach().cpu().numpy()
            opt.zero_grad(set_to_none=True)
            (b.mean() / int(mask.sum())).backward()
            opt.step()
        model.eval()
    return bits


@torch.no_grad()
def heldout_bits(model, examples: torch.Tensor, alphabet: int, mask=None) -> float:
    """Mean bits per counted symbol of ``examples`` under the (trained) ``model``."""
    mask = _check_mask(mask, _check_examples(examples, alphabet).shape[1])
    model.eval()
    return float(example_bits(model, examples, alphabet, mask).mean()) / int(mask.sum())


def kt_code(examples: torch.Tensor, alphabet: int, order: int = 1) -> np.ndarray:
    """Per-example code lengths (bits) of ``ngram.KT(order)`` reading the examples in order,
    the context of every symbol taken within its own example (``order`` symbols back, fewer at
    the start). Exchangeable: the total is the same for every order of the examples."""
    examples = _check_examples(examples, alphabet)
    if alphabet > 256:
        raise ValueError("kt_code reads symbols as bytes: alphabet must be at most 256")
    model = ngram.KT(order)
    bits = np.zeros(len(examples))
    for i, row in enumerate(examples.numpy().astype(np.uint8)):
        data = row.tobytes()
        for t, s in enumerate(row):
            history = data[max(0, t - order) : t]
            bits[i] -= math.log2(model.predict(history)[s])
            model.update(history, int(s))
    return bits
