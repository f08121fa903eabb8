"""The offline `mini` test sets: centre crops of packaged photos, LR by bicubic or Real-ESRGAN degradation.

`build_mini_dataset` writes `<out>/hr/<photo>.png`, `<out>/lr/<photo>.png` and `<out>/manifest.json`.
Same arguments => byte-identical files (PNG written without timestamps, seeded degradation).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from lgcaa.compat import import_basicsr
from lgcaa.data.degrade import degrade_realesrgan, image_seed
from lgcaa.data.manifest import build_manifest, write_manifest
from lgcaa.data.photos import PHOTOS, center_crop, load_photo
from lgcaa.io import atomic_dir, write_png

LR_KINDS = ("bicubic", "realesrgan")


def bicubic_down(hr: np.ndarray, scale: int) -> np.ndarray:
    """MATLAB-compatible bicubic downscaling with antialiasing: (H,W,3) uint8 -> (H/s,W/s,3) uint8."""

    import_basicsr()
    from basicsr.utils.matlab_functions import imresize

    out = imresize(hr.astype(np.float32) / 255.0, 1.0 / scale)
    out = out.numpy() if hasattr(out, "numpy") else out
    return np.clip(np.round(out * 255.0), 0, 255).astype(np.uint8)


def realesrgan_down(hr: np.ndarray, scale: int, seed: int) -> np.ndarray:
    """Seeded Real-ESRGAN second-order degradation: (H,W,3) uint8 -> (H/s,W/s,3) uint8."""
    import torch

    t = torch.from_numpy(hr).permute(2, 0, 1).float() / 255.0
    lr = degrade_realesrgan(t, seed=seed, scale=scale)
    return (lr * 255.0).round().clamp(0, 255).byte().permute(1, 2, 0).numpy()


def make_lr(hr: np.ndarray, kind: str, scale: int, seed: int) -> np.ndarray:
    if kind == "bicubic":
        return bicubic_down(hr, scale)
    if kind == "realesrgan":
        return realesrgan_down(hr, scale, seed)
    raise ValueError(f"unknown LR kind {kind!r}; choose from {LR_KINDS}")


def build_mini_dataset(
    out: str | Path, dataset: str, photos: list[str], hr_size: int, scale: int, lr_kind: str, seed: int
) -> dict[str, Any]:
    """Build one mini test set into `out` atomically (temp folder, then rename); returns its manifest."""

    with atomic_dir(out, "manifest.json") as tmp:
        for name in photos:
            hr = center_crop(load_photo(name), hr_size)
            write_png(tmp / "hr" / f"{name}.png", hr)
            write_png(tmp / "lr" / f"{name}.png", make_lr(hr, lr_kind, scale, image_seed(dataset, name, seed)))
        manifest = build_manifest(
            tmp, dataset, scale,
            extra={
                "lr_kind": lr_kind,
                "seed": seed,
                "hr_size": hr_size,
                "provenance": {name: PHOTOS[name][0] for name in photos},
                "crop": "centre",
            },
        )
        write_manifest(tmp, manifest)
    return manifest
