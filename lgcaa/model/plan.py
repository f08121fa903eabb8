"""Which trained runs are sampled on which datasets with how many steps, and under which method names.

A profile's `model.runs.<run>` may list `datasets` (default: none) and `sample_steps` (a list, or a map
dataset -> list; default: the run's `sample.steps`). The SR output of (run, dataset, steps) is method `<run>` when steps equals the run's
default and `<run>-<steps>steps` otherwise (Fig. 8's 30/40/50-step sweep), stored in
`<out_root>/<dataset>/<method>/` (+ `<method>.run.json`, a job record). Functions here are pure, for the CLI and for Snakemake input functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lgcaa.errors import UserError
from lgcaa.model.config import resolve_run, run_names


@dataclass(frozen=True)
class SampleJob:
    run: str
    dataset: str
    steps: int
    method: str

    def out_dir(self, out_root: str | Path) -> Path:
        """`<out_root>/<dataset>/<method>`, the layout of the harness's `sr` rule."""
        return Path(out_root) / self.dataset / self.method

    def lr_dir(self, data_root: str | Path) -> Path:
        return Path(data_root) / self.dataset / "lr"


def method_name(run: str, steps: int, default_steps: int) -> str:
    return run if steps == default_steps else f"{run}-{steps}steps"


def sample_jobs(section: dict[str, Any], runs: list[str] | None = None, datasets: list[str] | None = None) -> list[SampleJob]:
    """All (run, dataset, steps) jobs of a profile's model section, optionally restricted to some runs/datasets."""
    names = run_names(section)
    for r in runs or []:
        if r not in names:
            raise UserError(f"model.runs: no run named '{r}' (runs: {', '.join(names) or 'none'})")
    jobs = []
    for run in runs or names:
        spec = section["runs"][run]
        default = resolve_run(section, run).sample.steps
        for dataset in spec.get("datasets", []):
            if datasets is not None and dataset not in datasets:
                continue
            steps_spec = spec.get("sample_steps", [default])
            if isinstance(steps_spec, dict):  # per dataset; unlisted datasets use the default
                steps_spec = steps_spec.get(dataset, [default])
            for steps in steps_spec:
                jobs.append(SampleJob(run, dataset, int(steps), method_name(run, int(steps), default)))
    return jobs


def methods(section: dict[str, Any]) -> list[str]:
    """Method names produced by the profile's runs, in order, without duplicates."""
    seen: dict[str, None] = {}
    for job in sample_jobs(section):
        seen.setdefault(job.method, None)
    return list(seen)
