"""Run an in-process SR method over a folder of LR PNGs.

Each output is written atomically; images already present are kept (resumable), and the output count is
checked against the input count before the job record is written — no silently skipped image.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from lgcaa.errors import UserError
from lgcaa.io import list_images, read_rgb, write_png


def run_folder(
    name: str, lr_dir: str | Path, out_dir: str | Path, settings: dict[str, Any], threads: int = 1
) -> dict[str, Any]:
    """Upscale every PNG of `lr_dir` into `out_dir` (same file names). Returns a summary dict."""
    from tqdm import tqdm

    from baselines.registry import get

    method = get(name)
    if method.make_upscaler is None:
        raise UserError(f"'{name}' does not run in-process; see `lgcaa baselines list` for how to run or import it")
    inputs = list_images(lr_dir)
    if not inputs:
        raise UserError(f"{lr_dir}: no PNG images; build or fetch the dataset first")
    out_dir = Path(out_dir)
    upscale = method.make_upscaler(settings, threads)
    scale = settings.get("scale", method.scale)
    t0, done = time.perf_counter(), 0
    for path in tqdm(inputs, desc=name, mininterval=5):
        dest = out_dir / path.name
        if dest.exists():
            continue
        lr = read_rgb(path)
        sr = upscale(lr)
        if sr.shape != (lr.shape[0] * scale, lr.shape[1] * scale, 3):
            raise RuntimeError(f"{name} returned {sr.shape} for {path} ({lr.shape}); expected x{scale}")
        write_png(dest, sr)
        done += 1
    outputs = list_images(out_dir)
    if [p.name for p in outputs] != [p.name for p in inputs]:
        raise UserError(f"{out_dir}: {len(outputs)} outputs for {len(inputs)} inputs; delete the folder and rerun")
    seconds = time.perf_counter() - t0
    return {"n_images": len(inputs), "n_computed": done, "seconds": seconds,
            "seconds_per_image": seconds / max(done, 1)}
