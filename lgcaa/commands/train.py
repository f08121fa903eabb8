"""`lgcaa train`: train LGCAA (or ablation runs) of a profile's "model" section; resumes automatically.

  lgcaa train --config mini --run lgcaa --out results/models/lgcaa
  lgcaa train --config mini --run lgcaa-attn-local --run lgcaa-attn-global --out-root results/models
  accelerate launch -m lgcaa train --config paper --run lgcaa --out results/models/lgcaa   (multi-GPU DDP)

A profile with `model.prepare` trains on the tiny backbone `lgcaa prepare-backbone` wrote into
<results>/backbone (recorded as model.pretrained in the run's config.json).

Each run folder gets config.json, metrics.jsonl, checkpoints/, model.safetensors, samples/, run.json and,
written last, train.json. Several runs in one process share the import/startup cost (mini profile).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lgcaa.tracking import adopt_profile, experiment_name


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default="mini", help="profile name or config file (default: mini)")
    parser.add_argument("--run", action="append", default=[], help="run name in model.runs (repeatable); default: base settings")
    out = parser.add_mutually_exclusive_group(required=True)
    out.add_argument("--out", type=Path, help="run folder (one --run)")
    out.add_argument("--out-root", type=Path, help="parent folder; each run trains into <out-root>/<run>")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="override a setting for every run, e.g. train.steps=10 or model.attention=local")
    parser.add_argument("--mlflow-uri", help="also show the training live in the harness's MLflow store "
                        "sqlite:///<results>/mlflow.db (e.g. sqlite:///results/mlflow.db); the DAG's mlflow-sync "
                        "then completes that run instead of logging a second one")
    parser.add_argument("--cpu", action="store_true", help="force CPU even when a GPU is present")
    parser.add_argument("--preview", type=int, help="held-out crops sampled into samples/ at the end (default: train.preview_images)")
    parser.add_argument("--threads", type=int, help="torch intra-op CPU threads (Snakemake: pass {threads})")


def run(args: argparse.Namespace) -> int:
    from lgcaa.config import load_config
    from lgcaa.errors import UserError
    from lgcaa.model.config import train_configs, train_run_dir
    from lgcaa.model.trainer import train

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.mlflow_uri:
        from lgcaa.mlflow_store import results_of

        results_of(args.mlflow_uri)  # refused now, not after the network is built
    profile = load_config(args.config)
    adopt_profile(profile)
    runs = args.run or [None]
    configs = train_configs(profile, runs, args.set, args.config)
    if args.out is not None and len(runs) > 1:
        raise UserError("--out takes one --run; use --out-root for several runs")
    for name, cfg in configs:
        run_dir = train_run_dir(name, args.out, args.out_root)
        train(cfg, run_dir, run_name=name or run_dir.name, mlflow_uri=args.mlflow_uri, cpu=args.cpu,
              preview_count=args.preview, experiment=experiment_name("train"))
    return 0
