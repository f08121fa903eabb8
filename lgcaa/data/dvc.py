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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lgcaa.errors import UserError
from lgcaa.io import file_lock, publish_dir
from lgcaa.layout import MANIFEST


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
        info = fs.info(f"{rel}/{MANIFEST}")
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


@dataclass(frozen=True)
class Pulled:
    """What asking DVC for a dataset folder gave."""

    manifest: dict[str, Any] | None  # the pulled folder's manifest, as `check` returned it; None: not usable
    message: str  # what DVC said (pulled, not recorded, could not fetch, skipped)
    refused: Exception | None = None  # DVC materialised the folder but `check` refused it (its error)


def pull_checked(out: str | Path, check: Callable[[Path], dict[str, Any]], try_dvc: bool = True) -> Pulled:
    """`pull_dataset(out)`, then `check(out)` (the verified manifest, or UserError/KeyError/ValueError) on what
    came: the one way a released set (`lgcaa.data.fetch.obtain_released`) and a regenerated one
    (`lgcaa.data.regenerate.obtain_regenerated`) ask DVC first; each decides what a refusal means. `try_dvc`
    False: DVC is not asked."""
    if not try_dvc:
        return Pulled(None, "dvc: skipped (--no-dvc)")
    ok, msg = pull_dataset(out)
    if not ok:
        return Pulled(None, msg)
    try:
        return Pulled(check(Path(out)), msg)
    except (UserError, KeyError, ValueError) as exc:
        return Pulled(None, msg, exc)


def _pull(out: Path) -> tuple[bool, str]:
    try:
        found = tracked_in_dvc(out)
    except Exception as exc:  # noqa: BLE001 -- any DVC config/remote/.dir problem: report, caller falls back
        return False, explain_failure(exc, repo_root(out.resolve().parent))
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
        publish_dir(staging / "x", out, MANIFEST)
    except UserError as exc:
        return False, f"dvc: {rel} fetched but not put in place: {exc}"
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return True, f"dvc: {rel} materialised from the DVC cache/remote"


def remote_description(root: Path) -> str:
    """'remote "storage" (../../lgcaa-dvc-storage, not found)' for the default remote, or 'no default remote'."""
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read([root / ".dvc" / "config", root / ".dvc" / "config.local"])
    name = cfg.get("core", "remote", fallback="").strip()
    if not name:
        return "no default remote configured (dvc remote add -d NAME URL)"
    section = next((s for s in (f"'remote \"{name}\"'", f'remote "{name}"') if cfg.has_section(s)), None)
    url = cfg.get(section, "url", fallback="?").strip() if section else "?"
    if "://" not in url:
        where = (root / ".dvc" / url).resolve() if not Path(url).is_absolute() else Path(url)
        return f'remote "{name}" ({url} = {where}, ' + ("present)" if where.exists() else "not found)")
    return f'remote "{name}" ({url})'


def explain_failure(exc: Exception, root: Path | None) -> str:
    """One plain sentence for a DVC failure while reading data.dvc's listing (the usual one offline:
    DataIndexDirError = the listing of data/ is neither in the local DVC cache nor on a reachable remote)."""
    if root is None:
        return "dvc: no DVC repository above the data folder"
    if exc.__class__.__name__ == "DataIndexDirError":
        return (f"dvc: data.dvc records data/, but its file listing is not in the local DVC cache and no DVC remote "
                f"could provide it ({remote_description(root)}); not using DVC for this dataset")
    return f"dvc: cannot read what data.dvc records ({exc.__class__.__name__}: {exc}); not using DVC for this dataset"


def tracking_file(root: Path, folder: Path) -> Path | None:
    """The `.dvc` file at the top of the repository whose single out is `folder` (e.g. data.dvc for data/)."""
    import yaml

    for dvcfile in sorted(p for p in root.glob("*.dvc") if p.is_file()):
        outs = (yaml.safe_load(dvcfile.read_text()) or {}).get("outs", [])
        if any((root / o.get("path", "")).resolve() == folder.resolve() for o in outs):
            return dvcfile
    return None


def cache_if_identical(data_root: str | Path) -> dict[str, str]:
    """Leave DVC's cache consistent with a data folder the DAG rebuilt: when `data_root` equals what its `.dvc`
    file records (datasets rebuilt byte-identically, as the mini sets are), commit it to the local cache, so that
    `dvc status` on a fresh clone does not report `not in cache`. A folder that differs is left alone and the
    message says what to run. Returns {"status", "message"}; never raises for DVC problems."""
    data_root = Path(data_root)
    root = repo_root(data_root.resolve().parent) if data_root.exists() else None
    if root is None:
        return {"status": "no-dvc", "message": f"{data_root}: not inside a DVC repository; nothing to do"}
    dvcfile = tracking_file(root, data_root)
    if dvcfile is None:
        return {"status": "untracked", "message": f"{data_root}: no .dvc file in {root} tracks it; nothing to do"}
    rel = dvcfile.relative_to(root).as_posix()
    try:
        with _serialised(root), contextlib.chdir(root):  # DVC resolves outputs against the working folder
            from dvc.repo import Repo

            with Repo(str(root)) as repo:
                changes = repo.status(targets=[rel])
                states = {state for entry in changes.get(rel, []) if isinstance(entry, dict)
                          for outs in entry.values() if isinstance(outs, dict) for state in outs.values()}
                if not changes:
                    return {"status": "up-to-date", "message": f"{rel}: data and DVC cache agree"}
                if states != {"not in cache"}:
                    return {"status": "modified", "message": (
                        f"{rel}: {data_root} differs from what {rel} records ({', '.join(sorted(states))}); left "
                        f"as is. To record the new state: dvc add {data_root.as_posix()} && git add {rel}")}
                repo.commit(rel, force=True)
    except Exception as exc:  # noqa: BLE001 -- DVC raises many types; the DAG goes on without the cache
        return {"status": "failed", "message": f"{rel}: could not update the DVC cache ({exc.__class__.__name__}: "
                                               f"{exc}); run `dvc commit {rel}` by hand"}
    return {"status": "cached", "message": f"{rel}: {data_root} equals the recorded version; committed it to the "
                                           "local DVC cache (dvc status is clean, dvc push can share it)"}
