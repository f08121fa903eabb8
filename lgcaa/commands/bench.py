"""`lgcaa bench NAME`: run one benchmark module and print its JSON result."""

from __future__ import annotations

import argparse
import importlib
import json

from lgcaa.bench import BENCHES, summary


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="bench", metavar="NAME", required=True)
    for name, module in BENCHES.items():
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            sub.add_parser(name, help="(not implemented yet)", description="(not implemented yet)")
            continue
        text = summary(name, mod)
        sp = sub.add_parser(name, help=text, description=text)
        sp.set_defaults(_bench_module=module)
        mod.add_arguments(sp)


def run(args: argparse.Namespace) -> int:
    result = importlib.import_module(args._bench_module).run(args)
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0
