"""Fetch and verify weight files under their root (torch hub folder or harness cache dir, `lgcaa.weights.roots`).

`inspect(f, root, deep)` says where one file stands (missing / present / ok / corrupt / unrecorded); `fetch(f)`
makes it present and verified — from an offline producer when there is one, else from its mirrors in order with
`lgcaa.download.download` (resume + checksum + completeness). A failure is reported per file, never raised for
the batch, so an offline machine gets the exact list of what is missing and where to put it.

Trust. A file is used (a metric built from it, a baseline run with it) only when `verify_for_use` says OK:
its sha256 equals the manifest's pin, or the digest recorded in the root's lock file
`<root>/lgcaa-weights.lock.json` — recorded either after a complete download from the file's own URL (with a
warning to pin it), or by the user with `lgcaa weights pin FILE SHA256`. A file whose digest is known nowhere
(dropped into the hub folder by hand or by another tool) is UNRECORDED and refused until the user pins it.
Files made by an offline producer are checked by content where their bytes are not reproducible (NIQE's .mat).

The verdict is cached in `<root>/lgcaa-weights.verified.json` by size, mtime, ctime and inode, so hashing the
~1 GB of metric weights happens once, not per evaluation job. Folders (manual entries such as a diffusers model
folder) are digested as a tree: sha256 over the sorted lines `relative path NUL file sha256`.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lgcaa.download import DownloadError, download
from lgcaa.errors import UserError
from lgcaa.io import file_lock, sha256_file, write_json
from lgcaa.weights.manifest import WeightFile, name_hash_prefix
from lgcaa.weights.offline import PRODUCERS
from lgcaa.weights.roots import hub_dir, root_of

LOCK_NAME = "lgcaa-weights.lock.json"
VERDICTS_NAME = "lgcaa-weights.verified.json"
USER_PIN = "pinned by the user (lgcaa weights pin)"

# inspect() states
MISSING, PRESENT, OK, CORRUPT, UNRECORDED = "missing", "present", "ok", "corrupt", "unrecorded"

__all__ = ["FileState", "fetch", "fetch_all", "hub_dir", "inspect", "inspect_all", "pin", "require_verified",
           "verify_for_use"]


@dataclass(frozen=True)
class FileState:
    file: WeightFile
    path: Path
    state: str  # one of MISSING, PRESENT (shallow: exists, size fits), OK, CORRUPT, UNRECORDED (digest known nowhere)
    detail: str = ""
    sha256: str | None = None  # computed digest when known
    warning: str = ""

    @property
    def usable(self) -> bool:
        """Present and not known to be bad (what a listing calls 'can run here'); use needs `verified`."""
        return self.state in (PRESENT, OK, UNRECORDED)

    @property
    def verified(self) -> bool:
        return self.state == OK

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file.dest, "path": str(self.path), "state": self.state, "detail": self.detail,
                "sha256": self.sha256, "pinned": self.file.sha256 is not None, "used_by": list(self.file.used_by),
                **({"warning": self.warning} if self.warning else {})}


def _root(f: WeightFile, root: str | os.PathLike | None) -> Path:
    return Path(root) if root is not None else root_of(f)


# --- local lock of digests for unpinned files --------------------------------------------------------------


def read_lock(root: Path) -> dict[str, dict[str, Any]]:
    p = Path(root) / LOCK_NAME
    if not p.is_file():
        return {}
    try:
        return json.loads(p.read_text()).get("files", {})
    except json.JSONDecodeError as exc:
        raise UserError(f"{p}: not valid JSON ({exc}); fix or delete it (then pin or fetch the files again)") from exc


def record_digest(root: Path, f: WeightFile, sha256: str, size: int, source: str) -> None:
    """Add/replace the lock-file entry of `f` (read-modify-write under a file lock)."""
    root = Path(root)
    with file_lock(root / f".{LOCK_NAME}.lock"):
        files = read_lock(root)
        files[f.dest] = {"sha256": sha256, "size": size, "source": source,
                         "recorded_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}
        write_json(root / LOCK_NAME, {"note": "sha256 of weight files that have no published digest: recorded after "
                                              "a complete download from their URL, or pinned by the user",
                                      "files": files})


def expected_digest(root: Path, f: WeightFile) -> tuple[str | None, str]:
    """(digest to check against, where it comes from: 'manifest' | 'local record' | USER_PIN | '')."""
    if f.sha256 is not None:
        return f.sha256, "manifest"
    rec = read_lock(root).get(f.dest)
    if not rec:
        return None, ""
    return rec["sha256"], (USER_PIN if rec.get("source") == USER_PIN else "local record")


# --- digests with a cached verdict -------------------------------------------------------------------------


def _files_below(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file())


def stat_key(path: Path) -> list[Any]:
    """What must not change for a cached digest to stay valid: size, mtime, ctime (no user can set it) and
    inode of a file; for a folder the same per file, with the relative names."""
    if path.is_file():
        st = path.stat()
        return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
    return [[p.relative_to(path).as_posix(), *stat_key(p)] for p in _files_below(path)]


def content_digest(path: Path) -> str:
    """sha256 of a file; of a folder, sha256 over sorted `relative path NUL sha256` lines of its files."""
    if path.is_file():
        return sha256_file(path)
    import hashlib

    h = hashlib.sha256()
    for p in _files_below(path):
        h.update(f"{p.relative_to(path).as_posix()}\0{sha256_file(p)}\n".encode())
    return h.hexdigest()


def _read_verdicts(root: Path) -> dict[str, Any]:
    try:
        return json.loads((root / VERDICTS_NAME).read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def cached_check(root: Path, f: WeightFile, path: Path, kind: str, compute: Callable[[], Any]) -> Any:
    """`compute()` (a digest or a content verdict), reused while the file's `stat_key` is unchanged."""
    key = stat_key(path)
    entry = _read_verdicts(root).get(f.dest, {})
    if entry.get("stat") == key and kind in entry:
        return entry[kind]
    value = compute()
    try:
        with file_lock(root / f".{VERDICTS_NAME}.lock"):
            verdicts = _read_verdicts(root)
            old = verdicts.get(f.dest, {})
            verdicts[f.dest] = {**(old if old.get("stat") == key else {}), "stat": key, kind: value}
            write_json(root / VERDICTS_NAME, verdicts)
    except OSError:  # a read-only root: verify every time
        pass
    return value


