"""Safe extraction of one folder of a zip or tar archive.

`extract_tree(archive, root, dest)` writes every regular file below `root/` into `dest`, keeping the paths
relative to `root`. Members with absolute paths, `..`, links or devices are refused; a truncated or corrupt
archive raises UserError naming the archive and the fix. Callers extract into a temporary folder and rename
it into place, so a failure never leaves a half-unpacked dataset behind.
"""

from __future__ import annotations

import shutil
import tarfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from lgcaa.errors import UserError

SKIPPED_PREFIXES = ("__MACOSX/",)  # macOS resource forks, not data


def _relative(name: str, root: str, archive: Path) -> PurePosixPath | None:
    """Path of member `name` below `root`, None if outside it or metadata; UserError if unsafe."""
    name = name.replace("\\", "/")
    if name.startswith(SKIPPED_PREFIXES) or PurePosixPath(name).name.startswith("._"):
        return None
    prefix = root.strip("/") + "/" if root.strip("/") else ""
    if not name.startswith(prefix):
        return None
    rel = PurePosixPath(name[len(prefix):])
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise UserError(f"{archive}: unsafe member path {name!r}; refusing to unpack this archive")
    return rel


class BrokenArchive(UserError):
    """The archive itself is unreadable (truncated, corrupt, not an archive)."""


def _broken(archive: Path, exc: Exception) -> UserError:
    return BrokenArchive(
        f"{archive}: archive is truncated or corrupt ({exc.__class__.__name__}: {exc}); delete it and fetch "
        "again (lgcaa data fetch re-downloads and checks its sha256)"
    )


def extract_tree(archive: str | Path, root: str, dest: str | Path) -> int:
    """Extract the regular files below `root` (\"\" = everything) into `dest`; return how many were written."""
    archive, dest = Path(archive), Path(dest)
    if zipfile.is_zipfile(archive):
        return _extract_zip(archive, root, dest)
    try:
        is_tar = tarfile.is_tarfile(archive)
    except OSError as exc:
        raise _broken(archive, exc) from exc
    if is_tar:
        return _extract_tar(archive, root, dest)
    raise BrokenArchive(f"{archive}: archive is truncated or corrupt (not a readable zip or tar); delete it and "
                        "fetch again")


def _extract_zip(archive: Path, root: str, dest: Path) -> int:
    count = 0
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                rel = _relative(info.filename, root, archive)
                if rel is None:
                    continue
                mode = (info.external_attr >> 16) & 0o170000
                if mode and mode != 0o100000:
                    raise UserError(f"{archive}: member {info.filename!r} is not a regular file; refusing to unpack")
                target = dest.joinpath(*rel.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                count += 1
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise _broken(archive, exc) from exc
    return count


def _extract_tar(archive: Path, root: str, dest: Path) -> int:
    count = 0
    try:
        with tarfile.open(archive, "r:*") as tf:
            for member in tf:
                if member.isdir():
                    continue
                rel = _relative(member.name, root, archive)
                if rel is None:
                    continue
                if not member.isfile():
                    raise UserError(f"{archive}: member {member.name!r} is a link or device; refusing to unpack")
                target = dest.joinpath(*rel.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                src = tf.extractfile(member)
                assert src is not None
                with src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                count += 1
    except (tarfile.TarError, zlib.error, EOFError, OSError) as exc:
        raise _broken(archive, exc) from exc
    return count
