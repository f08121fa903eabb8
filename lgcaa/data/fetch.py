"""Obtain a registry dataset with released LR: from DVC if recorded there, else from its source.

Sources: the dataset's archive, or, for a registry entry with a `file_set` (RealSR, DRealSR; the default
source there), its files one by one (lgcaa.data.files: each pinned by sha256, downloaded or copied from a
mirror into the download cache, verified, then laid out as the archive's would be). `limit` keeps the first
N pairs sorted by name (a stated subset: the manifest records `limit`).

`obtain_released` ends with `<data>/<name>/{hr,lr}/*.png + manifest.json` or raises UserError; it never
leaves a partial dataset: the archive is downloaded (resumed, size/sha256 checked, `lgcaa.download`) into a
download cache, the dataset's folder is unpacked into a temporary folder next to the target, checked
(pairs, scale x size, registry sizes, pair count) and only then renamed into place.

Digests: a pinned `archive_sha256` in the registry is enforced. An unpinned archive is trusted on first use:
once it has unpacked into a valid dataset, its digest and size are recorded in `<data>/archives.lock.json`
(with a warning telling the user to pin it), and every later download of it must match that record. An
unverified download that turns out truncated or corrupt is deleted, so the next run downloads it afresh.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lgcaa.data.archive import BrokenArchive, extract_tree
from lgcaa.data.dvc import pull_checked
from lgcaa.data.files import Mirror, fetch_group, load_file_set, mirror_root
from lgcaa.data.manifest import build_manifest, on_disk, verify_manifest, write_manifest
from lgcaa.data.registry import DATASETS, DatasetSpec
from lgcaa.download import download
from lgcaa.errors import UserError
from lgcaa.io import file_lock, harness_made, inside, publish_dir, sha256_file, write_json
from lgcaa.layout import MANIFEST, manifest_of
from lgcaa.progress import byte_progress

LOCK_NAME = "archives.lock.json"


@dataclass(frozen=True)
class Obtained:
    """How a dataset got onto disk."""

    manifest: dict[str, Any]
    how: str  # present | dvc | fetch
    message: str
    archive_sha256: str | None = None
    pinned: bool | None = None


# --- archive digests: pinned, or recorded on first use ---------------------------------------------------


def read_lock(data_root: str | Path) -> dict[str, Any]:
    path = Path(data_root) / LOCK_NAME
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not valid JSON ({exc}); fix or delete it (digests are re-recorded)") from exc


def record_digest(data_root: str | Path, archive: str, url: str, sha256: str, size: int) -> Path:
    """Add/replace the lock entry of `archive` (read-modify-write under a file lock)."""
    path = Path(data_root) / LOCK_NAME
    with file_lock(path.parent / f".{path.name}.lock"):
        lock = read_lock(data_root)
        lock[archive] = {"sha256": sha256, "size": size, "url": url,
                         "note": "recorded on first fetch; pin it as archive_sha256 in lgcaa/data/registry.py"}
        write_json(path, lock)
    return path


def expected_digest(pinned: str | None, lock_key: str, data_root: str | Path,
                    override: str | None) -> tuple[str | None, str]:
    """(sha256 or None, where it came from): explicit override > pinned registry value > lock file > none."""
    if override:
        return override.lower(), "--sha256 / profile"
    if pinned:
        return pinned, "lgcaa/data/registry.py (pinned)"
    entry = read_lock(data_root).get(lock_key)
    if entry:
        return entry["sha256"], f"{Path(data_root) / LOCK_NAME} (recorded on first fetch)"
    return None, "unpinned"


def registry_listing(data_root: str | Path) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """(one row per registry dataset: sizes, LR, archive digest state, the folders made from it; the datasets
    on disk, `lgcaa.data.manifest.on_disk`): what `lgcaa data list` prints."""
    lock = read_lock(data_root)
    local = on_disk(data_root)
    rows = []
    for spec in DATASETS.values():
        # a registry entry is on disk as every folder made from it (the mini entry as mini-bicubic, ...)
        made = [f"{name} ({info['pairs']} pairs)" for name, info in local.items() if info["from"] == spec.name]
        digest = "pinned" if spec.pinned else ("recorded" if spec.archive in lock else "unpinned")
        rows.append({
            "name": spec.name, "title": spec.title, "pairs": spec.expected_count,
            "sizes": f"{spec.lr_size}->{spec.hr_size} x{spec.scale}", "lr": spec.lr,
            "archive": spec.archive or "-", "digest": digest if spec.archive else "-",
            "on_disk": ", ".join(made) or "absent",
            "url": spec.urls[0] if spec.urls else "none (see notes)", "licence": spec.licence, "notes": spec.notes,
        })
    return rows, local


def registry_lines(rows: list[dict[str, Any]], local: dict[str, dict[str, Any]], data_root: str | Path) -> list[str]:
    """`registry_listing` as `lgcaa data list` prints it: a table of the registry (name, pairs, sizes, LR, digest,
    on disk, URL), the notes of each entry without a URL, then the datasets on disk under `data_root`."""
    data_root = Path(data_root)
    cols = ("name", "pairs", "sizes", "lr", "digest", "on_disk", "url")
    width = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols[:-1]}
    lines = ["  ".join(c.ljust(width.get(c, 0)) for c in cols)]
    lines += ["  ".join(str(r[c]).ljust(width.get(c, 0)) for c in cols) for r in rows]
    lines += [f"\n{r['name']}: {r['notes']}" for r in rows if not DATASETS[r["name"]].urls]
    lines.append(f"\non disk under {data_root}/ (archive digests: {data_root / LOCK_NAME}):")
    for name, info in local.items() or [("(none)", {"pairs": "-", "lr": "-", "from": "-"})]:
        lines.append(f"  {name}: {info['pairs']} pairs, LR {info['lr']}, from registry entry '{info['from']}'")
    return lines


# --- checks -------------------------------------------------------------------------------------------


def check_expectations(root: Path, manifest: dict[str, Any], spec: DatasetSpec, expected_count: int | None) -> None:
    """Pair count and HR/LR sizes as the registry (or the profile's expected_count) says; UserError naming
    the first offenders and their count."""
    want = expected_count or spec.expected_count
    if manifest["count"] != want:
        raise UserError(
            f"{root}: {manifest['count']} pairs, expected {want} ({spec.name}); the archive or folder is "
            "incomplete or a different version -- delete it and fetch again, or fix expected_count"
        )
    bad = []
    for rel, f in manifest["files"].items():
        side = spec.hr_size if rel.startswith("hr/") else spec.lr_size
        if (f["height"], f["width"]) != (side, side):
            bad.append(f"{rel} ({f['height']}x{f['width']}, expected {side}x{side})")
    if bad:
        raise UserError(f"{root}: {len(bad)} image(s) with unexpected size for {spec.name}, first: "
                        f"{', '.join(bad[:3])}; this is not the registry's version of the dataset")


def complete_manifest(out: Path, spec: DatasetSpec, expected_count: int | None) -> dict[str, Any]:
    """The verified manifest of a complete dataset folder (`verify_manifest`, then `check_expectations`)."""
    manifest = verify_manifest(out)
    check_expectations(out, manifest, spec, expected_count)
    return manifest


def _why(exc: Exception) -> str:
    return f"{exc.__class__.__name__}: {exc}"


def present(out: Path, spec: DatasetSpec, expected_count: int | None) -> tuple[dict[str, Any] | None, str]:
    """(verified manifest, "") for an existing, complete dataset folder, else (None, why not)."""
    if not manifest_of(out).is_file():
        return None, f"{manifest_of(out)} does not exist"
    try:
        return complete_manifest(out, spec, expected_count), ""
    except (UserError, KeyError, ValueError) as exc:
        return None, _why(exc)


def _find_one(folder: Path, names: tuple[str, ...], what: str, archive: str) -> Path:
    """The single sub-folder of `folder` named one of `names`; looks one level down if `folder` holds
    nothing but one folder (archives that wrap everything in a top folder)."""
    bases = [folder]
    entries = list(folder.iterdir())
    if len(entries) == 1 and entries[0].is_dir():
        bases.append(entries[0])
    for base in bases:
        found = [base / n for n in names if (base / n).is_dir()]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise UserError(f"{archive}: several {what} folders ({', '.join(p.name for p in found)}); "
                            "cannot tell which one is the dataset")
    listing = ", ".join(sorted(p.name for p in entries)[:10]) or "(empty)"
    raise UserError(f"{archive}: no {what} folder (one of {', '.join(names)}) in the unpacked dataset; found: "
                    f"{listing}; is this the right archive/--url?")


def _canonical(unpacked: Path, staging: Path, spec: DatasetSpec, archive: str) -> None:
    """Move the HR/LR folders of `unpacked` to `staging/{hr,lr}`; refuse non-PNG files (never drop them)."""
    for what, names, sub in (("HR", spec.hr_dirs, "hr"), ("LR", spec.lr_dirs, "lr")):
        src = _find_one(unpacked, names, what, archive)
        others = sorted(p.name for p in src.iterdir() if p.suffix.lower() != ".png" and not p.name.startswith("."))
        if others:
            raise UserError(f"{archive}: {len(others)} non-PNG entr(y/ies) in {what} folder {src.name}/, first: "
                            f"{', '.join(others[:5])}; the harness expects PNG pairs")
        os.replace(src, staging / sub)


# --- the whole thing ------------------------------------------------------------------------------------


def _warn(msg: str) -> None:
    print(f"WARNING: {msg}", file=sys.stderr)


def fetch_archive(spec: DatasetSpec, data_root: Path, cache_dir: Path, url: str | None = None,
                  sha256: str | None = None) -> tuple[Path, str, str, bool]:
    """Download (or reuse) the dataset's archive into `<cache>/downloads/`.

    Returns (path, sha256, URL used, checked): `checked` is False when no digest was known (unpinned and not
    recorded yet); the caller records it with `record_digest` once the archive has unpacked into a valid
    dataset, so a corrupt first download is never trusted. The first URL that works wins (others: mirrors).
    """

    urls = (url,) if url else spec.urls
    if not urls:
        raise UserError(f"{spec.name}: no download URL is known. {spec.notes}")
    archive_name = spec.archive or Path(urls[0].split("?")[0]).name or f"{spec.name}.archive"
    expected, source = expected_digest(spec.archive_sha256, archive_name, data_root, sha256)
    dest = cache_dir / "downloads" / archive_name
    if spec.manual and not url:
        return _manual_archive(spec, dest, expected, source)
    errors = []
    for used in urls:
        try:
            digest = download(used, dest, sha256=expected, size=spec.archive_size if spec.pinned else None,
                              progress=byte_progress(f"download {dest.name}"))
            break
        except UserError as exc:
            errors.append(f"{exc} [expected digest from: {source}]" if expected else str(exc))
    else:
        raise UserError(" | ".join(errors))
    if expected is not None and not spec.pinned and not sha256:
        _warn(f"{archive_name} is not pinned in lgcaa/data/registry.py; verified against {source}")
    return dest, digest, used, expected is not None


def _manual_archive(spec: DatasetSpec, dest: Path, expected: str | None, source: str) -> tuple[Path, str, str, bool]:
    """A hand-downloaded archive (web-page URL): use it from the cache when present, else say how to get it."""

    if not dest.is_file():
        raise UserError(
            f"{spec.name}: the archive must be downloaded by hand: open {spec.urls[0]} in a browser, save the file "
            f"as {dest}, then rerun (or pass --url with a direct link to your copy). {spec.notes}"
        )
    digest = sha256_file(dest)
    if expected is not None and digest != expected:
        raise UserError(f"{dest}: sha256 {digest} differs from {expected} ({source}); download it again by hand "
                        f"from {spec.urls[0]}")
    return dest, digest, spec.urls[0], expected is not None


def unpack_dataset(archive: Path, spec: DatasetSpec, out: Path, extra: dict[str, Any],
                   expected_count: int | None = None, limit: int | None = None) -> dict[str, Any]:
    """Unpack `spec.archive_root` of `archive` into `out` atomically (temp folder + rename); return manifest.
    `limit`: keep the first N pairs by file name."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.unpack-", dir=out.parent))
    try:
        n = extract_tree(archive, spec.archive_root, tmp / "raw")
        if n == 0:
            raise UserError(f"{archive}: no files under '{spec.archive_root}/'; wrong archive for {spec.name}?")
        staging = tmp / "dataset"
        staging.mkdir()
        _canonical(tmp / "raw", staging, spec, str(archive))
        if limit:
            keep = sorted(p.name for p in (staging / "hr").iterdir())[:limit]
            for sub in ("hr", "lr"):
                for p in (staging / sub).iterdir():
                    if p.name not in keep:
                        p.unlink()
        manifest = build_manifest(staging, out.name, spec.scale, extra=extra)
        check_expectations(staging, manifest, spec, expected_count)
        write_manifest(staging, manifest)
        publish_dir(staging, out, MANIFEST)
        return manifest
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def choose_source(spec: DatasetSpec, url: str | None = None, source: str | None = None) -> str:
    """"files" or "archive": --url means the archive; else `source`, else files where the registry has them."""
    if url or source == "archive":
        return "archive"
    if source == "files":
        if not spec.file_set:
            raise UserError(f"{spec.name}: no per-file source in the registry; fetch its archive (--from archive)")
        return "files"
    if source not in (None, ""):
        raise UserError(f"unknown source '{source}' for {spec.name}; use 'files' or 'archive'")
    return "files" if spec.file_set else "archive"


