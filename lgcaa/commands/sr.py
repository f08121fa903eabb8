"""`lgcaa sr`: run one registered SR method on one dataset's LR folder (or materialise its imported outputs).

On success: `<out-dir>/*.png`, `<out-dir>.settings.json` (settings, fixed settings, effective seed, source,
weights, command line or import record) and, with --record, a job record that `lgcaa mlflow-sync` logs.
On failure: exit 2 with one line naming what is missing and the fix, nothing new in `<out-dir>`, and
`<out-dir>.missing.json` = {reason, fix} for the table step (baselines.status.sr_state).
"""

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
    parser.add_argument("--dataset", default="", help="dataset name (recorded; selects an imported output folder)")
    parser.add_argument("--seed", type=int, default=0, help="seed for methods whose authors leave it unset (recorded)")
    parser.add_argument("--experiment", default="sr")
    parser.add_argument("--record", type=Path, default=None, help="write a job record (run.json) here")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="weights/checkouts/environments (default $LGCAA_CACHE_DIR or results/cache)")
    parser.add_argument("--imports", type=Path, default=None,
                        help="imported published outputs (default $LGCAA_IMPORTS_DIR or results/imports)")


def run(args: argparse.Namespace) -> int:
    from baselines.imports import imports_dir
    from baselines.registry import effective_seed, get, resolve_settings
    from baselines.run import RunContext, run_method
    from baselines.status import clear_missing, write_missing
    from lgcaa.errors import UserError
    from lgcaa.io import check_folder_path
    from lgcaa.weights.roots import cache_dir

    method = get(args.method)
    check_folder_path(args.out_dir, "--out-dir")
    try:
        try:
            overrides = json.loads(args.settings)
        except json.JSONDecodeError as exc:
            raise UserError(f"--settings is not JSON ({exc}); pass e.g. '{{\"tile\": 256}}'") from None
        settings = resolve_settings(args.method, overrides)
        ctx = RunContext(cache_dir(args.cache_dir), imports_dir(args.imports), args.dataset, args.seed, args.threads)
        summary = run_method(args.method, args.lr_dir, args.out_dir, settings, ctx)
    except UserError as exc:
        write_missing(args.out_dir, args.method, args.dataset, getattr(exc, "reason", str(exc)),
                      getattr(exc, "fix", "fix the cause named in the reason, then rerun this sr job"))
        raise
    clear_missing(args.out_dir)
    seed = effective_seed(settings, args.seed)
    settings_file = args.out_dir.parent / f"{args.out_dir.name}.settings.json"
    _write_settings(settings_file, args, method, settings, seed, summary, ctx)
    if args.record:
        from lgcaa.tracking import write_record

        params = {"method": args.method, "dataset": args.dataset, "seed": seed, "family": method.family,
                  "runner": summary["runner"], **{f"source.{k}": v for k, v in method.source.items()},
                  **{f"setting.{k}": v for k, v in settings.items()}, **{f"fixed.{k}": v for k, v in method.fixed.items()}}
        if "command" in summary:
            params["command"] = " ".join(summary["command"])
        if "import" in summary:
            params.update({f"import.{k}": v for k, v in summary["import"].items()})
        write_record(
            args.record, experiment=args.experiment, run_name=f"sr:{args.method}:{args.dataset}", params=params,
            metrics={k: v for k, v in summary.items() if isinstance(v, (int, float)) and not isinstance(v, bool)},
            artifacts=[str(settings_file)],
        )
    print(f"{args.out_dir}: {summary['n_images']} images ({summary['runner']}, {summary['n_computed']} computed, "
          f"{summary['seconds']:.1f}s)")
    return 0


def _write_settings(path: Path, args: argparse.Namespace, method, settings: dict, seed: int, summary: dict, ctx) -> None:
    """`weights`: the files actually used, each with the sha256 computed from it (verified before the run);
    `declared_weights`: the registry's entries (URL, published digest or null)."""
    from lgcaa.io import write_json

    write_json(path, {
        "method": args.method, "dataset": args.dataset, "runner": summary["runner"], "settings": settings,
        "fixed": method.fixed, "seed": seed, "source": method.source, "licence": method.licence,
        "weights": summary.get("weights", []),
        "declared_weights": [{"file": w.dest, "url": w.urls[0], "sha256": w.sha256} for w in method.weights],
        **{k: summary[k] for k in ("command", "log", "import") if k in summary},
    })
