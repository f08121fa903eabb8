"""Keep the pretrained prior at step 0: the post-merge LayerNorm's affine set from the pretrained layer's output.

Every LGCAA variant with the post-merge LayerNorm returns U = γ·LN(G) + β (+ the MLP, zero at init) where SD2's
self-attention returned A = Attention(X̂). With LayerNorm's default γ = 1, β = 0 each token leaves the layer with
unit variance over channels, whatever magnitude the pretrained layer gave it. `calibrate_post_norms` instead
sets, per layer and channel c, the affine pair that best reproduces the pretrained output from the normalised
one (least squares over the tokens of calibration photos, `model.norm_init: "pretrained"`):

    γ_c = cov(u_c, A_c) / var(u_c),   β_c = mean(A_c) − γ_c · mean(u_c),   u = LN(G) without affine,

measured with every layer returning its pretrained output A (so each layer is fitted on the activations the
pretrained model itself produces). The photos are the held-out training photos (`HELD_OUT_PHOTOS`), centre
crops at the training size, LR by ×4 area downscaling, noised at `TIMESTEPS`; all noise comes from a generator
seeded by the model's `init_seed`, so the initialisation is a pure function of the config and the backbone.
`local+global-no-norm` has no post-merge LayerNorm and is left as it is (nothing to set).

`step0_mse` measures what the issue asks: the ε (or v) prediction MSE of a built network on given pairs at
fixed noise and timesteps; the ratio of an LGCAA variant's to `standard`'s on the same backbone says how far
step 0 starts from the pretrained model (`lgcaa bench prior`, `tests/test_model_prior.py`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from lgcaa.data.photos import HELD_OUT_PHOTOS, load_photo

TIMESTEPS = (50, 250, 500, 750, 950)


def centre_crops(names: tuple[str, ...] | list[str], size: int) -> torch.Tensor:
    """(B, 3, size, size) float in [0, 1]: centre square crop of each packaged photo, bicubic-resized to size²."""
    out = []
    for name in names:
        img = load_photo(name)
        h, w = img.shape[:2]
        s = min(h, w)
        img = img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
        img = np.asarray(Image.fromarray(img).resize((size, size), Image.BICUBIC))
        out.append(torch.from_numpy(img.copy()).permute(2, 0, 1).float() / 255)
    return torch.stack(out)


class _Moments:
    """Per channel, over tokens: the sums that give mean/var of u and A and their covariance (float64)."""

    def __init__(self) -> None:
        self.n = 0
        self.sums: dict[str, torch.Tensor] = {}

    def add(self, u: torch.Tensor, a: torch.Tensor) -> None:
        u, a = u.reshape(-1, u.shape[-1]).double(), a.reshape(-1, a.shape[-1]).double()
        parts = {"u": u.sum(0), "uu": (u * u).sum(0), "a": a.sum(0), "aa": (a * a).sum(0), "ua": (u * a).sum(0)}
        for key, value in parts.items():
            self.sums[key] = self.sums[key] + value if key in self.sums else value
        self.n += u.shape[0]

    def affine(self) -> tuple[torch.Tensor, torch.Tensor, dict[str, float]]:
        m = {k: v / self.n for k, v in self.sums.items()}
        var_u = (m["uu"] - m["u"] ** 2).clamp_min(1e-12)
        gamma = (m["ua"] - m["u"] * m["a"]) / var_u
        beta = m["a"] - gamma * m["u"]
        stats = {"rms_pretrained": float(m["aa"].mean().sqrt()), "gamma_mean": float(gamma.mean()),
                 "gamma_abs_max": float(gamma.abs().max()), "tokens": self.n}
        return gamma, beta, stats


def _pairs(size: int, photos: tuple[str, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    hr = centre_crops(photos, size)
    return hr, F.interpolate(hr, scale_factor=0.25, mode="area")


@torch.no_grad()
def calibrate_post_norms(net: Any, size: int, photos: tuple[str, ...] = HELD_OUT_PHOTOS,
                         timesteps: tuple[int, ...] = TIMESTEPS, seed: int = 0) -> dict[str, dict[str, float]]:
    """Set the post-merge LayerNorm (γ, β) of every LGCAA processor of `net.unet` (see the module docstring).

    Returns {layer: {"rms_pretrained", "gamma_mean", "gamma_abs_max", "tokens"}}; {} when no processor has a
    post-merge LayerNorm. The network's train/eval mode is restored."""
    from lgcaa.model.attention import LGCAAProcessor
    from lgcaa.model.network import upsample_lr

    procs = [m for m in net.unet.modules() if isinstance(m, LGCAAProcessor) and isinstance(m.post_norm, nn.LayerNorm)]
    if not procs:
        return {}
    moments = {p.name: _Moments() for p in procs}

    def hook(proc: Any, g: torch.Tensor, a: torch.Tensor) -> None:
        moments[proc.name].add(F.layer_norm(g.float(), (g.shape[-1],)), a.float())

    param = next(net.unet.parameters())
    dev, dtype = param.device, param.dtype
    was_training = net.training
    net.eval()
    for p in procs:
        p.calibration = hook
    try:
        hr, lr = (t.to(dev) for t in _pairs(size, photos))
        control = upsample_lr(lr, tuple(hr.shape[-2:]))
        ehs = net.condition(control.to(dtype))
        gen = torch.Generator().manual_seed(seed)
        f = net.latent_factor
        shape = (hr.shape[0], net.unet.config.in_channels, size // f, size // f)
        z0 = net.encode(hr.to(dtype), torch.randn(shape, generator=gen).to(dev))
        for t in timesteps:
            tt = torch.full((hr.shape[0],), t, device=dev, dtype=torch.long)
            z_t = net.scheduler.add_noise(z0, torch.randn(shape, generator=gen).to(dev, z0.dtype), tt)
            net.denoise(z_t.to(dtype), tt, control.to(dtype), ehs)
    finally:
        for p in procs:
            p.calibration = None
        net.train(was_training)
    record = {}
    for p in procs:
        gamma, beta, stats = moments[p.name].affine()
        p.post_norm.weight.copy_(gamma.to(p.post_norm.weight))
        p.post_norm.bias.copy_(beta.to(p.post_norm.bias))
        record[p.name] = stats
    return record


@torch.no_grad()
def step0_mse(net: Any, hr: torch.Tensor, lr: torch.Tensor, timesteps: tuple[int, ...] = (100, 300, 500, 700, 900),
              seed: int = 0) -> float:
    """Mean over `timesteps` of the network's prediction MSE (its training target: ε or v) on pairs (hr, lr),
    with latent and diffusion noise from a generator seeded by `seed` (identical for every network)."""
    was_training = net.training
    net.eval()
    dev = next(net.unet.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    f = net.latent_factor
    shape = (hr.shape[0], net.unet.config.in_channels, hr.shape[-2] // f, hr.shape[-1] // f)
    total = 0.0
    try:
        for t in timesteps:
            latent_noise, noise = torch.randn(shape, generator=gen), torch.randn(shape, generator=gen)
            tt = torch.full((hr.shape[0],), t, dtype=torch.long)
            terms = net(hr.to(dev), lr.to(dev), latent_noise.to(dev), noise.to(dev), tt.to(dev))
            total += float(terms["mse"])
    finally:
        net.train(was_training)
    return total / len(timesteps)
