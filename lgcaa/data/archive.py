"""Safe extraction of one folder of a zip or tar archive.

`extract_tree(archive, root, dest)` writes every regular file below `root/` into `dest`, keeping the paths
relative to `root`. Members with absolute paths, `..`, links or devices are refused; a truncated or corrupt
archive raises UserError naming the archive and the fix. Callers extract into a temporary folder and rename
it into place, so a failure never leaves a half-unpacked dataset behind.

Size caps (a zip bomb must not fill the disk): what is written may not exceed `max_ratio` times the archive's
own size (default 50: image archives expand ~1x) nor `max_bytes` (default 64 GiB, `$LGCAA_MAX_UNPACK_BYTES`).
Declared sizes are checked before anything is written and the bytes actually written while writing (a
member's header can lie); crossing a cap raises `ArchiveTooLarge` (a BrokenArchive: an unverified download is
deleted).
"""

from __future__ import annotations

import os
import tarfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from lgcaa.errors import UserError

SKIPPED_PREFIXES = ("__MACOSX/",)  # macOS resource forks, not data
MAX_RATIO = 50
MAX_BYTES_ENV = "LGCAA_MAX_UNPACK_BYTES"
DEFAULT_MAX_BYTES = 64 << 30


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


class ArchiveTooLarge(BrokenArchive):
    """The archive expands beyond the size caps."""


class _Budget:
    """Bytes an extraction may still write; `take(n)` raises ArchiveTooLarge past the cap."""

    def __init__(self, archive: Path, max_ratio: float, max_bytes: int | None):
        env = os.environ.get(MAX_BYTES_ENV, "").strip()
        absolute = max_bytes if max_bytes is not None else (int(env) if env.isdigit() else DEFAULT_MAX_BYTES)
        self.archive, self.ratio = archive, max_ratio
        self.left = self.cap = min(absolute, int(max_ratio * max(archive.stat().st_size, 1)))

    def check_declared(self, total: int) -> None:
        if total > self.cap:
            raise self._error(f"declares {total} bytes of content, more than the cap of {self.cap} bytes")

    def take(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise self._error(f"expands to more than the cap of {self.cap} bytes")

    def _error(self, what: str) -> ArchiveTooLarge:
        return ArchiveTooLarge(f"{self.archive}: {what} "
                               f"({self.archive.stat().st_size} bytes of archive, at most {self.ratio:g}x it or "
                               f"${MAX_BYTES_ENV}); refusing to unpack it (a zip bomb, or not the dataset's archive)")


def _copy(src: BinaryIO, dst: BinaryIO, budget: _Budget) -> None:
    while block := src.read(1 << 20):
        budget.take(len(block))
        dst.write(block)


def _broken(archive: Path, exc: Exception) -> UserError:
    return BrokenArchive(
        f"{archive}: archive is truncated or corrupt ({exc.__class__.__name__}: {exc}); delete it and fetch "
        "again (lgcaa data fetch re-downloads and checks its sha256)"
    )


def extract_tree(archive: str | Path, root: str, dest: str | Path, max_ratio: float = MAX_RATIO,
                 max_bytes: int | None = None) -> int:
    """Extract the regular files below `root` (\"\" = everything) into `dest`; return how many were written.
    ArchiveTooLarge past the size caps (module docstring)."""
    archive, dest = Path(archive), Path(dest)
    budget = _Budget(archive, max_ratio, max_bytes)
    if zipfile.is_zipfile(archive):
        return _extract_zip(archive, root, dest, budget)
    try:
        is_tar = tarfile.is_tarfile(archive)
    except OSError as exc:
        raise _broken(archive, exc) from exc
    if is_tar:
        return _extract_tar(archive, root, dest, budget)
    raise BrokenArchive(f"{archive}: archive is truncated or corrupt (not a readable zip or tar); delete it and "
                        "fetch again")


def _target(dest: Path, rel: PurePosixPath, archive: Path, name: str) -> Path:
    """Where member `name` goes; UserError when a file and a folder of the archive have the same name (not a
    damaged archive: a malformed one, or not the dataset's)."""
    target = dest.joinpath(*rel.parts)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        clash = target.is_dir()
    except (FileExistsError, NotADirectoryError):
        clash = True
    if clash:
        raise UserError(f"{archive}: member {name!r} clashes with another member (a file and a folder of the same "
                        "name); refusing to unpack it -- is it the dataset's archive?")
    return target


def _extract_zip(archive: Path, root: str, dest: Path, budget: _Budget) -> int:
    count = 0
    try:
        with zipfile.ZipFile(archive) as zf:
            budget.check_declared(sum(i.file_size for i in zf.infolist()))
            for info in zf.infolist():
                if info.is_dir():
                    continue
                rel = _relative(info.filename, root, archive)
                if rel is None:
                    continue
                mode = (info.external_attr >> 16) & 0o170000
                if mode and mode != 0o100000:
                    raise UserError(f"{archive}: member {info.filename!r} is not a regular file; refusing to unpack")
                target = _target(dest, rel, archive, info.filename)
                with zf.open(info) as src, open(target, "wb") as dst:
                    _copy(src, dst, budget)
                count += 1
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise _broken(archive, exc) from exc
    return count


def _extract_tar(archive: Path, root: str, dest: Path, budget: _Budget) -> int:
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
                target = _target(dest, rel, archive, member.name)
                src = tf.extractfile(member)
                assert src is not None
                with src, open(target, "wb") as dst:
                    _copy(src, dst, budget)
                count += 1
    except (tarfile.TarError, zlib.error, EOFError, OSError) as exc:
        raise _broken(archive, exc) from exc
    return count
