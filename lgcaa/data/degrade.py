"""Real-ESRGAN second-order degradation from basicsr's pure functions: seeded per image, batched.

Pipeline (Real-ESRGAN: basicsr `RealESRGANDataset.__getitem__` draws the kernels, `RealESRGANModel.feed_data`
runs the pipeline): [USM-sharpened] HR -> blur (kernel1) -> random resize -> Gaussian or Poisson noise -> JPEG
-> [second order, with probability `second_order_prob`: blur (kernel2, with `second_blur_prob`) -> resize ->
noise] -> {resize to HR/scale + final sinc, JPEG (`jpeg_range2`)} in random order -> 8-bit quantisation.

Randomness, per image, in two independent phases, each seeded from the image seed (`image_seed(dataset,
name, seed)` for test sets):
  plan   every random choice of the pipeline (kernels via basicsr's kernel functions, resize kind/factor/mode,
         noise kind/level/gray, JPEG qualities, second order, final order) -> `DegradationPlan`, a pure
         function of (seed, config, scale). basicsr draws from Python/NumPy/torch global RNGs, so sampling
         runs inside `seeded()`, which restores the callers' RNG states afterwards.
  noise  the noise tensors, drawn by basicsr's `generate_*_noise_pt` inside `seeded(noise seed)`.
So one image can be regenerated alone, identically, in any order, batch composition or worker count.

Batching and speed: the full-resolution head (USM + kernel1 blur) runs on the whole batch at once
(`filter2D` with per-sample kernels; USM's Gaussian as two banded matrix products instead of basicsr's 51x51
2-D convolution -- the same filter up to float rounding). After the random resize every image has its own
size, so the tail runs per image (DiffJPEG built once; Poisson noise bit-identical to basicsr's but counting
grey levels with bincount instead of torch.unique). The batched path is the reference: `degrade_realesrgan(hr, seed)`
is the batch of one, and per-sample results do not depend on the batch (tested). Byte-identical results hold
on one device type (CPU is the reference); GPU kernels and RNG streams differ from CPU.

Configs are flat YAML with Real-ESRGAN's key names (see `CONFIGS`); `second_order_prob`, `kernel_range`,
`kernel_range2` and `usm_sharpen` make ResShift's test degradation expressible in the same pipeline.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from lgcaa.errors import UserError

# name -> packaged YAML (lgcaa/configs). Explicit registry.
CONFIGS: dict[str, str] = {
    "realesrgan-x4plus": "degradation_realesrgan_x4plus.yaml",
    "resshift-testing": "degradation_resshift_testing.yaml",
}
DEFAULT_CONFIG = CONFIGS["realesrgan-x4plus"]
RESIZE_MODES = ("area", "bilinear", "bicubic")
REQUIRED_KEYS = (
    "scale", "usm_sharpen", "blur_kernel_size", "kernel_range", "kernel_list", "kernel_prob", "sinc_prob",
    "blur_sigma", "betag_range", "betap_range", "blur_kernel_size2", "kernel_range2", "kernel_list2",
    "kernel_prob2", "sinc_prob2", "blur_sigma2", "betag_range2", "betap_range2", "final_sinc_prob",
    "resize_prob", "resize_range", "gaussian_noise_prob", "noise_range", "poisson_scale_range",
    "gray_noise_prob", "jpeg_range", "second_order_prob", "second_blur_prob", "resize_prob2", "resize_range2",
    "gaussian_noise_prob2", "noise_range2", "poisson_scale_range2", "gray_noise_prob2", "jpeg_range2",
)
USM_RADIUS = 51  # basicsr USMSharp(radius=50) rounds up to the odd size 51; sigma from cv2 (= 8.0)


# --- seeds and configs ------------------------------------------------------------------------------------


def image_seed(dataset: str, name: str, seed: int) -> int:
    """A 63-bit seed determined only by (dataset, file name, global seed)."""
    digest = hashlib.sha256(f"{dataset}\0{name}\0{seed}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def phase_seed(seed: int, phase: str) -> int:
    """Independent 63-bit seed for one randomness phase ('plan', 'noise') of an image seed."""
    digest = hashlib.sha256(f"lgcaa-degrade\0{seed}\0{phase}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


@lru_cache(maxsize=8)
def _load_packaged(filename: str) -> dict[str, Any]:
    import yaml

    return yaml.safe_load(resources.files("lgcaa.configs").joinpath(filename).read_text())


def load_degradation_config(name_or_path: str | None = None) -> dict[str, Any]:
    """A validated config: registry name (`CONFIGS`), packaged file name, or a YAML path. Returns a copy."""
    name = name_or_path or DEFAULT_CONFIG
    filename = CONFIGS.get(name, name)
    if resources.files("lgcaa.configs").joinpath(filename).is_file():
        cfg, source = dict(_load_packaged(filename)), f"lgcaa/configs/{filename}"
    else:
        path = Path(name)
        if not path.is_file():
            raise UserError(f"{path}: degradation config not found; use one of {', '.join(CONFIGS)} or a YAML path")
        import yaml

        cfg, source = yaml.safe_load(path.read_text()) or {}, str(path)
    missing = [k for k in REQUIRED_KEYS if k not in cfg]
    if missing:
        raise UserError(f"{source}: degradation config lacks {', '.join(missing)}; compare with {DEFAULT_CONFIG}")
    for key in ("blur_kernel_size", "blur_kernel_size2"):
        if cfg[key] % 2 != 1:
            raise UserError(f"{source}: {key} must be odd, got {cfg[key]}")
    return cfg


def config_digest(cfg: dict[str, Any]) -> str:
    """sha256 of the config's canonical JSON (recorded in manifests of regenerated sets)."""
    import json

    return hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()


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


