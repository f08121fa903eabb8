"""`lgcaa metrics ACTION`: checks of the metrics themselves against published numbers.

  lgcaa metrics golden SR_DIR HR_DIR --log LOG [--out JSON]   score a peer's published outputs with our protocol
                                                               and compare with the peer's own per-image log
                                                               (OSEDiff's test_METRICS_*.log)
  lgcaa metrics compare-log --config PROFILE --dataset D --method M   the same check on the DAG's own evaluation of
                                                               M on D (its per_image.csv) against M's published log
                                                               (<results>/checks/golden-<D>-<M>.json; the report shows it)
  lgcaa metrics calibrate [--config PROFILE] [--mirror DIR|URL]   the calibration gate: every metric whose weights
                                                               are here scores IQA-PyTorch's calibration pairs
                                                               against the official values (lgcaa.metrics.calibrate)
Both write their result as JSON (golden: --out; calibrate: <results>/checks/calibration.json of the profile, or
--out; `lgcaa report html` shows every `<results>/checks/*.json`), print one line per metric, and exit 2 with
one line naming each drifting metric (image, expected and measured value) when any metric is off.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lgcaa.errors import UserError


class MetricDrift(UserError):
    """A metric's value differs from the published one beyond its tolerance."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("golden", help="score a peer's published outputs and compare with its per-image log")
    p.add_argument("sr_dir", type=Path, help="the peer's published SR outputs (PNG)")
    p.add_argument("hr_dir", type=Path, help="the HR references (PNG, same names and sizes)")
    p.add_argument("--log", type=Path, required=True, help="the peer's per-image log (OSEDiff's test_METRICS_*.log)")
    p.add_argument("--out", type=Path, default=None,
                   help="write the comparison here as JSON (the report shows <results>/checks/*.json)")
    p.add_argument("--metrics", default=None,
                   help="comma-separated metrics to check (default: every per-image metric of the log)")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (cuda when available)")
    p.add_argument("--workers", type=int, default=None, help="evaluator threads (default: as `lgcaa eval`)")


    from lgcaa.commands.args import add_config
    from lgcaa.data.files import MIRROR_ENV

    p = sub.add_parser("compare-log", help="compare the DAG's evaluation of a method whose outputs are published "
                                           "with the authors' own per-image log (writes the record even on drift)")
    add_config(p, "its results folder (the evaluation, the imports, <results>/checks/)")
    p.add_argument("--dataset", required=True, help="a dataset of the profile")
    p.add_argument("--method", required=True, help="a method with a published log for that dataset (e.g. osediff)")
    p.add_argument("--out", type=Path, default=None,
                   help="default: the profile's <results>/checks/golden-<dataset>-<method>.json")
    from lgcaa.metrics.registry import names

    p = sub.add_parser("calibrate", help="score IQA-PyTorch's calibration pairs with every metric whose weights are "
                                         "here and compare with the official values (stops on drift)")
    add_config(p, "its metrics, cache folder and <results>/checks/calibration.json")
    p.add_argument("--metrics", default=None,
                   help=f"comma-separated metrics (default: the profile's; without --config {','.join(names())})")
    p.add_argument("--mirror", default=None,
                   help=f"local folder or http(s) URL holding the calibration files (default ${MIRROR_ENV}; "
                        "unset: the raw GitHub URLs at the pinned commit)")
    p.add_argument("--cache", type=Path, default=None, help="download cache (default: the profile's cache folder)")
    p.add_argument("--out", type=Path, default=None,
                   help="write the result here (default: the profile's <results>/checks/calibration.json)")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (cuda when available)")


def run(args: argparse.Namespace) -> int:
    if args.action == "golden":
        return _golden(args)
    if args.action == "calibrate":
        return _calibrate(args)
    if args.action == "compare-log":
        return _compare_log(args)
    raise UserError(f"unknown action {args.action}")


def _calibrate(args: argparse.Namespace) -> int:
    from lgcaa.config import load_config
    from lgcaa.io import write_json
    from lgcaa.metrics.calibrate import (
        CalibrationDrift,
        calibrate,
        calibration_job,
        calibration_lines,
        calibration_summary,
        drift_line,
        fetch_pairs,
    )
    from lgcaa.metrics.evaluate import resolve_device

    job = calibration_job(load_config(args.config), args.metrics, args.cache, args.out)
    result = calibrate(job.metrics, fetch_pairs(job.cache, args.mirror), resolve_device(args.device))
    for line in calibration_lines(result):
        print(line)
    if not result["ok"]:  # the record is not written: a rerun redoes the check (and the DAG stays stopped)
        raise CalibrationDrift(drift_line(result))
    write_json(job.out, result)
    print(calibration_summary(job.out, result, job.metrics))
    return 0


def _golden(args: argparse.Namespace) -> int:
    from lgcaa.io import write_json
    from lgcaa.metrics.evaluate import resolve_device
    from lgcaa.metrics.peer_log import drift_lines, golden_check, golden_lines
    from lgcaa.metrics.registry import split_names

    metrics = split_names(args.metrics) if args.metrics else None
    check = golden_check(args.sr_dir, args.hr_dir, args.log, device=resolve_device(args.device),
                         workers=args.workers, metrics=metrics)
    if args.out:
        write_json(args.out, {"check": "golden", **check})
    for line in golden_lines(check):
        print(line)
    if not check["ok"]:
        raise MetricDrift(f"{args.sr_dir} vs {args.log}: " + "; ".join(drift_lines(check)))
    return 0


def _compare_log(args: argparse.Namespace) -> int:
    import sys

    from lgcaa.config import load_config
    from lgcaa.metrics.job import check_published_log
    from lgcaa.metrics.peer_log import compare_log_line, drift_lines

    out, check = check_published_log(load_config(args.config), args.dataset, args.method, args.out)
    print(compare_log_line(out, check))
    for line in drift_lines(check):  # shown in the report too; the record stays so that it can be
        print(f"drift: {line}", file=sys.stderr)
    return 0
