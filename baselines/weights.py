"""Weight files of the baselines: where the authors publish them, where they live here, what is missing.

A `WeightFile` is a declaration, not a download: `url` is the authors' published location, `dest` a path
relative to the cache dir (`baselines.cache.cache_dir()`), `sha256` a digest found in a public source or
None when none could be found (never invented). `manual=True` marks a URL that is a web folder (Google
Drive, a Hugging Face model repository) rather than one file: it cannot be fetched by a plain HTTP GET.

`lgcaa weights fetch <baseline>` (the weights manager) and `lgcaa baselines setup <baseline>` both end in
`fetch()` below, which calls `lgcaa.download.download` (resume, checksum, atomic rename).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lgcaa.errors import UserError


@dataclass(frozen=True)
class WeightFile:
    owner: str  # baseline name in baselines.registry.BASELINES
    name: str  # file (or folder) name as the authors publish it
    url: str  # the authors' published location
    dest: str  # path relative to the cache dir
    sha256: str | None = None  # from a public source; None when no digest was published/found
    size: int | None = None  # bytes, when published
    manual: bool = False  # URL is a folder/page, not a file: fetch by hand (see `note`)
    note: str = ""  # provenance of the digest, or how to fetch a manual entry


def weight_path(weight: WeightFile, cache_dir: str | Path) -> Path:
    return Path(cache_dir) / weight.dest


def missing_weights(weights: tuple[WeightFile, ...] | list[WeightFile], cache_dir: str | Path) -> list[WeightFile]:
    """The declared files/folders that are not present under `cache_dir` (a folder must be non-empty)."""
    out = []
    for w in weights:
        p = weight_path(w, cache_dir)
        present = p.is_file() or (p.is_dir() and any(p.iterdir()))
        if not present:
            out.append(w)
    return out


def fetch(weights: tuple[WeightFile, ...] | list[WeightFile], cache_dir: str | Path) -> list[Path]:
    """Download every missing, fetchable file; return the present paths.

    Raises UserError (one line) listing the manual entries still missing, with where to put them.
    """
    from lgcaa.download import download

    manual_missing = []
    paths = []
    for w in weights:
        dest = weight_path(w, cache_dir)
        if w.manual:
            if w in missing_weights([w], cache_dir):
                manual_missing.append(w)
            else:
                paths.append(dest)
            continue
        download(w.url, dest, sha256=w.sha256, size=w.size)
        paths.append(dest)
    if manual_missing:
        parts = [f"{w.name} from {w.url} into {weight_path(w, cache_dir)}" + (f" ({w.note})" if w.note else "")
                 for w in manual_missing]
        raise UserError(f"{manual_missing[0].owner}: {len(parts)} weight(s) must be fetched by hand: " + "; ".join(parts))
    return paths