# --- inspect / fetch / pin ---------------------------------------------------------------------------------


def missing_detail(f: WeightFile, path: Path) -> str:
    if f.manual:
        return f"absent; fetch it by hand from {f.urls[0]} into {path}" + (f" ({f.note})" if f.note else "")
    return f"absent; `lgcaa weights fetch {f.used_by[0]}` (needs network) or copy {f.urls[0]} to {path}"


def _present(path: Path) -> bool:
    return path.is_file() or (path.is_dir() and any(path.iterdir()))


def inspect(f: WeightFile, root: str | os.PathLike | None = None, deep: bool = False) -> FileState:
    """Shallow: existence and size. Deep: also the content (sha256 or, for generated files, the values); the
    deep verdict is cached by `stat_key`."""
    root = _root(f, root)
    path = root / f.dest
    if not _present(path):
        return FileState(f, path, MISSING, missing_detail(f, path))
    size = path.stat().st_size if path.is_file() else None
    if f.size is not None and size != f.size:
        return FileState(f, path, CORRUPT, f"{path}: {size} bytes, expected {f.size}; delete it and fetch again")
    if not deep:
        return FileState(f, path, PRESENT, f"{size} bytes" if size is not None else "folder")
    producer = PRODUCERS.get(f.offline or "")
    if producer is not None and producer.content_check is not None:
        ok = cached_check(root, f, path, "content_ok", lambda: bool(producer.content_check(path)))
        return FileState(f, path, OK if ok else CORRUPT,
                         "content matches its offline source" if ok else
                         f"{path}: content differs from its offline source; delete it and fetch again")
    digest = cached_check(root, f, path, "sha256", lambda: content_digest(path))
    expected, origin = expected_digest(root, f)
    if expected is None:
        return FileState(f, path, UNRECORDED,
                         f"{path}: no published or recorded sha256, so it is not trusted (its sha256 is {digest}); "
                         f"compare that with a trusted copy, then pin it: lgcaa weights pin {f.dest} {digest}",
                         sha256=digest)
    if digest != expected:
        return FileState(f, path, CORRUPT, f"{path}: sha256 {digest}, expected {expected} ({origin}); delete it "
                         "and fetch again", sha256=digest)
    return FileState(f, path, OK, f"sha256 matches the {origin}", sha256=digest)


