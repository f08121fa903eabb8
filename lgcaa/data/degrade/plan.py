"""The plan: every random choice of one image's degradation, drawn as basicsr draws it, as plain data.

`plan_degradation(seed, cfg, scale)` is a pure function of its arguments: basicsr's kernel functions draw from
the global Python/NumPy/torch RNGs, so sampling runs inside `seeded(phase_seed(seed, "plan"))`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from lgcaa.compat import import_basicsr
from lgcaa.data.degrade.config import RESIZE_MODES, load_degradation_config, phase_seed, seeded


@dataclass(frozen=True)
class Resize:
    kind: str  # up | down | keep
    factor: float
    mode: str  # area | bilinear | bicubic


@dataclass(frozen=True)
class Noise:
    kind: str  # gaussian (level = sigma on the 0-255 scale) | poisson (level = scale)
    level: float
    gray: bool


@dataclass(frozen=True)
class Kernel:
    """A blur kernel padded to the config's size. kind: 'sinc' | a basicsr mixed-kernel family | 'pulse'."""

    weights: np.ndarray  # (k,k) float32, sums to 1
    kind: str
    size: int  # odd support before padding
    omega_c: float | None = None  # sinc cutoff

    def sigma(self) -> float:
        """Largest standard deviation (pixels) of the kernel seen as a 2-D distribution (moment estimate)."""
        k = self.weights.astype(np.float64)
        k = k / k.sum()
        ys, xs = np.mgrid[: k.shape[0], : k.shape[1]]
        my, mx = (k * ys).sum(), (k * xs).sum()
        cov = np.array([[(k * (ys - my) ** 2).sum(), (k * (ys - my) * (xs - mx)).sum()],
                        [(k * (ys - my) * (xs - mx)).sum(), (k * (xs - mx) ** 2).sum()]])
        return float(np.sqrt(max(np.linalg.eigvalsh(cov).max(), 0.0)))


@dataclass(frozen=True)
class DegradationPlan:
    """All random choices for one image (pure function of seed, config and scale)."""

    scale: int
    usm: bool
    kernel1: Kernel
    resize1: Resize
    noise1: Noise
    jpeg1: float
    second_order: bool
    blur2: bool
    kernel2: Kernel
    resize2: Resize
    noise2: Noise
    final_resize_first: bool
    final_mode: str
    sinc: Kernel
    jpeg2: float
    noise_seed: int

    def summary(self) -> dict[str, Any]:
        """JSON-able scalars (kernels reduced to kind/size/sigma), for manifests and statistics."""

        def kern(k: Kernel) -> dict[str, Any]:
            out = {"kind": k.kind, "size": k.size, "sigma": round(k.sigma(), 4)}
            if k.omega_c is not None:
                out["omega_c"] = round(k.omega_c, 4)
            return out

        out = {
            "usm": self.usm, "kernel1": kern(self.kernel1), "resize1": asdict(self.resize1),
            "noise1": asdict(self.noise1), "jpeg1": self.jpeg1, "second_order": self.second_order,
            "final_resize_first": self.final_resize_first, "final_mode": self.final_mode,
            "sinc": kern(self.sinc), "jpeg2": self.jpeg2,
        }
        if self.second_order:
            out.update({"blur2": self.blur2, "kernel2": kern(self.kernel2), "resize2": asdict(self.resize2),
                        "noise2": asdict(self.noise2)})
        return out


def _odd_sizes(lo_hi: Sequence[int]) -> list[int]:
    lo, hi = int(lo_hi[0]), int(lo_hi[1])
    return [s for s in range(lo, hi + 1) if s % 2 == 1]


def _sample_kernel(cfg: dict[str, Any], suffix: str) -> Kernel:
    """RealESRGANDataset's kernel draw: sinc with `sinc_prob`, else basicsr's random mixed kernel."""
    import_basicsr()
    from basicsr.data.degradations import circular_lowpass_kernel, random_mixed_kernels

    size = random.choice(_odd_sizes(cfg[f"kernel_range{suffix}"]))
    pad_to = cfg[f"blur_kernel_size{suffix}"]
    if np.random.uniform() < cfg[f"sinc_prob{suffix}"]:
        omega_c = np.random.uniform(np.pi / 3, np.pi) if size < 13 else np.random.uniform(np.pi / 5, np.pi)
        weights, kind = circular_lowpass_kernel(omega_c, size, pad_to=False), "sinc"
    else:
        sigma = cfg[f"blur_sigma{suffix}"]
        weights = random_mixed_kernels(
            cfg[f"kernel_list{suffix}"], cfg[f"kernel_prob{suffix}"], size, sigma, sigma,
            [-math.pi, math.pi], cfg[f"betag_range{suffix}"], cfg[f"betap_range{suffix}"], noise_range=None,
        )
        kind, omega_c = "mixed", None
    pad = (pad_to - size) // 2
    return Kernel(np.pad(weights, ((pad, pad), (pad, pad))).astype(np.float32), kind, size,
                  None if omega_c is None else float(omega_c))


