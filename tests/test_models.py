import pytest
import torch

from lib.models import GPT, GPTConfig


def test_shapes_and_hidden_states():
    m = GPT(GPTConfig(vocab_size=7, block_size=16, n_layer=3, n_head=2, n_embd=32))
    logits, hidden = m(torch.randint(0, 7, (2, 16)), return_hidden=True)
    assert logits.shape == (2, 16, 7) and len(hidden) == 4 and hidden[-1].shape == (2, 16, 32)


def test_causal_model_does_not_see_the_future():
    torch.manual_seed(0)
    m = GPT(GPTConfig(vocab_size=5, block_size=8, n_layer=2, n_head=2, n_embd=16)).eval()
    x = torch.randint(0, 5, (1, 8))
    y = x.clone()
    y[0, 5:] = (y[0, 5:] + 1) % 5
    assert torch.allclose(m(x)[0, :5], m(y)[0, :5], atol=1e-6)
    assert not torch.allclose(m(x)[0, 5:], m(y)[0, 5:])


def test_bidirectional_model_sees_both_ways_and_has_a_mask_symbol():
    torch.manual_seed(0)
    m = GPT(GPTConfig(vocab_size=5, block_size=8, n_layer=1, n_head=1, n_embd=8, causal=False))
    x = torch.randint(0, 5, (1, 8))
    y = x.clone()
    y[0, -1] = m.mask_id
    assert not torch.allclose(m(x)[0, 0], m(y)[0, 0])


def test_bad_config_and_long_input_are_refused():
    with pytest.raises(ValueError, match="n_head"):
        GPTConfig(n_embd=30, n_head=4)
    with pytest.raises(ValueError, match="vocab_size"):
        GPTConfig(vocab_size=0)
    m = GPT(GPTConfig(vocab_size=3, block_size=4, n_layer=1, n_head=1, n_embd=8))
    with pytest.raises(ValueError, match="block_size"):
        m(torch.zeros(1, 5, dtype=torch.long))


def test_generate_extends_the_sequence():
    m = GPT(GPTConfig(vocab_size=3, block_size=4, n_layer=1, n_head=1, n_embd=8))
    out = m.generate(
        torch.zeros(2, 1, dtype=torch.long), 6, generator=torch.Generator().manual_seed(0)
    )
    assert out.shape == (2, 7) and out.max() < 3


def test_extend_with_a_cache_matches_forward():
    # catches an incremental step that drifts from the full forward pass (wrong positions,
    # a missing causal mask, stale keys): prefix in one call, then one symbol per call
    torch.manual_seed(0)
    m = GPT(GPTConfig(vocab_size=9, block_size=12, n_layer=2, n_head=2, n_embd=16)).eval()
    x = torch.randint(0, 9, (3, 12))
    full = m(x)
    cache = m.new_cache(3)
    parts = [m.extend(x[:, :5], cache)] + [m.extend(x[:, t : t + 1], cache) for t in range(5, 12)]
    assert cache.length == 12
    assert torch.allclose(torch.cat(parts, dim=1), full, atol=1e-5)


def test_extend_refuses_overflow_and_bidirectional_models():
    m = GPT(GPTConfig(vocab_size=3, block_size=4, n_layer=1, n_head=1, n_embd=8))
    cache = m.new_cache(1)
    m.extend(torch.zeros(1, 4, dtype=torch.long), cache)
    with pytest.raises(ValueError, match="block_size"):
        m.extend(torch.zeros(1, 1, dtype=torch.long), cache)
    with pytest.raises(ValueError, match="sequences"):
        m.extend(torch.zeros(2, 1, dtype=torch.long), m.new_cache(1))
    bert = GPT(GPTConfig(vocab_size=3, block_size=4, n_layer=1, n_head=1, n_embd=8, causal=False))
    with pytest.raises(ValueError, match="causal"):
        bert.new_cache(1)


def test_hidden_after_is_the_hidden_state_of_forward():
    m = GPT(GPTConfig(vocab_size=5, block_size=8, n_layer=3, n_head=2, n_embd=8))
    x = torch.randint(0, 5, (2, 8))
    _, hidden = m(x, return_hidden=True)
    for n in range(4):
        assert torch.allclose(m.hidden_after(x, n), hidden[n])
    with pytest.raises(ValueError, match="n_blocks"):
        m.hidden_after(x, 4)
