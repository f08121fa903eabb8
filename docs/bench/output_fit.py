# How much of the HR an SR output reproduces, per image and method: Y-PSNR (the figures' psnr_y), the R² of the
# output's Y against the HR's Y (squared Pearson correlation over pixels: how much of the scene's luminance
# variation the output follows) and the mean colour shift (output minus HR, per RGB channel, 0-255).
# Run from the repository root on a finished run: PYTHONPATH=. python docs/bench/output_fit.py RESULTS DATA [METHOD ...]
"""Y-PSNR, R² (Y) against the HR and mean RGB shift of SR outputs, per dataset and method (JSON on stdout)."""
import json
import sys
from pathlib import Path

import numpy as np

from lgcaa.figures.crops import psnr_y, y_channel
from lgcaa.io import list_images, read_rgb


def fit(sr_dir: Path, hr_dir: Path) -> dict:
    psnr, r2, shift = [], [], []
    for p in list_images(sr_dir):
        sr, hr = read_rgb(p), read_rgb(hr_dir / p.name)
        psnr.append(psnr_y(sr, hr))
        r2.append(float(np.corrcoef(y_channel(sr).ravel(), y_channel(hr).ravel())[0, 1] ** 2))
        shift.append((sr.astype(float) - hr.astype(float)).reshape(-1, 3).mean(axis=0))
    return {"images": len(psnr), "psnr_y_db": round(float(np.mean(psnr)), 2),
            "r2_y": [round(min(r2), 3), round(float(np.mean(r2)), 3), round(max(r2), 3)],
            "mean_rgb_shift": [round(float(v), 1) for v in np.mean(shift, axis=0)]}


results, data = Path(sys.argv[1]), Path(sys.argv[2])
methods = sys.argv[3:]
out = {}
for ds_dir in sorted((results / "sr").iterdir()):
    for m_dir in sorted(ds_dir.iterdir()):
        if m_dir.is_dir() and (not methods or m_dir.name in methods) and (data / ds_dir.name / "hr").is_dir():
            out[f"{ds_dir.name}/{m_dir.name}"] = fit(m_dir, data / ds_dir.name / "hr")
print(json.dumps({"r2_y": "[min, mean, max] over images", **out}, indent=1))
