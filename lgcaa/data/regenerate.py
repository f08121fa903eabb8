"""Regenerated test sets: the HR of a source set (or ImageNet val for ImageNet-Test) + LR made by us.

`regenerate_dataset` writes `<out>/{hr,lr}/*.png + manifest.json` atomically (temporary folder, rename);
`obtain_regenerated` (what `lgcaa data regenerate` runs) first asks DVC for the set, as a fetch does
(`lgcaa.data.dvc.pull_checked`), and compares its LR with the released set's when asked.
LR per image = `degrade_batch` seeded by `image_seed(dataset, stem, seed)` with the named degradation
config (or MATLAB bicubic), so one image can be regenerated alone; the manifest records the config (name
and digest), the seed and every image's degradation parameters.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lgcaa.data.compare import compare_with_released
from lgcaa.data.degrade import config_digest, load_degradation_config
from lgcaa.data.dvc import pull_checked
from lgcaa.data.generate import generate_lr
from lgcaa.data.imagenet import resshift_hr, resshift_selection
from lgcaa.data.manifest import build_manifest, verify_manifest, write_manifest
from lgcaa.data.registry import DatasetSpec
from lgcaa.errors import UserError
from lgcaa.io import atomic_dir, inside, list_images, write_json, write_png
from lgcaa.layout import MANIFEST


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
    with atomic_dir(out, MANIFEST, "regen") as tmp:
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


@dataclass(frozen=True)
class Regenerated:
    """How a regenerated set got onto disk."""

    manifest: dict[str, Any]
    how: str  # dvc | regenerated
    degradation: str  # the degradation config that made its LR, or "bicubic-matlab"
    comparison: dict[str, Any] | None = None  # its LR vs the released set's (`compare_with_released`), if asked

    @property
    def metrics(self) -> dict[str, Any]:
        """The job record's metrics: the pair count and, when compared, the mean LR PSNR vs the released LR."""
        out: dict[str, Any] = {"n_images": self.manifest["count"]}
        mean = (self.comparison or {}).get("lr_psnr_db", {}).get("mean")
        if mean is not None:
            out["lr_psnr_vs_released_mean_db"] = mean
        return out


def _pulled_count(out: Path, expected: int) -> dict[str, Any]:
    manifest = verify_manifest(out)
    if manifest["count"] != expected:
        raise UserError(f"{out}: pulled from DVC with {manifest['count']} pairs, expected {expected}; "
                        "delete it and rerun with --no-dvc")
    return manifest


def obtain_regenerated(spec: DatasetSpec, data_root: str | Path, dataset: str, lr_kind: str = "realesrgan",
                       seed: int = 0, degradation: str | None = None, hr_source: str | Path | None = None,
                       expected_count: int | None = None, workers: int = 1, batch_size: int = 8,
                       device: str = "cpu", try_dvc: bool = True,
                       compare_out: str | Path | None = None) -> Regenerated:
    """Make `<data_root>/<dataset>` hold `spec`'s HR with our seeded LR: from DVC when it records the set (a pulled
    set that fails verification or its pair count is an error, never silently rebuilt), else regenerated from
    `hr_source` (default: the released set's `hr/`; for imagenet-test an ImageNet val folder, ResShift's
    selection). `compare_out`: write the regenerated-vs-released LR comparison there."""
    data_root = Path(data_root)
    out = inside(data_root, dataset, what="dataset name")
    if dataset == spec.name:
        raise UserError(f"{dataset}: a regenerated set needs its own name (e.g. {spec.name}-regen) so it never "
                        f"overwrites the released {spec.name}")
    config = degradation or spec.regenerate_config
    expected = expected_count or spec.expected_count
    pulled = pull_checked(out, lambda folder: _pulled_count(folder, expected), try_dvc)
    if pulled.refused is not None:
        raise pulled.refused
    manifest, how = pulled.manifest, "dvc"
    if manifest is None:
        print(pulled.message, file=sys.stderr)
        print(f"next: regenerating {out}'s LR from {spec.name}'s HR (seed {seed})", file=sys.stderr)
        hr = Path(hr_source) if hr_source is not None else data_root / spec.name / "hr"
        if hr_source is not None and spec.name == "imagenet-test":
            hr_files, loader = resshift_selection(hr, count=expected), resshift_hr
        else:
            hr_files, loader = hr_from_folder(hr), None
        manifest = regenerate_dataset(
            out, dataset, hr_files, lr_kind, spec.scale, seed, config, expected_count=expected, workers=workers,
            batch_size=batch_size, device=device, hr_loader=loader,
            extra={"source": {"registry": spec.name, "hr": str(hr)}},
        )
        how = "regenerated"
    comparison = None
    if compare_out is not None:
        released = data_root / spec.name
        comparison = compare_with_released(out, released)
        if comparison.get("available", True):
            print(f"LR vs released {released}: mean PSNR {comparison['lr_psnr_db']['mean']} dB over "
                  f"{comparison['count']}")
        write_json(compare_out, comparison)
    return Regenerated(manifest, how, config if lr_kind == "realesrgan" else "bicubic-matlab", comparison)
