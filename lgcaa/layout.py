"""Where every result lives: every results path and file name. Rules, commands, tables, report and status ask it.

`Layout`: every file and folder under the profile's `paths.results` (and the dataset folders under
`paths.data`) that rules, commands, tables, report and status read or write:

    <data>/<dataset>/{hr,lr}/*.png, manifest.json            datasets
    <results>/data/<dataset>.run.json                         dataset job records (+ .vs_released.json)
    <results>/sr/<dataset>/<instance>/{*.png,sr.json}          SR outputs (+ .run.json, .settings.json, .missing.json)
    <results>/metrics/<dataset>/<instance>/{aggregate.json,per_image.csv,lock.json,run.json}
    <results>/models/<run>/{train.json,run.json,...}          LGCAA trainings
    <results>/backbone/{vae,unet,scheduler,prepare.json,run.json}  tiny backbone pre-trained for them (model.prepare)
    <results>/tables/<table>.<suffix>, <results>/report/...   tables, curves, the HTML report, the gallery
    <results>/figures/<figure>.{png,pdf,csv}, <results>/claims/claims.*   figures, the paper's claims checked
    <results>/mlflow/{runs,links,published}.json              MLflow sync maps
    <results>/checks/<check>.json                             metric checks (calibration gate, golden comparisons)
    <results>/logs/<stage>/...log, <results>/benchmarks/<stage>/...tsv, <results>/imports, <results>/cache

The file names inside a job's folder (`AGGREGATE`, `PER_IMAGE`, `LOCK`, `JOB_RECORD`, `TRAIN_DONE`,
`BACKBONE_DONE`) and beside it (`RECORD`, `SETTINGS`, `MISSING`) are declared here once: the jobs that write
them into a folder they were handed, and the readers that go from an aggregate to its siblings
(`per_image_of`, `eval_record_of`), use these names (tests/test_layout.py greps for any other spelling).

Paths are strings joined with '/' exactly as the profile spells its roots (relative stays relative), so
Snakemake's file names and the jobs' own are the same strings; pass "{dataset}" etc. to get a rule pattern.
Which method instances and jobs a profile runs is `lgcaa.instances`. This module imports nothing of the
harness but `lgcaa.io`/`lgcaa.errors`, so it sits at the bottom of the import graph.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"  # a dataset folder's record (lgcaa.data.manifest; `manifest_of`)
# files inside a job's folder
AGGREGATE = "aggregate.json"  # an evaluation's set-level scores (written last: its presence means complete)
PER_IMAGE = "per_image.csv"  # an evaluation's per-image scores (image, metric, value)
LOCK = "lock.json"  # the metric protocol an evaluation ran under
JOB_RECORD = "run.json"  # the job record inside a job's folder (metrics, models/<run>, backbone)
TRAIN_DONE = "train.json"  # a training's summary (written last)
BACKBONE_DONE = "prepare.json"  # the prepared tiny backbone's record (written last)
# files beside an output folder or named by a job
RECORD = ".run.json"  # job record beside an output folder or named by a job
SETTINGS = ".settings.json"  # what an SR job ran with, beside its folder
MISSING = ".missing.json"  # why an SR job produced nothing, beside its (absent) folder
SR_KEY = "sr.json"  # inside an SR folder: what produced its images (method, settings, weights, seed, LR); resume key
VS_RELEASED = ".vs_released.json"  # a regenerated dataset's LR compared with the released LR
TABLE_SUFFIXES = ("csv", "md", "tex", "html", "long.csv", "compare.csv", "compare.md", "compare.html", "metrics.json")
FIGURE_SUFFIXES = ("png", "pdf", "csv")
CLAIMS_SUFFIXES = ("csv", "md", "html")


def beside(folder: str | Path, suffix: str) -> Path:
    """`<parent>/<name><suffix>`: the files kept next to an output folder (`.run.json`, `.missing.json`, ...)."""
    folder = Path(folder)
    return folder.with_name(folder.name + suffix)


def manifest_of(dataset_dir: str | Path) -> Path:
    """A dataset folder's record (per-file sha256 and sizes, pair count, provenance; `lgcaa.data.manifest`)."""
    return Path(dataset_dir) / MANIFEST


def per_image_of(aggregate: str | Path) -> Path:
    """The per-image scores written beside an evaluation's `aggregate.json`."""
    return Path(aggregate).with_name(PER_IMAGE)


def eval_record_of(aggregate: str | Path) -> Path:
    """The job record written beside an evaluation's `aggregate.json`."""
    return Path(aggregate).with_name(JOB_RECORD)


def sr_record_of(sr_dir: str | Path) -> Path:
    """The job record of the SR (or sample) job that wrote the folder `sr_dir` (`Layout.sr_record`)."""
    return Path(f"{sr_dir}{RECORD}")


