"""How LR is made from HR, for test sets and training pairs alike: the one registry of LR kinds and the one
function (`make_lr`) that the mini test sets (`lgcaa.data.mini`), regenerated test sets (`lgcaa.data.generate`)
and LGCAA's training pairs (`lgcaa.model.data`) call.

    realesrgan  the seeded Real-ESRGAN second-order degradation (`lgcaa.data.degrade`), with a config
    bicubic     MATLAB-compatible bicubic with antialiasing (basicsr's `imresize`), x1/scale; no randomness

Both give 8-bit LR (the levels a PNG holds). A dataset's `lr` may also be `released` (the authors' own LR
files, `lgcaa.data.fetch`), which is not made here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lgcaa.errors import check_known

if TYPE_CHECKING:  # numpy is imported by the functions: the profile schema reads LR_KINDS' names
    import numpy as np

LR_KINDS: dict[str, str] = {
    "realesrgan": "seeded Real-ESRGAN second-order degradation (lgcaa.data.degrade)",
    "bicubic": "MATLAB-compatible bicubic x1/scale with antialiasing (basicsr imresize)",
}


def matlab_bicubic(img: np.ndarray, factor: float) -> np.ndarray:
    """MATLAB `imresize(img, factor, 'bicubic')` with antialiasing (basicsr's port): (H,W,3) uint8 ->
    (H*factor,W*factor,3) uint8, rounded and clipped."""
    import numpy as np

    from lgcaa.compat import basicsr_imresize

    out = basicsr_imresize()(img.astype(np.float32) / 255.0, factor)
    out = out.numpy() if hasattr(out, "numpy") else out
    return np.clip(np.round(out * 255.0), 0, 255).astype(np.uint8)


def bicubic_down(hr: np.ndarray, scale: int) -> np.ndarray:
    """MATLAB-compatible bicubic downscaling with antialiasing: (H,W,3) uint8 -> (H/s,W/s,3) uint8."""
    return matlab_bicubic(hr, 1.0 / scale)


def to_tensor(img: np.ndarray):
    """(H,W,3) uint8 -> (3,H,W) float32 tensor in [0,1]."""
    import numpy as np
    import torch

    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).float() / 255.0


def to_uint8(t) -> np.ndarray:
    """(3,H,W) tensor in [0,1] -> (H,W,3) uint8."""
    return (t * 255.0).round().clamp(0, 255).byte().permute(1, 2, 0).cpu().numpy()


def make_lr(hr, kind: str, scale: int, seeds: Sequence[int], cfg: dict[str, Any] | None = None):
    """LR of a batch of same-size HR images: (B,3,H,W) float tensor in [0,1] on 8-bit levels -> ((B,3,H/s,W/s)
    tensor in [0,1] on 8-bit levels, one summary per image). `seeds`: per-image seeds (realesrgan; `image_seed`
    for test sets); `cfg`: the Real-ESRGAN degradation config (default x4plus's). Byte-identical on CPU for the
    same (image, kind, scale, seed, cfg), whatever the batch."""
    check_known("LR kind", [kind], LR_KINDS)
    import torch

    if kind == "bicubic":
        lr = [to_tensor(bicubic_down(to_uint8(img), scale)) for img in hr]
        return torch.stack(lr).to(hr.device), [{"kind": "bicubic-matlab"} for _ in lr]
    from lgcaa.data.degrade import degrade_batch, load_degradation_config, plan_degradation

    cfg = cfg or load_degradation_config()
    plans = [plan_degradation(s, cfg, scale) for s in seeds]
    return degrade_batch(hr, [], cfg=cfg, plans=plans), [p.summary() for p in plans]
