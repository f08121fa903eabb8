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
The jobs run, and their records are written, in lgcaa.model.sample_job.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lgcaa.config import load_config
from lgcaa.errors import UserError
from lgcaa.instances import SampleTask, sample_tasks
from lgcaa.model.sample_job import SampleOverrides, run_sample_tasks
from lgcaa.tracking import adopt_profile


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


def run(args: argparse.Namespace) -> int:
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.config is None:
        if not (args.run_dir and args.lr_dir and args.out):
            raise UserError("give --run-dir, --lr-dir and --out (one job) or --config (jobs of a profile)")
        if args.dataset and len(args.dataset) > 1:
            raise UserError("one job takes one --dataset (the name recorded); use --config for several")
        tasks = [SampleTask(args.run_dir, args.lr_dir, args.out, None, None, args.method, args.record,
                            (args.dataset or [""])[0])]
    else:
        profile = load_config(args.config)
        tasks = sample_tasks(profile, args.run, args.dataset, args.method, args.config)
        adopt_profile(profile)  # provenance (and the <profile>/sr experiment) of a run by hand
    over = SampleOverrides(steps=args.steps, seed=args.seed, color_fix=args.color_fix, start_point=args.start_point,
                           tile=args.tile, tile_overlap=args.tile_overlap, batch_size=args.batch_size,
                           precision=args.precision)
    for done in run_sample_tasks(tasks, over, args.device, args.pretrained, args.dino, args.experiment):
        print(done.line())
    return 0
