"""`lgcaa data ACTION`: list, fetch, verify, regenerate and compare datasets; build the offline mini sets.

    lgcaa data list                                  registry table + what is on disk
    lgcaa data fetch realsr                          DVC if recorded there, else download + verify + unpack
    lgcaa data fetch realsr --mirror ../shared/data  the same files from a local mirror (or $LGCAA_DATA_MIRROR)
    lgcaa data pin-files osediff --mirror DIR        (maintainers) write lgcaa/data/sources/osediff.json
    lgcaa data verify [NAME ...]                     re-hash every file against its manifest
    lgcaa data regenerate div2k-val-regen --source div2k-val      our seeded LR from the source's HR
    lgcaa data compare data/div2k-val-regen data/div2k-val        per-image PSNR, regenerated vs released LR
    lgcaa data subset imagenet-test-fig7 --source imagenet-test --images 16       a few pairs as a dataset
    lgcaa data folder my-photos --lr-dir ~/photos/lr                  your LR images as an LR-only dataset
    lgcaa data build-mini --dataset mini-bicubic ...              offline mini set (used by the DAG)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lgcaa.commands.args import add_config, add_record
from lgcaa.config import load_config
from lgcaa.data.compare import compare_lr
from lgcaa.data.fetch import obtain_released, registry_lines, registry_listing
from lgcaa.data.files import FILE_SETS, MIRROR_ENV, file_set_line, generate_file_set, write_file_set
from lgcaa.data.folder import import_lr_folder
from lgcaa.data.lowres import LR_KINDS
from lgcaa.data.manifest import verify_datasets
from lgcaa.data.mini import MiniSettings, build_mini_dataset, mini_settings
from lgcaa.data.record import record_fetch, record_folder, record_mini, record_regenerate, record_subset
from lgcaa.data.regenerate import obtain_regenerated
from lgcaa.data.registry import get_spec
from lgcaa.data.subset import make_subset, parse_images
from lgcaa.download import RATE_HELP
from lgcaa.errors import UserError
from lgcaa.io import write_json


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-root", type=Path, default=Path("data"), help="root of the datasets (default: data)")


def _record_args(p: argparse.ArgumentParser) -> None:
    add_record(p, "data")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    _add_obtaining(sub)
    _add_deriving(sub)


def _add_obtaining(sub: argparse._SubParsersAction) -> None:
    """build-mini, list, fetch, pin-files, verify: the datasets as built, released or pinned."""
    p = sub.add_parser("build-mini", help="build a mini test set (offline photos) into OUT")
    p.add_argument("--dataset", required=True, help="dataset name (recorded in the manifest, seeds the degradation)")
    add_config(p, "build its dataset DATASET (photos, sizes, LR kind, seed, folder)")
    p.add_argument("--photos", help="without --config: comma-separated photo names (lgcaa.data.photos.PHOTOS)")
    p.add_argument("--hr-size", type=int, help="without --config: HR side in pixels")
    p.add_argument("--scale", type=int, help="without --config: down-scaling factor")
    p.add_argument("--lr-kind", choices=["bicubic", "realesrgan"], help="without --config: how LR is made")
    p.add_argument("--seed", type=int, help="without --config: base seed")
    p.add_argument("--out", type=Path, help="without --config: output folder")
    _record_args(p)

    p = sub.add_parser("list", help="the dataset registry and what is on disk")
    _common(p)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")

    p = sub.add_parser("fetch", help="get a registry dataset with released LR (DVC, else download + unpack)")
    p.epilog = f"Downloads resume from their .part; {RATE_HELP}."
    p.add_argument("name", help="registry dataset (lgcaa data list)")
    p.add_argument("--as", dest="as_name", default=None, help="folder name under the data root (default: NAME)")
    _common(p)
    p.add_argument("--cache", type=Path, default=Path("results/cache"),
                   help="download cache root (archives go to CACHE/downloads)")
    p.add_argument("--url", default=None, help="archive URL (mirror, or your copy of a set without a public URL)")
    p.add_argument("--sha256", default=None, help="expected archive sha256 (overrides the registry/lock file)")
    p.add_argument("--expected-count", type=int, default=0, help="pairs expected (0: the registry's count)")
    p.add_argument("--no-dvc", action="store_true", help="do not try the DVC cache/remote first")
    p.add_argument("--from", dest="source", choices=["files", "archive"], default=None,
                   help="per-file source (each file pinned by sha256; default where the registry has one: realsr, "
                        "drealsr) or the dataset's archive")
    p.add_argument("--mirror", default=None,
                   help=f"per-file source: a local folder (or the http(s) URL of a served one) holding the same files, "
                        f"laid out like ../shared/data or a clone of the source repository, verified by sha256 like a "
                        f"download; default ${MIRROR_ENV} (an archive's mirror is --url)")
    p.add_argument("--limit", type=int, default=0,
                   help="keep only the first N pairs sorted by file name (a stated subset; 0: all)")
    _record_args(p)

    p = sub.add_parser("pin-files", help="(maintainers) write a per-file source's manifest (sha256 + size of every "
                                         "file) from a mirror: lgcaa/data/sources/NAME.json")
    p.add_argument("name", choices=sorted(FILE_SETS), help="the file set (lgcaa.data.files.FILE_SETS)")
    p.add_argument("--mirror", type=Path, required=True, help="folder holding the files (see the file set's layout)")
    p.add_argument("--out", type=Path, default=None, help="write here instead of lgcaa/data/sources/NAME.json")

    p = sub.add_parser("verify", help="re-hash datasets against their manifests (default: all under the data root)")
    p.add_argument("names", nargs="*", help="datasets to verify (default: every folder with a manifest)")
    _common(p)


def _add_deriving(sub: argparse._SubParsersAction) -> None:
    """regenerate, subset, folder, dvc-cache, compare: datasets made from others, and their checks."""
    p = sub.add_parser("regenerate", help="build a test set whose LR we generate (seeded) from a source's HR")
    p.add_argument("dataset", help="name of the regenerated set (folder under the data root, seeds the LR)")
    p.add_argument("--source", required=True, help="registry dataset whose HR is used")
    p.add_argument("--lr-kind", default="realesrgan", choices=list(LR_KINDS), help="how LR is made (default realesrgan)")
    p.add_argument("--degradation", default=None, help="degradation config (default: the source's registry config)")
    p.add_argument("--seed", type=int, default=0, help="base seed; each image seeds from it and its name (default 0)")
    _common(p)
    p.add_argument("--hr-source", type=Path, default=None,
                   help="folder of source HR images instead of DATA_ROOT/SOURCE/hr (imagenet-test: ILSVRC2012 val)")
    p.add_argument("--expected-count", type=int, default=0, help="pairs expected (0: the registry's count)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (results do not depend on it)")
    p.add_argument("--batch-size", type=int, default=8, help="same-size images degraded per batch (default 8)")
    p.add_argument("--device", default="cpu", help="torch device (CPU is the byte-identical reference)")
    p.add_argument("--no-dvc", action="store_true", help="do not try the DVC cache/remote first")
    p.add_argument("--compare-out", type=Path, default=None,
                   help="write the regenerated-vs-released LR comparison (JSON) here")
    _record_args(p)

    p = sub.add_parser("subset", help="a few pairs of a built dataset as a dataset of their own (figures)")
    p.add_argument("name", help="the subset's dataset name (folder under the data root)")
    p.add_argument("--source", required=True, help="the built dataset to take pairs from (folder under the data root)")
    p.add_argument("--images", required=True, help="a count (the first N by name) or comma-separated file names")
    p.add_argument("--scale", type=int, default=4, help="HR/LR scale of the pairs")
    p.add_argument("--lr-only", action="store_true", help="copy the LR images only: an LR-only set (Figs. 5-6)")
    p.add_argument("--offset", type=int, default=0, help="skip the first N names (by name) before --images N")
    _common(p)
    _record_args(p)

    p = sub.add_parser("folder", help="your own LR images (PNG) as an LR-only dataset (no HR: figures only)")
    p.add_argument("name", help="the dataset's name (folder under the data root)")
    p.add_argument("--lr-dir", required=True, type=Path, help="the folder of LR PNG images")
    _common(p)
    _record_args(p)

    p = sub.add_parser("dvc-cache", help="(DAG step) commit a rebuilt data folder to DVC's cache when it equals "
                                         "what its .dvc file records")
    _common(p)
    p.add_argument("--out", type=Path, default=None, help="write the outcome (JSON) here")

    p = sub.add_parser("compare", help="per-image PSNR between a regenerated and a released set's LR")
    p.add_argument("regenerated", type=Path, help="dataset folder with our regenerated LR")
    p.add_argument("released", type=Path, help="dataset folder with the released LR")
    p.add_argument("--out", type=Path, default=None, help="write the JSON report here")


def run(args: argparse.Namespace) -> int:
    return {
        "build-mini": _build_mini, "list": _list, "fetch": _fetch, "pin-files": _pin_files, "verify": _verify,
        "regenerate": _regenerate, "compare": _compare, "subset": _subset, "folder": _folder,
        "dvc-cache": _dvc_cache,
    }[args.action](args)


def _folder(args) -> int:

    out = args.data_root / args.name
    manifest = import_lr_folder(args.lr_dir, out)
    record_folder(args.record, args.experiment, out, args.name, args.lr_dir, manifest)
    print(f"{out}: {manifest['count']} LR images (LR-only)")
    return 0


def _subset(args) -> int:

    out = args.data_root / args.name
    manifest = make_subset(args.data_root / args.source, out, parse_images(args.images), args.scale, args.lr_only,
                           args.offset)
    record_subset(args.record, args.experiment, out, args.name, args.source, manifest)
    print(f"{out}: {manifest['count']} pairs of {args.source}")
    return 0


def _build_mini(args) -> int:

    if args.config is not None:
        s = mini_settings(load_config(args.config), args.dataset)
    else:
        missing = [f for f in ("photos", "hr_size", "scale", "lr_kind", "seed", "out") if getattr(args, f) is None]
        if missing:
            raise UserError(f"lgcaa data build-mini: give --config PROFILE, or all of {', '.join(missing)}")
        s = MiniSettings(tuple(p for p in args.photos.split(",") if p), args.hr_size, args.scale, args.lr_kind,
                         args.seed, args.out)
    manifest = build_mini_dataset(s.out, args.dataset, list(s.photos), s.hr_size, s.scale, s.lr_kind, s.seed)
    record_mini(args.record, args.experiment, args.dataset, s, manifest)
    print(f"{s.out}: {manifest['count']} pairs")
    return 0


def _list(args) -> int:

    rows, local = registry_listing(args.data_root)
    if args.json:
        print(json.dumps({"registry": rows, "on_disk": local}, indent=2))
        return 0
    for line in registry_lines(rows, local, args.data_root):
        print(line)
    return 0


def _fetch(args) -> int:

    spec = get_spec(args.name)
    got = obtain_released(spec, args.data_root, args.cache, name=args.as_name, url=args.url, sha256=args.sha256,
                          expected_count=args.expected_count or None, try_dvc=not args.no_dvc, source=args.source,
                          mirror=args.mirror, limit=args.limit or None)
    record_fetch(args.record, args.experiment, args.data_root, args.as_name or spec.name, spec.name, got, args.limit)
    print(f"{got.message} ({got.manifest['count']} pairs, via {got.how})")
    return 0


def _pin_files(args) -> int:
    record = generate_file_set(args.name, args.mirror)
    print(file_set_line(write_file_set(record, args.out), record))
    return 0


def _verify(args) -> int:

    for line in verify_datasets(args.data_root, args.names):
        print(line)
    return 0


def _regenerate(args) -> int:

    got = obtain_regenerated(get_spec(args.source), args.data_root, args.dataset, args.lr_kind, args.seed,
                             args.degradation, args.hr_source, args.expected_count or None, args.workers,
                             args.batch_size, args.device, try_dvc=not args.no_dvc, compare_out=args.compare_out)
    record_regenerate(args.record, args.experiment, args.data_root, args.dataset, args.source, args.lr_kind, args.seed,
                      got, args.compare_out)
    print(f"{args.data_root / args.dataset}: {got.manifest['count']} pairs ({got.how})")
    return 0


def _compare(args) -> int:

    report = compare_lr(args.regenerated, args.released)
    if args.out:
        write_json(args.out, report)
    summary = {k: v for k, v in report.items() if k != "per_image"}
    print(json.dumps(summary, indent=2))
    return 0


def _dvc_cache(args) -> int:
    from lgcaa.data.dvc import cache_if_identical
    from lgcaa.io import write_json

    outcome = cache_if_identical(args.data_root)
    if args.out:
        write_json(args.out, outcome)
    print(outcome["message"])
    return 0
