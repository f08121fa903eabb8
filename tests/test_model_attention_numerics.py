"""LGCAA in the tiny model: the variants differ at init, the residual reading's coinciding pair separates after a
few training steps, and training stays finite in fp32 / bf16 / fp16 with an injected activation spike."""

from __future__ import annotations

import contextlib
import itertools

import pytest
import torch

from lgcaa.model.attention import LGCAAProcessor
from lgcaa.model.config import ModelConfig
from lgcaa.model.network import build_network
from lgcaa.model.variants import ATTENTION_VARIANTS

pytestmark = pytest.mark.usefixtures("one_torch_thread")
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def tiny(**kw) -> ModelConfig:
    return ModelConfig(arch="tiny", window=4, lpips_backbone="random (offline)", **{"dpacm": "none", **kw})


def batch(b: int = 2, size: int = 64, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    hr = torch.rand(b, 3, size, size, generator=g)
    lr = torch.nn.functional.interpolate(hr, scale_factor=0.25, mode="area")
    lat = (b, 4, size // 8, size // 8)
    return hr, lr, torch.randn(lat, generator=g), torch.randn(lat, generator=g), torch.randint(0, 1000, (b,), generator=g)


def unet_prediction(net, seed: int = 5) -> torch.Tensor:
    """The UNet's noise prediction on one fixed noisy latent and conditioning (what sampling consumes)."""
    hr, lr, latent_noise, noise, t = batch(seed=seed)
    with torch.no_grad():
        z_t = net.scheduler.add_noise(net.encode(hr, latent_noise), noise, t)
        control = torch.nn.functional.interpolate(lr, size=hr.shape[-2:], mode="bicubic").clamp(0, 1)
        return net.denoise(z_t, t, control, net.condition(control))[0]


def train_steps(net, steps: int, precision: str = "fp32", spike_at: int | None = None, lr: float = 1e-3):
    """Adam steps on fixed batches; returns the loss terms of every step. `spike_at`: on that step the first
    LGCAA layer's global attention output gets +inf in some entries and 1e4x its value in one token."""
    dtype = DTYPES[precision]
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr)
    scaler = torch.amp.GradScaler("cpu") if precision == "fp16" else None
    proc = next((m for m in net.unet.modules() if isinstance(m, LGCAAProcessor)), None)
    out_proj = proc.global_out if proc is not None and proc.variant.local and proc.variant.global_ else None

    def spike(_m, _inp, out):
        out = out.clone()
        out[:, 0] = out[:, 0] * 1e4
        out[:, 1, :3] = float("inf")
        out[:, 2, :3] = -float("inf")
        return out

    history = []
    for step in range(steps):
        handle = out_proj.register_forward_hook(spike) if step == spike_at and out_proj is not None else None
        auto = torch.autocast("cpu", dtype=dtype) if precision != "fp32" else contextlib.nullcontext()
        with auto:
            terms = net(*batch(seed=step))
        history.append({k: float(v.detach()) for k, v in terms.items()})
        if scaler is not None:
            scaler.scale(terms["total"]).backward()
            scaler.unscale_(opt)
        else:
            terms["total"].backward()
        if handle is not None:  # after backward: checkpointed regions recompute with the spike too
            handle.remove()
        history[-1]["grads_finite"] = all(torch.isfinite(p.grad).all() for p in params if p.grad is not None)
        if scaler is not None:
            scaler.step(opt)
            scaler.update()
        else:
            opt.step()
        opt.zero_grad(set_to_none=True)
    return history


def test_every_pair_of_variants_differs_at_init_in_the_tiny_model():
    """Same seed, same input: the UNet's noise prediction differs for every pair of Table II rows at init."""
    preds = {name: unet_prediction(build_network(tiny(attention=name))) for name in ATTENTION_VARIANTS}
    for a, b in itertools.combinations(preds, 2):
        diff = (preds[a] - preds[b]).abs().max().item()
        assert diff > 1e-4, f"{a} vs {b}: max |diff| = {diff}"


def test_residual_reading_pairs_separate_after_training_steps():
    """With `lgcaa_output: residual` two pairs coincide at init: the full module and `local+global-no-norm` (the
    norm sits on the MLP branch, whose last layer is zero), and `global` and `standard` (the global stage with
    the layer's own projections is its attention, the clamp at 4 does not act). Three Adam steps on the same
    batches separate both."""
    nets = {name: build_network(tiny(attention=name, lgcaa_output="residual"))
            for name in ("lgcaa", "local+global-no-norm", "global", "standard")}
    before = {n: unet_prediction(net) for n, net in nets.items()}
    assert torch.equal(before["lgcaa"], before["local+global-no-norm"])
    assert torch.allclose(before["global"], before["standard"], atol=1e-6)
    for net in nets.values():
        net.train()
        train_steps(net, 3)
    after = {n: unet_prediction(net.eval()) for n, net in nets.items()}
    assert (after["lgcaa"] - after["local+global-no-norm"]).abs().max() > 1e-4
    assert (after["global"] - after["standard"]).abs().max() > 1e-4


@pytest.mark.parametrize("precision", list(DTYPES))
def test_training_is_finite_with_an_activation_spike(precision):
    net = build_network(tiny(attention="lgcaa", clamp=8.0)).train()
    history = train_steps(net, 3, precision, spike_at=1)
    for h in history:
        assert all(v == v and abs(v) != float("inf") for k, v in h.items() if k != "grads_finite"), history
        assert h["grads_finite"], history
    assert all(torch.isfinite(p).all() for p in net.parameters())


def test_without_the_clamp_the_spike_poisons_training():
    """The same injection with an infinite bound gives a NaN loss: the clamp is what keeps it finite."""
    net = build_network(tiny(attention="lgcaa", clamp=float("inf"))).train()
    history = train_steps(net, 2, "fp32", spike_at=1)
    assert history[1]["mse"] != history[1]["mse"]


def test_ablation_rows_share_every_initial_weight_but_the_attention():
    """Variants consume different amounts of RNG while their processors are built; the DINO projection and the
    DPACM conv (and everything else outside the LGCAA processors) must still start identical."""
    nets = {n: build_network(tiny(attention=n, dpacm="dpacm")) for n in ("standard", "lgcaa")}
    states = {n: {k: v for k, v in net.state_dict().items() if ".processor." not in k} for n, net in nets.items()}
    assert states["standard"].keys() == states["lgcaa"].keys()
    assert all(torch.equal(states["standard"][k], states["lgcaa"][k]) for k in states["standard"])
