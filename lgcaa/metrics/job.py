"""A profile's scoring job: the folders, metrics and expected count `lgcaa eval --config` scores with.

`eval_job(cfg, dataset, method, config)` is what the DAG's rule `evaluate` runs for one (dataset, SR instance)
of the profile (`lgcaa.instances.sr_pairs`); `eval_request` is what one `lgcaa eval` scores (that job, or the
folders and metrics given), checked before any work; `missing_sr_line` is the one line for an SR folder that does
not exist, naming the job that makes it; `eval_lines` are what `lgcaa eval` prints of a finished evaluation; `write_eval_record` is the job record of an evaluation (`lgcaa eval --record`);
`check_published_log` is the DAG's golden check of an evaluation against the authors' log (`lgcaa metrics compare-log`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lgcaa.config import expected_pairs
from lgcaa.errors import UserError, check_known
from lgcaa.instances import sample_jobs, sr_pairs
from lgcaa.layout import AGGREGATE, LOCK, PER_IMAGE, Layout, sr_record_of
from lgcaa.metrics.registry import names as metric_names
from lgcaa.metrics.registry import split_names
from lgcaa.tracking import SR_IMAGES, dataset_input, experiment_name, image_sample, write_record

if TYPE_CHECKING:
    from lgcaa.metrics.evaluate import Evaluation


@dataclass(frozen=True)
class EvalJob:
    sr_dir: Path
    hr_dir: Path
    out: Path  # the metrics folder (per_image.csv, aggregate.json, lock.json)
    metrics: tuple[str, ...]
    expected_count: int


def eval_job(cfg: dict[str, Any], dataset: str, method: str, config: str) -> EvalJob:
    """The scoring job of (dataset, method instance) in profile `cfg` (`config`: how the user named it)."""
    if (dataset, method) not in sr_pairs(cfg):
        raise UserError(f"profile '{cfg['profile']}' has no SR job for method '{method}' on dataset "
                        f"'{dataset}'; see `lgcaa config show {config}`")
    layout = Layout.of(cfg)
    return EvalJob(Path(layout.sr_dir(dataset, method)), Path(layout.hr_dir(dataset)),
                   Path(layout.metrics_dir(dataset, method)), tuple(cfg["metrics"]),
                   expected_pairs(cfg["datasets"][dataset]))


@dataclass(frozen=True)
class EvalRequest:
    """What one `lgcaa eval` scores: the folders, where the results go (None: printed only), the metrics, the
    expected count, the names recorded and how many SR outputs the job record shows (None: `SR_IMAGES`)."""

    sr_dir: Path
    hr_dir: Path
    out: Path | None
    metrics: list[str]
    expected_count: int | None
    dataset: str
    method: str
    mlflow_images: int | None

    @property
    def label(self) -> str:
        """The progress bar's label."""
        return f"eval {self.method or self.sr_dir.name} on {self.dataset or self.hr_dir.parent.name}"

    @property
    def extra(self) -> dict[str, Any]:
        """What `write_evaluation` adds to the aggregate."""
        return {"dataset": self.dataset, "method": self.method, "sr_dir": str(self.sr_dir),
                "hr_dir": str(self.hr_dir), "expected_count": self.expected_count}


def eval_request(cfg: dict[str, Any] | None, config: str | None, dataset: str, method: str, sr_dir: Path | None,
                 hr_dir: Path | None, out: Path | None, metrics: str, expected_count: int | None,
                 mlflow_images: int | None) -> EvalRequest:
    """With a profile (`cfg`, named `config`): its scoring job of (`dataset`, `method`) — folders, metrics and
    count from the profile, `mlflow_images` (None) from its `report.mlflow_images`; without: the folders, the
    comma-separated `metrics`, `expected_count` as given. UserError, before any work, for a missing folder
    argument, an SR folder that does not exist (naming the job that makes it), no metric or unknown metrics
    (every unknown name at once)."""
    if cfg is not None:
        job = eval_job(cfg, dataset, method, config or "")
        sr_dir, hr_dir, out = job.sr_dir, job.hr_dir, job.out
        metrics, expected_count = ",".join(job.metrics), job.expected_count
        if mlflow_images is None:
            mlflow_images = cfg.get("report", {}).get("mlflow_images", SR_IMAGES)
    elif sr_dir is None or hr_dir is None:
        raise UserError("lgcaa eval: give SR_DIR HR_DIR, or --config PROFILE --dataset D --method M")
    if not sr_dir.is_dir():
        raise UserError(missing_sr_line(sr_dir, cfg, config, dataset, method))
    names = split_names(metrics)
    if not names:
        raise UserError("--metrics is empty; name at least one metric")
    check_known("metric", names, metric_names())  # every unknown name at once, before any work
    return EvalRequest(sr_dir, hr_dir, out, names, expected_count, dataset, method, mlflow_images)


