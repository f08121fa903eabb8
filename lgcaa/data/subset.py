"""A few pairs of a dataset as a dataset of their own (a figure needs two images, not 3000).

`make_subset(source_dir, out, images)` copies the chosen pairs of `<source>/{hr,lr}` into `out` atomically and
writes a manifest that records where they came from (the source's manifest digest and the image names).
`images` is a count (the first N by name) or a list of file names; every listed name must exist.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from lgcaa.data.manifest import build_manifest, write_manifest
from lgcaa.errors import UserError
from lgcaa.io import atomic_dir, list_images, sha256_file


def choose(names: list[str], images: int | list[str], where: str) -> list[str]:
    """The subset's names: the first `images` of sorted `names`, or the listed ones (checked)."""
    if isinstance(images, int):
        if images < 1 or images > len(names):
            raise UserError(f"{where}: subset of {images} images asked, the source has {len(names)}; fix 'subset'")
        return sorted(names)[:images]
    absent = sorted(set(images) - set(names))
    if absent:
        raise UserError(f"{where}: subset names not in the source: {', '.join(absent[:5])}; fix 'subset'")
    return list(dict.fromkeys(images))


def make_subset(source_dir: str | Path, out: str | Path, images: int | list[str], scale: int = 4) -> dict:
    """Copy the chosen pairs of `source_dir` into `out` (atomically) and return the new manifest."""
    src, out = Path(source_dir), Path(out)
    manifest = src / "manifest.json"
    if not manifest.is_file():
        raise UserError(f"{manifest}: source dataset not built; build it first (snakemake {manifest})")
    names = choose([p.name for p in list_images(src / "lr")], images, str(src))
    with atomic_dir(out, "manifest.json") as tmp:
        for sub in ("hr", "lr"):
            (tmp / sub).mkdir(parents=True)
            for n in names:
                shutil.copy2(src / sub / n, tmp / sub / n)
        extra = {"subset_of": {"dataset": src.name, "manifest_sha256": sha256_file(manifest), "images": names}}
        m = build_manifest(tmp, out.name, scale, extra=extra)
        write_manifest(tmp, m)
    return m
