"""Generate LR images for a folder of HR images: seeded per image, batched, optionally in worker processes.

`generate_lr` writes `<lr_dir>/<name>.png` for every HR `<name>.png`. The LR of an image depends only on
(dataset, name, seed, config, scale) -- not on batch size, worker count or order -- so any image can be
regenerated alone with `batch_size=1, workers=1` and is byte-identical (CPU).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lgcaa.data.degrade import image_seed, load_degradation_config
from lgcaa.data.lowres import LR_KINDS, make_lr, to_tensor, to_uint8
from lgcaa.errors import check_known
from lgcaa.io import read_rgb, write_png


def _run_batch(args: tuple) -> dict[str, dict[str, Any]]:
    """One batch: read HR PNGs, degrade (grouped by size), write LR PNGs; returns {name: plan summary}."""
    paths, lr_dir, dataset, seed, kind, scale, cfg, device = args

    lr_dir = Path(lr_dir)
    summaries: dict[str, dict[str, Any]] = {}
    images = {Path(p).stem: read_rgb(p) for p in paths}
    import torch

    by_shape: dict[tuple[int, ...], list[str]] = {}
    for name, img in images.items():
        by_shape.setdefault(img.shape, []).append(name)
    for names in by_shape.values():
        hr = torch.stack([to_tensor(images[n]) for n in names]).to(device)
        lr, about = make_lr(hr, kind, scale, [image_seed(dataset, n, seed) for n in names], cfg)
        for n, t, a in zip(names, lr, about):
            write_png(lr_dir / f"{n}.png", to_uint8(t))
            summaries[n] = a
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
    check_known("LR kind", [kind], LR_KINDS)
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
