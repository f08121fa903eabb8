"""Fetch and verify the manifest's files under `torch.hub.get_dir()`.

`inspect(f, deep)` says where one file stands (missing / present / ok / corrupt / unrecorded); `fetch(f)` makes
it present and verified — from an offline producer when there is one, else from its mirrors in order with
`lgcaa.download.download` (resume + checksum). A failure is reported per file, never raised for the batch,
so an offline machine gets the exact list of what is missing and where to put it.

Unpinned files (manifest sha256 None): the digest computed on first fetch is recorded in the local lock file
`<hub>/lgcaa-weights.lock.json` with a warning; later fetch/verify runs check against that record.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lgcaa.weights.manifest import WeightFile, name_hash_prefix

LOCK_NAME = "lgcaa-weights.lock.json"

# inspect() states
MISSING, PRESENT, OK, CORRUPT, UNRECORDED = "missing", "present", "ok", "corrupt", "unrecorded"


@dataclass(frozen=True)
class FileState:
    file: WeightFile
    path: Path
    state: str  # one of MISSING, PRESENT (shallow: exists, size fits), OK, CORRUPT, UNRECORDED (unpinned, no record)
    detail: str = ""
    sha256: str | None = None  # computed digest when known
    warning: str = ""

    @property
    def usable(self) -> bool:
        return self.state in (PRESENT, OK, UNRECORDED)

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file.dest, "path": str(self.path), "state": self.state, "detail": self.detail,
                "sha256": self.sha256, "pinned": self.file.sha256 is not None, "used_by": list(self.file.used_by),
                **({"warning": self.warning} if self.warning else {})}


def hub_dir() -> Path:
    import torch

    return Path(torch.hub.get_dir())


# --- local lock of digests for unpinned files --------------------------------------------------------------


def read_lock(hub: Path) -> dict[str, dict[str, Any]]:
    p = hub / LOCK_NAME
    if not p.is_file():
        return {}
    return json.loads(p.read_text()).get("files", {})


def record_digest(hub: Path, f: WeightFile, sha256: str, size: int, source: str) -> None:
    from lgcaa.io import write_json

    files = read_lock(hub)
    files[f.dest] = {"sha256": sha256, "size": size, "source": source,
                     "recorded_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}
    write_json(hub / LOCK_NAME, {"note": "sha256 of manifest files that have no published digest, recorded on "
                                         "first fetch by `lgcaa weights fetch`", "files": files})


def expected_digest(hub: Path, f: WeightFile) -> tuple[str | None, str]:
    """(digest to check against, where it comes from: 'manifest' | 'local record' | '')."""
    if f.sha256 is not None:
        return f.sha256, "manifest"
    rec = read_lock(hub).get(f.dest)
    return (rec["sha256"], "local record") if rec else (None, "")


# --- inspect / fetch ---------------------------------------------------------------------------------------


def missing_detail(f: WeightFile, path: Path) -> str:
    return f"absent; `lgcaa weights fetch {f.used_by[0]}` (needs network) or copy {f.urls[0]} to {path}"


def inspect(f: WeightFile, hub: Path | None = None, deep: bool = False) -> FileState:
    """Shallow: existence and size. Deep: also the content (sha256 or, for generated files, the values)."""
    from lgcaa.io import sha256_file
    from lgcaa.weights.offline import PRODUCERS

    hub = hub or hub_dir()
    path = hub / f.dest
    if not path.is_file():
        return FileState(f, path, MISSING, missing_detail(f, path))
    size = path.stat().st_size
    if f.size is not None and size != f.size:
        return FileState(f, path, CORRUPT, f"{path}: {size} bytes, expected {f.size}; delete it and fetch again")
    if not deep:
        return FileState(f, path, PRESENT, f"{size} bytes")
    producer = PRODUCERS.get(f.offline or "")
    if producer is not None and producer.content_check is not None:
        ok = producer.content_check(path)
        return FileState(f, path, OK if ok else CORRUPT,
                         "content matches its offline source" if ok else
                         f"{path}: content differs from its offline source; delete it and fetch again")
    digest = sha256_file(path)
    expected, origin = expected_digest(hub, f)
    if expected is None:
        return FileState(f, path, UNRECORDED, "unpinned and no local record; `lgcaa weights fetch` records it",
                         sha256=digest)
    if digest != expected:
        return FileState(f, path, CORRUPT, f"{path}: sha256 {digest}, expected {expected} ({origin}); delete it "
                         "and fetch again", sha256=digest)
    return FileState(f, path, OK, f"sha256 matches the {origin}", sha256=digest)


def fetch(f: WeightFile, hub: Path | None = None, timeout: float = 60, retries: int = 3,
          progress: Callable[[int, int | None], None] | None = None) -> FileState:
    """Make `f` present and verified; returns its state (MISSING with every mirror's error when it cannot)."""
    from lgcaa.download import DownloadError, download
    from lgcaa.errors import UserError
    from lgcaa.weights.offline import PRODUCERS

    hub = hub or hub_dir()
    path = hub / f.dest
    state = inspect(f, hub, deep=True)
    producer = PRODUCERS.get(f.offline or "")
    if state.state == CORRUPT and producer is not None:  # regenerable: replace silently
        path.unlink()
        state = inspect(f, hub)
    if state.state in (OK, CORRUPT):
        return state
    if state.state == UNRECORDED:
        return _record(hub, f, state.sha256 or "", path, "existing file")
    if producer is not None:
        try:
            how = producer.make(path, f.sha256)
        except UserError as exc:
            how = ""
            state = FileState(f, path, MISSING, f"offline producer failed: {exc}")
        if how:
            done = inspect(f, hub, deep=True)
            return FileState(f, path, done.state, f"{done.detail}; {how}", done.sha256)
    expected, _ = expected_digest(hub, f)
    errors = []
    for url in f.urls:
        try:
            digest = download(url, path, sha256=expected, size=f.size, timeout=timeout, retries=retries,
                              progress=progress)
        except DownloadError as exc:
            errors.append(str(exc).removeprefix(f"{path}: "))
            continue
        if expected is None:
            return _record(hub, f, digest, path, url)
        return FileState(f, path, OK, f"downloaded from {url}; sha256 verified", digest)
    return FileState(f, path, MISSING, "not fetched: " + " | ".join(errors))


def _record(hub: Path, f: WeightFile, digest: str, path: Path, source: str) -> FileState:
    prefix = name_hash_prefix(f.name)
    if prefix is not None and not digest.startswith(prefix):
        return FileState(f, path, CORRUPT, f"{path}: sha256 {digest} does not start with the hash prefix in its "
                         "name; delete it and fetch again", digest)
    record_digest(hub, f, digest, path.stat().st_size, source)
    return FileState(f, path, OK, f"recorded sha256 in {hub / LOCK_NAME}", digest,
                     warning=f"{f.dest} has no published sha256; recorded {digest} from {source} — compare it with "
                             "a trusted copy and pin it in lgcaa/weights/manifest.py")
