"""`lgcaa sr`: run one registered SR method on one dataset's LR folder (or materialise its imported outputs).

  lgcaa sr --config PROFILE --dataset D --method INSTANCE      a job of the profile (what the DAG runs)
  lgcaa sr --method NAME --lr-dir DIR --out-dir DIR [--settings JSON] [--seed N] [--dataset D]   ad hoc

With --config everything comes from the profile (lgcaa.instances.find_sr_job): the base method and its settings
(`baselines`, `instances`), the seed instance, the LR and output folders, the cache and imports folders.
On success: `<out-dir>/*.png`, `<out-dir>.settings.json` (settings, fixed settings, effective seed, source,
weights, command line or import record) and, with --record, a job record that `lgcaa mlflow-sync` logs.
On failure: exit 2 with one line naming what is missing and the fix, nothing new in `<out-dir>`, and
`<out-dir>.missing.json` = {reason, fix} (baselines.status).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from baselines.imports import imports_dir
from baselines.run import SrRun, profile_sr_run, run_sr_job, sr_line
from lgcaa.config import load_config
from lgcaa.errors import UserError
from lgcaa.weights.roots import cache_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default=None,
                        help="profile name or config file: run its job (--dataset, --method = the method instance)")
    parser.add_argument("--method", required=True,
                        help="registry method (lgcaa baselines list); with --config a method instance of the profile")
    parser.add_argument("--dataset", default="", help="dataset name (recorded; selects an imported output folder)")
    parser.add_argument("--lr-dir", type=Path, default=None, help="without --config: folder of LR PNGs")
    parser.add_argument("--out-dir", type=Path, default=None, help="without --config: output folder")
    parser.add_argument("--settings", default="{}", help="without --config: JSON overrides of the method's settings")
    parser.add_argument("--seed", type=int, default=0,
                        help="without --config: seed for methods whose authors leave it unset (recorded)")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="without --config: weights/checkouts/environments (default $LGCAA_CACHE_DIR or results/cache)")
    parser.add_argument("--imports", type=Path, default=None,
                        help="without --config: imported outputs (default $LGCAA_IMPORTS_DIR or results/imports)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads of the method (Snakemake: {threads})")
    parser.add_argument("--experiment", default=None, help="MLflow experiment of the job record (default: <profile>/sr)")
    parser.add_argument("--record", type=Path, default=None, help="write a job record (run.json) here for `lgcaa mlflow-sync`")


def resolve(args: argparse.Namespace) -> SrRun:
    """The run from the profile's job (--config) or from the ad-hoc flags."""
    if args.config is not None:
        return profile_sr_run(load_config(args.config), args.dataset, args.method)
    if args.lr_dir is None or args.out_dir is None:
        raise UserError("lgcaa sr: give --config PROFILE (a job of the profile) or --lr-dir and --out-dir")
    try:
        overrides = json.loads(args.settings)
    except json.JSONDecodeError as exc:
        raise UserError(f"--settings is not JSON ({exc}); pass e.g. '{{\"tile\": 256}}'") from None
    return SrRun(args.method, args.method, args.dataset, args.lr_dir, args.out_dir, overrides, args.seed,
                 cache_dir(args.cache_dir), imports_dir(args.imports))


def run(args: argparse.Namespace) -> int:
    r = resolve(args)
    summary = run_sr_job(r, args.threads, args.record, args.experiment)
    print(sr_line(r, summary))
    return 0
