"""Regenerated vs released LR: per-image PSNR, so users see how far a regenerated test set is from the release.

Both folders are canonical datasets (`hr/`, `lr/`). The pairing is by file name; missing or extra names are
an error (first offenders and their count), never silently skipped. PSNR is on RGB uint8 over the full LR
image (no border crop); identical images are reported as `null` PSNR and counted in `identical`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from lgcaa.errors import UserError
from lgcaa.io import list_images, read_rgb
from lgcaa.layout import manifest_of


def psnr_uint8(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two (H,W,3) uint8 images; inf when identical."""
    if a.shape != b.shape:
        raise ValueError(f"shape {a.shape} vs {b.shape}")
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(255.0**2 / mse)


def compare_lr(regenerated: str | Path, released: str | Path) -> dict[str, Any]:
    """Per-image PSNR between `regenerated/lr/X.png` and `released/lr/X.png`, plus HR identity and summary."""
    regenerated, released = Path(regenerated), Path(released)
    ours = {p.name: p for p in list_images(regenerated / "lr")}
    theirs = {p.name: p for p in list_images(released / "lr")}
    unpaired = sorted(set(ours) ^ set(theirs))
    if unpaired:
        raise UserError(f"{regenerated} vs {released}: {len(unpaired)} LR name(s) not in both, first: "
                        f"{', '.join(unpaired[:5])}; compare sets built from the same HR images")
    per_image: dict[str, float | None] = {}
    hr_identical = 0
    for name in sorted(ours):
        a, b = read_rgb(ours[name]), read_rgb(theirs[name])
        if a.shape != b.shape:
            raise UserError(f"{ours[name]}: LR {a.shape[1]}x{a.shape[0]} vs released {b.shape[1]}x{b.shape[0]}; "
                            "not the same protocol")
        p = psnr_uint8(a, b)
        per_image[name] = None if math.isinf(p) else round(p, 4)
        hr_a, hr_b = regenerated / "hr" / name, released / "hr" / name
        hr_identical += int(hr_a.is_file() and hr_b.is_file() and hr_a.read_bytes() == hr_b.read_bytes())
    finite = [v for v in per_image.values() if v is not None]
    return {
        "regenerated": str(regenerated),
        "released": str(released),
        "count": len(per_image),
        "identical": len(per_image) - len(finite),
        "hr_identical": hr_identical,
        "lr_psnr_db": {
            "mean": round(float(np.mean(finite)), 4) if finite else None,
            "median": round(float(np.median(finite)), 4) if finite else None,
            "min": round(min(finite), 4) if finite else None,
            "max": round(max(finite), 4) if finite else None,
        },
        "per_image": per_image,
        "note": ("LR regenerated with our seeds differs from the released LR (different random kernels, noise, "
                 "JPEG); scores on regenerated sets are not comparable to scores on the released sets."),
    }


def compare_with_released(regenerated: str | Path, released: str | Path) -> dict[str, Any]:
    """`compare_lr` of a regenerated set with its released set when that is on disk (a manifest and `lr/`), else
    {"available": False, "reason": ...}."""
    released = Path(released)
    if manifest_of(released).is_file() and (released / "lr").is_dir():
        return compare_lr(regenerated, released)
    return {"available": False, "reason": f"{released} (released LR) is not on disk"}
