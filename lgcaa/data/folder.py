"""Your own LR images as an LR-only dataset (Figs. 5-6 "without any HR reference").

`import_lr_folder(src, out)` copies every PNG of `src` into `out/lr/` atomically and writes a manifest with
`lr_only: true` (no `hr/`). Such a dataset gets SR outputs from every method and appears in the LR-only figures;
it is never evaluated (nothing to compare against) and cannot be a table's dataset.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from lgcaa.data.manifest import write_manifest
from lgcaa.errors import UserError
from lgcaa.io import atomic_dir, list_images, sha256_file
from lgcaa.layout import MANIFEST


def import_lr_folder(src: str | Path, out: str | Path) -> dict[str, Any]:
    """Copy `src`'s PNGs into `out/lr/` and return the manifest; UserError when `src` holds none or non-PNGs."""
    from PIL import Image

    src, out = Path(src), Path(out)
    if not src.is_dir():
        raise UserError(f"{src}: LR folder not found; fix datasets.<name>.lr_dir in the profile")
    others = sorted(p.name for p in src.iterdir() if p.is_file() and p.suffix.lower() != ".png" and not p.name.startswith("."))
    if others:
        raise UserError(f"{src}: {len(others)} non-PNG file(s), first: {', '.join(others[:5])}; convert them to PNG "
                        "(the harness reads lossless PNG only)")
    files = list_images(src)
    if not files:
        raise UserError(f"{src}: no PNG images; fix datasets.<name>.lr_dir in the profile")
    with atomic_dir(out, MANIFEST) as tmp:
        (tmp / "lr").mkdir()
        entries = {}
        for p in files:
            shutil.copy2(p, tmp / "lr" / p.name)
            with Image.open(p) as im:
                w, h = im.size
            entries[f"lr/{p.name}"] = {"sha256": sha256_file(p), "height": h, "width": w}
        manifest = {"dataset": out.name, "count": len(files), "files": entries, "lr_only": True,
                    "source": {"folder": str(src.resolve())}}
        write_manifest(tmp, manifest)
    return manifest
