"""Offline producers: make a manifest file from something already installed, without network.

Each producer writes `dest` atomically and returns a short description of what it did; `check(dest)` says
whether an existing file has the right content (used where bytes are not reproducible, e.g. .mat headers).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lgcaa.errors import UserError


@dataclass(frozen=True)
class Producer:
    make: Callable[[Path, str | None], str]  # (dest, pinned sha256) -> description
    content_check: Callable[[Path], bool] | None = None  # for files whose bytes are not reproducible


def _lpips_wheel_alex(dest: Path, sha256: str | None) -> str:
    """Copy lpips' shipped v0.1 AlexNet linear heads (byte-identical to pyiqa's LPIPS_v0.1_alex)."""
    from importlib import util

    from lgcaa.io import atomic_path, sha256_file

    spec = util.find_spec("lpips")
    if spec is None or spec.origin is None:
        raise UserError(f"{dest}: the 'lpips' package is not installed, cannot produce it offline")
    src = Path(spec.origin).parent / "weights" / "v0.1" / "alex.pth"
    got = sha256_file(src)
    if sha256 is not None and got != sha256:
        raise UserError(f"{src}: sha256 {got} differs from the pinned {sha256}; cannot use it for {dest}")
    with atomic_path(dest) as tmp:
        shutil.copyfile(src, tmp)
    return f"copied from {src}"


def _niqe_from_basicsr(dest: Path, sha256: str | None) -> str:
    from lgcaa.weights.niqe_params import basicsr_npz_path, write_niqe_mat

    write_niqe_mat(dest)
    return f"converted from {basicsr_npz_path()}"


def _niqe_check(dest: Path) -> bool:
    from lgcaa.weights.niqe_params import mat_matches_basicsr

    return mat_matches_basicsr(dest)


PRODUCERS: dict[str, Producer] = {
    "lpips-wheel-alex": Producer(_lpips_wheel_alex),
    "niqe-from-basicsr": Producer(_niqe_from_basicsr, content_check=_niqe_check),
}
