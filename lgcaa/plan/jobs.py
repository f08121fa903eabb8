"""Every job the DAG runs for a profile, with what it costs, what it asks a scheduler for and what it writes.

The job list follows the rules in workflow/rules/*.smk one to one (a test checks the counts against
`snakemake -n`): per dataset one data job; per baseline instance and dataset one `sr` job; per trained run one
`train` job; per LGCAA sampling instance one `sample` job; per SR folder one `evaluate` job; then the
bookkeeping jobs (MLflow sync/links/publish, one `table` per table, curves, report). Bookkeeping jobs are not
costed (seconds each; a dataset download is bound by the network, not a device).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from baselines.registry import BASELINES
from lgcaa.layout import model_runs, sample_jobs, sr_jobs
from lgcaa.model.config import resolve_run
from lgcaa.plan.cost import Estimate, dataset_size, eval_estimate, sample_estimate, sr_estimate, train_estimate
from lgcaa.plan.resources import (
    LIGHT,
    Resources,
    eval_resources,
    runtime_minutes,
    sample_resources,
    sr_resources,
    train_resources,
)
from lgcaa.plan.throughput import PNG_BYTES_PER_PIXEL, TRAINABLE_PARAMETERS


@dataclass(frozen=True)
class PlannedJob:
    rule: str  # the Snakemake rule
    name: str  # what it works on: "<run>", "<dataset>/<instance>", "<dataset>", "<table>"
    resources: Resources
    estimate: Estimate | None  # None: bookkeeping, not costed
    out_bytes: int = 0  # what it leaves on disk (estimate)

    @property
    def device(self) -> str:
        return "gpu" if self.resources.gpu else "cpu"

    @property
    def device_hours(self) -> float:
        """GPU-hours for GPU jobs (all GPUs of the job), CPU-hours otherwise; 0 when not costed."""
        return self.estimate.hours if self.estimate else 0.0


def _checkpoint_bytes(cfg) -> int:
    """A run folder: `keep_checkpoints` checkpoints (fp32 weights + Adam's two moments) + the final weights."""
    arch = cfg.model.arch if cfg.model.arch == "tiny" else "sd2-base"
    params = TRAINABLE_PARAMETERS[arch]
    return params * 4 * (3 * max(cfg.train.keep_checkpoints, 1) + 1)


def _png_bytes(images: int, side: int) -> int:
    return int(images * side * side * PNG_BYTES_PER_PIXEL)


def plan_jobs(cfg: dict[str, Any], train_gpus: int | None = None) -> list[PlannedJob]:
    """Every job of profile `cfg` in DAG order. `train_gpus`: GPUs per training job (default one; none for CPU archs)."""
    jobs: list[PlannedJob] = []
    for name in cfg["datasets"]:
        rule = "data_mini" if cfg["datasets"][name]["source"] == "mini" else (
            "data_fetch" if cfg["datasets"][name]["lr"] == "released" else "data_regenerate")
        images, side = dataset_size(cfg, name)
        jobs.append(PlannedJob(rule, name, LIGHT, None, 2 * _png_bytes(images, side)))
    for job in sr_jobs(cfg):
        b = BASELINES[job.base]
        settings = {**b.defaults, **job.settings}
        images, side = dataset_size(cfg, job.dataset)
        est = sr_estimate(b.family, job.base, settings, b.fixed, images, side, b.requires_gpu)
        res = sr_resources(b.family, b.requires_gpu, job.base, settings, b.fixed, images, side)
        jobs.append(PlannedJob("sr", f"{job.dataset}/{job.instance}", res, est, _png_bytes(images, side)))
    section = cfg.get("model", {})
    for run in model_runs(cfg):
        rcfg = resolve_run(section, run)
        res = train_resources(section, run, train_gpus)
        est = train_estimate(rcfg)
        if res.gpu > 1:
            res = Resources(res.gpu, res.cpus_per_task, res.mem_mb, runtime_minutes(est, res.gpu))
        jobs.append(PlannedJob("train", run, res, est, _checkpoint_bytes(rcfg)))
    for job in sample_jobs(cfg):
        images, side = dataset_size(cfg, job.dataset)
        est = sample_estimate(resolve_run(section, job.run), job.steps, images, side)
        jobs.append(PlannedJob("sample", f"{job.dataset}/{job.instance}",
                               sample_resources(section, job, images, side), est, _png_bytes(images, side)))
    n_metrics = len(cfg["metrics"])
    for job in [*sr_jobs(cfg), *sample_jobs(cfg)]:
        images, side = dataset_size(cfg, job.dataset)
        jobs.append(PlannedJob("evaluate", f"{job.dataset}/{job.instance}", eval_resources(n_metrics, images, side),
                               eval_estimate(n_metrics, images, side)))
    from lgcaa.tables.spec import TABLE_NAMES

    bookkeeping = ["mlflow_sync", "mlflow_links", *(f"table:{t}" for t in TABLE_NAMES), "curves", "report",
                   "mlflow_publish"]
    for item in bookkeeping:
        rule, _, name = item.partition(":")
        jobs.append(PlannedJob(rule, name or rule, LIGHT, None))
    return jobs


@dataclass(frozen=True)
class Totals:
    gpu_hours: float
    cpu_hours: float
    gpu_hours_measured: float  # the part of gpu_hours whose rate is a measurement
    cpu_hours_measured: float
    out_bytes: int
    jobs: int


def totals(jobs: list[PlannedJob]) -> Totals:
    gpu = [j for j in jobs if j.device == "gpu" and j.estimate]
    cpu = [j for j in jobs if j.device == "cpu" and j.estimate]
    return Totals(
        gpu_hours=sum(j.device_hours for j in gpu),
        cpu_hours=sum(j.device_hours for j in cpu),
        gpu_hours_measured=sum(j.device_hours for j in gpu if j.estimate.rate.measured),
        cpu_hours_measured=sum(j.device_hours for j in cpu if j.estimate.rate.measured),
        out_bytes=sum(j.out_bytes for j in jobs),
        jobs=len(jobs),
    )