def record_in(job_dir: str | Path) -> Path:
    """The job record inside a job's own folder: a training run's, the prepared backbone's (`Layout.train_record`,
    `Layout.backbone_record`)."""
    return Path(job_dir) / JOB_RECORD


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
        return f"{self.data}/{dataset}/{MANIFEST}"

    def lr_dir(self, dataset: str) -> str:
        return f"{self.data}/{dataset}/lr"

    def hr_dir(self, dataset: str) -> str:
        return f"{self.data}/{dataset}/hr"

    def data_record(self, dataset: str) -> str:
        return f"{self.results}/data/{dataset}{RECORD}"

    def data_compare(self, dataset: str) -> str:
        return f"{self.results}/data/{dataset}{VS_RELEASED}"

    # SR outputs and their scores --------------------------------------------------------------------------
    def sr_dir(self, dataset: str, instance: str) -> str:
        return f"{self.results}/sr/{dataset}/{instance}"

    def sr_record(self, dataset: str, instance: str) -> str:
        return self.sr_dir(dataset, instance) + RECORD

    def metrics_dir(self, dataset: str, instance: str) -> str:
        return f"{self.results}/metrics/{dataset}/{instance}"

    def aggregate(self, dataset: str, instance: str) -> str:
        return f"{self.metrics_dir(dataset, instance)}/{AGGREGATE}"

    def per_image(self, dataset: str, instance: str) -> str:
        return f"{self.metrics_dir(dataset, instance)}/{PER_IMAGE}"

    def eval_record(self, dataset: str, instance: str) -> str:
        return f"{self.metrics_dir(dataset, instance)}/{JOB_RECORD}"

    # LGCAA trainings -----------------------------------------------------------------------------------
    def model_dir(self, run: str) -> str:
        return f"{self.results}/models/{run}"

    def train_done(self, run: str) -> str:
        return f"{self.model_dir(run)}/{TRAIN_DONE}"

    def train_record(self, run: str) -> str:
        return f"{self.model_dir(run)}/{JOB_RECORD}"

    def backbone_dir(self) -> str:
        """The tiny backbone pre-trained by `lgcaa prepare-backbone` (profiles with `model.prepare`)."""
        return f"{self.results}/backbone"

    def backbone_done(self) -> str:
        return f"{self.backbone_dir()}/{BACKBONE_DONE}"

    def backbone_record(self) -> str:
        return f"{self.backbone_dir()}/{JOB_RECORD}"

    # tables, report, MLflow, logs ------------------------------------------------------------------------
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

    def report_file(self, name: str) -> str:
        return f"{self.results}/report/{name}"

    def report_html(self) -> str:
        return self.report_file("index.html")

    def report_record(self) -> str:
        return self.report_file("index" + RECORD)

    def from_report(self, path: str) -> str:
        """`path` (a results file) as the report links it: relative to the report's folder, so a moved or copied
        tree keeps its links (e.g. `../tables/table1.compare.csv`)."""
        return posixpath.relpath(path, self.report_file(""))

    def gallery_html(self) -> str:
        """The per-image gallery beside the report: every test image, every method, full resolution
        (`lgcaa.report.gallery`); it references the PNGs under `<data>` and `<results>/sr` by relative paths."""
        return self.report_file("gallery.html")

    def figure_file(self, figure: str, suffix: str) -> str:
        """`<results>/figures/<figure>.<suffix>` (png, pdf, csv, run.json); Fig. 8 is the report's `pd_curve.*`."""
        if figure == "fig8":
            return self.report_file(f"pd_curve.{suffix}")
        return f"{self.results}/figures/{figure}.{suffix}"

    def figure_files(self, figure: str) -> dict[str, str]:
        """{suffix: path} of a figure's png, pdf and csv (pass "{fig}" for a rule pattern)."""
        return {s: self.figure_file(figure, s) for s in FIGURE_SUFFIXES}

    def figure_record(self, figure: str) -> str:
        return self.figure_file(figure, JOB_RECORD)

    def claims_file(self, suffix: str) -> str:
        """`<results>/claims/claims.<suffix>` (csv, md, html, run.json): the paper's claims on our numbers."""
        return f"{self.results}/claims/claims.{suffix}"

    def claims_files(self) -> dict[str, str]:
        """{suffix: path} of the claims' csv, md and html."""
        return {s: self.claims_file(s) for s in CLAIMS_SUFFIXES}

    def claims_record(self) -> str:
        return self.claims_file(JOB_RECORD)

    def checks_dir(self) -> str:
        """`<results>/checks`: the metric checks (calibration gate, golden comparisons) the report shows."""
        return f"{self.results}/checks"

    def check_file(self, name: str) -> str:
        """`<results>/checks/<name>.json` (`calibration`, `golden-<dataset>`)."""
        return f"{self.results}/checks/{name}.json"

    def mlflow_file(self, name: str) -> str:
        """`runs.json` (record -> run id), `links.json` (record -> UI URL), `published.json` (report stage)."""
        return f"{self.results}/mlflow/{name}.json"

    def log(self, *parts: str) -> str:
        """`<results>/logs/<part>/.../<last>.log`."""
        return f"{self.results}/logs/" + "/".join(parts) + ".log"

    def benchmark(self, *parts: str) -> str:
        """`<results>/benchmarks/<part>/.../<last>.tsv`: Snakemake's time and memory record of a job."""
        return f"{self.results}/benchmarks/" + "/".join(parts) + ".tsv"

    def imports_dir(self) -> str:
        return f"{self.results}/imports"

    def cache_dir(self) -> str:
        return self.cache or f"{self.results}/cache"
