"""What each DAG job asks a scheduler for: `gpu` (count), `cpus_per_task`, `mem_mb` and `runtime` (minutes).

The rules in workflow/rules/*.smk read these functions (and `lgcaa plan` prints the same numbers), so the
DAG, the SLURM profile and the cost table cannot disagree. Runtime = the cost model's estimate × RUNTIME_MARGIN
+ RUNTIME_FLOOR minutes: a time limit, not a promise. A training job that hits its limit resumes from its last
checkpoint when resubmitted (`--retries`). Memory and CPU numbers are requests chosen from the measured peaks
named beside them (peak RSS of the tiny train step on CPU: 1346 MB; the SD2-base train step on the H200:
24.85 GB of GPU memory — host RAM holds the data-loader workers' crops and the frozen weights' fp32 copy).

Users scale out with Snakemake's own overrides, e.g. `--set-resources train:gpu=8` (the train rule then runs
`accelerate launch` with 8 processes); the runtime request stays the one-GPU estimate, an upper bound, unless
also overridden (`train:runtime=...`; `lgcaa plan --train-gpus 8` prints the matching figure).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Any

from lgcaa.model.config import LGCAAConfig, resolve_run
from lgcaa.plan.cost import Estimate, eval_estimate, model_device, sample_estimate, sr_estimate, train_estimate

RUNTIME_MARGIN = 1.5
RUNTIME_FLOOR = 10  # minutes: job start, imports, model loading
CPUS_PER_GPU = 8  # data-loader workers + the main process (paper profile: train.num_workers 8)


@dataclass(frozen=True)
class Resources:
    gpu: int
    cpus_per_task: int
    mem_mb: int
    runtime: int  # minutes

    def as_dict(self) -> dict[str, int]:
        return {"gpu": self.gpu, "cpus_per_task": self.cpus_per_task, "mem_mb": self.mem_mb, "runtime": self.runtime}


# bookkeeping jobs (dataset build/fetch, MLflow sync, tables, curves, report): one CPU, no GPU
LIGHT = Resources(gpu=0, cpus_per_task=1, mem_mb=4000, runtime=60)


def runtime_minutes(estimate: Estimate, gpus: int = 1) -> int:
    return int(math.ceil(estimate.seconds / max(gpus, 1) * RUNTIME_MARGIN / 60.0)) + RUNTIME_FLOOR


def model_gpus(cfg: LGCAAConfig) -> int:
    return 1 if model_device(cfg) == "gpu" else 0


def train_resources(section: dict[str, Any], run: str, gpus: int | None = None) -> Resources:
    """One training run (`model.runs.<run>`); `gpus` overrides the default of one GPU (none for tiny/CPU)."""
    cfg = resolve_run(section, run)
    n = model_gpus(cfg) if gpus is None else gpus
    if n == 0:  # CPU (tiny): one thread; Snakemake runs several runs side by side
        return Resources(0, 1, 3000, runtime_minutes(train_estimate(cfg)))
    return Resources(n, CPUS_PER_GPU * n, 64000 * n, runtime_minutes(train_estimate(cfg), n))


def sample_resources(section: dict[str, Any], job: Any, images: int, side: int = 512) -> Resources:
    """One sampling job (lgcaa.instances.SampleJob) over `images` images of HR side `side`."""
    cfg = resolve_run(section, job.run)
    est = sample_estimate(cfg, job.steps, images, side)
    if model_gpus(cfg) == 0:
        return Resources(0, 1, 3000, runtime_minutes(est))
    return Resources(1, CPUS_PER_GPU, 32000, runtime_minutes(est))


def sr_resources(family: str, requires_gpu: bool, method: str, settings: dict[str, Any], fixed: dict[str, Any],
                 images: int, side: int) -> Resources:
    """One baseline on one dataset: the diffusion family on one GPU; classical and GAN methods on one CPU."""
    est = sr_estimate(family, method, settings, fixed, images, side, requires_gpu)
    if requires_gpu:
        return Resources(1, CPUS_PER_GPU, 32000, runtime_minutes(est))
    return Resources(0, 1, 4000, runtime_minutes(est))


def eval_resources(n_metrics: int, images: int, side: int) -> Resources:
    """Scoring one SR folder on CPU (the evaluate rule runs `--device cpu`)."""
    return Resources(0, 1, 8000, runtime_minutes(eval_estimate(n_metrics, images, side)))


def launch_prefix(python: str, gpus: int, run: str = "") -> str:
    """The command that starts `lgcaa` for a job with `gpus` GPUs: plain for ≤ 1, else `accelerate launch`
    with one process per GPU (DDP; the batch is split over processes, see lgcaa/model/trainer.py). The
    rendezvous port is derived from the run name so two multi-GPU jobs on one node do not collide."""
    if gpus <= 1:
        return f"{python} -m lgcaa"
    port = 29500 + zlib.crc32(run.encode()) % 2000
    return (f"{python} -m accelerate.commands.launch --multi_gpu --num_processes {gpus} --num_machines 1"
            f" --mixed_precision no --dynamo_backend no --main_process_port {port} -m lgcaa")


def capture_resources(section: dict[str, Any], runs: list[str]) -> Resources:
    """A figure job that re-samples a few images with trained `runs` (Figs. 10-11): a GPU when they sample on one."""
    gpus = max((model_gpus(resolve_run(section, r)) for r in runs), default=0)
    return Resources(gpu=gpus, cpus_per_task=2, mem_mb=16000, runtime=120)
