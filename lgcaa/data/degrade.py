"""Real-ESRGAN second-order degradation built from basicsr's pure functions, seeded per image.

The sequence follows Real-ESRGAN (basicsr `RealESRGANDataset.__getitem__` for kernels and
`RealESRGANModel.feed_data` for the pipeline): USM-sharpened GT -> blur -> random resize -> Gaussian or
Poisson noise -> JPEG -> [second order: blur -> resize -> noise] -> {resize back + sinc, JPEG} in random
order -> quantise to 8 bit. Randomness comes from Python `random`, NumPy's global RNG and torch's global
RNG (basicsr's functions draw from them), all seeded from `image_seed(dataset, name, seed)` inside
`seeded()`, which restores the previous RNG state afterwards. Hence one image can be regenerated alone,
identically, in any order and with any number of workers.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import random
from functools import lru_cache
from importlib import resources
from typing import Any, Iterator

import numpy as np

DEFAULT_CONFIG = "degradation_realesrgan_x4plus.yaml"
KERNEL_SIZES = [2 * v + 1 for v in range(3, 11)]  # 7..21, as Real-ESRGAN


def image_seed(dataset: str, name: str, seed: int) -> int:
    """A 63-bit seed determined only by (dataset, file name, global seed)."""
    digest = hashlib.sha256(f"{dataset}\0{name}\0{seed}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


@lru_cache(maxsize=8)
def _load_packaged(name: str) -> dict[str, Any]:
    import yaml

    return yaml.safe_load(resources.files("lgcaa.configs").joinpath(name).read_text())


def load_degradation_config(name_or_path: str | None = None) -> dict[str, Any]:
    """Packaged config by file name (default: Real-ESRGAN x4plus) or a YAML path."""
    import yaml

    name = name_or_path or DEFAULT_CONFIG
    if resources.files("lgcaa.configs").joinpath(name).is_file():
        return dict(_load_packaged(name))
    with open(name) as f:
        return yaml.safe_load(f)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed Python, NumPy and torch global RNGs; restore their previous states on exit."""
    import torch

    py_state, np_state, torch_state = random.getstate(), np.random.get_state(), torch.get_rng_state()
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        torch.set_rng_state(torch_state)


def _blur_kernel(cfg: dict[str, Any], suffix: str) -> np.ndarray:
    """One 21x21 blur kernel (sinc or mixed Gaussian family), as RealESRGANDataset draws it."""
    from lgcaa.compat import import_basicsr

    import_basicsr()
    from basicsr.data.degradations import circular_lowpass_kernel, random_mixed_kernels

    size = random.choice(KERNEL_SIZES)
    if np.random.uniform() < cfg[f"sinc_prob{suffix}"]:
        omega_c = np.random.uniform(np.pi / 3, np.pi) if size < 13 else np.random.uniform(np.pi / 5, np.pi)
        kernel = circular_lowpass_kernel(omega_c, size, pad_to=False)
    else:
        sigma = cfg[f"blur_sigma{suffix}"]
        kernel = random_mixed_kernels(
            cfg[f"kernel_list{suffix}"], cfg[f"kernel_prob{suffix}"], size, sigma, sigma,
            [-math.pi, math.pi], cfg[f"betag_range{suffix}"], cfg[f"betap_range{suffix}"], noise_range=None,
        )
    pad = (21 - size) // 2
    return np.pad(kernel, ((pad, pad), (pad, pad)))


def _sinc_kernel(cfg: dict[str, Any]) -> np.ndarray:
    from lgcaa.compat import import_basicsr

    import_basicsr()
    from basicsr.data.degradations import circular_lowpass_kernel

    if np.random.uniform() < cfg["final_sinc_prob"]:
        size = random.choice(KERNEL_SIZES)
        return circular_lowpass_kernel(np.random.uniform(np.pi / 3, np.pi), size, pad_to=21)
    pulse = np.zeros((21, 21), dtype=np.float32)
    pulse[10, 10] = 1
    return pulse


