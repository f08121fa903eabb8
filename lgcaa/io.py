"""Image and file I/O: uint8 RGB PNGs, sha256 digests, atomic writes.

Every writer goes through a temporary file in the destination folder and `os.replace`, so a killed job
never leaves a half-written file that a later job would consume.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from lgcaa.errors import UserError

if TYPE_CHECKING:
    import numpy as np

IMAGE_SUFFIXES = (".png",)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_HEAD = 33  # bytes: the signature and the IHDR chunk, where a PNG states its size


# --- names that become path parts, and containment -------------------------------------------------------

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+@=-]{0,127}")


def check_name(name: str, what: str = "name") -> str:
    """`name` if it is a plain name (letters, digits, `._+@=-`, not starting with a dot or dash, no `..`, at most
    128 characters), else UserError. Every name that becomes a path part (dataset, method, run, profile) passes
    here, so `../x`, `/abs` or `a/b` can never steer an output outside its root."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name) or ".." in name:
        raise UserError(f"{what} {name!r} is not a plain name (letters, digits and ._+@=- only, no '/' or '..'); "
                        "rename it")
    return name


def inside(root: str | os.PathLike, *names: str, what: str = "name") -> Path:
    """`root/name1/name2...` after checking each name (`check_name`) and that the resolved path lies in `root`."""
    path = Path(root).joinpath(*(check_name(n, what) for n in names))
    return ensure_inside(path, root)


def ensure_inside(path: str | os.PathLike, root: str | os.PathLike) -> Path:
    """`path` if it resolves (symlinks followed) to `root` or below it, else UserError naming both."""
    path, root = Path(path), Path(root)
    real, real_root = path.resolve(), root.resolve()
    if real != real_root and real_root not in real.parents:
        raise UserError(f"{path}: resolves to {real}, outside its root {real_root}; refusing to write there")
    return path


# --- locks, digests, permissions ----------------------------------------------------------------------------


