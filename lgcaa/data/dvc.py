"""Get a dataset folder from DVC (cache or default remote) without touching the rest of the workspace.

The top-level `data.dvc` tracks `data/` as one directory. `pull_dataset(out)` is a granular `dvc pull` of
the sub-folder `out` (e.g. `data/realsr`) at the version recorded in the workspace's `data.dvc`: it checks
that the listing records `out/manifest.json`, fetches the sub-folder's objects into the DVC cache
(`Repo.fetch(targets=[...])`, from the default remote), and materialises it from there through
`dvc.api.DVCFileSystem` into a temporary folder next to `out`, renamed into place. Unlike `dvc pull
data/realsr` it never deletes or rewrites sibling datasets (a failed granular `dvc checkout` can remove the
whole tracked directory -- seen with DVC 3.67), and a dataset is either complete or absent.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from lgcaa.errors import UserError
from lgcaa.io import file_lock, publish_dir


def repo_root(start: str | Path) -> Path | None:
    """The nearest folder at or above `start` holding a `.dvc/` directory, else None."""
    p = Path(start).resolve()
    for candidate in (p, *p.parents):
        if (candidate / ".dvc").is_dir():
            return candidate
    return None


@contextlib.contextmanager
def _serialised(root: Path) -> Iterator[None]:
    """One DVC operation at a time per repository: parallel DAG jobs would otherwise race for DVC's own
    repository lock (which gives up after a few seconds) and fall back to downloading from the source."""
    with file_lock(root / ".dvc" / "tmp" / "lgcaa-data.lock"):
        yield


def tracked_in_dvc(out: str | Path) -> tuple[Path, str] | None:
    """(repo root, repo-relative posix path) if `out/manifest.json` is recorded in a `.dvc` file, else None."""
    out = Path(out).resolve()
    root = repo_root(out.parent)
    if root is None:
        return None
    rel = out.relative_to(root).as_posix()
    from dvc.api import DVCFileSystem

    fs = DVCFileSystem(str(root))
    try:
        info = fs.info(f"{rel}/manifest.json")
    except FileNotFoundError:
        return None
    return (root, rel) if "dvc_info" in info else None


def pull_dataset(out: str | Path) -> tuple[bool, str]:
    """Materialise dataset folder `out` from DVC. Returns (done, message); never raises for DVC problems.

    An existing (invalid) `out` is replaced only once the pull succeeded, and only if the harness made it
    (it holds a manifest.json; `lgcaa.io.publish_dir`).
    """
    out = Path(out)
    root = repo_root(out.resolve().parent)
    if root is None:
        return False, f"dvc: no DVC repository above {out}"
    with _serialised(root):
        return _pull(out)


def _pull(out: Path) -> tuple[bool, str]:
    try:
        found = tracked_in_dvc(out)
    except Exception as exc:  # noqa: BLE001 -- any DVC config/remote/.dir problem: report, caller falls back
        return False, f"dvc: cannot read the tracked listing ({exc.__class__.__name__}: {exc})"
    if found is None:
        return False, f"dvc: {out} is not recorded in the workspace's .dvc files (data.dvc)"
    root, rel = found
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.dvc-", dir=out.parent))
    try:
        from dvc.api import DVCFileSystem
        from dvc.repo import Repo

        with Repo(str(root)) as repo:
            repo.fetch(targets=[rel])
        DVCFileSystem(str(root)).get(rel, str(staging / "x"), recursive=True)
    except Exception as exc:  # noqa: BLE001 -- DVC raises many types; report, caller falls back
        shutil.rmtree(staging, ignore_errors=True)
        return False, f"dvc: {rel} is recorded but could not be fetched ({exc.__class__.__name__}: {exc})"
    try:
        publish_dir(staging / "x", out, "manifest.json")
    except UserError as exc:
        return False, f"dvc: {rel} fetched but not put in place: {exc}"
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return True, f"dvc: {rel} materialised from the DVC cache/remote"
