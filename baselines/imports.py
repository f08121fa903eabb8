"""Published SR outputs registered as a method's results on one dataset (`lgcaa baselines import`).

Authors release result folders (their SR images on RealSR, DRealSR, ...); importing one lets Table I be
reproduced without running their code. `register` matches every LR file of the dataset to exactly one
published image by file stem (after an optional suffix such as `_out` is stripped), refuses any count
mismatch, decodes each image by the evaluation's rule (`lgcaa.metrics.decode`: a semi-transparent image is
refused, 16-bit is rounded as round(v/257)), checks each size is scale x LR, and stores the images as PNG under the dataset's names in
`<imports>/<dataset>/<method>/` with `import.json` (source folder/URL, sha256 of every source and stored
file). `lgcaa sr` then materialises an import (after re-checking the digests) instead of running the method.
The import folder is outside Snakemake's outputs, so a rerun of the DAG never deletes it.

Outputs published file by file in a repository (`Published`: a file set of lgcaa.data.files, e.g. OSEDiff's
`results_osediff/` folders at a pinned commit) are fetched like the datasets -- each file verified by sha256,
from upstream or a mirror (`--mirror` / $LGCAA_DATA_MIRROR) -- and registered the same way
(`fetch_published`); `lgcaa sr` does it by itself for a method with `published` outputs of its dataset.

imports dir = `--imports`, else $LGCAA_IMPORTS_DIR, else `results/imports`. Dataset and method are plain names
(`lgcaa.io.inside`): an import is always written below the imports dir, and a re-import replaces only a folder
holding an `import.json`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lgcaa.errors import UserError
from lgcaa.io import atomic_dir, atomic_path, inside, list_images, sha256_file, write_json, write_png

RECORD = "import.json"
IMPORTS_ENV = "LGCAA_IMPORTS_DIR"
DEFAULT_IMPORTS = Path("results/imports")


def imports_dir(explicit: str | Path | None = None) -> Path:
    return Path(explicit or os.environ.get(IMPORTS_ENV) or DEFAULT_IMPORTS)


def import_folder(imports_root: str | Path, dataset: str, method: str) -> Path:
    """`<imports>/<dataset>/<method>`; UserError when either is not a plain name."""
    return inside(imports_root, dataset, method, what="dataset/method name")
SOURCE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def match_outputs(src_dir: Path, lr_names: list[str], strip_suffix: str = "") -> dict[str, Path]:
    """{LR file name: published file}; UserError listing missing, unmatched and ambiguous files."""
    if not src_dir.is_dir():
        raise UserError(f"{src_dir}: folder not found; pass the folder of published SR images")
    images = sorted(p for p in src_dir.iterdir()
                    if p.is_file() and p.suffix.lower() in SOURCE_SUFFIXES and not p.name.startswith("."))
    by_stem: dict[str, list[Path]] = {}
    for p in images:
        stem = p.stem[: -len(strip_suffix)] if strip_suffix and p.stem.endswith(strip_suffix) else p.stem
        by_stem.setdefault(stem, []).append(p)
    wanted = {Path(n).stem: n for n in lr_names}
    missing = sorted(n for stem, n in wanted.items() if stem not in by_stem)
    extra = sorted(p.name for stem, ps in by_stem.items() if stem not in wanted for p in ps)
    ambiguous = sorted(stem for stem, ps in by_stem.items() if stem in wanted and len(ps) > 1)
    if missing or extra or ambiguous:
        parts = [f"{label} {', '.join(items[:5])}{' ...' if len(items) > 5 else ''}"
                 for label, items in (("missing", missing), ("unmatched", extra), ("ambiguous", ambiguous)) if items]
        raise UserError(
            f"{src_dir}: {len(images)} images for the dataset's {len(lr_names)} LR images ({'; '.join(parts)}); "
            "the folder must hold exactly one output per LR image, named by its stem (use --strip-suffix for e.g. '_out')"
        )
    return {n: by_stem[stem][0] for stem, n in wanted.items()}


def register(method: str, dataset: str, src_dir: str | Path, lr_dir: str | Path, imports_root: str | Path,
             scale: int = 4, source: str = "", strip_suffix: str = "", extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Check and store a folder of published outputs; returns the import record (with `extra`'s keys). Nothing is
    written on error."""
    from lgcaa.metrics.decode import decode  # numpy: here, as the registry (every profile check) imports this module

    dest = import_folder(imports_root, dataset, method)
    src_dir, lr_files = Path(src_dir), list_images(lr_dir)
    if not lr_files:
        raise UserError(f"{lr_dir}: no LR images; build or fetch the dataset '{dataset}' first")
    matched = match_outputs(src_dir, [f.name for f in lr_files], strip_suffix)
    files = []
    with atomic_dir(dest, RECORD, "import", root=imports_root) as tmp:
        for lr in lr_files:
            img = decode(matched[lr.name])  # the evaluation's rule: RGBA refused, 16-bit round(v/257)
            lh, lw = decode(lr).shape[:2]
            if img.shape[:2] != (lh * scale, lw * scale):
                raise UserError(f"{matched[lr.name]}: {img.shape[1]}x{img.shape[0]}, expected {lw * scale}x{lh * scale} "
                                f"({scale}x {lr.name}); this is not a x{scale} output of this dataset")
            write_png(tmp / lr.name, img)
            files.append({"name": lr.name, "source": matched[lr.name].name, "source_sha256": sha256_file(matched[lr.name]),
                          "sha256": sha256_file(tmp / lr.name)})
        record = {"method": method, "dataset": dataset, "scale": scale, "n_images": len(files),
                  "source_dir": str(src_dir.resolve()), "source": source, "strip_suffix": strip_suffix,
                  "imported_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "files": files, **(extra or {})}
        write_json(tmp / RECORD, record)
    return record


@dataclass(frozen=True)
class Published:
    """A method's outputs published file by file: `file_set` (lgcaa/data/sources/<file_set>.json), the group of
    its SR images per dataset, and the group of the authors' own metric logs per dataset (kept in the cache)."""

    file_set: str
    outputs: dict[str, str]
    logs: dict[str, str] = field(default_factory=dict)


def fetch_published(method: str, published: Published, dataset: str, lr_dir: str | Path, imports_root: str | Path,
                    cache_dir: str | Path, mirror: Any = None, scale: int = 4) -> dict[str, Any]:
    """Fetch (verified, file by file) the published outputs matching the LR images of `lr_dir` and register them
    as the import of `method` on `dataset`; returns the import record. `mirror`: lgcaa.data.files.mirror_root."""
    from lgcaa.data.files import fetch_group, load_file_set, source_url

    if dataset not in published.outputs:
        raise UserError(f"{method}: no published outputs for dataset '{dataset}' (published: "
                        f"{', '.join(published.outputs)}); import a folder instead: lgcaa baselines import {method} DIR "
                        f"--dataset {dataset}")
    fs = load_file_set(published.file_set)
    group = fs.group(published.outputs[dataset])
    stems = {Path(p.name).stem for p in list_images(lr_dir)}
    names = sorted(n for n in group.files if Path(n).stem in stems)
    paths = fetch_group(fs, group.key, cache_dir, mirror, names)
    logs = []
    if dataset in published.logs:
        log_group = fs.group(published.logs[dataset])
        for n, path in fetch_group(fs, log_group.key, cache_dir, mirror).items():
            logs.append({"file": n, "path": str(path), "sha256": log_group.files[n][0], "url": fs.url(log_group, n)})
    where = f"https://github.com/{fs.repository}/tree/{fs.commit}/{group.path}"
    extra = {"source_dir": str(fs.cache_folder(cache_dir, group).resolve()), "published": {"repository": fs.repository, "commit": fs.commit, "path": group.path, "file_set": fs.name,
                           "licence": fs.licence, "fetched_from": source_url(fs, group, names[0], mirror) if names else "",
                           "logs": logs}}
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{method}-{dataset}.", dir=cache_dir) as tmp:
        for n, path in paths.items():  # only this dataset's images (a subset of the set may be imported)
            os.symlink(path.resolve(), Path(tmp) / n)
        record = register(method, dataset, tmp, lr_dir, imports_root, scale=scale, source=where, extra=extra)
    return record


def import_outputs(method: str, published: Published | None, scale: int, dataset: str, src_dir: Path | None,
                   lr_dir: Path, imports_root: Path, cache_dir: Path, mirror: str | None = None, source: str = "",
                   strip_suffix: str = "") -> str:
    """`lgcaa baselines import`: register the folder `src_dir` of `method`'s outputs on `dataset` (`register`), or
    without one fetch the outputs `published` names file by file (`fetch_published`, from `mirror`: a folder or
    URL, default $LGCAA_DATA_MIRROR); returns the line that says what was imported where."""
    if src_dir is None:
        if published is None:
            raise UserError(f"{method}: give the folder of its published outputs (DIR); the registry knows none "
                            "file by file")
        from lgcaa.data.files import mirror_root

        record = fetch_published(method, published, dataset, lr_dir, imports_root, cache_dir, mirror_root(mirror), scale)
        return (f"{method} on {dataset}: {record['n_images']} images fetched (sha256-verified) from "
                f"{record['source']} into {import_folder(imports_root, dataset, method)}")
    record = register(method, dataset, src_dir, lr_dir, imports_root, scale=scale, source=source,
                      strip_suffix=strip_suffix)
    return (f"{method} on {dataset}: {record['n_images']} images imported from {src_dir} "
            f"into {import_folder(imports_root, dataset, method)}")


def load_import(method: str, dataset: str, imports_root: str | Path) -> dict[str, Any] | None:
    path = import_folder(imports_root, dataset, method) / RECORD
    return json.loads(path.read_text()) if path.is_file() else None


def published_log(method: str, dataset: str, imports_root: str | Path) -> Path:
    """The authors' per-image metric log fetched with the published outputs of `method` on `dataset` (its import
    record names it), checked against its pinned sha256 before use; UserError naming the fix otherwise."""
    record = load_import(method, dataset, imports_root)
    logs = (record or {}).get("published", {}).get("logs", [])
    if not logs:
        raise UserError(f"{import_folder(imports_root, dataset, method)}: no published metric log of {method} for "
                        f"{dataset} (import it first: lgcaa baselines import {method} --dataset {dataset})")
    log = logs[0]
    path = Path(log["path"])
    if not path.is_file() or sha256_file(path) != log["sha256"]:
        raise UserError(f"{path}: the published log of {method} on {dataset} is missing or changed (sha256 "
                        f"{log['sha256']} expected); re-import: lgcaa baselines import {method} --dataset {dataset}")
    return path


def list_imports(imports_root: str | Path) -> dict[str, list[str]]:
    """{method: [datasets]} of the imports present."""
    root = Path(imports_root)
    out: dict[str, list[str]] = {}
    for record in sorted(root.glob(f"*/*/{RECORD}")) if root.is_dir() else []:
        out.setdefault(record.parent.name, []).append(record.parent.parent.name)
    return out


def materialize(method: str, dataset: str, imports_root: str | Path, lr_files: list[Path], out_dir: Path) -> dict[str, Any]:
    """Copy an import into `out_dir` after checking names and digests; returns a summary with the record."""
    t0 = time.perf_counter()
    record = load_import(method, dataset, imports_root)
    if record is None:
        raise UserError(f"no import of {method} for {dataset} under {imports_root}")
    folder = import_folder(imports_root, dataset, method)
    names = [f["name"] for f in record["files"]]
    if sorted(names) != sorted(f.name for f in lr_files):
        raise UserError(f"{folder}: import has {len(names)} images but the dataset's LR folder has {len(lr_files)} "
                        f"(or other names); re-import: lgcaa baselines import {method} DIR --dataset {dataset}")
    for f in record["files"]:
        if sha256_file(folder / f["name"]) != f["sha256"]:
            raise UserError(f"{folder / f['name']}: sha256 differs from {RECORD}; the import was modified — re-import it")
        with atomic_path(out_dir / f["name"]) as tmp:
            shutil.copyfile(folder / f["name"], tmp)
    seconds = time.perf_counter() - t0
    return {"n_images": len(names), "n_computed": 0, "seconds": seconds, "seconds_per_image": seconds / max(len(names), 1),
            "import": {k: v for k, v in record.items() if k != "files"}}
