"""`lgcaa sample`'s jobs in one process: each `lgcaa.instances.SampleTask` sampled with its trained run.

`sample_settings` is a run's `sample` settings with the command line's overrides (`SampleOverrides`) and the
job's own steps and seed; `run_sample_tasks` samples the tasks in order, one model in memory at a time, and
yields each outcome as it finishes (the command prints `SampleOutcome.line`); `write_sample_record` is a
sampling job's record (`lgcaa sample --record`, the DAG's `sample` rule) that `lgcaa mlflow-sync` logs, linked
to the run's weights and, upstream, to the training's record. torch loads inside `run_sample_tasks` only.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lgcaa.instances import SampleTask
from lgcaa.io import sha256_file
from lgcaa.layout import record_in
from lgcaa.tracking import dataset_input, experiment_name, flatten, write_record

if TYPE_CHECKING:
    from lgcaa.model.config import LGCAAConfig, SampleConfig


@dataclass(frozen=True)
class SampleOverrides:
    """Sampling settings given on the command line; None keeps the run's own (its config's `sample`)."""

    steps: int | None = None
    seed: int | None = None
    color_fix: str | None = None
    start_point: str | None = None
    tile: int | None = None
    tile_overlap: int | None = None
    batch_size: int | None = None
    precision: str | None = None


@dataclass(frozen=True)
class SampleOutcome:
    """One finished task: its folders, the `sample.json` it wrote and the DDPM steps it ran."""

    task: SampleTask
    record: dict[str, Any]
    steps: int

    def line(self) -> str:
        """The line `lgcaa sample` prints for it."""
        return f"{self.task.out}: {self.record['images']} images, {self.steps} steps, {self.record['seconds']} s"


def trained_weights(run_dir: str | Path) -> Path:
    """The trained weights of a finished run folder (`lgcaa train` writes them last but one)."""
    return Path(run_dir) / "model.safetensors"


def sample_settings(cfg: LGCAAConfig, over: SampleOverrides, steps: int | None = None,
                    seed: int | None = None) -> SampleConfig:
    """The run's `sample` settings with `over`'s given values; a job's own `steps`/`seed` (not None) win over
    `over`'s. Validated (UserError naming the setting)."""
    given = {
        "steps": steps if steps is not None else over.steps,
        "seed": seed if seed is not None else over.seed, "color_fix": over.color_fix,
        "start_point": over.start_point, "tile": over.tile, "tile_overlap": over.tile_overlap,
        "batch_size": over.batch_size, "precision": over.precision,
    }
    sample = replace(cfg.sample, **{k: v for k, v in given.items() if v is not None})
    sample.validate("sample")
    return sample


def run_sample_tasks(tasks: list[SampleTask], over: SampleOverrides, device: str | None = None,
                     pretrained: str | None = None, dino: str | None = None,
                     experiment: str | None = None) -> Iterator[SampleOutcome]:
    """Sample every task in order (`device` None: cuda when available, else cpu); a run's model is loaded once
    for consecutive tasks of that run and precision (one model in memory at a time). A task with a `record`
    path gets its job record (`write_sample_record`, MLflow experiment `experiment`); with several tasks each
    record's start is the task's own, with one it is the process's."""
    import torch

    from lgcaa.model.sampler import load_trained, sample_folder

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    precision = over.precision or "fp32"
    cache: dict[tuple[Path, str], tuple] = {}
    for task in tasks:
        started = time.time()
        key = (Path(task.run_dir), precision)
        if key not in cache:
            cache.clear()  # one model in memory at a time
            cache[key] = load_trained(task.run_dir, device, precision, pretrained, dino)
        net, cfg = cache[key]
        sample = sample_settings(cfg, over, task.steps, task.seed)
        record = sample_folder(net, cfg, task.lr_dir, task.out, sample,
                               extra={"run_dir": str(task.run_dir), "lr_dir": str(task.lr_dir),
                                      "weights_sha256": sha256_file(trained_weights(task.run_dir)),
                                      "method": task.method or Path(task.run_dir).name})
        if task.record is not None:
            write_sample_record(task, record, experiment, started if len(tasks) > 1 else None)
        yield SampleOutcome(task, record, sample.steps)


def write_sample_record(task: SampleTask, record: dict[str, Any], experiment: str | None = None,
                        started: float | None = None) -> Path:
    """The job record of `task` (written to `task.record`) from the `sample.json` it wrote (`record`): its
    settings as params (without the per-image seeds), the dataset (`task.dataset`, else the LR folder's parent's
    name), the LR and SR folders, the run's weights and the training's record upstream. `started` None: the
    process's start."""
    params = flatten("", {k: v for k, v in record.items() if k not in ("seeds",)}, {})
    dataset = task.dataset or Path(task.lr_dir).parent.name
    return write_record(task.record, experiment_name("sr", experiment), f"sample:{record['method']}:{dataset}",
                        params={**params, "dataset": dataset},
                        metrics={"seconds_per_image": record["seconds_per_image"], "seconds": record["seconds"]},
                        artifacts=[str(task.out / "sample.json")],
                        tags={"method": record["method"], "lpips_backbone": record["lpips_backbone"]},
                        inputs=[dataset_input(f"{dataset}/lr", task.lr_dir, "lr"),
                                dataset_input(f"{dataset}/sr/{Path(task.out).name}", task.out, "sr")],
                        started=started,
                        links={"weights": str(trained_weights(task.run_dir))},
                        upstream={"train": record_in(task.run_dir)})
