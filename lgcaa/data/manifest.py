"""Dataset manifests: per-file sha256 and size, pair checks between `hr/` and `lr/`.

Layout of a dataset folder: `<root>/hr/*.png`, `<root>/lr/*.png`, `<root>/manifest.json`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lgcaa.errors import UserError
from lgcaa.io import list_images, sha256_file, write_json
from lgcaa.layout import MANIFEST, manifest_of


def _png_size(path: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as im:
        return im.size[1], im.size[0]  # (H, W)


def check_pairs(root: str | Path, scale: int) -> list[str]:
    """Names present in both hr/ and lr/ with HR = scale x LR; raise UserError naming the first offenders."""
    root = Path(root)
    hr = {p.name: p for p in list_images(root / "hr")}
    lr = {p.name: p for p in list_images(root / "lr")}
    missing = sorted(set(hr) ^ set(lr))
    if missing:
        raise UserError(
            f"{root}: {len(missing)} unpaired image(s) between hr/ and lr/, first: {', '.join(missing[:5])}; "
            "re-fetch or rebuild the dataset (lgcaa data verify)"
        )
    bad = []
    for name in sorted(hr):
        (hh, hw), (lh, lw) = _png_size(hr[name]), _png_size(lr[name])
        if (hh, hw) != (lh * scale, lw * scale):
            bad.append(f"{name} (HR {hh}x{hw} vs LR {lh}x{lw})")
    if bad:
        raise UserError(
            f"{root}: {len(bad)} pair(s) whose HR size is not {scale}x the LR size, first: {', '.join(bad[:3])}; "
            "fix or remove them, then rebuild the manifest"
        )
    return sorted(hr)


def build_manifest(root: str | Path, dataset: str, scale: int, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Checksum every file of `root/{hr,lr}` after checking pairs; returns the manifest dict."""
    root = Path(root)
    names = check_pairs(root, scale)
    files = {}
    for sub in ("hr", "lr"):
        for name in names:
            p = root / sub / name
            h, w = _png_size(p)
            files[f"{sub}/{name}"] = {"sha256": sha256_file(p), "height": h, "width": w}
    return {"dataset": dataset, "scale": scale, "count": len(names), "files": files, **(extra or {})}


def write_manifest(root: str | Path, manifest: dict[str, Any]) -> Path:
    path = manifest_of(root)
    write_json(path, manifest)
    return path


def verify_manifest(root: str | Path) -> dict[str, Any]:
    """Re-hash every file listed in root/manifest.json; raise UserError on the first mismatch."""
    import json

    root = Path(root)
    mpath = manifest_of(root)
    if not mpath.is_file():
        raise UserError(f"{mpath}: manifest missing; rebuild the dataset (lgcaa data build/fetch)")
    manifest = json.loads(mpath.read_text())
    for rel, entry in manifest["files"].items():
        p = root / rel
        if not p.is_file():
            raise UserError(f"{p}: listed in {mpath} but missing; rebuild the dataset")
        got = sha256_file(p)
        if got != entry["sha256"]:
            raise UserError(f"{p}: sha256 {got} differs from manifest {entry['sha256']}; rebuild the dataset")
    return manifest


def dataset_folders(data_root: str | Path) -> list[Path]:
    """The dataset folders directly under `data_root` (those holding a manifest), sorted by name."""
    return sorted(p.parent for p in Path(data_root).glob(f"*/{MANIFEST}"))


def verify_datasets(data_root: str | Path, names: list[str]) -> Iterator[str]:
    """`verify_manifest` of each dataset `names` under `data_root` (none given: every folder with a manifest),
    yielding one line per dataset as it is verified; UserError when there is none."""
    data_root = Path(data_root)
    names = names or [p.name for p in dataset_folders(data_root)]
    if not names:
        raise UserError(f"{data_root}: no datasets with a manifest.json; fetch or build one first")
    for name in names:
        manifest = verify_manifest(data_root / name)
        yield f"{data_root / name}: {manifest['count']} pairs, {len(manifest['files'])} files verified"


def registry_source(manifest: dict[str, Any], folder: str) -> str:
    """The registry entry a dataset folder was made from: recorded by fetch/regenerate ("source"), the mini entry
    for sets built by `build-mini` (centre crops of the packaged photos), else the folder's own name."""
    source = manifest.get("source")
    if isinstance(source, dict) and source.get("registry"):
        return source["registry"]
    return "mini" if manifest.get("crop") == "centre" and "provenance" in manifest else folder


def on_disk(data_root: str | Path) -> dict[str, dict[str, Any]]:
    """{folder: {"pairs", "lr", "from"}} for every dataset under `data_root`: its pair count, LR kind and the
    registry entry it was made from (`registry_source`), as its manifest records them (unverified)."""
    import json

    out = {}
    for folder in dataset_folders(data_root):
        info = json.loads(manifest_of(folder).read_text())
        out[folder.name] = {"pairs": info.get("count"), "lr": info.get("lr_kind", "?"),
                            "from": registry_source(info, folder.name)}
    return out


# ------------------------------------------------------------------------------------------ content digests


def listing_digest(entries: dict[str, str]) -> str:
    """sha256 of a `sha256sum`-style listing ("<sha256>  <name>\\n" per file, names sorted).

    For a folder of PNGs it equals `(cd FOLDER && sha256sum *.png | sha256sum)` in the C locale, so a reviewer
    can recompute any digest the harness logs with coreutils alone.
    """
    import hashlib

    listing = "".join(f"{sha}  {name}\n" for name, sha in sorted(entries.items()))
    return hashlib.sha256(listing.encode()).hexdigest()


def folder_digest(folder: str | Path) -> dict[str, Any]:
    """Content digest of the images of `folder`: {"sha256", "files", "from"}.

    A dataset's `hr/` or `lr/` folder reuses the per-file sha256 of its `manifest.json` (computed once, when the
    set was built or fetched; "from": "manifest") when the manifest lists exactly the images on disk and none
    is newer than it; anything else (SR outputs, an edited dataset) is hashed file by file ("from": "files").
    """
    import json

    folder = Path(folder)
    images = list_images(folder)
    manifest = manifest_of(folder.parent)
    if manifest.is_file():
        listed = json.loads(manifest.read_text()).get("files", {})
        prefix = f"{folder.name}/"
        entries = {k[len(prefix):]: v["sha256"] for k, v in listed.items() if k.startswith(prefix)}
        stamp = manifest.stat().st_mtime_ns
        if sorted(entries) == [p.name for p in images] and all(p.stat().st_mtime_ns <= stamp for p in images):
            return {"sha256": listing_digest(entries), "files": len(entries), "from": "manifest"}
    entries = {p.name: sha256_file(p) for p in images}
    return {"sha256": listing_digest(entries), "files": len(entries), "from": "files"}