def fetch_files_dataset(spec: DatasetSpec, out: Path, cache_dir: Path, mirror: Mirror | None,
                        expected_count: int | None = None, limit: int | None = None) -> tuple[dict[str, Any], str]:
    """Lay out `out/{hr,lr}` + manifest.json from the registry's per-file source (every file verified by
    sha256 in the download cache first); returns (manifest, where the bytes came from)."""
    fs = load_file_set(spec.file_set or "")
    hr_key, lr_key = spec.file_groups
    names = sorted(fs.group(hr_key).files)
    if names != sorted(fs.group(lr_key).files):
        raise UserError(f"lgcaa/data/sources/{fs.name}.json: groups {hr_key} and {lr_key} list different files; "
                        f"regenerate it (lgcaa data pin-files {fs.name} --mirror DIR)")
    total = len(names)
    if limit:
        names = names[:limit]
    got = {sub: fetch_group(fs, key, cache_dir, mirror, names) for sub, key in (("hr", hr_key), ("lr", lr_key))}
    extra: dict[str, Any] = {
        "source": {"registry": spec.name, "repository": fs.repository, "commit": fs.commit,
                   "hr_path": fs.group(hr_key).path, "lr_path": fs.group(lr_key).path, "file_set": fs.name},
        "lr_kind": "released",
        "licence": spec.licence,
    }
    if limit:
        extra["limit"] = {"first": len(names), "of": total, "order": "file name"}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.files-", dir=out.parent))
    try:
        staging = tmp / "dataset"
        for sub, files in got.items():
            (staging / sub).mkdir(parents=True)
            for n, src in files.items():
                shutil.copyfile(src, staging / sub / n)
        manifest = build_manifest(staging, out.name, spec.scale, extra=extra)
        check_expectations(staging, manifest, spec, len(names) if limit else expected_count)
        write_manifest(staging, manifest)
        publish_dir(staging, out, MANIFEST)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    where = f"mirror {mirror}" if mirror else f"https://raw.githubusercontent.com/{fs.repository}/{fs.commit}"
    return manifest, where