def _sample_sinc(cfg: dict[str, Any]) -> Kernel:
    import_basicsr()
    from basicsr.data.degradations import circular_lowpass_kernel

    pad_to = cfg["blur_kernel_size2"]
    if np.random.uniform() < cfg["final_sinc_prob"]:
        size = random.choice(_odd_sizes(cfg["kernel_range2"]))
        omega_c = np.random.uniform(np.pi / 3, np.pi)
        return Kernel(circular_lowpass_kernel(omega_c, size, pad_to=pad_to).astype(np.float32), "sinc", size,
                      float(omega_c))
    pulse = np.zeros((pad_to, pad_to), dtype=np.float32)
    pulse[pad_to // 2, pad_to // 2] = 1
    return Kernel(pulse, "pulse", 1)


def _sample_resize(cfg: dict[str, Any], suffix: str) -> Resize:
    kind = random.choices(["up", "down", "keep"], cfg[f"resize_prob{suffix}"])[0]
    lo, hi = cfg[f"resize_range{suffix}"]
    factor = np.random.uniform(1, hi) if kind == "up" else np.random.uniform(lo, 1) if kind == "down" else 1.0
    return Resize(kind, float(factor), random.choice(RESIZE_MODES))


def _sample_noise(cfg: dict[str, Any], suffix: str) -> Noise:
    """As basicsr's random_add_*_noise_pt: level and gray flag from torch.rand, kind from NumPy."""
    import torch

    gaussian = np.random.uniform() < cfg[f"gaussian_noise_prob{suffix}"]
    lo, hi = cfg[f"noise_range{suffix}"] if gaussian else cfg[f"poisson_scale_range{suffix}"]
    level = float(torch.rand(1) * (hi - lo) + lo)
    gray = bool(torch.rand(1)[0] < cfg[f"gray_noise_prob{suffix}"])
    return Noise("gaussian" if gaussian else "poisson", level, gray)


def _sample_jpeg(cfg: dict[str, Any], key: str) -> float:
    import torch

    return float(torch.zeros(1).uniform_(*cfg[key])[0])


def plan_degradation(seed: int, cfg: dict[str, Any] | None = None, scale: int | None = None) -> DegradationPlan:
    """Draw every random choice for one image from `seed` (draw order as Real-ESRGAN's dataset + model)."""
    cfg = cfg or load_degradation_config()
    with seeded(phase_seed(seed, "plan")):
        kernel1 = _sample_kernel(cfg, "")
        kernel2 = _sample_kernel(cfg, "2")
        sinc = _sample_sinc(cfg)
        resize1, noise1, jpeg1 = _sample_resize(cfg, ""), _sample_noise(cfg, ""), _sample_jpeg(cfg, "jpeg_range")
        p2 = float(cfg["second_order_prob"])
        second = p2 >= 1 or (p2 > 0 and random.random() < p2)  # no draw when it is certain (Real-ESRGAN)
        if second:
            blur2 = bool(np.random.uniform() < cfg["second_blur_prob"])
            resize2, noise2 = _sample_resize(cfg, "2"), _sample_noise(cfg, "2")
        else:
            blur2, resize2, noise2 = False, Resize("keep", 1.0, "area"), Noise("gaussian", 0.0, False)
        resize_first = bool(np.random.uniform() < 0.5)
        final_mode = random.choice(RESIZE_MODES)
        jpeg2 = _sample_jpeg(cfg, "jpeg_range2")
    return DegradationPlan(
        scale=int(scale or cfg["scale"]), usm=bool(cfg["usm_sharpen"]), kernel1=kernel1, resize1=resize1,
        noise1=noise1, jpeg1=jpeg1, second_order=second, blur2=blur2, kernel2=kernel2, resize2=resize2,
        noise2=noise2, final_resize_first=resize_first, final_mode=final_mode, sinc=sinc, jpeg2=jpeg2,
        noise_seed=phase_seed(seed, "noise"),
    )
