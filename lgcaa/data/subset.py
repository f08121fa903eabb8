"""A few pairs of a dataset as a dataset of their own (a figure needs two images, not 3000).

`make_subset(source_dir, out, images)` copies the chosen pairs of `<source>/{hr,lr}` into `out` atomically and
writes a manifest that records where they came from (the source's manifest digest and the image names).
`images` is a count (the first N by name) or a list of file names; every listed name must exist.
`lr_only=True` copies the LR images only (no `hr/`; the manifest says `lr_only`): a real-world LR-only set for
Figs. 5-6 ("without any HR reference image"), never evaluated.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from lgcaa.data.manifest import build_manifest, write_manifest
from lgcaa.errors import UserError
from lgcaa.io import atomic_dir, list_images, sha256_file
from lgcaa.layout import MANIFEST, manifest_of


def parse_images(text: str) -> int | list[str]:
    """`--images`: a count (the first N by name) or comma-separated file names."""
    return int(text) if text.isdigit() else [n for n in text.split(",") if n]


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


def make_subset(source_dir: str | Path, out: str | Path, images: int | list[str], scale: int = 4,
                lr_only: bool = False, offset: int = 0) -> dict:
    """Copy the chosen pairs (or, `lr_only`, LR images) of `source_dir` into `out` (atomically) and return the new
    manifest. `offset` skips the first names before a count is taken."""
    src, out = Path(source_dir), Path(out)
    manifest = manifest_of(src)
    if not manifest.is_file():
        raise UserError(f"{manifest}: source dataset not built; build it first (snakemake {manifest})")
    names = choose(sorted(p.name for p in list_images(src / "lr"))[offset:], images, str(src))
    if lr_only:
        return _lr_only(src, out, names, sha256_file(manifest))
    with atomic_dir(out, MANIFEST) as tmp:
        for sub in ("hr", "lr"):
            (tmp / sub).mkdir(parents=True)
            for n in names:
                shutil.copy2(src / sub / n, tmp / sub / n)
        extra = {"subset_of": {"dataset": src.name, "manifest_sha256": sha256_file(manifest), "images": names}}
        m = build_manifest(tmp, out.name, scale, extra=extra)
        write_manifest(tmp, m)
    return m


def _lr_only(src: Path, out: Path, names: list[str], source_digest: str) -> dict:
    from PIL import Image

    with atomic_dir(out, MANIFEST) as tmp:
        (tmp / "lr").mkdir(parents=True)
        files = {}
        for n in names:
            shutil.copy2(src / "lr" / n, tmp / "lr" / n)
            with Image.open(tmp / "lr" / n) as im:
                w, h = im.size
            files[f"lr/{n}"] = {"sha256": sha256_file(tmp / "lr" / n), "height": h, "width": w}
        m = {"dataset": out.name, "count": len(names), "files": files, "lr_only": True,
             "subset_of": {"dataset": src.name, "manifest_sha256": source_digest, "images": names, "hr": "not copied"}}
        write_manifest(tmp, m)
    return m