def _resize_random(out, cfg: dict[str, Any], suffix: str, size_hw: tuple[int, int] | None):
    import torch.nn.functional as F

    kind = random.choices(["up", "down", "keep"], cfg[f"resize_prob{suffix}"])[0]
    lo, hi = cfg[f"resize_range{suffix}"]
    factor = np.random.uniform(1, hi) if kind == "up" else np.random.uniform(lo, 1) if kind == "down" else 1
    mode = random.choice(["area", "bilinear", "bicubic"])
    if size_hw is None:
        return F.interpolate(out, scale_factor=factor, mode=mode)
    return F.interpolate(out, size=(int(size_hw[0] * factor), int(size_hw[1] * factor)), mode=mode)


def _noise(out, cfg: dict[str, Any], suffix: str):
    from basicsr.data.degradations import random_add_gaussian_noise_pt, random_add_poisson_noise_pt

    gray = cfg[f"gray_noise_prob{suffix}"]
    if np.random.uniform() < cfg[f"gaussian_noise_prob{suffix}"]:
        return random_add_gaussian_noise_pt(out, sigma_range=cfg[f"noise_range{suffix}"], clip=True, rounds=False, gray_prob=gray)
    return random_add_poisson_noise_pt(out, scale_range=cfg[f"poisson_scale_range{suffix}"], gray_prob=gray, clip=True, rounds=False)


def _jpeg(out, cfg: dict[str, Any], suffix: str, jpeger):
    import torch

    quality = out.new_zeros(out.size(0)).uniform_(*cfg[f"jpeg_range{suffix}"])
    return jpeger(torch.clamp(out, 0, 1), quality=quality)


def degrade_realesrgan(hr, seed: int, scale: int | None = None, cfg: dict[str, Any] | None = None):
    """Degrade one HR image.

    Args:
        hr: (3,H,W) float tensor in [0,1]; H and W divisible by `scale`.
        seed: per-image seed (use `image_seed`).
        scale: downscaling factor; default `cfg['scale']`.
        cfg: degradation config (default: Real-ESRGAN x4plus, `load_degradation_config()`).
    Returns:
        (3,H//scale,W//scale) float tensor in [0,1], quantised to 8-bit levels.
    """
    import torch
    import torch.nn.functional as F

    from lgcaa.compat import import_basicsr

    import_basicsr()
    from basicsr.utils import DiffJPEG, USMSharp
    from basicsr.utils.img_process_util import filter2D

    cfg = cfg or load_degradation_config()
    scale = scale or cfg["scale"]
    _, h, w = hr.shape
    if h % scale or w % scale:
        raise ValueError(f"HR size {h}x{w} is not divisible by scale {scale}")
    with seeded(seed), torch.no_grad():
        kernel1 = torch.from_numpy(_blur_kernel(cfg, "")).float()
        kernel2 = torch.from_numpy(_blur_kernel(cfg, "2")).float()
        sinc = torch.from_numpy(_sinc_kernel(cfg)).float()
        jpeger = DiffJPEG(differentiable=False)
        gt = hr.unsqueeze(0).float()
        out = USMSharp()(gt) if cfg.get("usm_sharpen", True) else gt
        # first order
        out = filter2D(out, kernel1.unsqueeze(0))
        out = _resize_random(out, cfg, "", None)
        out = _noise(out, cfg, "")
        out = _jpeg(out, cfg, "", jpeger)
        # second order
        if cfg.get("second_order", True):
            if np.random.uniform() < cfg["second_blur_prob"]:
                out = filter2D(out, kernel2.unsqueeze(0))
            out = _resize_random(out, cfg, "2", (h // scale, w // scale))
            out = _noise(out, cfg, "2")
            suffix = "2"
        else:
            suffix = ""
        # [resize back + sinc] and JPEG, in random order
        resize_first = np.random.uniform() < 0.5
        if not resize_first:
            out = _jpeg(out, cfg, suffix, jpeger)
        mode = random.choice(["area", "bilinear", "bicubic"])
        out = F.interpolate(out, size=(h // scale, w // scale), mode=mode)
        out = filter2D(out, sinc.unsqueeze(0))
        if resize_first:
            out = _jpeg(out, cfg, suffix, jpeger)
        return (torch.clamp((out * 255.0).round(), 0, 255) / 255.0)[0]
