"""`lgcaa metrics ACTION`: checks of the metrics themselves against published numbers.

  lgcaa metrics golden SR_DIR HR_DIR --log LOG [--out JSON]   score a peer's published outputs with our protocol
                                                               and compare with the peer's own per-image log
                                                               (OSEDiff's test_METRICS_*.log)
Writes the comparison as JSON (--out; `lgcaa report html` shows every `<results>/checks/*.json`), prints one
line per metric, and exits 2 with one line per drifting metric when any metric is off.
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


def run(args: argparse.Namespace) -> int:
    if args.action == "golden":
        return _golden(args)
    raise UserError(f"unknown action {args.action}")


def _golden(args: argparse.Namespace) -> int:
    from lgcaa.commands.evaluate import resolve_device
    from lgcaa.io import write_json
    from lgcaa.metrics.peer_log import drift_lines, golden_check

    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else None
    check = golden_check(args.sr_dir, args.hr_dir, args.log, device=resolve_device(args.device),
                         workers=args.workers, metrics=metrics)
    if args.out:
        write_json(args.out, {"check": "golden", **check})
    for m, r in check["metrics"].items():
        if "max_abs_diff" in r:
            print(f"{m:8s} {r['status']:7s} max |Δ| per image {r['max_abs_diff']:.3g} (≤ {r['tolerance_per_image']:g}; "
                  f"{r['worst_image']}), mean ours {r['mean_ours']:.4f} vs log {r.get('mean_log', float('nan')):.4f} "
                  f"(|Δ| {r.get('mean_abs_diff', float('nan')):.3g} ≤ {r['tolerance_mean']:g})")
        else:
            print(f"{m:8s} {r['status']}: {r['reason']}")
    print(f"N={check['n_images']} lock={check['lock']} time={check['seconds']}s log={check['log']}")
    if not check["ok"]:
        raise MetricDrift(f"{args.sr_dir} vs {args.log}: " + "; ".join(drift_lines(check)))
    return 0
