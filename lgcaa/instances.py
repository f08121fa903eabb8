"""Which SR method instances and jobs a profile runs (the results paths they write are `lgcaa.layout`'s).

A *method* is what a table column names: a baseline (`methods`, optionally a named `instances` entry = a
baseline with other settings, e.g. SeeSR at 30 steps) or what an LGCAA run produces (`<run>` at its default
sampling steps, `<run>-<steps>steps` otherwise). With k seeds (`seeds`), method M is run as M (the profile seed
s) and `M@seed<s+i>` for i = 1..k-1 — raising k only adds jobs. Each (dataset, instance) is one job (`SrJob`
for baselines, `SampleJob` for LGCAA runs) with one SR folder and one metrics folder (`Layout.sr_dir`,
`Layout.metrics_dir`).

Everything here is pure (profile dict in, names and `Layout` paths out): for the CLI, the Snakemake input
functions, the table and report specs alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from lgcaa.errors import UserError
from lgcaa.layout import Layout
from lgcaa.model.config import resolve_run, run_names

SEED_MARK = "@seed"


def seed_name(method: str, seed: int, base_seed: int) -> str:
    """`method` at the profile seed, `method@seed<seed>` otherwise."""
    return method if seed == base_seed else f"{method}{SEED_MARK}{seed}"


def seed_instances(cfg: dict[str, Any], method: str) -> list[tuple[int, str]]:
    """[(seed, instance name)]: k of them for the methods listed in `seeds.methods`, else one."""
    seeds = cfg.get("seeds", {})
    k = int(seeds.get("k", 1))
    base = int(cfg.get("seed", 0))
    if k <= 1 or method not in seeds.get("methods", []):
        return [(base, method)]
    return [(base + i, seed_name(method, base + i, base)) for i in range(k)]


def steps_name(method: str, steps: int, default_steps: int) -> str:
    """`method` at its default step count, `method-<steps>steps` otherwise (Fig. 8's 30/40/50-step sweep)."""
    return method if steps == default_steps else f"{method}-{steps}steps"


@dataclass(frozen=True)
class SrJob:
    """One baseline instance on one dataset: registry method `base` with the profile's settings for it,
    updated by the instance's `overrides` (an `instances` entry), seeded with `seed`."""

    dataset: str
    instance: str  # folder name, e.g. "seesr", "seesr@seed1", "seesr-30steps"
    method: str  # the table column it belongs to (instance without the seed mark)
    base: str  # baselines.registry name
    seed: int
    settings: dict[str, Any] = field(default_factory=dict)  # profile overrides of the registry defaults

    @property
    def extra_seed(self) -> bool:
        return self.instance != self.method


def baseline_base(cfg: dict[str, Any], method: str) -> tuple[str, dict[str, Any]]:
    """(registry name, settings overrides) of a profile method: itself, or what its `instances` entry says."""
    inst = cfg.get("instances", {}).get(method)
    base = inst["method"] if inst else method
    settings = {**cfg.get("baselines", {}).get(base, {}), **(inst.get("settings", {}) if inst else {})}
    return base, settings


def sr_jobs(cfg: dict[str, Any]) -> list[SrJob]:
    """Every baseline job of the profile: each method of `methods` x seed instance x dataset (an `instances` entry
    with `datasets` runs on those only)."""
    jobs = []
    for dataset in cfg["datasets"]:
        for method in cfg["methods"]:
            only = cfg.get("instances", {}).get(method, {}).get("datasets")
            if only is not None and dataset not in only:
                continue
            base, settings = baseline_base(cfg, method)
            for seed, name in seed_instances(cfg, method):
                jobs.append(SrJob(dataset, name, method, base, seed, settings))
    return jobs


@dataclass(frozen=True)
class SampleJob:
    """One LGCAA sampling job: trained run `run` on `dataset` with `steps` DDPM steps, as `instance`."""

    run: str
    dataset: str
    steps: int
    method: str  # `<run>` or `<run>-<steps>steps`: the table column
    instance: str = ""  # `method`, or `method@seed<s>` for an extra seed ("" = method)
    seed: int | None = None  # None: the run's own sample.seed; else this seed (extra seed instances)

    def __post_init__(self) -> None:
        if not self.instance:
            object.__setattr__(self, "instance", self.method)

    @property
    def extra_seed(self) -> bool:
        return self.instance != self.method


def _run_sample_jobs(section: dict[str, Any], run: str, datasets: list[str] | None) -> list[SampleJob]:
    spec = section["runs"][run]
    default = resolve_run(section, run).sample.steps
    jobs = []
    for dataset in spec.get("datasets", []):
        if datasets is not None and dataset not in datasets:
            continue
        steps_spec = spec.get("sample_steps", [default])
        if isinstance(steps_spec, dict):  # per dataset; unlisted datasets use the default
            steps_spec = steps_spec.get(dataset, [default])
        for steps in steps_spec:
            jobs.append(SampleJob(run, dataset, int(steps), steps_name(run, int(steps), default)))
    return jobs


def model_sample_jobs(section: dict[str, Any], runs: list[str] | None = None,
                      datasets: list[str] | None = None) -> list[SampleJob]:
    """The (run, dataset, steps) jobs of a profile's `model` section at the runs' own seed.

    A run lists `datasets` (default none) and `sample_steps` (a list, or a map dataset -> list; default the
    run's `sample.steps`). `runs`/`datasets` restrict the plan; an unknown run is an error.
    """
    names = run_names(section)
    for r in runs or []:
        if r not in names:
            raise UserError(f"model.runs: no run named '{r}' (runs: {', '.join(names) or 'none'})")
    return [j for run in runs or names for j in _run_sample_jobs(section, run, datasets)]


def sample_jobs(cfg: dict[str, Any], seeds: bool = True) -> list[SampleJob]:
    """Every LGCAA sampling job of the profile; with `seeds`, the extra seed instances follow the base jobs."""
    base = model_sample_jobs(cfg["model"]) if cfg.get("model", {}).get("runs") else []
    if not seeds:
        return base
    extra = [
        SampleJob(j.run, j.dataset, j.steps, j.method, name, seed)
        for j in base
        for seed, name in seed_instances(cfg, j.method)
        if name != j.method
    ]
    return base + extra


def model_methods(section: dict[str, Any]) -> list[str]:
    """Method names produced by a model section's runs, in order, without duplicates."""
    return list(dict.fromkeys(j.method for j in model_sample_jobs(section)))


def model_runs(cfg: dict[str, Any]) -> list[str]:
    """The runs that are trained: those that something samples."""
    return list(dict.fromkeys(j.run for j in sample_jobs(cfg, seeds=False)))


class SampleTask(NamedTuple):
    """One `lgcaa sample` job as folders: the trained run, the LR in, the SR out and its job record."""

    run_dir: Path
    lr_dir: Path
    out: Path
    steps: int | None  # None: the run's own sample.steps
    seed: int | None  # None: the run's own sample.seed
    method: str | None  # the instance (SR folder name)
    record: Path | None
    dataset: str


def sample_tasks(cfg: dict[str, Any], runs: list[str] | None, datasets: list[str] | None, method: str | None,
                 source: str) -> list[SampleTask]:
    """The profile's sampling jobs (`sample_jobs`) of the runs `runs`, on the datasets `datasets`, of the
    instance `method` (each None or empty: any), as folders; a UserError naming `source` when none matches."""
    layout = Layout.of(cfg)
    jobs = [j for j in sample_jobs(cfg)
            if (not runs or j.run in runs) and (datasets is None or j.dataset in datasets)
            and (method is None or j.instance == method)]
    if not jobs:
        raise UserError(f"{source}: no sampling job of model.runs matches --run {runs or 'any'} --dataset "
                        f"{datasets or 'any'} --method {method or 'any'}")
    return [SampleTask(Path(layout.model_dir(j.run)), Path(layout.lr_dir(j.dataset)),
                       Path(layout.sr_dir(j.dataset, j.instance)), j.steps, j.seed, j.instance,
                       Path(layout.sr_record(j.dataset, j.instance)), j.dataset) for j in jobs]


def sr_pairs(cfg: dict[str, Any]) -> list[tuple[str, str]]:
    """Every (dataset, instance) that gets SR outputs, metrics and job records: baselines, then LGCAA."""
    return [(j.dataset, j.instance) for j in sr_jobs(cfg)] + [(j.dataset, j.instance) for j in sample_jobs(cfg)]


def lr_only(cfg: dict[str, Any], dataset: str) -> bool:
    """An LR-only dataset (source 'folder', or a subset with `lr_only`): SR outputs and figures, never evaluated
    (no HR)."""
    ds = cfg["datasets"][dataset]
    return ds["source"] == "folder" or bool(ds.get("lr_only"))


def eval_pairs(cfg: dict[str, Any]) -> list[tuple[str, str]]:
    """The (dataset, instance) pairs that are scored against HR: `sr_pairs` without LR-only datasets."""
    return [(d, m) for d, m in sr_pairs(cfg) if not lr_only(cfg, d)]


def published_log_pairs(cfg: dict[str, Any]) -> list[tuple[str, str]]:
    """The scored (dataset, instance) pairs of baselines whose authors published a per-image metric log for that
    dataset (`baselines.registry` `published.logs`, e.g. OSEDiff on RealSR/DRealSR): each gets a golden check of
    the DAG's own scores against that log (`lgcaa metrics compare-log`)."""
    from baselines.registry import get

    scored = set(eval_pairs(cfg))
    out = []
    for job in sr_jobs(cfg):
        published = get(job.base).published
        if (job.dataset, job.instance) in scored and published is not None and job.dataset in published.logs:
            out.append((job.dataset, job.instance))
    return out


def find_sr_job(cfg: dict[str, Any], dataset: str, instance: str) -> SrJob:
    """The baseline job writing `<results>/sr/<dataset>/<instance>`; UserError naming the profile's choices."""
    for job in sr_jobs(cfg):
        if (job.dataset, job.instance) == (dataset, instance):
            return job
    known = sorted({j.instance for j in sr_jobs(cfg)})
    raise UserError(
        f"profile '{cfg['profile']}': no baseline job for method '{instance}' on dataset '{dataset}' "
        f"(datasets: {', '.join(cfg['datasets'])}; methods: {', '.join(known)}); fix the names or the profile"
    )
