"""`lgcaa plan`: before a long run, every job of a profile with its estimated GPU-/CPU-hours and the totals,
and every missing input (weights, datasets, authors' code, GPU, disk) with the command that fixes it.

  lgcaa plan                       # the embedded mini profile
  lgcaa plan --config paper        # the paper run: cost table + readiness; exit 1 while anything is missing
  lgcaa plan --config paper --train-gpus 8 --slurm   # 8-GPU training jobs; GPUs looked for in SLURM (sinfo)
  lgcaa plan --config paper --gpus 8               # per-stage subtotals and the wall-clock on 8 GPUs

Exit status: 0 when every input is present, 1 when something is missing (the lines say what and how to fix it).
"""

from __future__ import annotations

import argparse

from lgcaa.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default="mini", help="profile name or config file (default: mini)")
    parser.add_argument("--train-gpus", type=int, default=None,
                        help="GPUs per training job (as --set-resources train:gpu=N; default 1, none for the CPU arch)")
    parser.add_argument("--slurm", action="store_true",
                        help="look for GPUs in the SLURM partitions (sinfo) instead of on this machine")
    parser.add_argument("--gpus", type=int, default=1,
                        help="GPUs the run may use at once: the plan prints the wall-clock of the GPU work on that many")
    parser.add_argument("--totals-only", action="store_true", help="print totals, rates and readiness, not every job")


def run(args: argparse.Namespace) -> int:
    from lgcaa.config import load_config
    from lgcaa.plan.jobs import plan_jobs, totals
    from lgcaa.plan.readiness import readiness
    from lgcaa.plan.render import render

    if args.gpus < 1:
        raise UserError(f"--gpus {args.gpus}: give at least 1")
    cfg = load_config(args.config)
    jobs = plan_jobs(cfg, args.train_gpus)
    missing = readiness(cfg, jobs, "slurm" if args.slurm else "local")
    print(render(cfg["profile"], jobs, totals(jobs), missing, show_jobs=not args.totals_only,
                 gpus=args.gpus))
    return 1 if missing else 0
