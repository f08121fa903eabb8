"""`lgcaa eval SR_DIR HR_DIR`: score SR outputs against HR with the pinned protocol."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_METRICS = "psnr,ssim,lpips,dists,fid,musiq,clipiqa,niqe,maniqa"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sr_dir", type=Path)
    parser.add_argument("hr_dir", type=Path)
    parser.add_argument("--out", type=Path, default=None, help="folder for per_image.csv, lock.json, aggregate.json")
    parser.add_argument("--metrics", default=DEFAULT_METRICS, help="comma-separated metric names")
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto")
    parser.add_argument("--dataset", default="")
    parser.add_argument("--method", default="")
    parser.add_argument("--expected-count", type=int, default=None)
    parser.add_argument("--experiment", default="eval")
    parser.add_argument("--record", type=Path, default=None, help="write a job record (run.json) here")


def run(args: argparse.Namespace) -> int:
    import json

    from lgcaa.metrics.evaluate import evaluate, write_evaluation

    device = args.device
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    metrics = [m for m in args.metrics.split(",") if m]
    ev = evaluate(args.sr_dir, args.hr_dir, metrics, device=device)
    extra = {"dataset": args.dataset, "method": args.method, "sr_dir": str(args.sr_dir), "hr_dir": str(args.hr_dir),
             "expected_count": args.expected_count}
    if args.out:
        write_evaluation(args.out, ev, extra)
        if args.record:
            from lgcaa.tracking import write_record

            ok = {m: s["mean"] for m, s in ev.aggregate["metrics"].items() if s["status"] == "ok"}
            write_record(
                args.record, experiment=args.experiment, run_name=f"eval:{args.method}:{args.dataset}",
                params={"method": args.method, "dataset": args.dataset, "lock": ev.aggregate["lock"],
                        "n_images": ev.aggregate["n_images"], "metrics": ",".join(metrics),
                        **{f"missing.{m}": s["reason"] for m, s in ev.aggregate["metrics"].items() if s["status"] != "ok"}},
                metrics=ok,
                artifacts=[str(args.out / "per_image.csv"), str(args.out / "aggregate.json"), str(args.out / "lock.json")],
                tags={"lgcaa.lock": ev.aggregate["lock"]},
            )
    for m, s in ev.aggregate["metrics"].items():
        print(f"{m:8s} " + (f"{s['mean']:.4f}" if s["status"] == "ok" else f"missing: {s['reason']} (fix: {s['fix']})"))
    print(f"N={ev.aggregate['n_images']} lock={ev.aggregate['lock']}")
    if not args.out:
        print(json.dumps(ev.aggregate["metrics"], indent=2))
    return 0
