"""A profile's scoring job: the folders, metrics and expected count `lgcaa eval --config` scores with.

`eval_job(cfg, dataset, method, config)` is what the DAG's rule `evaluate` runs for one (dataset, SR instance)
of the profile (`lgcaa.instances.sr_pairs`); `missing_sr_line` is the one line for an SR folder that does not
exist, naming the job that makes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lgcaa.config import expected_pairs
from lgcaa.errors import UserError
from lgcaa.instances import sample_jobs, sr_pairs
from lgcaa.layout import Layout


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
