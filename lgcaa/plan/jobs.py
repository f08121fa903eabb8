"""Every job the DAG runs for a profile, with what it costs, what it asks a scheduler for and what it writes.

The job list follows the rules in workflow/rules/*.smk one to one (a test checks the counts against
`snakemake -n`): per dataset one data job; per baseline instance and dataset one `sr` job; per trained run one
`train` job; per LGCAA sampling instance one `sample` job; per SR folder one `evaluate` job; then the
bookkeeping jobs (MLflow sync/links/publish, one `table` per table, curves, report, gallery). Bookkeeping jobs are not
costed (seconds each; a dataset download is bound by the network, not a device).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from baselines.registry import BASELINES
from lgcaa.instances import lr_only, model_runs, sample_jobs, sr_jobs
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
        entry = cfg["datasets"][name]
        rule = "data_subset" if "subset" in entry else "data_folder" if entry["source"] == "folder" else (
            "data_mini" if entry["source"] == "mini" else "data_fetch" if entry["lr"] == "released" else "data_regenerate")
        images, side = dataset_size(cfg, name)
        jobs.append(PlannedJob(rule, name, LIGHT, None, 2 * _png_bytes(images, side)))
    for source in dict.fromkeys(e["source"] for e in cfg["datasets"].values() if "subset" in e):
        if source not in cfg["datasets"]:  # a subset's registry source is fetched under its own name
            from lgcaa.data.registry import DATASETS

            spec = DATASETS[source]
            jobs.append(PlannedJob("data_fetch", source, LIGHT, None, 2 * _png_bytes(spec.expected_count, spec.hr_size)))
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
        if lr_only(cfg, job.dataset):  # nothing to score against
            continue
        images, side = dataset_size(cfg, job.dataset)
        jobs.append(PlannedJob("evaluate", f"{job.dataset}/{job.instance}", eval_resources(n_metrics, images, side),
                               eval_estimate(n_metrics, images, side)))
    jobs += _figure_jobs(cfg)
    from lgcaa.figures.spec import PANEL_FIGURES
    from lgcaa.tables.spec import TABLE_NAMES

    bookkeeping = [*(["calibrate"] if cfg.get("calibration") else []), "data_dvc_cache", "mlflow_sync", "mlflow_links", *(f"table:{t}" for t in TABLE_NAMES), "headline",
                   "curves", "report", "gallery", "mlflow_publish", *(f"figure_panels:{f}" for f in PANEL_FIGURES), "per_image",
                   "training_curves", "claims"]
    for item in bookkeeping:
        rule, _, name = item.partition(":")
        jobs.append(PlannedJob(rule, name or rule, LIGHT, None))
    return jobs


def job_resources(cfg: dict[str, Any]) -> dict[tuple[str, str], Resources]:
    """{(rule, job name): Resources} of every job of the plan: what the rules' `resources:` ask for, the cost
    model evaluated once per job (names as in `PlannedJob.name`: "<dataset>/<instance>", "<run>", "<figure>")."""
    return {(j.rule, j.name): j.resources for j in plan_jobs(cfg)}


def _figure_jobs(cfg: dict[str, Any]) -> list[PlannedJob]:
    """Figs. 10-11: each re-samples its images with every run it shows (`lgcaa.figures.capture`)."""
    from lgcaa.figures.spec import CAPTURE_FIGURES, CaptureFigure, build_figure
    from lgcaa.plan.resources import capture_resources

    out = []
    section = cfg.get("model", {})
    for name in CAPTURE_FIGURES:
        spec = build_figure(cfg, name)
        if not isinstance(spec, CaptureFigure):  # renders a note only: still the capture rule's two threads
            out.append(PlannedJob("figure_capture", name, capture_resources(section, []), None))
            continue
        n = len(spec.images) if isinstance(spec.images, tuple) else int(spec.images)
        _, side = dataset_size(cfg, spec.dataset)
        ests = [sample_estimate(resolve_run(section, r.run), r.steps, n, side) for r in spec.runs]
        est = Estimate(sum(e.seconds for e in ests), ests[0].device, ests[0].rate, sum(e.units for e in ests))
        out.append(PlannedJob("figure_capture", name, capture_resources(section, [r.run for r in spec.runs]), est))
    return out


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


@dataclass(frozen=True)
class StageTotal:
    rule: str
    jobs: int
    gpu_hours: float
    cpu_hours: float
    longest_hours: float  # the longest job's wall-clock (its device-hours over its GPUs)


def stage_totals(jobs: list[PlannedJob]) -> list[StageTotal]:
    """Per rule (in DAG order): its jobs, GPU-/CPU-hours and its longest job's wall-clock hours."""
    out = []
    for rule in dict.fromkeys(j.rule for j in jobs):
        js = [j for j in jobs if j.rule == rule]
        out.append(StageTotal(rule, len(js), sum(j.device_hours for j in js if j.device == "gpu"),
                              sum(j.device_hours for j in js if j.device == "cpu"),
                              max(j.device_hours / max(j.resources.gpu, 1) for j in js)))
    return out


def gpu_wall_hours(jobs: list[PlannedJob], gpus: int) -> float:
    """Wall-clock hours of the GPU work on `gpus` GPUs: the GPU stages (rules) one after another (train before
    sample; the others not overlapped), each stage's jobs placed longest first on the GPUs that free up earliest
    (a job asking for g GPUs waits for g of them; one asking for more than `gpus` runs on all, its hours scaled)."""
    total = 0.0
    for rule in dict.fromkeys(j.rule for j in jobs):
        stage = [j for j in jobs if j.rule == rule and j.device == "gpu" and j.estimate]
        free = [0.0] * gpus
        for j in sorted(stage, key=lambda j: -j.device_hours / j.resources.gpu):
            g = min(j.resources.gpu, gpus)
            free.sort()
            end = free[g - 1] + j.device_hours / g
            free[:g] = [end] * g
        total += max(free) if stage else 0.0
    return total
