"""Distribution and Perceptual Aligned Conditioning Module (DPACM), paper §III-C.

A 3×3 conv maps ControlNet's conditioning embedding (the output of its lightweight conditioning network,
before the zero conv, (B, C_e, H/8, W/8)) to RGB. That RGB image, bilinearly upsampled to the HR size (the
losses live "in the pixel space"), is compared with the HR ground truth in [-1, 1] by

  Wasserstein-1 (Eq. 3): per image and channel, the closed form for two equal-size empirical pixel
      distributions with |x - y| ground cost: mean |sort(x) - sort(y)|; averaged over channels and batch.
  LPIPS (Eq. 2): LPIPS with the AlexNet trunk [44] (`lpips` package, v0.1 linear heads).

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

    from lgcaa.model.backbone import seeded_init

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


def dpacm_losses(rgb: torch.Tensor, hr: torch.Tensor, variant: str, lpips_model: nn.Module | None) -> dict[str, torch.Tensor]:
    """rgb: projected embedding (B,3,H,W); hr: (B,3,H,W) in [-1,1] -> {"wasserstein": .., "lpips": ..} as enabled."""
    terms = DPACM_TERMS[variant]
    out: dict[str, torch.Tensor] = {}
    if "wasserstein" in terms:
        out["wasserstein"] = wasserstein1(rgb, hr)
    if "lpips" in terms:
        if lpips_model is None:
            raise ValueError("the perceptual term needs an LPIPS model")
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
