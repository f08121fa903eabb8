"""`lgcaa baselines list|show|import|setup`: the registered SR methods, their status here, published outputs.

  list                      every method with family, how it runs and its status on this machine
                            (runnable here / needs GPU, setup, weights / imported for DATASETS)
  show NAME                 the full registry entry as JSON (source, commit, weights, settings, licence)
  import NAME DIR --dataset D   register a folder of published SR outputs for dataset D
  import osediff --dataset realsr   fetch the outputs the registry knows file by file (verified), then register
  setup NAME                the authors' code at the pinned commit, their environment and the weights (internet)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from baselines.imports import import_outputs, imports_dir
from baselines.install import setup
from baselines.prerequisites import baseline_lines, baseline_rows
from baselines.registry import entry, get
from lgcaa.weights.roots import cache_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="all methods with their status here")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    show = sub.add_parser("show", help="one registry entry as JSON")
    show.add_argument("name", help="method name (lgcaa baselines list)")
    imp = sub.add_parser("import", help="register a folder of published SR outputs for a dataset")
    imp.add_argument("name", help="method name (lgcaa baselines list)")
    imp.add_argument("dir", type=Path, nargs="?", default=None,
                     help="folder of the published SR outputs (PNG); omit for a method whose outputs the registry "
                          "knows file by file (osediff): fetched and verified by sha256")
    imp.add_argument("--dataset", required=True, help="dataset name (its LR folder gives the expected names)")
    imp.add_argument("--lr-dir", type=Path, default=None, help="the dataset's LR folder (default <data>/<dataset>/lr)")
    imp.add_argument("--data", type=Path, default=Path("data"), help="datasets root (default data)")
    imp.add_argument("--source", default="", help="where the folder was published (URL), recorded")
    imp.add_argument("--strip-suffix", default="", help="suffix to drop from file stems, e.g. _out")
    imp.add_argument("--mirror", default=None,
                     help="without DIR: a local folder (or URL) holding the published files, verified like a download "
                          "(default $LGCAA_DATA_MIRROR; none: the repository's raw URLs)")
    setup = sub.add_parser("setup", help="checkout + environment + weights of one baseline (needs internet)")
    setup.add_argument("name", help="method name (lgcaa baselines list)")
    for p in (ls, imp, setup):
        p.add_argument("--cache-dir", type=Path, default=None, help="default $LGCAA_CACHE_DIR or results/cache")
        p.add_argument("--imports", type=Path, default=None, help="default $LGCAA_IMPORTS_DIR or results/imports")


def run(args: argparse.Namespace) -> int:
    return {"list": _list, "show": _show, "import": _import, "setup": _setup}[args.action](args)


def _list(args: argparse.Namespace) -> int:
    rows = baseline_rows(cache_dir(args.cache_dir), imports_dir(args.imports))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for line in baseline_lines(rows):
        print(line)
    return 0


def _show(args: argparse.Namespace) -> int:
    print(json.dumps(entry(args.name), indent=2, default=str))
    return 0


def _import(args: argparse.Namespace) -> int:
    b = get(args.name)
    print(import_outputs(args.name, b.published, b.scale, args.dataset, args.dir,
                         args.lr_dir or args.data / args.dataset / "lr", imports_dir(args.imports),
                         cache_dir(args.cache_dir), args.mirror, args.source, args.strip_suffix))
    return 0


def _setup(args: argparse.Namespace) -> int:

    for step, result in setup(args.name, cache_dir(args.cache_dir)).items():
        print(f"{args.name} {step}: {result}")
    return 0
