"""Command line entry point `lgcaa`.

Each sub-command lives in its own module and is imported only when it is run, so `lgcaa --help` is
instant. A module registers itself here by one line in `COMMANDS`; it must expose
`add_arguments(parser)` and `run(args) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from lgcaa.errors import UserError

# name -> (module path, one-line help). Explicit: no import-time scanning.
COMMANDS: dict[str, tuple[str, str]] = {
    "data": ("lgcaa.commands.data", "build, fetch, verify and list datasets"),
    "sr": ("lgcaa.commands.sr", "run one SR method on one dataset"),
    "eval": ("lgcaa.commands.evaluate", "score a folder of SR outputs against HR (per-image CSV + aggregate)"),
    "table": ("lgcaa.commands.table", "render result tables from aggregates"),
    "report": ("lgcaa.commands.report", "render the HTML report and perception-distortion curves"),
    "figure": ("lgcaa.commands.figure", "draw the paper's figures (Figs. 4-11) of a profile"),
    "claims": ("lgcaa.commands.claims", "check the paper's claims (results/paper/claims.yaml) on reproduced numbers"),
    "mlflow-sync": ("lgcaa.commands.mlflow_sync", "log finished job records into the MLflow sqlite store"),
    "weights": ("lgcaa.commands.weights", "list, fetch and verify weight files"),
    "baselines": ("lgcaa.commands.baselines", "list baselines and import published outputs"),
    "train": ("lgcaa.commands.train", "train LGCAA or an ablation variant"),
    "sample": ("lgcaa.commands.sample", "sample SR outputs with a trained LGCAA checkpoint"),
    "bench": ("lgcaa.commands.bench", "performance benchmarks that print JSON ratios"),
    "plan": ("lgcaa.commands.plan", "cost (GPU-/CPU-hours per job) and readiness of a profile's run"),
    "config": ("lgcaa.commands.config", "print or validate a profile config"),
}


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lgcaa", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = argv[0] if argv and argv[0] in COMMANDS else None
    for name, (module, help_text) in COMMANDS.items():
        sp = sub.add_parser(name, help=help_text)
        if name == wanted:  # only the command being run is imported
            importlib.import_module(module).add_arguments(sp)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    module = importlib.import_module(COMMANDS[args.command][0])
    try:
        return int(module.run(args) or 0)
    except UserError as exc:
        print(f"lgcaa {args.command}: error: {exc}", file=sys.stderr)
        return 2
