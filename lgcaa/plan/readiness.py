"""Can every job of a profile start? One `Missing` per absent input, each with the command that fixes it.

Checked before anything is submitted, so a cluster run cannot fail days in on a missing file:
  datasets      each profile dataset fetched and matching its manifest (lgcaa.data.manifest.verify_manifest);
                the mini sets are built by the DAG itself and need nothing
  training data the folder of HR training images of every run that trains on one (`train.data`)
  model weights SD2-base / DINO of every run that loads them, the DPACM LPIPS AlexNet (pretrained backbone)
  baselines     the authors' checkout at the pinned commit, its environment and weights (baselines.prerequisites)
  metrics       the weight files of every metric of the profile, hashed (lgcaa.weights.manager.inspect)
  GPU           where some job asks for one: on this machine (`nvidia-smi -L`) or, with --slurm, a partition
                that offers GPUs (`sinfo`)
  disk          free space at the results folder for what the jobs write (lgcaa.plan.jobs estimates)
Existing status functions do the checking; this module only asks them for every job and collects the answers.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lgcaa.errors import UserError
from lgcaa.instances import model_runs, sr_jobs
from lgcaa.layout import Layout
from lgcaa.model.config import resolve_run
from lgcaa.plan.jobs import PlannedJob


@dataclass(frozen=True)
class Missing:
    kind: str  # dataset | training data | weights | baseline | metric | GPU | disk
    what: str  # the absent thing, naming the file or folder
    needed_by: str  # which jobs
    fix: str  # the command (or action) that fixes it

    def line(self) -> str:
        return f"MISSING {self.kind}: {self.what} (needed by {self.needed_by}) — fix: {self.fix}"


def check_datasets(cfg: dict[str, Any], verify: Callable[[Path], Any]) -> list[Missing]:
    lay = Layout.of(cfg)
    out = []
    for name, entry in cfg["datasets"].items():
        if entry["source"] == "mini":
            continue
        root = Path(lay.dataset_dir(name))
        fix = (f"lgcaa data fetch {entry['source']} --as {name} --data-root {lay.data}" if entry["lr"] == "released"
               else f"snakemake --cores 2 {lay.manifest(name)}  (regenerates the LR from the released HR)")
        try:
            verify(root)
        except UserError as exc:
            out.append(Missing("dataset", str(exc).split(";")[0], f"sr/sample/evaluate on {name}", fix))
    return out


def check_training_data(cfg: dict[str, Any]) -> list[Missing]:
    out = []
    section = cfg.get("model", {})
    by_folder: dict[str, list[str]] = {}
    for run in model_runs(cfg):
        data = resolve_run(section, run).train.data
        if data != "photos":
            by_folder.setdefault(data, []).append(run)
    for folder, runs in by_folder.items():
        p = Path(folder)
        if not (p.is_dir() and any(p.iterdir())):
            out.append(Missing("training data", f"{folder} (HR training images, e.g. ImageNet train) is absent or empty",
                               _runs(runs),
                               f"put the HR training images in {folder} (or set train.data to your copy)"))
    return out


def _hub_cached(repo_id: str, filename: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - huggingface_hub comes with diffusers
        return False
    hit = try_to_load_from_cache(repo_id, filename)
    return isinstance(hit, str)


def model_source_present(source: str, files: tuple[str, ...]) -> bool:
    """A pretrained source (local folder or Hugging Face hub id) has `files` here (folder, or hub cache)."""
    local = Path(source).expanduser()
    if local.exists():
        return all((local / f).is_file() for f in files)
    return all(_hub_cached(source, f) for f in files)


SD2_FILES = ("unet/config.json", "vae/config.json", "scheduler/scheduler_config.json")
DINO_FILES = ("config.json",)


def check_model_weights(cfg: dict[str, Any], inspect_model_files: Callable[[], list[str]]) -> list[Missing]:
    """SD2-base and DINO sources of every run; the LPIPS AlexNet when a run uses the pretrained backbone
    (`inspect_model_files()` returns the absent weight files that 'model' uses, as text)."""
    from lgcaa.weights.manifest import EXTERNAL

    section = cfg.get("model", {})
    need: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    lpips_runs = []
    for run in model_runs(cfg):
        m = resolve_run(section, run).model
        if m.pretrained:
            need.setdefault((m.pretrained, SD2_FILES), []).append(run)
        if m.dino:
            need.setdefault((m.dino, DINO_FILES), []).append(run)
        if m.lpips_backbone == "pretrained":
            lpips_runs.append(run)
    out = []
    for (source, files), runs in need.items():
        if not model_source_present(source, files):
            fix = EXTERNAL.get(source, f"hf download {source}")
            if source in EXTERNAL:
                fix += " and point the profile at that folder"
            out.append(Missing("weights", f"{source} ({', '.join(files)})", _runs(runs), fix))
    if lpips_runs:
        for absent in inspect_model_files():
            out.append(Missing("weights", absent, _runs(lpips_runs), "lgcaa weights fetch model"))
    return out


def _runs(runs: list[str]) -> str:
    return f"train {runs[0]}" + (f" and {len(runs) - 1} more runs" if len(runs) > 1 else "")


def check_baselines(cfg: dict[str, Any], missing_for: Callable[[str], list[Any]]) -> list[Missing]:
    """`missing_for(base)` -> baselines.prerequisites.Missing items (GPU left out: checked once below)."""
    by_base: dict[str, int] = {}
    for job in sr_jobs(cfg):
        by_base[job.base] = by_base.get(job.base, 0) + 1
    out = []
    for base, n in by_base.items():
        for m in missing_for(base):
            if m.what == "GPU":
                continue
            out.append(Missing(f"baseline {m.what}", f"{base}: {m.detail}", f"{n} sr jobs of {base}", m.fix))
    return out


def check_metrics(cfg: dict[str, Any], missing_reason: Callable[[str], dict[str, str] | None]) -> list[Missing]:
    out = []
    for name in cfg["metrics"]:
        why = missing_reason(name)
        if why:
            out.append(Missing("metric", f"{name}: {why['reason']}", "every evaluate job", why["fix"]))
    return out


def check_gpu(jobs: list[PlannedJob], gpu_here: bool, where: str) -> list[Missing]:
    gpu_jobs = [j for j in jobs if j.resources.gpu]
    if not gpu_jobs or gpu_here:
        return []
    rules = sorted({j.rule for j in gpu_jobs})
    fix = ("add a partition with GPUs to workflow/profiles/slurm/partitions.yaml (sinfo lists none with gres gpu)"
           if where == "slurm" else
           "run on a CUDA machine, or submit to a cluster: snakemake --profile workflow/profiles/slurm tables ...")
    return [Missing("GPU", f"{len(gpu_jobs)} jobs ask for a GPU ({', '.join(rules)}); "
                           + ("no SLURM partition offers one" if where == "slurm" else "nvidia-smi lists none here"),
                    f"{len(gpu_jobs)} jobs", fix)]


def check_disk(cfg: dict[str, Any], jobs: list[PlannedJob], free_bytes: int) -> list[Missing]:
    need = sum(j.out_bytes for j in jobs)
    if free_bytes >= need:
        return []
    lay = Layout.of(cfg)
    return [Missing("disk", f"{need / 1e9:.1f} GB of outputs (checkpoints, SR images, datasets) but {free_bytes / 1e9:.1f} GB "
                            f"free at {lay.results}", "all jobs",
                    f"free space or point paths.results/paths.data at a larger disk")]


# --- probes of this machine (kept apart so the checks above stay pure) ---------------------------------------

def gpu_here(where: str) -> bool:
    """A GPU for the jobs: `nvidia-smi -L` here (local) or a SLURM partition with gres gpu (`sinfo`)."""
    if where == "slurm":
        if shutil.which("sinfo") is None:
            return False
        res = subprocess.run(["sinfo", "-h", "-o", "%G"], capture_output=True, text=True, check=False, timeout=60)
        return res.returncode == 0 and "gpu" in res.stdout
    from baselines.prerequisites import gpu_available

    return gpu_available()


def free_bytes_at(path: str) -> int:
    p = Path(path).resolve()
    while not p.exists():
        p = p.parent
    return shutil.disk_usage(p).free


def readiness(cfg: dict[str, Any], jobs: list[PlannedJob], where: str = "local") -> list[Missing]:
    """Every missing input of the profile's jobs, probing this machine with the harness's own status functions."""
    from baselines.prerequisites import missing_for
    from baselines.registry import BASELINES
    from lgcaa.config import cache_dir
    from lgcaa.data.manifest import verify_manifest
    from lgcaa.metrics.availability import missing_reason
    from lgcaa.metrics.registry import METRICS
    from lgcaa.weights.manager import inspect
    from lgcaa.weights.manifest import files_for

    cache = Path(cache_dir(cfg))

    def absent_files(name: str) -> list[str]:
        """Weight files of a metric (or 'model') that are absent or fail their digest (hashed: verified)."""
        states = [inspect(f, deep=True) for f in files_for([name])]
        return [f"{s.path} ({s.state})" for s in states if not s.verified]

    def metric_missing(name: str) -> dict[str, str] | None:
        why = missing_reason(METRICS[name])  # presence; makes the offline-producible files
        bad = absent_files(name) if why is None else []
        if bad:
            return {"reason": "weights failed verification: " + ", ".join(bad), "fix": f"lgcaa weights fetch {name}"}
        return why

    return [
        *check_datasets(cfg, verify_manifest),
        *check_training_data(cfg),
        *check_model_weights(cfg, lambda: absent_files("model")),
        *check_baselines(cfg, lambda base: missing_for(BASELINES[base], cache, gpu=True, verify=True)),
        *check_metrics(cfg, metric_missing),
        *check_gpu(jobs, gpu_here(where) if any(j.resources.gpu for j in jobs) else True, where),
        *check_disk(cfg, jobs, free_bytes_at(Layout.of(cfg).results)),
    ]
