"""The offline `mini` test sets: centre crops of packaged photos, LR by bicubic or Real-ESRGAN degradation.

`build_mini_dataset` writes `<out>/hr/<photo>.png`, `<out>/lr/<photo>.png` and `<out>/manifest.json`.
Same arguments => byte-identical files (PNG written without timestamps, seeded degradation).
`mini_settings(cfg, dataset)` reads those arguments for a profile's mini dataset (its `mini` section, the
dataset's LR kind, the profile's seed and the dataset's folder).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lgcaa.data.degrade import image_seed
from lgcaa.data.lowres import make_lr, to_tensor, to_uint8
from lgcaa.data.manifest import build_manifest, write_manifest
from lgcaa.data.photos import PHOTOS, center_crop, load_photo
from lgcaa.errors import UserError
from lgcaa.io import atomic_dir, write_png
from lgcaa.layout import MANIFEST, Layout


@dataclass(frozen=True)
class MiniSettings:
    """`build_mini_dataset`'s arguments for one mini dataset, less its name."""

    photos: tuple[str, ...]
    hr_size: int
    scale: int
    lr_kind: str
    seed: int
    out: Path


def mini_settings(cfg: Mapping[str, Any], dataset: str) -> MiniSettings:
    """The settings profile `cfg` builds its mini dataset `dataset` with; a UserError if it has no such set."""
    entry = cfg["datasets"].get(dataset)
    if entry is None or entry["source"] != "mini":
        raise UserError(f"profile '{cfg['profile']}' has no mini dataset '{dataset}'")
    mini = cfg["mini"]
    return MiniSettings(tuple(mini["photos"]), mini["hr_size"], mini["scale"], entry["lr"], cfg["seed"],
                        Path(Layout.of(cfg).dataset_dir(dataset)))


def build_mini_dataset(
    out: str | Path, dataset: str, photos: list[str], hr_size: int, scale: int, lr_kind: str, seed: int
) -> dict[str, Any]:
    """Build one mini test set into `out` atomically (temp folder, then rename); returns its manifest."""

    with atomic_dir(out, MANIFEST) as tmp:
        for name in photos:
            hr = center_crop(load_photo(name), hr_size)
            write_png(tmp / "hr" / f"{name}.png", hr)
            lr, _ = make_lr(to_tensor(hr)[None], lr_kind, scale, [image_seed(dataset, name, seed)])
            write_png(tmp / "lr" / f"{name}.png", to_uint8(lr[0]))
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
