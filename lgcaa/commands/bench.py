"""`lgcaa bench NAME`: run one benchmark module and print its JSON result."""

from __future__ import annotations

import argparse
import importlib
import json

# name -> module exposing add_arguments(parser) and run(args) -> dict. Explicit registry.
BENCHES: dict[str, str] = {
    "attention": "lgcaa.bench.attention",
    "sample": "lgcaa.bench.sample",
    "train-step": "lgcaa.bench.train_step",
    "metrics": "lgcaa.bench.metrics",
    "degrade": "lgcaa.bench.degrade",
    "activations": "lgcaa.bench.activations",
    "prior": "lgcaa.bench.prior",
    "eval-memory": "lgcaa.bench.eval_memory",
}


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
        summary = (mod.__doc__ or name).strip().split("\n\n")[0].replace("\n", " ")
        summary = summary.split(": ", 1)[-1] if summary.startswith("`") else summary  # drop the `lgcaa bench X` prefix
        sp = sub.add_parser(name, help=summary, description=summary)
        sp.set_defaults(_bench_module=module)
        mod.add_arguments(sp)


def run(args: argparse.Namespace) -> int:
    result = importlib.import_module(args._bench_module).run(args)
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0
