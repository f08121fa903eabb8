"""Where every result lives, and which SR method instances and jobs a profile runs. One place for both.

Paths (`Layout`): every file and folder under the profile's `paths.results` (and the dataset folders under
`paths.data`) that rules, commands, tables, report and status read or write:

    <data>/<dataset>/{hr,lr}/*.png, manifest.json            datasets
    <results>/data/<dataset>.run.json                         dataset job records (+ .vs_released.json)
    <results>/sr/<dataset>/<instance>/{*.png,sr.json}          SR outputs (+ .run.json, .settings.json, .missing.json)
    <results>/metrics/<dataset>/<instance>/{aggregate.json,per_image.csv,lock.json,run.json}
    <results>/models/<run>/{train.json,run.json,...}          LGCAA trainings
    <results>/backbone/{vae,unet,scheduler,prepare.json,run.json}  tiny backbone pre-trained for them (model.prepare)
    <results>/tables/<table>.<suffix>, <results>/report/...   tables, curves, the HTML report
    <results>/figures/<figure>.{png,pdf,csv}, <results>/claims/claims.*   figures, the paper's claims checked
    <results>/mlflow/{runs,links,published}.json              MLflow sync maps
    <results>/logs/<stage>/...log, <results>/imports, <results>/cache

Paths are strings joined with '/' exactly as the profile spells its roots (relative stays relative), so
Snakemake's file names and the jobs' own are the same strings; pass "{dataset}" etc. to get a rule pattern.

Method instances. A *method* is what a table column names: a baseline (`methods`, optionally a named
`instances` entry = a baseline with other settings, e.g. SeeSR at 30 steps) or what an LGCAA run produces
(`<run>` at its default sampling steps, `<run>-<steps>steps` otherwise). With k seeds (`seeds`), method M
is run as M (the profile seed s) and `M@seed<s+i>` for i = 1..k-1 — raising k only adds jobs. Each
(dataset, instance) is one job (`SrJob` for baselines, `SampleJob` for LGCAA runs) with one SR folder and
one metrics folder.

Everything here is pure (profile dict in, names and strings out): for the CLI, the Snakemake input
functions, the table and report specs alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lgcaa.errors import UserError
from lgcaa.model.config import resolve_run, run_names

SEED_MARK = "@seed"
RECORD = ".run.json"  # job record beside an output folder or named by a job
SETTINGS = ".settings.json"  # what an SR job ran with, beside its folder
MISSING = ".missing.json"  # why an SR job produced nothing, beside its (absent) folder
SR_KEY = "sr.json"  # inside an SR folder: what produced its images (method, settings, weights, seed, LR); resume key
TABLE_SUFFIXES = ("csv", "md", "tex", "html", "long.csv", "compare.csv", "compare.md", "compare.html", "metrics.json")
CURVE_FILES = ("pd_curve.png", "pd_curve.pdf", "pd_curve.csv")


def beside(folder: str | Path, suffix: str) -> Path:
    """`<parent>/<name><suffix>`: the files kept next to an output folder (`.run.json`, `.missing.json`, ...)."""
    folder = Path(folder)
    return folder.with_name(folder.name + suffix)


@dataclass(frozen=True)
class Layout:
    """Every results path of one profile. `results`, `data`: the profile's roots as written."""

    results: str
    data: str = ""
    cache: str = ""  # weights/checkouts cache; "" = <results>/cache

    @staticmethod
    def of(cfg: dict[str, Any]) -> Layout:
        paths = cfg["paths"]
        return Layout(paths["results"], paths["data"], paths.get("cache") or "")

    # datasets ------------------------------------------------------------------------------------------
    def dataset_dir(self, dataset: str) -> str:
        return f"{self.data}/{dataset}"

    def manifest(self, dataset: str) -> str:
        return f"{self.data}/{dataset}/manifest.json"

    def lr_dir(self, dataset: str) -> str:
        return f"{self.data}/{dataset}/lr"

    def hr_dir(self, dataset: str) -> str:
        return f"{self.data}/{dataset}/hr"

    def data_record(self, dataset: str) -> str:
        return f"{self.results}/data/{dataset}{RECORD}"

    def data_compare(self, dataset: str) -> str:
        return f"{self.results}/data/{dataset}.vs_released.json"

    # SR outputs and their scores --------------------------------------------------------------------------
    def sr_root(self) -> str:
        return f"{self.results}/sr"

    def sr_dir(self, dataset: str, instance: str) -> str:
        return f"{self.results}/sr/{dataset}/{instance}"

    def sr_record(self, dataset: str, instance: str) -> str:
        return self.sr_dir(dataset, instance) + RECORD

    def sr_missing(self, dataset: str, instance: str) -> str:
        return self.sr_dir(dataset, instance) + MISSING

    def metrics_dir(self, dataset: str, instance: str) -> str:
        return f"{self.results}/metrics/{dataset}/{instance}"

    def aggregate(self, dataset: str, instance: str) -> str:
        return f"{self.metrics_dir(dataset, instance)}/aggregate.json"

    def per_image(self, dataset: str, instance: str) -> str:
        return f"{self.metrics_dir(dataset, instance)}/per_image.csv"

    def eval_record(self, dataset: str, instance: str) -> str:
        return f"{self.metrics_dir(dataset, instance)}/run.json"

    # LGCAA trainings -----------------------------------------------------------------------------------
    def models_dir(self) -> str:
        return f"{self.results}/models"

    def model_dir(self, run: str) -> str:
        return f"{self.results}/models/{run}"

    def train_done(self, run: str) -> str:
        return f"{self.model_dir(run)}/train.json"

    def train_record(self, run: str) -> str:
        return f"{self.model_dir(run)}/run.json"

    def backbone_dir(self) -> str:
        """The tiny backbone pre-trained by `lgcaa prepare-backbone` (profiles with `model.prepare`)."""
        return f"{self.results}/backbone"

    def backbone_done(self) -> str:
        return f"{self.backbone_dir()}/prepare.json"

    def backbone_record(self) -> str:
        return f"{self.backbone_dir()}/run.json"

    # tables, report, MLflow, logs ------------------------------------------------------------------------
    def tables_dir(self) -> str:
        return f"{self.results}/tables"

    def table_file(self, table: str, suffix: str) -> str:
        return f"{self.results}/tables/{table}.{suffix}"

    def table_files(self, table: str) -> list[str]:
        return [self.table_file(table, s) for s in TABLE_SUFFIXES]

    def table_record(self, table: str) -> str:
        return f"{self.results}/tables/{table}{RECORD}"

    def headline_dir(self) -> str:
        """The compact metrics `dvc metrics show` prints (dvc.yaml declares `results/headline`)."""
        return f"{self.results}/headline"

    def data_dvc_cache(self) -> str:
        """Outcome of the step that commits a rebuilt data folder to DVC's cache."""
        return f"{self.results}/data/dvc-cache.json"

    def report_dir(self) -> str:
        return f"{self.results}/report"

    def report_file(self, name: str) -> str:
        return f"{self.results}/report/{name}"

    def figures_dir(self) -> str:
        return f"{self.results}/figures"

    def figure_file(self, figure: str, suffix: str) -> str:
        """`<results>/figures/<figure>.<suffix>` (png, pdf, csv, run.json); Fig. 8 is the report's `pd_curve.*`."""
        if figure == "fig8":
            return self.report_file(f"pd_curve.{suffix}")
        return f"{self.results}/figures/{figure}.{suffix}"

    def claims_file(self, suffix: str) -> str:
        """`<results>/claims/claims.<suffix>` (csv, md, html, run.json): the paper's claims on our numbers."""
        return f"{self.results}/claims/claims.{suffix}"

    def mlflow_file(self, name: str) -> str:
        """`runs.json` (record -> run id), `links.json` (record -> UI URL), `published.json` (report stage)."""
        return f"{self.results}/mlflow/{name}.json"

    def log(self, *parts: str) -> str:
        """`<results>/logs/<part>/.../<last>.log`."""
        return f"{self.results}/logs/" + "/".join(parts) + ".log"

    def imports_dir(self) -> str:
        return f"{self.results}/imports"

    def cache_dir(self) -> str:
        return self.cache or f"{self.results}/cache"


