"""Small transformers in the style of minGPT: one config, one block, one model, nothing clever.

``GPT(config)`` is a causal (autoregressive) transformer over a vocabulary of ``vocab_size``
symbols; with ``causal=False`` the same network attends in both directions and serves as the
BERT-style masked model (its extra ``mask`` symbol is ``vocab_size``). Used in chapters 4, 5, 6, 7.

``GPT.extend`` is the incremental form of the causal model: it reads new positions against a
``KVCache`` of the keys and values of the positions already read, so predicting one symbol at a
time costs one position's work, not the whole context's. The prequential coder of chapter 5 runs
on it. Its attention is written out (matmul, mask, softmax, matmul) instead of calling
``scaled_dot_product_attention``: the same kernels on every device, with no backend choice that
could change the last bits of a float between the encoder and the decoder.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class GPTConfig:
    vocab_size: int = 256
    block_size: int = 128  # the longest context the model sees
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    causal: bool = True  # False: bidirectional attention (BERT-style), with a [MASK] symbol

    def __post_init__(self):
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be ≥ 1, got {getattr(self, name)}")
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be a multiple of n_head ({self.n_head})")


class SelfAttention(nn.Module):
    """Multi-head self-attention; causal (each position sees only the past) or bidirectional."""

    def __init__(self, c: GPTConfig):
        super().__init__()
        self.qkv = nn.Linear(c.n_embd, 3 * c.n_embd)
        self.proj = nn.Linear(c.n_embd, c.n_embd)
        self.n_head, self.causal, self.dropout = c.n_head, c.causal, c.dropout

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(
            q, k, v, is_causal=self.causal, dropout_p=self.dropout if self.training else 0.0
        )
        return self.proj(y.transpose(1, 2).reshape(B, T, C))

    def extend(self, x, keys, values, t: int):
        """Attention of the new positions ``t .. t+T-1`` (``x``: B×T×C) to all positions ``< t+T``.

        Writes their keys and values into ``keys``/``values`` (B×H×block_size×C/H) at ``t``,
        then computes ``softmax(q K^T / sqrt(C/H) + causal mask) V`` over positions ``0 .. t+T-1``.
        """
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (z.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for z in (q, k, v))
        keys[:, :, t : t + T], values[:, :, t : t + T] = k, v
        att = q @ keys[:, :, : t + T].transpose(-1, -2) / math.sqrt(C // self.n_head)
        if T > 1:  # position t+i sees positions <= t+i
            seen = torch.ones(T, t + T, dtype=torch.bool, device=x.device).tril(diagonal=t)
            att = att.masked_fill(~seen, float("-inf"))
        y = att.softmax(dim=-1) @ values[:, :, : t + T]
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


@dataclass
class KVCache:
    """The keys and values a causal ``GPT`` has computed for the positions it has read.

    ``keys[i]``/``values[i]`` belong to block ``i`` (B×H×block_size×C/H); positions
    ``0 .. length-1`` are filled. Made by ``GPT.new_cache``, advanced by ``GPT.extend``.
    """

    keys: list
    values: list
    length: int = 0


class Block(nn.Module):
    """Pre-norm transformer block: x + attention(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, c: GPTConfig):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(c.n_embd), nn.LayerNorm(c.n_embd)
        self.attn = SelfAttention(c)
        self.mlp = nn.Sequential(
            nn.Linear(c.n_embd, 4 * c.n_embd),
            nn.GELU(),
            nn.Linear(4 * c.n_embd, c.n_embd),
            nn.Dropout(c.dropout),
        )

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))

    def extend(self, x, keys, values, t: int):
        """``forward`` for new positions ``t ..`` against the cached keys and values."""
        x = x + self.attn.extend(self.ln1(x), keys, values, t)
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    """Token and position embeddings, ``n_layer`` blocks, a final norm and a linear head."""

    def __init__(self, c: GPTConfig):
        super().__init__()
        self.config = c
        n_in = c.vocab_size + (0 if c.causal else 1)  # the masked model has a [MASK] symbol
        self.tok = nn.Embedding(n_in, c.n_embd)
        self.pos = nn.Embedding(c.block_size, c.n_embd)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.n_layer))
        self.ln_f = nn.LayerNorm(c.n_embd)
        self.head = nn.Linear(c.n_embd, c.vocab_size, bias=False)
        self.apply(self._init)
        for name, p in self.named_parameters():  # GPT-2's scaled init of residual projections
            if name.endswith("proj.weight") or name.endswith("mlp.2.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * c.n_layer))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, idx, return_hidden: bool = False):
        """Logits ``B×T×V`` for input symbols ``idx`` (``B×T``, ``T ≤ block_size``).

        With ``return_hidden``, also the list of hidden states ``B×T×n_embd``: the embedding
        output and the output of every block (``n_layer + 1`` tensors), for linear probes.
        """
        B, T = idx.shape
        if T > self.config.block_size:
            raise ValueError(f"sequence length {T} exceeds block_size {self.config.block_size}")
        x = self.tok(idx) + self.pos(torch.arange(T, device=idx.device))
        hidden = [x]
        for block in self.blocks:
            x = block(x)
            hidden.append(x)
        logits = self.head(self.ln_f(x))
        return (logits, hidden) if return_hidden else logits

    def hidden_after(self, idx, n_blocks: int):
        """The hidden state ``B×T×n_embd`` after the embeddings and the first ``n_blocks``
        blocks (``hidden[n_blocks]`` of ``forward(idx, return_hidden=True)``), without running
        the blocks above: a classifier on a middle layer needs only the layers below it."""
        if not isinstance(n_blocks, int) or not 0 <= n_blocks <= self.config.n_layer:
            n = self.config.n_layer
            raise ValueError(f"n_blocks must be an int in 0..{n}, got {n_blocks!r}")
        B, T = idx.shape
        if T > self.config.block_size:
            raise ValueError(f"sequence length {T} exceeds block_size {self.config.block_size}")
        x = self.tok(idx) + self.pos(torch.arange(T, device=idx.device))
        for block in self.blocks[:n_blocks]:
            x = block(x)
        return x

    def new_cache(self, batch: int = 1) -> KVCache:
        """An empty ``KVCache`` for ``batch`` sequences (causal models only)."""
        c = self.config
        if not c.causal:
            raise ValueError("an incremental cache needs a causal model")
        if not isinstance(batch, int) or batch < 1:
            raise ValueError(f"batch must be a positive int, got {batch!r}")
        w = self.head.weight
        shape = (batch, c.n_head, c.block_size, c.n_embd // c.n_head)
        keys = [torch.zeros(shape, dtype=w.dtype, device=w.device) for _ in self.blocks]
        values = [torch.zeros(shape, dtype=w.dtype, device=w.device) for _ in self.blocks]
        return KVCache(keys, values)

    @torch.no_grad()
    def extend(self, idx, cache: KVCache):
        """Logits ``B×T×V`` of the next symbols after reading ``idx`` (B×T) at positions
        ``cache.length .. cache.length+T-1``; the cache then holds those positions too.

        The same function as ``forward`` (up to float rounding): ``forward(x)[:, s:e]`` equals
        ``extend(x[:, s:e], cache)`` when the cache holds ``x[:, :s]``. Reading a prefix in one
        call and one symbol per call after it is how the prequential coder uses it.
        """
        B, T = idx.shape
        t = cache.length
        if t + T > self.config.block_size:
            raise ValueError(
                f"{t} cached + {T} new positions exceed block_size {self.config.block_size}"
            )
        if cache.keys[0].shape[0] != B:
            raise ValueError(f"the cache holds {cache.keys[0].shape[0]} sequences, idx has {B}")
        x = self.tok(idx) + self.pos(torch.arange(t, t + T, device=idx.device))
        for block, keys, values in zip(self.blocks, cache.keys, cache.values):
            x = block.extend(x, keys, values, t)
        cache.length = t + T
        return self.head(self.ln_f(x))

    @property
    def mask_id(self) -> int:
        """The [MASK] symbol of the bidirectional model."""
        if self.config.causal:
            raise AttributeError("a causal model has no [MASK] symbol")
        return self.config.vocab_size

    @torch.no_grad()
    def generate(self, idx, n_new: int, temperature: float = 1.0, generator=None):
        """Extend ``idx`` (B×T) by ``n_new`` symbols sampled one at a time (causal models only)."""
        if not self.config.causal:
            raise ValueError("generate needs a causal model")
        for _ in range(n_new):
            logits = self(idx[:, -self.config.block_size :])[:, -1] / temperature
            nxt = torch.multinomial(F.softmax(logits, dim=-1), 1, generator=generator)
            idx = torch.cat([idx, nxt], dim=1)
        return idx


# ---------------------------------------------------------------- recurrent nets (chapter 6)
@dataclass
class RNNConfig:
    vocab_size: int = 256
    hidden: int = 64  # the size of the state: everything the net keeps of the past
    n_layer: int = 1

    def __post_init__(self):
        for name in ("vocab_size", "hidden", "n_layer"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int ≥ 1, got {value!r}")


class RecurrentLM(nn.Module):
    """A GRU language model: embedding, ``n_layer`` GRU layers of ``hidden`` units, a linear head.

    Its whole memory of ``x_<t`` is a state of ``n_layer × hidden`` numbers, whatever the length
    of the past: the bottleneck that a transformer, which attends to every past position, does
    not have (chapter 6). Same interface as ``GPT``: ``model(idx)`` gives logits ``B×T×V``.
    """

    def __init__(self, c: RNNConfig):
        super().__init__()
        self.config = c
        self.tok = nn.Embedding(c.vocab_size, c.hidden)
        self.rnn = nn.GRU(c.hidden, c.hidden, num_layers=c.n_layer, batch_first=True)
        self.head = nn.Linear(c.hidden, c.vocab_size)

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, idx):
        out, _ = self.rnn(self.tok(idx))
        return self.head(out)
