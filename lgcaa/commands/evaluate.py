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
from lgcaa.metrics.evaluate import (  # torch, pyiqa
    DEFAULT_BATCH_PIXELS,
    evaluate,
    resolve_device,
    write_evaluation,
)
from lgcaa.metrics.job import eval_lines, eval_request, write_eval_record
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


def run(args: argparse.Namespace) -> int:
    import json

    cfg = load_config(args.config) if args.config is not None else None
    req = eval_request(cfg, args.config, args.dataset, args.method, args.sr_dir, args.hr_dir, args.out, args.metrics,
                       args.expected_count, args.mlflow_images)
    device = resolve_device(args.device)
    with Progress(req.label, unit="scores") as bar:
        ev = evaluate(req.sr_dir, req.hr_dir, req.metrics, device=device,
                      batch_pixels=args.batch_pixels or DEFAULT_BATCH_PIXELS, workers=args.workers,
                      max_memory=parse_bytes(args.max_memory) if args.max_memory else None, progress=bar)
    if req.out:
        write_evaluation(req.out, ev, req.extra)
        if args.record:
            write_eval_record(args.record, ev, req.out, req.sr_dir, req.hr_dir, req.dataset, req.method, req.metrics,
                              device, args.experiment, req.mlflow_images)
    for line in eval_lines(ev, device):
        print(line)
    if not req.out:
        print(json.dumps(ev.aggregate["metrics"], indent=2))
    return 0