# --- the plan: every random choice of one image -----------------------------------------------------------


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
    from lgcaa.compat import import_basicsr

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
    from lgcaa.compat import import_basicsr

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


# --- the operations -----------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _jpeger(device: str):
    from lgcaa.compat import import_basicsr

    import_basicsr()
    from basicsr.utils import DiffJPEG

    return DiffJPEG(differentiable=False).to(device)


@lru_cache(maxsize=1)
def _usm_kernel_1d() -> np.ndarray:
    import cv2

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


def _noise(out, noise: Noise, poisson=poisson_noise):
    """basicsr's Gaussian/Poisson noise with the plan's level and gray flag; clip, no rounding."""
    import torch
    from basicsr.data.degradations import generate_gaussian_noise_pt

    if noise.kind == "gaussian":
        n = generate_gaussian_noise_pt(out, out.new_tensor([noise.level]), out.new_tensor([float(noise.gray)]))
    else:
        n = poisson(out, noise.level, noise.gray)
    return torch.clamp(out + n, 0, 1)


def _jpeg(out, quality: float):
    import torch

    q = out.new_tensor([quality])  # DiffJPEG overwrites its quality tensor in place
    return _jpeger(str(out.device))(torch.clamp(out, 0, 1), quality=q)


def _kernel_tensor(k: Kernel, device) -> Any:
    import torch

    return torch.from_numpy(k.weights).to(device).unsqueeze(0)


def degrade_head(hr, plans: Sequence[DegradationPlan]):
    """Batched full-resolution head: (B,3,H,W) -> USM (if planned) -> per-sample kernel1 blur."""
    import torch

    from lgcaa.compat import import_basicsr

    import_basicsr()
    from basicsr.utils.img_process_util import filter2D

    out = usm_sharpen(hr) if plans[0].usm else hr
    kernels = torch.cat([_kernel_tensor(p.kernel1, hr.device) for p in plans])
    return filter2D(out, kernels)


