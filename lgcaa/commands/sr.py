"""`lgcaa sr`: run one registered SR method on one dataset's LR folder."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--method", required=True)
    parser.add_argument("--lr-dir", required=True, type=Path)
    parser.add_argument("--out-dir", required=True, type=Path)
    parser.add_argument("--settings", default="{}", help="JSON overrides of the method's settings")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--dataset", default="", help="dataset name (recorded)")
    parser.add_argument("--seed", type=int, default=0, help="seed (recorded; used by stochastic methods)")
    parser.add_argument("--experiment", default="sr")
    parser.add_argument("--record", type=Path, default=None, help="write a job record (run.json) here")


def run(args: argparse.Namespace) -> int:
    from baselines.registry import get, resolve_settings
    from baselines.run import run_folder

    settings = resolve_settings(args.method, json.loads(args.settings))
    summary = run_folder(args.method, args.lr_dir, args.out_dir, settings, threads=args.threads)
    if args.record:
        from lgcaa.io import write_json
        from lgcaa.tracking import write_record

        settings_file = args.out_dir.parent / f"{args.out_dir.name}.settings.json"
        method = get(args.method)
        write_json(settings_file, {"method": args.method, "settings": settings, "source": method.source, "seed": args.seed})
        write_record(
            args.record, experiment=args.experiment, run_name=f"sr:{args.method}:{args.dataset}",
            params={"method": args.method, "dataset": args.dataset, "seed": args.seed, "family": method.family,
                    **{f"setting.{k}": v for k, v in settings.items()}},
            metrics={k: v for k, v in summary.items()},
            artifacts=[str(settings_file)],
        )
    print(f"{args.out_dir}: {summary['n_images']} images ({summary['n_computed']} computed, {summary['seconds']:.1f}s)")
    return 0
