"""LGCAA attention processor: windows, normalisation, clamping, variants, fast path = reference path, capture."""

from __future__ import annotations

import copy
import itertools

import pytest
import torch
import torch.nn.functional as F
from diffusers.models.attention_processor import Attention, AttnProcessor2_0

import lgcaa.model.attention as attention_mod
from lgcaa.model.attention import (
    LGCAAProcessor,
    attention_map,
    clamp_values,
    reference_forward,
    rms_normalize,
    set_capture,
    token_grid,
    window_ids,
    window_key_mask,
    window_order,
    window_restore,
)
from lgcaa.model.variants import ATTENTION_VARIANTS, LGCAA_OUTPUTS, get_variant

pytestmark = pytest.mark.usefixtures("one_torch_thread")
LGCAA_NAMES = [n for n, v in ATTENTION_VARIANTS.items() if not v.standard]

FAST_PATH_ATOL = 1e-5  # |fast path - reference path| in float32 on these shapes (max abs over outputs and grads)


def make_attn(dim: int = 32, heads: int = 2, seed: int = 0) -> Attention:
    torch.manual_seed(seed)
    attn = Attention(query_dim=dim, heads=heads, dim_head=dim // heads, bias=False, out_bias=True)
    attn.set_processor(AttnProcessor2_0())
    return attn


def make_layer(variant: str, seed: int = 0, trained: bool = False, **kw) -> Attention:
    """An attention layer with an LGCAA processor; trained=True moves every LGCAA parameter off its init."""
    attn = make_attn(seed=seed)
    proc = LGCAAProcessor(attn, get_variant(variant), **{"window": 4, **kw})
    if trained:
        g = torch.Generator().manual_seed(seed + 1)
        with torch.no_grad():
            for p in proc.parameters():
                p.add_(torch.randn(p.shape, generator=g) * 0.05)
    attn.set_processor(proc)
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
def test_window_order_roundtrip_and_window_ids(grid, window):
    x = torch.randn(2, grid[0] * grid[1], 6)
    xw, layout = window_order(x, grid, window)
    assert torch.equal(window_restore(xw, layout), x)
    # window_ids (used by the reference path and attention maps) names the same groups as window_order
    ids = window_ids(grid, window).float()[None, :, None].expand(2, -1, 1)
    grouped, _ = window_order(ids + 1, grid, window)  # +1: padding (0) is distinguishable
    for row in grouped:
        assert len({v for v in row[:, 0].tolist() if v > 0}) == 1


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


def _forward_backward(attn: Attention, x: torch.Tensor, hw, fn=None):
    xi = x.clone().requires_grad_(True)
    out = attn(xi, spatial_hw=hw) if fn is None else fn(xi)
    out.square().mean().backward()
    grads = [xi.grad] + [p.grad for p in attn.parameters()]
    attn.zero_grad(set_to_none=True)
    return out.detach(), grads


def _assert_close(a, b, atol):
    (out_a, grads_a), (out_b, grads_b) = a, b
    assert (out_a - out_b).abs().max() <= atol
    for ga, gb in zip(grads_a, grads_b):
        assert (ga is None) == (gb is None)
        if ga is not None:
            assert (ga - gb).abs().max() <= atol


@pytest.mark.parametrize("variant", LGCAA_NAMES)
@pytest.mark.parametrize("output", LGCAA_OUTPUTS)
@pytest.mark.parametrize("grid", [(8, 8), (6, 10)])  # (6, 10) pads the 4x4 windows
def test_fast_path_equals_reference_path(variant, output, grid):
    """Window-major fused path (checkpointed or not) == the equations written out, outputs and gradients."""
    attn = make_layer(variant, trained=True, output=output)
    x = torch.randn(2, grid[0] * grid[1], 32)
    proc = attn.processor
    ref = _forward_backward(attn, x, grid, fn=lambda xi: reference_forward(proc, attn, xi, grid))
    fast = _forward_backward(attn, x, grid)
    _assert_close(fast, ref, FAST_PATH_ATOL)
    proc.checkpointing = False
    _assert_close(_forward_backward(attn, x, grid), ref, FAST_PATH_ATOL)
    used = [p for p in attn.parameters() if p.requires_grad]
    assert all(g is not None and g.abs().sum() > 0 for g in fast[1][1:]), "every parameter of the variant is used"
    assert len(used) == len(fast[1]) - 1


def test_compiled_path_equals_reference_path(monkeypatch):
    """`compile=True` traces the same forward (aot_eager here: dynamo + autograd without a C++ build; the GPU
    bench script measures inductor)."""
    monkeypatch.setattr(attention_mod, "COMPILE_BACKEND", "aot_eager")
    attn = make_layer("lgcaa", trained=True, compile=True)
    x = torch.randn(2, 64, 32)
    proc = attn.processor
    ref = _forward_backward(attn, x, (8, 8), fn=lambda xi: reference_forward(proc, attn, xi, (8, 8)))
    _assert_close(_forward_backward(attn, x, (8, 8)), ref, FAST_PATH_ATOL)
    assert proc._compiled is not None
    assert copy.deepcopy(proc)._compiled is None, "a copy compiles its own forward"


def _init_outputs(x: torch.Tensor, hw, **kw) -> dict[str, torch.Tensor]:
    outs = {}
    for name in ATTENTION_VARIANTS:
        attn = make_attn()
        if name != "standard":
            attn.set_processor(LGCAAProcessor(attn, get_variant(name), window=4, **kw))
        with torch.no_grad():
            outs[name] = attn(x, **({"spatial_hw": hw} if name != "standard" else {}))
    return outs


def test_every_pair_of_variants_differs_at_init():
    """Same pretrained layer, same input: every pair of Table II rows gives a different output at init
    (the post-merge LayerNorm and the clamp act from the first step)."""
    x = torch.randn(2, 64, 32) * 3
    outs = _init_outputs(x, (8, 8), clamp=1.0)
    for a, b in itertools.combinations(outs, 2):
        diff = (outs[a] - outs[b]).abs().max().item()
        assert diff > 1e-2, f"{a} vs {b}: max |diff| = {diff}"
    # lgcaa = LayerNorm of what local+global-no-norm returns (the MLP starts as the identity)
    assert torch.allclose(outs["lgcaa"], F.layer_norm(outs["local+global-no-norm"], (32,)), atol=1e-5)


def test_residual_reading_coincides_at_init():
    """`lgcaa_output: residual` (Y = G + MLP(LN(G)), MLP at zero): lgcaa == no-norm and global == standard at
    init. That the pairs separate after a few training steps is tested on the tiny model
    (test_model_attention_numerics.py)."""
    outs = _init_outputs(torch.randn(1, 64, 32), (8, 8), output="residual")
    assert torch.equal(outs["lgcaa"], outs["local+global-no-norm"])
    assert torch.allclose(outs["global"], outs["standard"], atol=1e-6)


def test_clamp_acts_on_the_output_path():
    attn = make_layer("global", clamp=10.0, output="residual")
    with torch.no_grad():
        attn.to_out[0].weight.mul_(1e30)  # force huge (inf after overflow) attention outputs
        out = attn(torch.randn(1, 16, 32), spatial_hw=(4, 4))
    assert torch.isfinite(out).all() and out.abs().max() <= 10.0 + 1e-3
    # the default (mlp) output: clamp then LayerNorm -> finite, unit RMS per token
    attn = make_layer("global", clamp=10.0)
    with torch.no_grad():
        attn.to_out[0].weight.mul_(1e30)
        out = attn(torch.randn(1, 16, 32), spatial_hw=(4, 4))
        assert torch.isfinite(out).all()
        unclamped = make_layer("global", clamp=float("inf"))
        unclamped.to_out[0].weight.mul_(1e30)
        assert torch.isnan(unclamped(torch.randn(1, 16, 32), spatial_hw=(4, 4))).any(), "the clamp is what saves it"


@pytest.mark.parametrize("grid", [(8, 8), (6, 10)])
def test_capture_hook_records_stages_and_attention_maps(grid):
    attn = make_layer("lgcaa", trained=True)
    proc = attn.processor
    proc.name = "down_blocks.0.attentions.0.transformer_blocks.0.attn1"
    records = []
    assert proc.capture is None
    assert set_capture(attn, lambda layer, stage, rec: records.append((layer, stage, rec))) == 1
    x = torch.randn(2, grid[0] * grid[1], 32)
    with torch.no_grad():
        out = attn(x, spatial_hw=grid)
    assert [s for _, s, _ in records] == ["local", "global", "output"]
    assert all(layer == proc.name for layer, _, _ in records)
    n = grid[0] * grid[1]
    for _, stage, rec in records:
        assert rec["output"].shape == (2, n, 32) and rec["grid"] == grid
    assert torch.equal(records[-1][2]["output"], out)
    # the global stage's recorded output is what the reference path computes before the LayerNorm
    local, glob = records[0][2], records[1][2]
    assert local["q"].shape == (2, 2, n, 16)
    token = n // 2 + 1
    lmap, gmap = attention_map(local, token), attention_map(glob, token)
    assert torch.allclose(lmap.sum(-1), torch.ones(2, 2)) and torch.allclose(gmap.sum(-1), torch.ones(2, 2))
    ids = window_ids(grid, 4)
    assert (lmap[..., ids != ids[token]] == 0).all() and (gmap > 0).all()
    set_capture(attn, None)
    with torch.no_grad():
        attn(x, spatial_hw=grid)
    assert len(records) == 3


def test_registry_flags_decide_what_runs():
    """`clamp` and `mlp` of a registry entry are read by the processor: without `clamp` a huge global output passes
    unclamped; without `mlp` no MLP is built and Y = U = LayerNorm(G); with both the layer equals the full
    variant's. Both paths (fast and reference) follow the flags."""
    from dataclasses import replace

    full = get_variant("global")
    no_clamp, no_mlp = replace(full, name="g-no-clamp", clamp=False), replace(full, name="g-no-mlp", mlp=False)
    x = torch.randn(1, 16, 32)
    layers = {}
    for v in (full, no_clamp, no_mlp):
        attn = make_attn()
        attn.set_processor(LGCAAProcessor(attn, v, window=4, clamp=1e-3, output="residual"))
        layers[v.name] = attn
    with torch.no_grad():
        outs = {n: a(x, spatial_hw=(4, 4)) for n, a in layers.items()}
        refs = {n: reference_forward(a.processor, a, x, (4, 4)) for n, a in layers.items()}
    assert outs["global"].abs().max() <= 1e-3 + 1e-6  # residual output = clamp(G) + MLP(U), MLP zero at init
    assert outs["g-no-clamp"].abs().max() > 1e-2  # the unclamped G goes through
    assert not hasattr(layers["g-no-mlp"].processor, "mlp")
    assert not any("mlp" in n for n, _ in layers["g-no-mlp"].processor.named_parameters())
    for n, out in outs.items():
        torch.testing.assert_close(out, refs[n], atol=FAST_PATH_ATOL, rtol=0)
    attn = make_attn()  # mlp off, default output: Y = LayerNorm(clamp(G)) exactly, whatever the MLP would add
    attn.set_processor(LGCAAProcessor(attn, no_mlp, window=4))
    with torch.no_grad():
        y = attn(x, spatial_hw=(4, 4))
        g = clamp_values(attn.to_out[0](F.scaled_dot_product_attention(
            *(t.view(1, 16, 2, 16).transpose(1, 2) for t in (attn.to_q(x), attn.to_k(x), attn.to_v(x)))
        ).transpose(1, 2).reshape(1, 16, 32)), attn.processor.clamp)
    torch.testing.assert_close(y, attn.processor.post_norm(g), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="global stage"):
        replace(get_variant("local"), name="local-clamp", clamp=True)
