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

from lgcaa.config import expected_pairs, load_config
from lgcaa.errors import UserError, check_known
from lgcaa.instances import sample_jobs, sr_pairs
from lgcaa.layout import AGGREGATE, LOCK, PER_IMAGE, Layout, sr_record_of
from lgcaa.metrics.evaluate import DEFAULT_BATCH_PIXELS, evaluate, write_evaluation  # torch, pyiqa
from lgcaa.metrics.memory import parse_bytes
from lgcaa.metrics.registry import names as metric_names
from lgcaa.progress import Progress
from lgcaa.tracking import dataset_input, experiment_name, write_record

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


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def run(args: argparse.Namespace) -> int:
    import json

    if args.config is not None:
        _from_profile(args)
    elif args.sr_dir is None or args.hr_dir is None:
        raise UserError("lgcaa eval: give SR_DIR HR_DIR, or --config PROFILE --dataset D --method M")
    if not args.sr_dir.is_dir():
        raise UserError(_missing_sr(args))
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
            ok = {m: s["mean"] for m, s in ev.aggregate["metrics"].items() if s["status"] == "ok"}
            dataset = args.dataset or args.hr_dir.parent.name
            inputs = [dataset_input(f"{dataset}/sr/{args.method or args.sr_dir.name}", args.sr_dir, "sr", ev.digests["sr"]),
                      dataset_input(f"{dataset}/hr", args.hr_dir, "hr", ev.digests["hr"])]
            write_record(
                args.record, experiment=experiment_name("eval", args.experiment),
                run_name=f"eval:{args.method}:{args.dataset}",
                params={"method": args.method, "dataset": args.dataset, "lock": ev.aggregate["lock"],
                        "n_images": ev.aggregate["n_images"], "metrics": ",".join(metrics), "device": device,
                        **{f"missing.{m}": s["reason"] for m, s in ev.aggregate["metrics"].items() if s["status"] != "ok"}},
                metrics={**ok, "eval_seconds": round(ev.timing["total_s"], 3)},
                artifacts=[str(args.out / name) for name in (PER_IMAGE, AGGREGATE, LOCK)],
                tags={"lgcaa.lock": ev.aggregate["lock"]},
                inputs=inputs,
                upstream={"sr": sr_record_of(args.sr_dir)},
            )
    for m, s in ev.aggregate["metrics"].items():
        print(f"{m:8s} " + (f"{s['mean']:.4f}" if s["status"] == "ok" else f"missing: {s['reason']} (fix: {s['fix']})"))
    print(f"N={ev.aggregate['n_images']} lock={ev.aggregate['lock']} device={device} "
          f"time={ev.timing['total_s']:.1f}s (metric forward {ev.timing['forward_total_s']:.1f}s)")
    if not args.out:
        print(json.dumps(ev.aggregate["metrics"], indent=2))
    return 0


def _from_profile(args: argparse.Namespace) -> None:
    """Fill the folders, metrics and expected count of the profile's job (dataset, method instance)."""
    cfg = load_config(args.config)
    if (args.dataset, args.method) not in sr_pairs(cfg):
        raise UserError(f"profile '{cfg['profile']}' has no SR job for method '{args.method}' on dataset "
                        f"'{args.dataset}'; see `lgcaa config show {args.config}`")
    layout = Layout.of(cfg)
    args.sr_dir, args.hr_dir = Path(layout.sr_dir(args.dataset, args.method)), Path(layout.hr_dir(args.dataset))
    args.out = Path(layout.metrics_dir(args.dataset, args.method))
    args.metrics = ",".join(cfg["metrics"])
    args.expected_count = expected_pairs(cfg["datasets"][args.dataset])


def _missing_sr(args: argparse.Namespace) -> str:
    """The one line for an SR folder that does not exist: which job makes it (SR outputs are not a dataset)."""
    where = f"{args.sr_dir}: SR folder not found; it is made by "
    if args.config is None:
        return where + ("an SR job: `lgcaa sr --method NAME --lr-dir LR_DIR --out-dir "
                        f"{args.sr_dir}` (or the DAG's rule `sr`/`sample`), then rerun this command")
    cfg = load_config(args.config)
    sampled = {(j.dataset, j.method) for j in sample_jobs(cfg)}
    if (args.dataset, args.method) in sampled:
        job = f"the DAG's rule `sample` (`lgcaa sample --config {args.config} --dataset {args.dataset} --method {args.method}`)"
    else:
        job = f"the DAG's rule `sr` (`lgcaa sr --config {args.config} --dataset {args.dataset} --method {args.method}`)"
    return where + job + f", or let the DAG make and score it: `snakemake --cores 1 {Layout.of(cfg).aggregate(args.dataset, args.method)}`"
