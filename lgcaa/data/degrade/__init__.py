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

Modules: `config` (configs, seeds), `plan` (the random choices as data), `ops` (the operations), `pipeline`
(head + tail, batched). The names below are the package's API.
"""

from __future__ import annotations

from lgcaa.data.degrade.config import (
    CONFIGS,
    DEFAULT_CONFIG,
    config_digest,
    image_seed,
    load_degradation_config,
    min_hr_size,
    phase_seed,
    seeded,
)
from lgcaa.data.degrade.ops import basicsr_poisson_noise, gaussian_blur_separable, poisson_noise, usm_sharpen
from lgcaa.data.degrade.pipeline import degrade_batch, degrade_head, degrade_realesrgan, degrade_tail
from lgcaa.data.degrade.plan import DegradationPlan, Kernel, Noise, Resize, plan_degradation

__all__ = [
    "CONFIGS", "DEFAULT_CONFIG", "DegradationPlan", "Kernel", "Noise", "Resize", "basicsr_poisson_noise",
    "config_digest", "degrade_batch", "degrade_head", "degrade_realesrgan", "degrade_tail",
    "gaussian_blur_separable", "image_seed", "load_degradation_config", "min_hr_size", "phase_seed",
    "plan_degradation", "poisson_noise", "seeded", "usm_sharpen",
]
