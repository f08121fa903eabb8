"""Per-file sources: files of a public GitHub repository at a pinned commit, each with its sha256 and size.

A *file set* (`lgcaa/data/sources/<name>.json`, committed data) records the repository, the commit and, per
*group* (one folder of the repository), the upstream path, the folder of the same files in a local mirror,
and every file's sha256 and size. It is generated once from a mirror by `generate_file_set` (`lgcaa data
pin-files`), which only hashes what is there: the digests are the mirror's bytes, the paths upstream's.

`fetch_file` gets one file into the download cache, resumed (`.part`) and verified by `lgcaa.download`:
from `https://raw.githubusercontent.com/<repository>/<commit>/<path>/<file>`, or, with a mirror (`--mirror`
or `$LGCAA_DATA_MIRROR`), from a local folder -- `DIR/<mirror folder>/<file>` or `DIR/<upstream path>/<file>`
(laid out like ../shared/data, or a clone of the repository) -- or from an HTTP(S) server serving such a
folder (`URL/<mirror folder>/<file>`), with the same verification. A file whose bytes differ is refused,
naming it; nothing unverified reaches the cache.
"""

from __future__ import annotations

import fnmatch
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lgcaa.download import DownloadError, download
from lgcaa.errors import UserError
from lgcaa.io import sha256_file, write_json

SOURCES_DIR = Path(__file__).parent / "sources"
MIRROR_ENV = "LGCAA_DATA_MIRROR"
RAW_URL = "https://raw.githubusercontent.com/{repository}/{commit}/{path}"

OSEDIFF_COMMIT = "fcc4f09c7ed66a9bc0ba9433940d76b343142426"
# What `lgcaa data pin-files osediff` pins: group -> (upstream folder, mirror folder, file pattern).
OSEDIFF_LAYOUT: dict[str, tuple[str, str, str]] = {
    "realsr/hr": ("preset/datasets/benchmark_realsr/test_HR", "stablesr-crops/realsr/HR", "*.png"),
    "realsr/lr": ("preset/datasets/benchmark_realsr/test_LR", "stablesr-crops/realsr/LR", "*.png"),
    "drealsr/hr": ("preset/datasets/benchmark_drealsr/test_HR", "stablesr-crops/drealsr/HR", "*.png"),
    "drealsr/lr": ("preset/datasets/benchmark_drealsr/test_LR", "stablesr-crops/drealsr/LR", "*.png"),
    "osediff/realsr": ("preset/datasets/benchmark_realsr/results_osediff", "osediff-outputs/realsr", "*.png"),
    "osediff/drealsr": ("preset/datasets/benchmark_drealsr/results_osediff", "osediff-outputs/drealsr", "*.png"),
    "osediff-metrics/realsr": ("preset/datasets/benchmark_realsr/results_osediff/metrics",
                               "osediff-outputs/realsr/metrics", "*.log"),
    "osediff-metrics/drealsr": ("preset/datasets/benchmark_drealsr/results_osediff/metrics",
                                "osediff-outputs/drealsr/metrics", "*.log"),
}
PYIQA_CALIBRA_COMMIT = "01ae427f9afd66842031d3a7cb694dcad5b5cbb8"
# IQA-PyTorch's calibration pairs (5 TID2013 reference/distorted pairs) and the official implementations' scores,
# what `lgcaa metrics calibrate` checks the metrics against (lgcaa.metrics.calibrate).
PYIQA_CALIBRA_LAYOUT: dict[str, tuple[str, str, str]] = {
    "ref": ("ResultsCalibra/ref_dir", "pyiqa-calibra/ref_dir", "*.bmp"),
    "dist": ("ResultsCalibra/dist_dir", "pyiqa-calibra/dist_dir", "*.bmp"),
    "official": ("ResultsCalibra", "pyiqa-calibra", "results_official.csv"),
}
FILE_SETS: dict[str, dict[str, Any]] = {
    "pyiqa-calibra": {
        "repository": "chaofengc/IQA-PyTorch", "commit": PYIQA_CALIBRA_COMMIT, "layout": PYIQA_CALIBRA_LAYOUT,
        "licence": ("IQA-PyTorch: PolyForm-Noncommercial-1.0.0 since April 2026 (earlier releases CC BY-NC-SA 4.0); "
                    "TID2013 images for research use"),
    },
    "osediff": {
        "repository": "cswry/OSEDiff", "commit": OSEDIFF_COMMIT, "layout": OSEDIFF_LAYOUT,
        "licence": ("repository Apache-2.0; the RealSR (Cai et al. 2019) and DRealSR (Wei et al. 2020) crops keep "
                    "their datasets' research-only terms (OSEDiff's README: 'directly copied from StableSR')"),
    },
}


@dataclass(frozen=True)
class FileGroup:
    """One folder of the repository: its upstream path, its folder in a mirror, {file: (sha256, size)}."""

    key: str
    path: str
    mirror: str
    files: dict[str, tuple[str, int]]


@dataclass(frozen=True)
class FileSet:
    name: str
    repository: str
    commit: str
    licence: str
    groups: dict[str, FileGroup]

    def group(self, key: str) -> FileGroup:
        if key not in self.groups:
            raise UserError(f"file set '{self.name}' has no group '{key}' (groups: {', '.join(self.groups)})")
        return self.groups[key]

    def url(self, group: FileGroup, name: str) -> str:
        return RAW_URL.format(repository=self.repository, commit=self.commit, path=f"{group.path}/{name}")

    def cache_folder(self, cache_dir: str | Path, group: FileGroup) -> Path:
        """Where the verified files of `group` are kept: `<cache>/downloads/<owner>+<repo>@<commit>/<path>`."""
        return Path(cache_dir) / "downloads" / f"{self.repository.replace('/', '+')}@{self.commit}" / group.path


