"""Generate LR images for a folder of HR images: seeded per image, batched, optionally in worker processes.

`generate_lr` writes `<lr_dir>/<name>.png` for every HR `<name>.png`. The LR of an image depends only on
(dataset, name, seed, config, scale) -- not on batch size, worker count or order -- so any image can be
regenerated alone with `batch_size=1, workers=1` and is byte-identical (CPU).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lgcaa.data.degrade import degrade_batch, image_seed, load_degradation_config, plan_degradation
from lgcaa.data.mini import bicubic_down
from lgcaa.io import read_rgb, write_png

LR_KINDS = ("realesrgan", "bicubic")


def _to_tensor(img: np.ndarray):
    import torch

    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).float() / 255.0


def _to_uint8(t) -> np.ndarray:
    return (t * 255.0).round().clamp(0, 255).byte().permute(1, 2, 0).cpu().numpy()


def _run_batch(args: tuple) -> dict[str, dict[str, Any]]:
    """One batch: read HR PNGs, degrade (grouped by size), write LR PNGs; returns {name: plan summary}."""
    paths, lr_dir, dataset, seed, kind, scale, cfg, device = args

    lr_dir = Path(lr_dir)
    summaries: dict[str, dict[str, Any]] = {}
    images = {Path(p).stem: read_rgb(p) for p in paths}
    if kind == "bicubic":
        for name, img in images.items():
            write_png(lr_dir / f"{name}.png", bicubic_down(img, scale))
            summaries[name] = {"kind": "bicubic-matlab"}
        return summaries
    import torch

    by_shape: dict[tuple[int, ...], list[str]] = {}
    for name, img in images.items():
        by_shape.setdefault(img.shape, []).append(name)
    for names in by_shape.values():
        plans = [plan_degradation(image_seed(dataset, n, seed), cfg, scale) for n in names]
        hr = torch.stack([_to_tensor(images[n]) for n in names]).to(device)
        lr = degrade_batch(hr, [], cfg=cfg, plans=plans)
        for n, t, p in zip(names, lr, plans):
            write_png(lr_dir / f"{n}.png", _to_uint8(t))
            summaries[n] = p.summary()
    return summaries


def _init_worker(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def generate_lr(
    hr_paths: Sequence[Path],
    lr_dir: str | Path,
    dataset: str,
    seed: int,
    kind: str = "realesrgan",
    scale: int = 4,
    cfg: dict[str, Any] | None = None,
    batch_size: int = 8,
    workers: int = 1,
    threads_per_worker: int = 1,
    device: str = "cpu",
) -> dict[str, dict[str, Any]]:
    """Write one LR PNG per HR PNG into `lr_dir`; return {name: degradation plan summary}, sorted by name.

    kind: 'realesrgan' (seeded `degrade_batch` with `cfg`) or 'bicubic' (MATLAB bicubic, no randomness).
    workers > 1 uses spawned processes (each with `threads_per_worker` torch threads); batches are
    `batch_size` consecutive names of the sorted list, images of equal size degraded together.
    """
    if kind not in LR_KINDS:
        raise ValueError(f"unknown LR kind {kind!r}; choose from {LR_KINDS}")
    if kind == "realesrgan" and cfg is None:
        cfg = load_degradation_config()
    paths = sorted((Path(p) for p in hr_paths), key=lambda p: p.name)
    Path(lr_dir).mkdir(parents=True, exist_ok=True)
    batches = [
        ([str(p) for p in paths[i : i + batch_size]], str(lr_dir), dataset, seed, kind, scale, cfg, device)
        for i in range(0, len(paths), max(1, batch_size))
    ]
    out: dict[str, dict[str, Any]] = {}
    if workers <= 1 or len(batches) <= 1:
        for b in batches:
            out.update(_run_batch(b))
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                                 initializer=_init_worker, initargs=(threads_per_worker,)) as pool:
            for result in pool.map(_run_batch, batches):
                out.update(result)
    return dict(sorted(out.items()))
