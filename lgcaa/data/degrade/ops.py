"""The operations of the pipeline on torch tensors: USM sharpening (separable), Poisson/Gaussian noise, JPEG.

Each equals basicsr's own operation (tested): the separable USM Gaussian up to float rounding, Poisson noise
bit-identically (a bincount of the 8-bit levels instead of torch.unique).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import cv2
import numpy as np

from lgcaa.compat import import_basicsr
from lgcaa.data.degrade.config import USM_RADIUS
from lgcaa.data.degrade.plan import Kernel, Noise


@lru_cache(maxsize=4)
def _jpeger(device: str):
    import_basicsr()
    from basicsr.utils import DiffJPEG

    return DiffJPEG(differentiable=False).to(device)


@lru_cache(maxsize=1)
def _usm_kernel_1d() -> np.ndarray:
    return cv2.getGaussianKernel(USM_RADIUS, 0).astype(np.float32).reshape(-1)


@lru_cache(maxsize=16)
def _band_matrix(length: int, device: str):
    """(length+K-1, length) banded Toeplitz matrix T with x_padded @ T == 1-D 'valid' convolution with the
    USM Gaussian (symmetric, so convolution == correlation)."""
    import torch

    k = torch.from_numpy(_usm_kernel_1d())
    n = k.numel()
    t = torch.zeros(length + n - 1, length)
    for j in range(length):
        t[j : j + n, j] = k
    return t.to(device)


def gaussian_blur_separable(img):
    """(B,C,H,W) -> same: the USM Gaussian (51 taps, sigma 8) with reflect padding, as two banded matrix
    products (rows, then columns). Equals basicsr's filter2D with the 51x51 outer-product kernel up to float
    rounding, ~10x cheaper than the 2-D convolution; per-sample results do not depend on the batch."""
    import torch.nn.functional as F

    _, _, h, w = img.shape
    r = USM_RADIUS // 2
    x = F.pad(img, (r, r, r, r), mode="reflect")
    x = x @ _band_matrix(w, str(img.device))
    return (x.transpose(-1, -2) @ _band_matrix(h, str(img.device))).transpose(-1, -2)


def usm_sharpen(img, weight: float = 0.5, threshold: float = 10):
    """basicsr USMSharp (radius 50, weight 0.5, threshold 10) with the Gaussian applied separably."""
    import torch

    residual = img - gaussian_blur_separable(img)
    soft_mask = gaussian_blur_separable((torch.abs(residual) * 255 > threshold).float())
    sharp = torch.clip(img + weight * residual, 0, 1)
    return soft_mask * sharp + (1 - soft_mask) * img


def _distinct_levels(img) -> float:
    """len(torch.unique(x)) for x on the 8-bit grid, by bincount (O(N) instead of a sort)."""
    import torch

    levels = torch.clamp((img * 255.0).round(), 0, 255).long().flatten()
    return float((torch.bincount(levels, minlength=256) > 0).sum())


def poisson_noise(img, scale: float, gray: bool):
    """basicsr.data.degradations.generate_poisson_noise_pt for one image (1,3,H,W), bit-identical (same
    torch.poisson draws in the same order), with torch.unique replaced by a bincount of the 8-bit levels."""
    import torch
    from basicsr.data import degradations

    noise_gray = None
    if gray:
        img_gray = degradations.rgb_to_grayscale(img, num_output_channels=1)
        img_gray = torch.clamp((img_gray * 255.0).round(), 0, 255) / 255.0
        vals = img_gray.new_tensor([2 ** np.ceil(np.log2(_distinct_levels(img_gray)))]).view(1, 1, 1, 1)
        noise_gray = (torch.poisson(img_gray * vals) / vals - img_gray).expand_as(img)
    q = torch.clamp((img * 255.0).round(), 0, 255) / 255.0
    vals = q.new_tensor([2 ** np.ceil(np.log2(_distinct_levels(q)))]).view(1, 1, 1, 1)
    noise = torch.poisson(q * vals) / vals - q
    if gray:
        g = img.new_tensor([1.0]).view(1, 1, 1, 1)
        noise = noise * (1 - g) + noise_gray * g
    return noise * img.new_tensor([scale]).view(1, 1, 1, 1)


def basicsr_poisson_noise(img, scale: float, gray: bool):
    """basicsr's own generate_poisson_noise_pt (torch.unique), same signature as `poisson_noise`."""
    from basicsr.data.degradations import generate_poisson_noise_pt

    return generate_poisson_noise_pt(img, img.new_tensor([scale]), img.new_tensor([float(gray)]))


def apply_noise(out, noise: Noise, poisson=poisson_noise):
    """basicsr's Gaussian/Poisson noise with the plan's level and gray flag; clip, no rounding."""
    import torch
    from basicsr.data.degradations import generate_gaussian_noise_pt

    if noise.kind == "gaussian":
        n = generate_gaussian_noise_pt(out, out.new_tensor([noise.level]), out.new_tensor([float(noise.gray)]))
    else:
        n = poisson(out, noise.level, noise.gray)
    return torch.clamp(out + n, 0, 1)


def apply_jpeg(out, quality: float):
    import torch

    q = out.new_tensor([quality])  # DiffJPEG overwrites its quality tensor in place
    return _jpeger(str(out.device))(torch.clamp(out, 0, 1), quality=q)


def kernel_tensor(k: Kernel, device) -> Any:
    import torch

    return torch.from_numpy(k.weights).to(device).unsqueeze(0)
