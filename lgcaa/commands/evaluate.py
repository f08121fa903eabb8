"""`lgcaa eval SR_DIR HR_DIR`: score SR outputs against HR with the pinned protocol.

  lgcaa eval SR_DIR HR_DIR [--out DIR] [--metrics a,b]           standalone: any SR folder against its HR folder
  lgcaa eval --config PROFILE --dataset D --method INSTANCE      a job of the profile (what the DAG runs): its
                                                                 folders (lgcaa.layout), metrics, expected count
Standalone: any SR method's output folder can be scored against its HR folder (same PNG names, same sizes).
Writes per_image.csv (image, metric, value), lock.json and aggregate.json to --out; prints one line per
metric (mean, or why it is missing and the fix), N and the protocol lock.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lgcaa.config import load_config
from lgcaa.errors import UserError, check_known
from lgcaa.metrics.evaluate import DEFAULT_BATCH_PIXELS, evaluate, write_evaluation  # torch, pyiqa
from lgcaa.metrics.job import eval_job, missing_sr_line, write_eval_record
from lgcaa.metrics.memory import parse_bytes
from lgcaa.metrics.registry import names as metric_names
from lgcaa.progress import Progress
from lgcaa.tracking import SR_IMAGES

DEFAULT_METRICS = ",".join(metric_names())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sr_dir", type=Path, nargs="?", help="folder of SR outputs (PNG); not with --config")
    parser.add_argument("hr_dir", type=Path, nargs="?", help="folder of HR references (PNG, same names and sizes)")
    parser.add_argument("--config", default=None,
                        help="profile name or config file: score its job (--dataset, --method) with its metrics")
    parser.add_argument("--out", type=Path, default=None, help="folder for per_image.csv, lock.json, aggregate.json")
    parser.add_argument("--metrics", default=DEFAULT_METRICS, help=f"comma-separated metric names (default {DEFAULT_METRICS})")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (cuda when available)")
    parser.add_argument("--batch-pixels", type=int, default=None,
                        help="max pixels per forward batch of same-size images (default 4x512x512)")
    parser.add_argument("--workers", type=int, default=None,
                        help="evaluator threads (default: CPU cores granted, i.e. OMP_NUM_THREADS when set, max 8; "
                             "4 on a GPU), fewer when the memory available does not fit that many")
    parser.add_argument("--max-memory", default=None,
                        help="memory the evaluator may use, e.g. 8G (default $LGCAA_EVAL_MEMORY, else what the machine "
                             "or cgroup has available); a pair that cannot fit is refused naming it")
    parser.add_argument("--dataset", default="", help="dataset name (recorded; with --config: which job)")
    parser.add_argument("--method", default="", help="method instance (recorded; with --config: which job)")
    parser.add_argument("--expected-count", type=int, default=None,
                        help="images the dataset should have; stored in the aggregate, checked by `lgcaa table`")
    parser.add_argument("--experiment", default=None, help="MLflow experiment of the job record (default: <profile>/eval)")
    parser.add_argument("--record", type=Path, default=None, help="write a job record (run.json) here for `lgcaa mlflow-sync`")
    parser.add_argument("--mlflow-images", type=int, default=None, metavar="N",
                        help="with --record: the first N SR outputs by file name go into the record, and MLflow "
                             f"shows them in the run's sr/ artifacts (default: the profile's report.mlflow_images "
                             f"with --config, else {SR_IMAGES}; 0: none)")


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def run(args: argparse.Namespace) -> int:
    import json

    cfg = load_config(args.config) if args.config is not None else None
    if cfg is not None:
        job = eval_job(cfg, args.dataset, args.method, args.config)
        args.sr_dir, args.hr_dir, args.out = job.sr_dir, job.hr_dir, job.out
        args.metrics, args.expected_count = ",".join(job.metrics), job.expected_count
        if args.mlflow_images is None:
            args.mlflow_images = cfg.get("report", {}).get("mlflow_images", SR_IMAGES)
    elif args.sr_dir is None or args.hr_dir is None:
        raise UserError("lgcaa eval: give SR_DIR HR_DIR, or --config PROFILE --dataset D --method M")
    if not args.sr_dir.is_dir():
        raise UserError(missing_sr_line(args.sr_dir, cfg, args.config, args.dataset, args.method))
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    if not metrics:
        raise UserError("--metrics is empty; name at least one metric")
    check_known("metric", metrics, metric_names())  # every unknown name at once, before any work
    device = resolve_device(args.device)
    label = f"eval {args.method or args.sr_dir.name} on {args.dataset or args.hr_dir.parent.name}"
    with Progress(label, unit="scores") as bar:
        ev = evaluate(args.sr_dir, args.hr_dir, metrics, device=device,
                      batch_pixels=args.batch_pixels or DEFAULT_BATCH_PIXELS, workers=args.workers,
                      max_memory=parse_bytes(args.max_memory) if args.max_memory else None, progress=bar)
    extra = {"dataset": args.dataset, "method": args.method, "sr_dir": str(args.sr_dir), "hr_dir": str(args.hr_dir),
             "expected_count": args.expected_count}
    if args.out:
        write_evaluation(args.out, ev, extra)
        if args.record:
            write_eval_record(args.record, ev, args.out, args.sr_dir, args.hr_dir, args.dataset, args.method, metrics,
                              device, args.experiment, args.mlflow_images)
    for m, s in ev.aggregate["metrics"].items():
        print(f"{m:8s} " + (f"{s['mean']:.4f}" if s["status"] == "ok" else f"missing: {s['reason']} (fix: {s['fix']})"))
    print(f"N={ev.aggregate['n_images']} lock={ev.aggregate['lock']} device={device} "
          f"time={ev.timing['total_s']:.1f}s (metric forward {ev.timing['forward_total_s']:.1f}s)")
    if not args.out:
        print(json.dumps(ev.aggregate["metrics"], indent=2))
    return 0