# --------------------------------------------------------------------------------------------------------
# Method instances
# --------------------------------------------------------------------------------------------------------


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

    def out_dir(self, out_root: str | Path) -> Path:
        """`<out_root>/<dataset>/<instance>` (out_root = `Layout.sr_root()`)."""
        return Path(out_root) / self.dataset / self.instance

    def lr_dir(self, data_root: str | Path) -> Path:
        return Path(data_root) / self.dataset / "lr"


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


def sr_pairs(cfg: dict[str, Any]) -> list[tuple[str, str]]:
    """Every (dataset, instance) that gets SR outputs, metrics and job records: baselines, then LGCAA."""
    return [(j.dataset, j.instance) for j in sr_jobs(cfg)] + [(j.dataset, j.instance) for j in sample_jobs(cfg)]


def lr_only(cfg: dict[str, Any], dataset: str) -> bool:
    """An LR-only dataset (source 'folder'): SR outputs and figures, never evaluated (no HR)."""
    return cfg["datasets"][dataset]["source"] == "folder"


def eval_pairs(cfg: dict[str, Any]) -> list[tuple[str, str]]:
    """The (dataset, instance) pairs that are scored against HR: `sr_pairs` without LR-only datasets."""
    return [(d, m) for d, m in sr_pairs(cfg) if not lr_only(cfg, d)]


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
