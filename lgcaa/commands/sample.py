"""`lgcaa sample`: super-resolve LR PNGs with trained LGCAA runs; outputs PNGs (same names) + sample.json.

One job (what the DAG's `sample` rule runs, one per (run, dataset, steps, seed)):
  lgcaa sample --run-dir results/models/lgcaa --lr-dir data/mini-realesrgan/lr \
      --out results/sr/mini-realesrgan/lgcaa-30steps --steps 30 [--seed 1] [--color-fix none] \
      [--method lgcaa-30steps --dataset mini-realesrgan --record results/sr/mini-realesrgan/lgcaa-30steps.run.json]
Jobs of a profile (lgcaa.instances.sample_jobs: model.runs.*.datasets x sample_steps x seed instances), in one
process; --run/--dataset/--method narrow them (the DAG's `sample` rule: one --dataset and one --method):
  lgcaa sample --config mini [--run NAME ...] [--dataset D ...] [--method INSTANCE]
  -> <results>/sr/<dataset>/<instance>/*.png and <results>/sr/<dataset>/<instance>.run.json,
     instance = <run> or <run>-<steps>steps, + @seed<s> for an extra seed
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

from lgcaa.config import load_config
from lgcaa.errors import UserError
from lgcaa.instances import SampleTask, sample_tasks
from lgcaa.io import sha256_file
from lgcaa.layout import record_in
from lgcaa.tracking import adopt_profile, dataset_input, experiment_name, flatten, write_record


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run-dir", type=Path, help="a folder written by `lgcaa train` (one job)")
    parser.add_argument("--lr-dir", type=Path, help="folder of LR PNGs (one job)")
    parser.add_argument("--out", type=Path, help="output folder (one job)")
    parser.add_argument("--config", help="profile name or config file: sample its jobs (folders from lgcaa.layout)")
    parser.add_argument("--run", action="append", default=[], help="with --config: only these runs (repeatable)")
    parser.add_argument("--dataset", action="append", default=None,
                        help="with --config: only these datasets (repeatable); one job: the dataset name recorded")
    parser.add_argument("--method", help="the method instance, e.g. lgcaa-30steps or lgcaa@seed1: with --config the "
                                         "job to run; one job: the name recorded (default: the run folder's name)")
    parser.add_argument("--steps", type=int, help="DDPM steps (default: the run's sample.steps)")
    parser.add_argument("--seed", type=int, help="base seed; each image uses a seed derived from it and its name")
    parser.add_argument("--color-fix", choices=["none", "adain", "wavelet"],
                        help="colour correction of the output towards the LR (default: the run's sample.color_fix)")
    parser.add_argument("--start-point", choices=["lr", "noise"],
                        help="where DDPM starts: SeeSR's noised LR latent (lr) or pure noise (default: the run's sample.start_point)")
    parser.add_argument("--tile", type=int, help="tile size in output pixels (default: training crop size)")
    parser.add_argument("--tile-overlap", type=int, help="overlap of neighbouring tiles in output pixels")
    parser.add_argument("--batch-size", type=int, help="images (of the same size) sampled together")
    parser.add_argument("--precision", choices=["fp32", "fp16", "bf16"], help="weights/activations dtype (default fp32)")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: cuda if available)")
    parser.add_argument("--pretrained", help="override the SD2-base folder/hub id recorded in the run")
    parser.add_argument("--dino", help="override the DINO folder/hub id recorded in the run")
    parser.add_argument("--threads", type=int, help="torch intra-op CPU threads (Snakemake: pass {threads})")
    parser.add_argument("--record", type=Path, help="one job: write a job record (run.json) here for `lgcaa mlflow-sync`")
    parser.add_argument("--experiment", default=None, help="MLflow experiment of the job records (default: <profile>/sr)")


def _sample_settings(cfg, args: argparse.Namespace, steps: int | None, seed: int | None = None):
    over = {
        "steps": steps if steps is not None else args.steps,
        "seed": seed if seed is not None else args.seed, "color_fix": args.color_fix, "start_point": args.start_point, "tile": args.tile, "tile_overlap": args.tile_overlap,
        "batch_size": args.batch_size, "precision": args.precision,
    }
    sample = replace(cfg.sample, **{k: v for k, v in over.items() if v is not None})
    sample.validate("sample")
    return sample


def run(args: argparse.Namespace) -> int:
    import torch

    from lgcaa.model.sampler import load_trained, sample_folder

    if args.threads:
        torch.set_num_threads(args.threads)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if args.config is None:
        if not (args.run_dir and args.lr_dir and args.out):
            raise UserError("give --run-dir, --lr-dir and --out (one job) or --config (jobs of a profile)")
        if args.dataset and len(args.dataset) > 1:
            raise UserError("one job takes one --dataset (the name recorded); use --config for several")
        jobs = [SampleTask(args.run_dir, args.lr_dir, args.out, None, None, args.method, args.record,
                           (args.dataset or [""])[0])]
    else:
        profile = load_config(args.config)
        jobs = sample_tasks(profile, args.run, args.dataset, args.method, args.config)
        adopt_profile(profile)  # provenance (and the <profile>/sr experiment) of a run by hand
    cache: dict[tuple[Path, str], tuple] = {}
    for run_dir, lr_dir, out, steps, seed, method, record_path, dataset in jobs:
        started = time.time()
        precision = args.precision or "fp32"
        key = (Path(run_dir), precision)
        if key not in cache:
            cache.clear()  # one model in memory at a time
            cache[key] = load_trained(run_dir, device, precision, args.pretrained, args.dino)
        net, cfg = cache[key]
        sample = _sample_settings(cfg, args, steps, seed)
        weights = Path(run_dir) / "model.safetensors"
        record = sample_folder(net, cfg, lr_dir, out, sample,
                               extra={"run_dir": str(run_dir), "lr_dir": str(lr_dir), "weights_sha256": sha256_file(weights),
                                      "method": method or Path(run_dir).name})
        if record_path is not None:
            params = flatten("", {k: v for k, v in record.items() if k not in ("seeds",)}, {})
            dataset = dataset or Path(lr_dir).parent.name
            write_record(record_path, experiment_name("sr", args.experiment), f"sample:{record['method']}:{dataset}",
                         params={**params, "dataset": dataset},
                         metrics={"seconds_per_image": record["seconds_per_image"], "seconds": record["seconds"]},
                         artifacts=[str(out / "sample.json")],
                         tags={"method": record["method"], "lpips_backbone": record["lpips_backbone"]},
                         inputs=[dataset_input(f"{dataset}/lr", lr_dir, "lr"),
                                 dataset_input(f"{dataset}/sr/{Path(out).name}", out, "sr")],
                         started=started if len(jobs) > 1 else None,  # one job: the whole process
                         links={"weights": str(weights)}, upstream={"train": record_in(run_dir)})
        print(f"{out}: {record['images']} images, {sample.steps} steps, {record['seconds']} s")
    return 0