def eval_lines(ev: Evaluation, device: str) -> list[str]:
    """One line per metric (its mean, or why it is missing and the fix), then N, the lock, the device, the time."""
    lines = [f"{m:8s} " + (f"{s['mean']:.4f}" if s["status"] == "ok" else f"missing: {s['reason']} (fix: {s['fix']})")
             for m, s in ev.aggregate["metrics"].items()]
    return lines + [(f"N={ev.aggregate['n_images']} lock={ev.aggregate['lock']} device={device} "
                     f"time={ev.timing['total_s']:.1f}s (metric forward {ev.timing['forward_total_s']:.1f}s)")]


def missing_sr_line(sr_dir: Path, cfg: dict[str, Any] | None, config: str | None, dataset: str | None,
                    method: str | None) -> str:
    """The one line for an SR folder that does not exist: which job makes it (SR outputs are not a dataset).
    Without a profile (`cfg` None) the standalone `lgcaa sr` command."""
    where = f"{sr_dir}: SR folder not found; it is made by "
    if cfg is None:
        return where + ("an SR job: `lgcaa sr --method NAME --lr-dir LR_DIR --out-dir "
                        f"{sr_dir}` (or the DAG's rule `sr`/`sample`), then rerun this command")
    sampled = {(j.dataset, j.method) for j in sample_jobs(cfg)}
    if (dataset, method) in sampled:
        job = f"the DAG's rule `sample` (`lgcaa sample --config {config} --dataset {dataset} --method {method}`)"
    else:
        job = f"the DAG's rule `sr` (`lgcaa sr --config {config} --dataset {dataset} --method {method}`)"
    return where + job + f", or let the DAG make and score it: `snakemake --cores 1 {Layout.of(cfg).aggregate(dataset, method)}`"


def write_eval_record(dest: str | Path, ev: Evaluation, out: Path, sr_dir: Path, hr_dir: Path, dataset: str,
                      method: str, metrics: list[str], device: str, experiment: str | None = None,
                      mlflow_images: int | None = None) -> Path:
    """The job record of evaluation `ev` (written to `out`) of `sr_dir` against `hr_dir`: the means that were
    scored, why the others are missing, the SR and HR folders with their digests, the SR job's record upstream
    and the first `mlflow_images` SR outputs (default `SR_IMAGES`) for MLflow to show."""
    ok = {m: s["mean"] for m, s in ev.aggregate["metrics"].items() if s["status"] == "ok"}
    ds = dataset or hr_dir.parent.name
    inputs = [dataset_input(f"{ds}/sr/{method or sr_dir.name}", sr_dir, "sr", ev.digests["sr"]),
              dataset_input(f"{ds}/hr", hr_dir, "hr", ev.digests["hr"])]
    return write_record(
        dest, experiment=experiment_name("eval", experiment),
        run_name=f"eval:{method}:{dataset}",
        params={"method": method, "dataset": dataset, "lock": ev.aggregate["lock"],
                "n_images": ev.aggregate["n_images"], "metrics": ",".join(metrics), "device": device,
                **{f"missing.{m}": s["reason"] for m, s in ev.aggregate["metrics"].items() if s["status"] != "ok"}},
        metrics={**ok, "eval_seconds": round(ev.timing["total_s"], 3)},
        artifacts=[str(out / name) for name in (PER_IMAGE, AGGREGATE, LOCK)],
        tags={"lgcaa.lock": ev.aggregate["lock"]},
        inputs=inputs,
        upstream={"sr": sr_record_of(sr_dir)},
        folders={"sr": image_sample(sr_dir, SR_IMAGES if mlflow_images is None else mlflow_images)},
    )


def check_published_log(cfg: dict[str, Any], dataset: str, method: str,
                        out: str | Path | None = None) -> tuple[Path, dict[str, Any]]:
    """The golden check of the profile's evaluation of `method` on `dataset` (its per_image.csv and aggregate.json)
    against the per-image log `method`'s authors published with their outputs (its import record names it):
    written to `out` (default `<results>/checks/golden-<dataset>-<method>.json`) even on drift, so that the report
    shows it. Returns (where it went, the check)."""
    from baselines.imports import published_log
    from lgcaa.io import write_json
    from lgcaa.metrics.peer_log import compare_scores
    from lgcaa.tables.cells import read_aggregate, read_per_image

    L = Layout.of(cfg)
    aggregate = read_aggregate(Path(L.aggregate(dataset, method)))
    check = compare_scores(read_per_image(Path(L.per_image(dataset, method))), aggregate,
                           published_log(method, dataset, L.imports_dir()))
    dest = Path(out or L.check_file(f"golden-{dataset}-{method}"))
    write_json(dest, {"check": "golden", "sr_dir": L.sr_dir(dataset, method), **check})
    return dest, check
