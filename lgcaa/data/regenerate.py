"""Regenerated test sets: the HR of a source set (or ImageNet val for ImageNet-Test) + LR made by us.

`regenerate_dataset` writes `<out>/{hr,lr}/*.png + manifest.json` atomically (temporary folder, rename).
LR per image = `degrade_batch` seeded by `image_seed(dataset, stem, seed)` with the named degradation
config (or MATLAB bicubic), so one image can be regenerated alone; the manifest records the config (name
and digest), the seed and every image's degradation parameters.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lgcaa.data.degrade import config_digest, load_degradation_config
from lgcaa.data.generate import generate_lr
from lgcaa.data.manifest import build_manifest, write_manifest
from lgcaa.errors import UserError
from lgcaa.io import atomic_dir, list_images, write_png


def hr_from_folder(hr_dir: str | Path) -> list[Path]:
    """The PNG HR images of a canonical dataset's `hr/` (or any folder of PNGs)."""
    files = list_images(hr_dir)
    if not files:
        raise UserError(f"{hr_dir}: no PNG images; fetch the source dataset first (lgcaa data fetch)")
    return files


def regenerate_dataset(
    out: str | Path,
    dataset: str,
    hr_files: Sequence[Path],
    lr_kind: str,
    scale: int,
    seed: int,
    config: str | None = None,
    expected_count: int | None = None,
    workers: int = 1,
    batch_size: int = 8,
    device: str = "cpu",
    extra: dict[str, Any] | None = None,
    hr_loader=None,
) -> dict[str, Any]:
    """Build a regenerated set into `out`; returns its manifest.

    hr_files: HR images; copied byte for byte when PNG, else decoded by `hr_loader(path) -> (H,W,3) uint8`
        and written as `<stem>.png` (ImageNet JPEGs).
    lr_kind: 'realesrgan' (with degradation `config`) or 'bicubic'.
    """

    if expected_count is not None and len(hr_files) != expected_count:
        raise UserError(f"{dataset}: {len(hr_files)} HR images, expected {expected_count}; the source set is "
                        "incomplete or a different version")
    stems = [Path(p).stem for p in hr_files]
    dupes = sorted({s for s in stems if stems.count(s) > 1})
    if dupes:
        raise UserError(f"{dataset}: {len(dupes)} HR name(s) occur twice, first: {', '.join(dupes[:5])}")
    cfg = load_degradation_config(config) if lr_kind == "realesrgan" else None
    with atomic_dir(out, "manifest.json", "regen") as tmp:
        (tmp / "hr").mkdir()
        for p in map(Path, hr_files):
            if p.suffix.lower() == ".png" and hr_loader is None:
                shutil.copyfile(p, tmp / "hr" / p.name)
            else:
                if hr_loader is None:
                    raise UserError(f"{p}: not a PNG; give an HR loader (ImageNet: --hr-source)")
                write_png(tmp / "hr" / f"{p.stem}.png", hr_loader(p))
        plans = generate_lr(list_images(tmp / "hr"), tmp / "lr", dataset, seed, lr_kind, scale, cfg,
                            batch_size=batch_size, workers=workers, device=device)
        degradation: dict[str, Any] = {"kind": lr_kind}
        if cfg is not None:
            degradation.update({"config": config or "realesrgan-x4plus", "config_sha256": config_digest(cfg),
                                "plans": plans})
        manifest = build_manifest(tmp, dataset, scale, extra={
            "lr_kind": lr_kind, "seed": seed, "degradation": degradation, **(extra or {}),
        })
        if expected_count is not None and manifest["count"] != expected_count:
            raise UserError(f"{tmp}: {manifest['count']} pairs, expected {expected_count}")
        write_manifest(tmp, manifest)
    return manifest