def fetch(f: WeightFile, root: str | os.PathLike | None = None, timeout: float = 60, retries: int = 3,
          progress: Callable[[int, int | None], None] | None = None) -> FileState:
    """Make `f` present and verified; returns its state (MISSING with every mirror's error when it cannot).

    An existing file with no known digest is not recorded (anyone could have put it there): it stays UNRECORDED
    until the user pins it. A downloaded unpinned file is recorded only after a transfer of known length
    (`lgcaa.download` refuses any other), checked against the hash prefix in its name where there is one.
    """
    root = _root(f, root)
    path = root / f.dest
    state = inspect(f, root, deep=True)
    producer = PRODUCERS.get(f.offline or "")
    if state.state == CORRUPT and producer is not None and path.is_file():  # regenerable: replace silently
        path.unlink()
        state = inspect(f, root)
    if state.state in (OK, CORRUPT, UNRECORDED):
        return state
    if producer is not None:
        try:
            how = producer.make(path, f.sha256)
        except UserError as exc:
            how = ""
            state = FileState(f, path, MISSING, f"offline producer failed: {exc}")
        if how:
            done = inspect(f, root, deep=True)
            if done.state == UNRECORDED:  # made here from an installed package: record what it produced
                return _record(root, f, done.sha256 or "", path, how)
            return FileState(f, path, done.state, f"{done.detail}; {how}", done.sha256)
    if f.manual:
        return state
    expected, _ = expected_digest(root, f)
    errors = []
    for url in f.urls:
        try:
            digest = download(url, path, sha256=expected, size=f.size, timeout=timeout, retries=retries,
                              progress=progress)
        except DownloadError as exc:
            errors.append(str(exc).removeprefix(f"{path}: "))
            continue
        if expected is None:
            return _record(root, f, digest, path, url)
        return FileState(f, path, OK, f"downloaded from {url}; sha256 verified", digest)
    return FileState(f, path, MISSING, "not fetched: " + " | ".join(errors))


def inspect_all(files: list[WeightFile], cache: str | os.PathLike | None = None,
                deep: bool = False) -> list[FileState]:
    """`inspect` of every file under its root (`root_of`; the baselines' under `cache`)."""
    return [inspect(f, root_of(f, cache), deep=deep) for f in files]


def fetch_all(files: list[WeightFile], cache: str | os.PathLike | None = None, timeout: float = 60,
              retries: int = 3, progress: Callable[[str], Callable[[int, int | None], None] | None] | None = None
              ) -> Iterator[FileState]:
    """`fetch` every file under its root (`root_of`; the baselines' under `cache`), yielding each state as it is
    known; `progress(dest)` gives a file's download progress callback (or None)."""
    for f in files:
        yield fetch(f, root_of(f, cache), timeout=timeout, retries=retries,
                    progress=progress(f.dest) if progress else None)


def _record(root: Path, f: WeightFile, digest: str, path: Path, source: str) -> FileState:
    prefix = name_hash_prefix(f.name)
    if prefix is not None and not digest.startswith(prefix):
        return FileState(f, path, CORRUPT, f"{path}: sha256 {digest} does not start with the hash prefix in its "
                         "name; delete it and fetch again", digest)
    record_digest(root, f, digest, path.stat().st_size if path.is_file() else 0, source)
    return FileState(f, path, OK, f"recorded sha256 in {root / LOCK_NAME}", digest,
                     warning=f"{f.dest} has no published sha256; recorded {digest} from {source} — compare it with "
                             "a trusted copy and pin it in its manifest entry")


def pin(f: WeightFile, sha256: str, root: str | os.PathLike | None = None) -> FileState:
    """The user's explicit trust in a present file without a published digest: `sha256` must be its digest."""
    root = _root(f, root)
    path = root / f.dest
    if not _present(path):
        raise UserError(f"{path}: absent; put the file there first, then pin it")
    if f.sha256 is not None:
        raise UserError(f"{f.dest} has a published sha256 ({f.sha256}); it cannot be re-pinned — "
                        "`lgcaa weights verify` checks it")
    want = sha256.strip().lower()
    got = content_digest(path)
    if got != want:
        raise UserError(f"{path}: sha256 is {got}, not the {want} you gave; this is not the file you meant to pin")
    prefix = name_hash_prefix(f.name)
    if prefix is not None and not got.startswith(prefix):
        raise UserError(f"{path}: sha256 {got} does not start with the hash prefix {prefix} in its name")
    record_digest(root, f, got, path.stat().st_size if path.is_file() else 0, USER_PIN)
    return inspect(f, root, deep=True)


# --- the check before use ----------------------------------------------------------------------------------


def verify_for_use(files: Iterable[WeightFile], cache: str | os.PathLike | None = None) -> list[FileState]:
    """Deep state of every file under its root (digest verdicts cached); only OK files may be loaded."""
    return [inspect(f, root_of(f, cache), deep=True) for f in files]


def require_verified(files: Iterable[WeightFile], who: str, cache: str | os.PathLike | None = None) -> list[FileState]:
    """`verify_for_use`, raising one UserError line naming every file that is not OK and its fix."""
    states = verify_for_use(files, cache)
    bad = [s for s in states if not s.verified]
    if bad:
        raise UserError(f"{who}: weights not verified — " + "; ".join(f"{s.state}: {s.detail}" for s in bad))
    return states

