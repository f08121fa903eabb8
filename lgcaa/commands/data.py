"""`lgcaa data build-mini`: build one offline mini test set from a profile's dataset entry."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("build-mini", help="build a mini test set (offline photos) into OUT")
    p.add_argument("--dataset", required=True, help="dataset name (recorded in the manifest, seeds the degradation)")
    p.add_argument("--photos", required=True, help="comma-separated photo names (lgcaa.data.photos.PHOTOS)")
    p.add_argument("--hr-size", type=int, required=True)
    p.add_argument("--scale", type=int, required=True)
    p.add_argument("--lr-kind", required=True, choices=["bicubic", "realesrgan"])
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--experiment", default="data")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--record", type=Path, default=None, help="write a job record (run.json) here")


def run(args: argparse.Namespace) -> int:
    from lgcaa.data.mini import build_mini_dataset

    photos = [p for p in args.photos.split(",") if p]
    manifest = build_mini_dataset(args.out, args.dataset, photos, args.hr_size, args.scale, args.lr_kind, args.seed)
    if args.record:
        from lgcaa.tracking import write_record

        write_record(
            args.record, experiment=args.experiment, run_name=f"data:{args.dataset}",
            params={"dataset": args.dataset, "lr_kind": args.lr_kind, "seed": args.seed, "hr_size": args.hr_size,
                    "scale": args.scale, "photos": ",".join(photos)},
            metrics={"n_images": manifest["count"]}, artifacts=[str(args.out / "manifest.json")],
        )
    print(f"{args.out}: {manifest['count']} pairs")
    return 0