def generate_file_set(name: str, mirror: str | Path) -> dict[str, Any]:
    """The file-set record of `FILE_SETS[name]` from the files in `mirror` (every file matching each group's
    pattern, directly in its mirror folder, sorted by name). UserError if a folder is missing or empty."""
    if name not in FILE_SETS:
        raise UserError(f"unknown file set '{name}'; known: {', '.join(FILE_SETS)}")
    meta, mirror = FILE_SETS[name], Path(mirror)
    groups = {}
    for key, (path, folder, pattern) in meta["layout"].items():
        src = mirror / folder
        found = sorted(p for p in src.iterdir() if p.is_file() and fnmatch.fnmatch(p.name, pattern)) if src.is_dir() else []
        if not found:
            raise UserError(f"{src}: no {pattern} files for group '{key}'; is {mirror} a mirror of {meta['repository']}?")
        groups[key] = {"path": path, "mirror": folder,
                       "files": {p.name: {"sha256": sha256_file(p), "size": p.stat().st_size} for p in found}}
    return {"file_set": name, "repository": meta["repository"], "commit": meta["commit"], "licence": meta["licence"],
            "url": RAW_URL.format(repository=meta["repository"], commit=meta["commit"], path="<path>/<file>"),
            "generated_by": f"lgcaa data pin-files {name} --mirror DIR", "groups": groups}


def write_file_set(record: dict[str, Any], out: str | Path | None = None) -> Path:
    path = Path(out) if out else SOURCES_DIR / f"{record['file_set']}.json"
    write_json(path, record)
    return path


def file_set_line(path: Path, record: dict[str, Any]) -> str:
    """What `lgcaa data pin-files` prints of the file set `record` written to `path`."""
    n = sum(len(g["files"]) for g in record["groups"].values())
    return f"{path}: {n} files in {len(record['groups'])} groups of {record['repository']}@{record['commit']}"


def load_file_set(name: str, folder: str | Path = SOURCES_DIR) -> FileSet:
    path = Path(folder) / f"{name}.json"
    if not path.is_file():
        raise UserError(f"{path}: file set '{name}' is not pinned; generate it: lgcaa data pin-files {name} --mirror DIR")
    d = json.loads(path.read_text())
    groups = {k: FileGroup(k, g["path"], g["mirror"], {n: (f["sha256"], int(f["size"])) for n, f in g["files"].items()})
              for k, g in d["groups"].items()}
    return FileSet(name, d["repository"], d["commit"], d["licence"], groups)


Mirror = Path | str  # a local folder, or the base URL (http/https) of a served one


def is_url(mirror: Mirror) -> bool:
    return isinstance(mirror, str) and mirror.split("://", 1)[0].lower() in ("http", "https")


def mirror_root(explicit: str | Path | None = None) -> Mirror | None:
    """The mirror: `explicit` (--mirror), else $LGCAA_DATA_MIRROR, else None (download from upstream). A local
    folder (Path), or an http(s) URL (str, no trailing slash)."""
    value = str(explicit or os.environ.get(MIRROR_ENV, "")).strip()
    if not value:
        return None
    if is_url(value):
        return value.rstrip("/")
    root = Path(value).expanduser()
    if not root.is_dir():
        how = "--mirror" if explicit else f"${MIRROR_ENV}"
        raise UserError(f"{root}: mirror folder ({how}) does not exist; point it at a copy of the files or unset it")
    return root


def mirror_file(root: Path, group: FileGroup, name: str) -> Path:
    """The file in a mirror: `root/<mirror folder>/name`, else `root/<upstream path>/name` (a clone)."""
    candidates = [root / group.mirror / name, root / group.path / name]
    for c in candidates:
        if c.is_file():
            return c
    raise UserError(f"{candidates[0]}: not in the mirror {root} (nor {candidates[1]}); copy the file there, or "
                    f"fetch without --mirror/${MIRROR_ENV} on a machine with internet")


def source_url(fs: FileSet, group: FileGroup, name: str, mirror: Mirror | None = None) -> str:
    """Where a file is read from: upstream's raw URL, the served mirror's URL, or the local mirror's file:// URL."""
    if mirror is None:
        return fs.url(group, name)
    if is_url(mirror):
        return f"{mirror}/{group.mirror}/{name}"
    return mirror_file(Path(mirror), group, name).resolve().as_uri()


def fetch_file(fs: FileSet, group: FileGroup, name: str, cache_dir: str | Path, mirror: Mirror | None = None,
               retries: int = 3) -> Path:
    """One verified file in the download cache (downloaded, or copied from `mirror`); DownloadError naming the
    file when its size or sha256 differs from the file set (nothing is kept)."""
    sha256, size = group.files[name]
    dest = fs.cache_folder(cache_dir, group) / name
    url = source_url(fs, group, name, mirror)
    try:
        download(url, dest, sha256=sha256, size=size, retries=retries)
    except DownloadError as exc:
        hint = "" if mirror else f" (offline? use a local copy: --mirror DIR or ${MIRROR_ENV})"
        raise DownloadError(f"{exc}{hint}") from exc
    return dest


def fetch_group(fs: FileSet, key: str, cache_dir: str | Path, mirror: Mirror | None = None,
                names: list[str] | None = None) -> dict[str, Path]:
    """{file name: verified path in the cache} for `names` (default: every file) of group `key`."""
    group = fs.group(key)
    wanted = sorted(group.files) if names is None else names
    unknown = [n for n in wanted if n not in group.files]
    if unknown:
        raise UserError(f"file set '{fs.name}' group '{key}' has no file {unknown[0]} ({len(unknown)} unknown)")
    return {n: fetch_file(fs, group, n, cache_dir, mirror) for n in wanted}