def degrade_tail(out, plan: DegradationPlan, hr_hw: tuple[int, int], poisson=poisson_noise):
    """Per-image tail after the kernel1 blur: (1,3,H,W) -> (1,3,H/s,W/s) quantised to 8-bit levels.

    `poisson`: Poisson noise implementation (`basicsr_poisson_noise` for the reference loop; same result)."""
    import torch
    import torch.nn.functional as F

    from lgcaa.compat import import_basicsr

    import_basicsr()
    from basicsr.utils.img_process_util import filter2D

    h, w = hr_hw
    s = plan.scale
    with seeded(plan.noise_seed):
        out = F.interpolate(out, scale_factor=plan.resize1.factor, mode=plan.resize1.mode)
        out = _noise(out, plan.noise1, poisson)
        out = _jpeg(out, plan.jpeg1)
        if plan.second_order:
            if plan.blur2:
                out = filter2D(out, _kernel_tensor(plan.kernel2, out.device))
            f2 = plan.resize2.factor
            out = F.interpolate(out, size=(int(h / s * f2), int(w / s * f2)), mode=plan.resize2.mode)
            out = _noise(out, plan.noise2, poisson)
        sinc = _kernel_tensor(plan.sinc, out.device)
        if plan.final_resize_first:
            out = F.interpolate(out, size=(h // s, w // s), mode=plan.final_mode)
            out = filter2D(out, sinc)
            out = _jpeg(out, plan.jpeg2)
        else:
            out = _jpeg(out, plan.jpeg2)
            out = F.interpolate(out, size=(h // s, w // s), mode=plan.final_mode)
            out = filter2D(out, sinc)
    return torch.clamp((out * 255.0).round(), 0, 255) / 255.0


def min_hr_size(cfg: dict[str, Any], scale: int | None = None) -> int:
    """Smallest HR side the pipeline accepts: basicsr's reflect padding needs every blurred image larger than
    the kernel radius, including after the smallest random down-resize (x4plus: 74 px; ResShift test: 16 px)."""
    s = int(scale or cfg["scale"])
    pad1, pad2 = cfg["blur_kernel_size"] // 2, cfg["blur_kernel_size2"] // 2
    need = [pad1 + 1, s * (pad2 + 1)]
    if cfg["usm_sharpen"]:
        need.append(USM_RADIUS // 2 + 1)
    if cfg["second_order_prob"] > 0 and cfg["second_blur_prob"] > 0:
        need.append(math.ceil((pad2 + 1) / cfg["resize_range"][0]))
    return max(need)


def degrade_batch(hr, seeds: Sequence[int], scale: int | None = None, cfg: dict[str, Any] | None = None,
                  plans: Sequence[DegradationPlan] | None = None):
    """Degrade a batch of same-size HR images, one seed each.

    Args:
        hr: (B,3,H,W) float tensor in [0,1]; H and W divisible by the scale and >= `min_hr_size(cfg)`.
        seeds: B per-image seeds (use `image_seed`); ignored where `plans` are given.
        scale: downscaling factor (default `cfg['scale']`).
        cfg: degradation config (default Real-ESRGAN x4plus).
        plans: pre-drawn plans (`plan_degradation`), e.g. to record them.
    Returns:
        (B,3,H/s,W/s) float tensor in [0,1] on 8-bit levels.
    """
    import torch

    cfg = cfg or load_degradation_config()
    if plans is None:
        plans = [plan_degradation(s, cfg, scale) for s in seeds]
    b, _, h, w = hr.shape
    s = plans[0].scale
    if len(plans) != b:
        raise ValueError(f"{b} images but {len(plans)} seeds/plans")
    if h % s or w % s:
        raise ValueError(f"HR size {h}x{w} is not divisible by scale {s}")
    if min(h, w) < min_hr_size(cfg, s):
        raise ValueError(f"HR size {h}x{w} is below {min_hr_size(cfg, s)} px, the smallest this degradation config "
                         "supports (its blur kernels need larger images after the random down-resize)")
    with torch.no_grad():
        head = degrade_head(hr.float(), plans)
        return torch.cat([degrade_tail(head[i : i + 1], plans[i], (h, w)) for i in range(b)])


def degrade_realesrgan(hr, seed: int, scale: int | None = None, cfg: dict[str, Any] | None = None):
    """Degrade one HR image (the batch of one of `degrade_batch`).

    Args:
        hr: (3,H,W) float tensor in [0,1]; H and W divisible by `scale`.
        seed: per-image seed (use `image_seed`).
        scale: downscaling factor; default `cfg['scale']`.
        cfg: degradation config (default: Real-ESRGAN x4plus, `load_degradation_config()`).
    Returns:
        (3,H//scale,W//scale) float tensor in [0,1], quantised to 8-bit levels.
    """
    return degrade_batch(hr.unsqueeze(0), [seed], scale=scale, cfg=cfg)[0]