def obtain_released(spec: DatasetSpec, data_root: str | Path, cache_dir: str | Path, name: str | None = None,
                    url: str | None = None, sha256: str | None = None, expected_count: int | None = None,
                    try_dvc: bool = True, source: str | None = None, mirror: str | Path | None = None,
                    limit: int | None = None) -> Obtained:
    """Make `<data_root>/<name>` (default: the registry name) hold the released pairs of `spec` (the first
    `limit` by name if given). `mirror` (default $LGCAA_DATA_MIRROR): a local folder or URL holding the files
    of a per-file source (archives: `url`)."""
    data_root, cache_dir = Path(data_root), Path(cache_dir)
    out = inside(data_root, name or spec.name, what="dataset name")
    how = choose_source(spec, url, source)
    mirror_dir = mirror_root(mirror) if how == "files" else None  # an archive's mirror is --url (file:// or http)
    if limit:
        expected_count = min(limit, expected_count or spec.expected_count)
    manifest, _ = present(out, spec, expected_count)
    if manifest is not None:
        return Obtained(manifest, "present", f"{out}: present and verified")
    if out.exists() and (not out.is_dir() or not harness_made(out, MANIFEST)):
        raise UserError(f"{out}: exists but is not a dataset the harness made (no manifest.json); it is never "
                        "replaced -- move it away or fetch under another name (--as)")
    notes = []
    if try_dvc:
        pulled = pull_checked(out, lambda folder: complete_manifest(folder, spec, expected_count))
        notes.append(pulled.message)
        if pulled.manifest is not None:
            return Obtained(pulled.manifest, "dvc", pulled.message)
        if pulled.refused is not None:
            notes.append(f"{out}: pulled from DVC but it does not verify ({_why(pulled.refused)}); fetching from the "
                         "source instead")
    for note in notes:
        print(note, file=sys.stderr)
    if notes:
        print(f"next: fetching {spec.name}'s {'files' if how == 'files' else 'archive'} from its source "
              f"(download cache {cache_dir / 'downloads'})", file=sys.stderr)
    if how == "files":
        manifest, where = fetch_files_dataset(spec, out, cache_dir, mirror_dir, expected_count, limit)
        return Obtained(manifest, "fetch", f"{out}: {manifest['count']} pairs, every file verified (sha256), from {where}",
                        None, True)
    archive, digest, used, checked = fetch_archive(spec, data_root, cache_dir, url, sha256)
    extra = {
        "source": {"registry": spec.name, "url": used, "archive": archive.name,
                   "archive_sha256": digest, "archive_root": spec.archive_root},
        "lr_kind": "released",
        "licence": spec.licence,
    }
    if limit:
        extra["limit"] = {"first": expected_count, "of": spec.expected_count, "order": "file name"}
    try:
        manifest = unpack_dataset(archive, spec, out, extra, expected_count, limit)
    except BrokenArchive as exc:
        if checked:
            raise
        archive.unlink(missing_ok=True)
        raise BrokenArchive(f"{exc} [the unverified download was deleted; rerun to download it again]") from exc
    if not checked:
        size = archive.stat().st_size
        lock = record_digest(data_root, archive.name, used, digest, size)
        _warn(f"{archive.name} is not pinned: recorded sha256 {digest} ({size} bytes) in {lock}. Check it "
              "against the publisher, then pin it (archive_sha256 in lgcaa/data/registry.py).")
    return Obtained(manifest, "fetch", f"{out}: unpacked from {archive}", digest, spec.pinned)
