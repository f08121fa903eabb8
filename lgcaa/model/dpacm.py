"""Distribution and Perceptual Aligned Conditioning Module (DPACM), paper §III-C.

A 3×3 conv maps ControlNet's conditioning embedding (the output of its lightweight conditioning network,
before the zero conv, (B, C_e, H/8, W/8)) to RGB, bilinearly upsampled to the HR size; no activation follows, so
the projection is unbounded (it is compared with HR images in [-1, 1], not confined to that range). The terms:

  Wasserstein-1 (Eq. 3): per image and channel, the closed form for two equal-size empirical distributions
      with |x - y| ground cost: mean |sort(x) - sort(y)|; averaged over channels and batch. `model.w1_on`
      says between what: "embedding" (default) = the RGB projection and the HR ground truth in [-1, 1];
      "latent" = the predicted x̂₀ latent and z₀ (the latent histograms of §III-C and Fig. 11), whose error is
      the prediction's scaled by √(1−ᾱ_t)/√ᾱ_t (`x0_error_gain`: 14.6 at t = 999 for SD2-base's schedule).
  LPIPS (Eq. 2): LPIPS with the AlexNet trunk [44] (`lpips` package, v0.1 linear heads) between the RGB
      projection and the HR ground truth.

Total loss (Eq. 4): MSE + lambda_w * W1 + lambda_p * LPIPS (`total_loss`). Loss variants are an explicit
registry (Table II rows).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from lgcaa.errors import UserError
from lgcaa.model.backbone import seeded_init
from lgcaa.model.config import ModelConfig

# Table II's DPACM rows: which of the two terms are on.
DPACM_TERMS: dict[str, tuple[str, ...]] = {
    "none": (),
    "perceptual": ("lpips",),
    "wasserstein": ("wasserstein",),
    "dpacm": ("wasserstein", "lpips"),
}

ALEXNET_FILE = "alexnet-owt-7be5be79.pth"  # torchvision AlexNet_Weights.IMAGENET1K_V1
ALEXNET_URL = f"https://download.pytorch.org/models/{ALEXNET_FILE}"


def wasserstein1(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Closed-form W1 between the pixel-value distributions of x and y, per image and channel.

    x, y: (B, C, H, W) (any range, same shape) -> scalar mean over B and C of mean_i |x_(i) - y_(i)| where
    x_(i) are the sorted values of one channel. Equals `scipy.stats.wasserstein_distance` on those values.
    """
    if x.shape != y.shape:
        raise ValueError(f"wasserstein1 needs equal shapes, got {tuple(x.shape)} and {tuple(y.shape)}")
    xs = torch.sort(x.flatten(2).float(), dim=-1).values
    ys = torch.sort(y.flatten(2).float(), dim=-1).values
    return (xs - ys).abs().mean()


def x0_error_gain(alphas_cumprod: torch.Tensor, t: int | torch.Tensor) -> torch.Tensor:
    """√(1−ᾱ_t)/√ᾱ_t: how much an ε-prediction error is magnified in x̂₀ = (z_t − √(1−ᾱ)ε̂)/√ᾱ at timestep t,
    i.e. the scale a latent W1 term puts on the denoiser's error relative to the MSE term."""
    a = alphas_cumprod[t].double()
    return ((1 - a) / a).sqrt()


def alexnet_weights_path() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / ALEXNET_FILE


_LPIPS_CACHE: dict[tuple[str, int], nn.Module] = {}


def build_lpips(backbone: str, seed: int = 0) -> nn.Module:
    """Frozen LPIPS-Alex. backbone "pretrained": torchvision's ImageNet AlexNet (must be in the torch hub cache);
    "random (offline)": a seeded random AlexNet trunk with the wheel's calibrated heads (mini profile only).
    Returns a fresh copy of a per-process cached instance (building AlexNet's unused classifier is slow)."""
    import copy

    key = (backbone, seed)
    if key not in _LPIPS_CACHE:
        _LPIPS_CACHE[key] = _build_lpips(backbone, seed)
    return copy.deepcopy(_LPIPS_CACHE[key])


def _build_lpips(backbone: str, seed: int) -> nn.Module:
    import lpips


    if backbone == "pretrained":
        path = alexnet_weights_path()
        if not path.is_file():
            raise UserError(
                f"{path}: torchvision AlexNet ImageNet weights not found (needed by the LPIPS-Alex loss); download "
                f"{ALEXNET_URL} to that path, or set model.lpips_backbone to 'random (offline)' (mini profile only)"
            )
        pnet_rand = False
    elif backbone == "random (offline)":
        pnet_rand = True
    else:
        raise ValueError(f"unknown LPIPS backbone {backbone!r}")
    with warnings.catch_warnings(), seeded_init(seed + 2):
        warnings.simplefilter("ignore", UserWarning)  # torchvision's 'pretrained' deprecation, inside lpips
        model = lpips.LPIPS(net="alex", pretrained=True, pnet_rand=pnet_rand, verbose=False)
    model.eval()
    model.requires_grad_(False)
    return model


class DPACMProjection(nn.Module):
    """Conditioning embedding (B, C_e, h, w) -> RGB (B, 3, H, W) at the HR size `out_hw`."""

    def __init__(self, embedding_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(embedding_channels, 3, kernel_size=3, padding=1)

    def forward(self, embedding: torch.Tensor, out_hw: tuple[int, int]) -> torch.Tensor:
        rgb = self.conv(embedding)
        if tuple(rgb.shape[-2:]) != tuple(out_hw):
            rgb = F.interpolate(rgb, size=out_hw, mode="bilinear", align_corners=False)
        return rgb


def dpacm_losses(cfg: ModelConfig, hr: torch.Tensor, rgb: torch.Tensor | None,
                 latents: tuple[torch.Tensor, torch.Tensor] | None, lpips_model: nn.Module | None
                 ) -> dict[str, torch.Tensor]:
    """The DPACM terms that `cfg.dpacm` turns on -> {"wasserstein": .., "lpips": ..}.

    hr (B,3,H,W) in [-1,1]; rgb: the projected conditioning embedding (B,3,H,W), needed by LPIPS and by W1 when
    `cfg.w1_on == "embedding"`; latents: (x̂₀, z₀), each (B,C,h,w), needed by W1 when `cfg.w1_on == "latent"`.
    """
    terms = DPACM_TERMS[cfg.dpacm]
    out: dict[str, torch.Tensor] = {}
    if "wasserstein" in terms:
        if cfg.w1_on == "latent":
            if latents is None:
                raise ValueError("latent W1 needs (x0_hat, z0)")
            out["wasserstein"] = wasserstein1(latents[0], latents[1])
        else:
            if rgb is None:
                raise ValueError("embedding W1 needs the projected embedding")
            out["wasserstein"] = wasserstein1(rgb, hr)
    if "lpips" in terms:
        if lpips_model is None or rgb is None:
            raise ValueError("the perceptual term needs an LPIPS model and the projected embedding")
        out["lpips"] = lpips_model(rgb.float(), hr.float()).mean()
    return out


def total_loss(terms: dict[str, torch.Tensor], lambda_w: float, lambda_p: float) -> torch.Tensor:
    """Eq. 4: MSE + lambda_w * W1 + lambda_p * LPIPS (absent terms count as 0)."""
    total = terms["mse"]
    if "wasserstein" in terms:
        total = total + lambda_w * terms["wasserstein"]
    if "lpips" in terms:
        total = total + lambda_p * terms["lpips"]
    return total
