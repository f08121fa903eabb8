"""LGCAA attention processor: windows, normalisation, clamping, variants, memory-saving equivalences."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from diffusers.models.attention_processor import Attention, AttnProcessor2_0

from lgcaa.model.attention import (
    ATTENTION_VARIANTS,
    LGCAAProcessor,
    clamp_values,
    rms_normalize,
    token_grid,
    window_key_mask,
    window_order,
    window_restore,
)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def make_attn(dim: int = 32, heads: int = 2, seed: int = 0) -> Attention:
    torch.manual_seed(seed)
    attn = Attention(query_dim=dim, heads=heads, dim_head=dim // heads, bias=False, out_bias=True)
    attn.set_processor(AttnProcessor2_0())
    return attn


@pytest.mark.parametrize("n, hw, expected", [(64, (8, 8), (8, 8)), (16, (8, 8), (4, 4)), (12, (7, 5), (4, 3)),
                                             (35, (7, 5), (7, 5)), (49, None, (7, 7))])
def test_token_grid_follows_unet_downsampling(n, hw, expected):
    assert token_grid(n, hw) == expected


def test_token_grid_rejects_mismatch():
    with pytest.raises(ValueError, match="spatial_hw"):
        token_grid(12, None)
    with pytest.raises(ValueError, match="do not match"):
        token_grid(13, (8, 8))


@pytest.mark.parametrize("grid, window", [((8, 8), 4), ((7, 5), 4), ((3, 9), 8), ((4, 4), 8)])
def test_window_order_roundtrip(grid, window):
    x = torch.randn(2, grid[0] * grid[1], 6)
    xw, layout = window_order(x, grid, window)
    assert torch.equal(window_restore(xw, layout), x)


def _reference_window_attention(q, k, v, grid, window):
    """Dense attention with a block mask: token i sees j iff both lie in the same window."""
    h, w = grid
    rows = torch.arange(h).repeat_interleave(w) // min(window, h)
    cols = torch.arange(w).repeat(h) // min(window, w)
    wid = rows * 1000 + cols
    mask = wid[:, None] == wid[None, :]
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


@pytest.mark.parametrize("grid, window", [((8, 8), 4), ((6, 10), 4), ((5, 3), 8)])
def test_local_stage_is_block_masked_attention(grid, window):
    """The windowed computation (reordering, padding mask) equals dense attention with a window mask."""
    attn = make_attn()
    proc = LGCAAProcessor(attn, ATTENTION_VARIANTS["local"], window=window)
    x = torch.randn(2, grid[0] * grid[1], 32)
    got = proc._local(attn, x, grid)
    heads = lambda t: t.view(2, -1, 2, 16).transpose(1, 2)
    q, k, v = (heads(f(x)) for f in (attn.to_q, attn.to_k, attn.to_v))
    q, k = rms_normalize(q), rms_normalize(k)
    ref = _reference_window_attention(q, k, v, grid, window).transpose(1, 2).reshape(2, -1, 32)
    ref = proc.local_norm(attn.to_out[0](ref))
    assert torch.allclose(got, ref, atol=1e-5)


def test_window_mask_only_when_padded():
    _, layout = window_order(torch.zeros(1, 64, 4), (8, 8), 4)
    assert window_key_mask(layout, torch.device("cpu")) is None
    _, layout = window_order(torch.zeros(1, 30, 4), (5, 6), 4)
    mask = window_key_mask(layout, torch.device("cpu"))
    assert mask.shape == (4, 1, 1, 16) and int(mask.sum()) == 30


def test_rms_normalize_value_and_gradient():
    x = torch.randn(3, 5, 8, dtype=torch.float64, requires_grad=True)
    y = rms_normalize(x)
    assert torch.allclose(y.pow(2).mean(-1), torch.ones(3, 5, dtype=torch.float64), atol=1e-5)
    assert torch.autograd.gradcheck(lambda t: rms_normalize(t, 1e-6), (x,))


def test_clamp_bounds_inf_keeps_nan_and_gradient_matches_torch():
    x = torch.tensor([1.0, -3.0, float("inf"), -float("inf"), float("nan")])
    y = clamp_values(x, 2.0)
    assert y[:4].tolist() == [1.0, -2.0, 2.0, -2.0] and torch.isnan(y[4])
    a = torch.randn(100, requires_grad=True)
    b = a.detach().clone().requires_grad_(True)
    (clamp_values(a, 0.5) * torch.arange(100)).sum().backward()
    (b.clamp(-0.5, 0.5) * torch.arange(100)).sum().backward()
    assert torch.equal(a.grad, b.grad)
    assert clamp_values(torch.tensor([1e6], dtype=torch.float16), 1e9).item() == 65504.0


@pytest.mark.parametrize("variant", [v for v in ATTENTION_VARIANTS if v != "standard"])
def test_variant_forward_backward_and_checkpointing_is_exact(variant):
    attn = make_attn()
    torch.manual_seed(1)
    proc = LGCAAProcessor(attn, ATTENTION_VARIANTS[variant], window=4)
    with torch.no_grad():  # a non-zero last MLP layer so every parameter gets a gradient
        proc.mlp[2].weight.normal_(0, 0.02)
    plain = copy.deepcopy(proc)
    plain.checkpointing = False
    attn2 = copy.deepcopy(attn)
    x = torch.randn(2, 48, 32)
    outs, grads = [], []
    for p, a in ((proc, attn), (plain, attn2)):
        a.set_processor(p)
        xi = x.clone().requires_grad_(True)
        out = a(xi, spatial_hw=(6, 8))
        out.square().mean().backward()
        outs.append(out.detach())
        grads.append([xi.grad] + [q.grad for q in list(a.parameters())])
    assert outs[0].shape == (2, 48, 32)
    assert torch.allclose(outs[0], outs[1], atol=1e-6)
    for g1, g2 in zip(grads[0], grads[1]):
        assert (g1 is None) == (g2 is None)
        if g1 is not None:
            assert torch.allclose(g1, g2, atol=1e-6)
    used = [n for n, q in attn.named_parameters() if q.grad is not None and q.grad.abs().sum() > 0]
    assert len(used) == len(list(attn.parameters())), "every parameter of the variant is used"


def test_variants_differ_and_mlp_starts_at_zero():
    x = torch.randn(1, 64, 32)
    outs = {}
    for variant in ("local", "global", "local+global-no-norm", "lgcaa"):
        attn = make_attn()
        proc = LGCAAProcessor(attn, ATTENTION_VARIANTS[variant], window=4)
        assert torch.count_nonzero(proc.mlp[2].weight) == 0
        attn.set_processor(proc)
        with torch.no_grad():
            outs[variant] = attn(x, spatial_hw=(8, 8))
    assert not torch.allclose(outs["local"], outs["global"])
    # with the MLP at zero the post-norm does not act yet: lgcaa == no-norm at init
    assert torch.allclose(outs["lgcaa"], outs["local+global-no-norm"])


def test_global_clamp_turns_overflow_into_finite_output():
    attn = make_attn()
    proc = LGCAAProcessor(attn, ATTENTION_VARIANTS["global"], clamp=10.0)
    with torch.no_grad():
        attn.to_out[0].weight.mul_(1e30)  # force huge (inf after overflow) attention outputs
    attn.set_processor(proc)
    out = attn(torch.randn(1, 16, 32), spatial_hw=(4, 4))
    assert torch.isfinite(out).all() and out.abs().max() <= 10.0 + 1e-3
