"""Optional colour correction of SR outputs towards the (upsampled) LR input: none, AdaIN or wavelet.

Both are common post-processing steps of SD-based SR (StableSR and followers); the paper does not mention
one, so the default is "none" and the choice is recorded with every output.

  adain    per image and channel, match the output's mean and standard deviation to the reference's
  wavelet  replace the output's low-frequency band by the reference's: an à-trous decomposition with a
           3×3 binomial kernel dilated 1, 2, 4, ... (`levels` times); low = the last blurred image
All tensors are (B,3,H,W) in [0,1]; the reference has the output's size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def adain(image: torch.Tensor, reference: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    mu_i = image.mean(dim=(2, 3), keepdim=True)
    sd_i = image.std(dim=(2, 3), keepdim=True)
    mu_r = reference.mean(dim=(2, 3), keepdim=True)
    sd_r = reference.std(dim=(2, 3), keepdim=True)
    return ((image - mu_i) / (sd_i + eps) * sd_r + mu_r).clamp(0, 1)


def _blur(x: torch.Tensor, dilation: int) -> torch.Tensor:
    k1 = torch.tensor([1.0, 2.0, 1.0], dtype=x.dtype, device=x.device) / 4
    kernel = (k1[:, None] * k1[None, :]).expand(x.shape[1], 1, 3, 3)
    pad = dilation
    mode = "reflect" if min(x.shape[-2:]) > pad else "replicate"
    x = F.pad(x, (pad, pad, pad, pad), mode=mode)
    return F.conv2d(x, kernel, groups=x.shape[1], dilation=dilation)


def low_frequency(x: torch.Tensor, levels: int = 5) -> torch.Tensor:
    for i in range(levels):
        x = _blur(x, 2**i)
    return x


def wavelet(image: torch.Tensor, reference: torch.Tensor, levels: int = 5) -> torch.Tensor:
    high = image - low_frequency(image, levels)
    return (high + low_frequency(reference, levels)).clamp(0, 1)


def identity(image: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    return image


COLOR_FIXES = {"none": identity, "adain": adain, "wavelet": wavelet}


def color_fix(image: torch.Tensor, reference: torch.Tensor, method: str) -> torch.Tensor:
    if method not in COLOR_FIXES:
        raise ValueError(f"unknown colour fix {method!r}; choose from {list(COLOR_FIXES)}")
    return COLOR_FIXES[method](image.float(), reference.float())
