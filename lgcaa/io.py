"""Image and file I/O: uint8 RGB PNGs, sha256 digests, atomic writes.

Every writer goes through a temporary file in the destination folder and `os.replace`, so a killed job
never leaves a half-written file that a later job would consume.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from lgcaa.errors import UserError

IMAGE_SUFFIXES = (".png",)


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to `dest`; on success rename it onto `dest`, else delete it."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=suffix or dest.suffix)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def publish_dir(staging: str | os.PathLike, out: str | os.PathLike) -> None:
    """Rename a finished folder `staging` onto `out` (replacing it). Temporary folders and files are created
    private (0700/0600); they get the usual permissions of the process umask first."""
    umask = os.umask(0)
    os.umask(umask)
    staging, out = Path(staging), Path(out)
    for p in [staging, *staging.rglob("*")]:
        os.chmod(p, (0o777 if p.is_dir() else 0o666) & ~umask)
    if out.exists():
        shutil.rmtree(out)
    os.replace(staging, out)


@contextlib.contextmanager
def atomic_dir(dest: str | os.PathLike, tag: str = "tmp") -> Iterator[Path]:
    """Yield an empty temporary folder next to `dest`; on success it replaces `dest`, on error `dest` is left
    as it was. The temporary folder never survives the block."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.{tag}-", dir=dest.parent))
    try:
        yield tmp
        publish_dir(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_text(dest: str | os.PathLike, text: str) -> None:
    with atomic_path(dest) as tmp:
        tmp.write_text(text)


def write_json(dest: str | os.PathLike, obj: object) -> None:
    write_text(dest, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def read_rgb(path: str | os.PathLike) -> np.ndarray:
    """Decode an image file to (H,W,3) uint8 RGB.

    Greyscale is replicated to 3 channels, RGBA is composited on black (alpha dropped), 16-bit is
    rounded to 8-bit. A file that does not decode raises UserError naming it.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("I;16", "I;16B", "I;16L", "I"):
                arr = np.asarray(im, dtype=np.float64)
                arr = np.clip(np.round(arr / 257.0), 0, 255).astype(np.uint8)
                return np.repeat(arr[..., None], 3, axis=2)
            if im.mode == "RGBA":
                arr = np.asarray(im, dtype=np.float64)
                rgb = arr[..., :3] * (arr[..., 3:4] / 255.0)
                return np.clip(np.round(rgb), 0, 255).astype(np.uint8)
            return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UserError(
            f"{path}: cannot decode image ({exc.__class__.__name__}: {exc}); "
            "delete or replace the file, then rerun"
        ) from exc


def write_png(dest: str | os.PathLike, img: np.ndarray) -> None:
    """Write (H,W,3) uint8 RGB as a PNG, atomically and byte-reproducibly (no timestamps)."""
    from PIL import Image

    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"write_png expects (H,W,3) uint8, got {img.shape} {img.dtype}")
    with atomic_path(dest, suffix=".png") as tmp:
        Image.fromarray(img, mode="RGB").save(tmp, format="PNG", compress_level=6)


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Sorted PNG files of a folder; raises UserError if the folder is missing."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder}: folder not found; build or fetch the dataset first (lgcaa data list)")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
