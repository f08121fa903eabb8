"""The pipeline: a batched full-resolution head (USM + kernel1 blur), then a per-image tail (resize, noise, JPEG,
second order, final sinc + resize in the planned order, 8-bit quantisation). The batch of one is the reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lgcaa.compat import import_basicsr
from lgcaa.data.degrade.config import load_degradation_config, min_hr_size, seeded
from lgcaa.data.degrade.ops import apply_jpeg, apply_noise, kernel_tensor, poisson_noise, usm_sharpen
from lgcaa.data.degrade.plan import DegradationPlan, plan_degradation


def degrade_head(hr, plans: Sequence[DegradationPlan]):
    """Batched full-resolution head: (B,3,H,W) -> USM (if planned) -> per-sample kernel1 blur."""
    import torch

    import_basicsr()
    from basicsr.utils.img_process_util import filter2D

    out = usm_sharpen(hr) if plans[0].usm else hr
    kernels = torch.cat([kernel_tensor(p.kernel1, hr.device) for p in plans])
    return filter2D(out, kernels)


def degrade_tail(out, plan: DegradationPlan, hr_hw: tuple[int, int], poisson=poisson_noise):
    """Per-image tail after the kernel1 blur: (1,3,H,W) -> (1,3,H/s,W/s) quantised to 8-bit levels.

    `poisson`: Poisson noise implementation (`basicsr_poisson_noise` for the reference loop; same result)."""
    import torch
    import torch.nn.functional as F

    import_basicsr()
    from basicsr.utils.img_process_util import filter2D

    h, w = hr_hw
    s = plan.scale
    with seeded(plan.noise_seed):
        out = F.interpolate(out, scale_factor=plan.resize1.factor, mode=plan.resize1.mode)
        out = apply_noise(out, plan.noise1, poisson)
        out = apply_jpeg(out, plan.jpeg1)
        if plan.second_order:
            if plan.blur2:
                out = filter2D(out, kernel_tensor(plan.kernel2, out.device))
            f2 = plan.resize2.factor
            out = F.interpolate(out, size=(int(h / s * f2), int(w / s * f2)), mode=plan.resize2.mode)
            out = apply_noise(out, plan.noise2, poisson)
        sinc = kernel_tensor(plan.sinc, out.device)
        if plan.final_resize_first:
            out = F.interpolate(out, size=(h // s, w // s), mode=plan.final_mode)
            out = filter2D(out, sinc)
            out = apply_jpeg(out, plan.jpeg2)
        else:
            out = apply_jpeg(out, plan.jpeg2)
            out = F.interpolate(out, size=(h // s, w // s), mode=plan.final_mode)
            out = filter2D(out, sinc)
    return torch.clamp((out * 255.0).round(), 0, 255) / 255.0


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
