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
from baselines.registry import effective_seed, get, resolve_settings
from baselines.run import RunContext, SrRun, profile_sr_run, run_method, write_settings
from baselines.status import clear_missing, write_missing
from lgcaa.config import load_config
from lgcaa.errors import UserError
from lgcaa.io import check_folder_path
from lgcaa.layout import SETTINGS, beside
from lgcaa.tracking import dataset_input, experiment_name, write_record
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
    method = get(r.method)
    check_folder_path(r.out_dir, "--out-dir")
    try:
        settings = resolve_settings(r.method, r.overrides)
        ctx = RunContext(r.cache_dir, r.imports_dir, r.dataset, r.seed, args.threads)
        summary = run_method(r.method, r.lr_dir, r.out_dir, settings, ctx)
    except UserError as exc:
        write_missing(r.out_dir, r.method, r.dataset, getattr(exc, "reason", str(exc)),
                      getattr(exc, "fix", "fix the cause named in the reason, then rerun this sr job"))
        raise
    clear_missing(r.out_dir)
    seed = effective_seed(settings, r.seed)
    settings_file = beside(r.out_dir, SETTINGS)
    write_settings(settings_file, r, method, settings, seed, summary)
    if args.record:
        params = {"method": r.method, "instance": r.instance, "dataset": r.dataset, "seed": seed,
                  "family": method.family, "runner": summary["runner"],
                  **{f"source.{k}": v for k, v in method.source.items()},
                  **{f"setting.{k}": v for k, v in settings.items()}, **{f"fixed.{k}": v for k, v in method.fixed.items()}}
        if "command" in summary:
            params["command"] = " ".join(summary["command"])
        if "import" in summary:
            params.update({f"import.{k}": v for k, v in summary["import"].items()})
        params.update({f"weights.{w['file']}.sha256": w["sha256"] for w in summary.get("weights", [])})
        dataset = r.dataset or r.lr_dir.parent.name
        write_record(
            args.record, experiment=experiment_name("sr", args.experiment), run_name=f"sr:{r.instance}:{r.dataset}",
            params=params,
            metrics={k: v for k, v in summary.items() if isinstance(v, (int, float)) and not isinstance(v, bool)},
            artifacts=[str(settings_file)],
            inputs=[dataset_input(f"{dataset}/lr", r.lr_dir, "lr"), dataset_input(f"{dataset}/sr/{r.instance}", r.out_dir, "sr")],
        )
    print(f"{r.out_dir}: {summary['n_images']} images ({summary['runner']}, {summary['n_computed']} computed, "
          f"{summary['seconds']:.1f}s)")
    return 0