@contextlib.contextmanager
def file_lock(path: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive advisory lock (fcntl) on the lock file `path` (created, kept) for the block. The one
    lock helper of the harness: downloads, digest records, DVC pulls and the first MLflow database creation."""
    import fcntl

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes (the one digest helper of the harness)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def current_umask() -> int:
    """The process umask, read without changing it (Linux /proc; else the set-and-restore fallback)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _mkdir(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        check_folder_path(folder)
        raise


def check_folder_path(folder: str | os.PathLike, what: str = "output folder") -> Path:
    """`folder` if it is a folder or can become one; UserError (one line) when it or a parent is a file."""
    folder = Path(folder)
    blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise UserError(f"{what} {folder}: {blocker} is a file, not a folder; pass another path or move the file away")
    return folder


# --- atomic files and folders ------------------------------------------------------------------------------


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to `dest`; on success rename it onto `dest`, else delete it.

    The file gets the permissions a plain `open()` would give it (0666 minus the umask), not mkstemp's 0600.
    """
    dest = Path(dest)
    _mkdir(dest.parent)
    if dest.is_dir():
        raise UserError(f"{dest}: is a folder, cannot write a file there; pass another path or move it away")
    try:
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=suffix or dest.suffix)
    except OSError as exc:
        _name_destination(exc, None, dest)
        raise
    os.fchmod(fd, 0o666 & ~current_umask())
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    except OSError as exc:
        _name_destination(exc, tmp_path, dest)
        raise
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _name_destination(exc: OSError, tmp: Path | None, dest: Path) -> None:
    """Make an OSError raised while writing `dest` name `dest`, not its temporary name (`tmp`, or the one mkstemp
    tried when `tmp` is None) or nothing (a full disk raises ENOSPC without a file name): the CLI prints
    `exc.filename` in its one line (lgcaa.errors.os_error_line)."""
    name = None if exc.filename is None else Path(str(exc.filename))
    if name is None or (tmp is None and name.parent == dest.parent and name.name.startswith(f".{dest.name}.")):
        exc.filename = str(dest)
    elif tmp is not None and (name == tmp or tmp in name.parents):
        exc.filename = str(dest / name.relative_to(tmp))
    # else: the error names another file (an input read inside the block): keep it


def harness_made(folder: Path, record: str) -> bool:
    """True when `folder` is empty or holds `record` (the file the harness writes into every such folder)."""
    return (folder / record).is_file() or not any(folder.iterdir())


def _check_replaceable(out: Path, record: str) -> bool:
    """True when `out` exists and may be replaced, False when it does not exist; UserError when it is a file,
    a link, or a folder the harness did not make."""
    if not out.exists() and not out.is_symlink():
        return False
    if out.is_symlink() or not out.is_dir():
        raise UserError(f"{out}: exists and is not a folder; move it away or pass another path, then rerun")
    if not harness_made(out, record):
        raise UserError(f"{out}: exists but was not made by the harness (no {record}); the harness never removes "
                        "such a folder -- move it away or pass another name, then rerun")
    return True


def publish_dir(staging: str | os.PathLike, out: str | os.PathLike, record: str,
                root: str | os.PathLike | None = None) -> None:
    """Rename a finished folder `staging` onto `out`, replacing an older one.

    `record` is the file that marks a folder as the harness's (a dataset's manifest.json, an import's
    import.json, samples' sample.json); it must be in `staging`, and an existing `out` is only replaced when it
    holds it too (or is empty): a folder the harness did not make is never removed. With `root`, `out` must
    resolve inside it. Temporary folders and files are created private (0700/0600); they get the usual
    permissions of the process umask first.
    """
    staging, out = Path(staging), Path(out)
    if root is not None:
        ensure_inside(out, root)
    if not (staging / record).is_file():
        raise ValueError(f"publish_dir: {staging} lacks its record {record}")
    umask = current_umask()
    for p in [staging, *staging.rglob("*")]:
        os.chmod(p, (0o777 if p.is_dir() else 0o666) & ~umask)
    old = None
    if _check_replaceable(out, record):
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, old / out.name)
    os.replace(staging, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_dir(dest: str | os.PathLike, record: str, tag: str = "tmp",
               root: str | os.PathLike | None = None) -> Iterator[Path]:
    """Yield an empty temporary folder next to `dest`; on success it replaces `dest` (see `publish_dir` for
    `record` and `root`), on error `dest` is left as it was. The temporary folder never survives the block."""
    dest = Path(dest)
    if root is not None:
        ensure_inside(dest, root)
    _mkdir(dest.parent)
    _check_replaceable(dest, record)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.{tag}-", dir=dest.parent))
    except OSError as exc:
        _name_destination(exc, None, dest)
        raise
    try:
        yield tmp
        publish_dir(tmp, dest, record, root)
    except OSError as exc:
        _name_destination(exc, tmp, dest)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_text(dest: str | os.PathLike, text: str) -> None:
    with atomic_path(dest) as tmp:
        tmp.write_text(text)


def write_json(dest: str | os.PathLike, obj: object) -> None:
    write_text(dest, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def png_ihdr(data: bytes) -> tuple[int, int, int, int] | None:
    """(width, height, bit depth, colour type) from the IHDR chunk that opens a PNG (its first `PNG_HEAD`
    bytes suffice); None if `data` does not start like a PNG."""
    if len(data) < PNG_HEAD or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    w, h, depth, ctype = struct.unpack(">IIBB", data[16:26])
    return w, h, depth, ctype


def check_pixels(path: str | os.PathLike, width: int, height: int) -> None:
    """UserError when an image is over PIL's decompression-bomb limit (`Image.MAX_IMAGE_PIXELS`, 89 M pixels):
    where PIL only warns (up to twice the limit) the harness refuses, before decoding many GB."""
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS
    if limit and width * height > limit:
        raise UserError(f"{path}: {width}x{height} = {width * height / 1e6:.0f} M pixels, over the decompression-bomb "
                        f"limit of {limit / 1e6:.0f} M; refusing to decode it (crop or tile the image)")


def read_rgb(path: str | os.PathLike) -> np.ndarray:
    """Decode an image file to (H,W,3) uint8 RGB by the harness's one decode rule, the evaluation's
    (`lgcaa.metrics.decode.decode`): greyscale replicated, alpha dropped only when fully opaque (else UserError:
    compositing on some background would change the numbers), 16-bit as round(v/257). Every reader of images
    (imports, SR inputs and outputs, datasets, figures) goes through here, so an image is never read one way
    and scored another. A file that does not decode raises UserError naming it.
    """
    from lgcaa.metrics.decode import decode

    return decode(path)


def write_png(dest: str | os.PathLike, img: np.ndarray) -> None:
    """Write (H,W,3) uint8 RGB as a PNG, atomically and byte-reproducibly (no timestamps)."""
    import numpy as np  # here, not at the top: every `lgcaa` process imports this module
    from PIL import Image

    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"write_png expects (H,W,3) uint8, got {img.shape} {img.dtype}")
    with atomic_path(dest, suffix=".png") as tmp:
        Image.fromarray(img, mode="RGB").save(tmp, format="PNG", compress_level=6)


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Sorted PNG files of a folder; raises UserError if the folder is missing, or naming the first entry named
    like an image that is not a file (a folder called `x.png`, a dangling link): it would fail later, deep in
    a reader, or be silently skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder}: folder not found; build or fetch the dataset first (lgcaa data list)")
    images = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
    for p in images:
        if not p.is_file():
            what = ("a link to nothing" if p.is_symlink() and not p.exists() else
                    "a folder" if p.is_dir() else "not a regular file")
            raise UserError(f"{p}: named like an image but {what}; remove it or move it out of {folder}, then rerun")
    return images
