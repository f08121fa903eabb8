"""Command line entry point `lgcaa`.

Each sub-command lives in its own module and is imported only when it is run, so `lgcaa --help` is
instant. A module registers itself here by one line in `COMMANDS`; it must expose
`add_arguments(parser)` and `run(args) -> int`. Every sub-command and flag carries help text (a test walks the
whole parser); a nested sub-command given only `help=` gets it as its description too.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from lgcaa.errors import one_line

DESCRIPTION = """\
Reproduce "Local-Global Context-Aware and Structure-Preserving Image Super-Resolution" (LGCAA):
datasets, SR methods, pyiqa metrics, Tables I-III and the HTML report.

The whole pipeline is a Snakemake DAG (`snakemake --cores 8 tables`); these commands are its steps,
and each also works on its own."""

# name -> (module path, one-line help). Explicit: no import-time scanning.
COMMANDS: dict[str, tuple[str, str]] = {
    "data": ("lgcaa.commands.data", "build, fetch, verify and list datasets"),
    "sr": ("lgcaa.commands.sr", "run one SR method on one dataset"),
    "eval": ("lgcaa.commands.evaluate", "score a folder of SR outputs against HR (per-image CSV + aggregate)"),
    "table": ("lgcaa.commands.table", "render result tables from aggregates"),
    "report": ("lgcaa.commands.report", "render the HTML report and perception-distortion curves"),
    "ui": ("lgcaa.commands.ui", "serve MLflow and the report of a results folder on one port"),
    "figure": ("lgcaa.commands.figure", "draw the paper's figures (Figs. 4-11) of a profile"),
    "claims": ("lgcaa.commands.claims", "check the paper's claims (results/paper/claims.yaml) on reproduced numbers"),
    "metrics": ("lgcaa.commands.metrics", "check the metrics against a peer's published scores and calibration pairs"),
    "weights": ("lgcaa.commands.weights", "list, fetch and verify weight files"),
    "baselines": ("lgcaa.commands.baselines", "list baselines and import published outputs"),
    "prepare-backbone": ("lgcaa.commands.prepare", "pre-train the tiny backbone (VAE, UNet) on held-out offline photos"),
    "train": ("lgcaa.commands.train", "train LGCAA or an ablation variant"),
    "sample": ("lgcaa.commands.sample", "sample SR outputs with a trained LGCAA checkpoint"),
    "bench": ("lgcaa.commands.bench", "performance benchmarks that print JSON ratios"),
    "plan": ("lgcaa.commands.plan", "cost (GPU-/CPU-hours per job) and readiness of a profile's run"),
    "config": ("lgcaa.commands.config", "print or validate a profile config"),
}
# Plumbing: steps only the DAG calls. They work by hand too, but are listed apart in `lgcaa --help`.
PLUMBING: dict[str, tuple[str, str]] = {
    "mlflow-sync": ("lgcaa.commands.mlflow_sync", "log finished job records (run.json) into the MLflow sqlite store"),
}


class _Version(argparse.Action):
    """--version: package version, git commit of the code and Python; computed only when asked."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        import platform

        from lgcaa import __version__
        from lgcaa.job import git_state

        git = git_state()
        print(f"lgcaa {__version__} (git {git['describe']}; Python {platform.python_version()})")
        parser.exit()


def _plumbing_epilog() -> str:
    rows = "\n".join(f"  {name:12s}  {text}" for name, (_, text) in PLUMBING.items())
    return f"plumbing (called by the Snakemake DAG; rarely run by hand):\n{rows}\n\nRun `lgcaa COMMAND --help` for a command's flags."


def fill_descriptions(parser: argparse.ArgumentParser) -> None:
    """Give every nested sub-parser created with only `help=` that text as its description."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sp in action.choices.items():
                if not sp.description and helps.get(name):
                    sp.description = helps[name]
                fill_descriptions(sp)


def build_parser(argv: list[str], full: bool = False) -> argparse.ArgumentParser:
    """The parser; only the command being run is imported (all of them with `full`, for the help test)."""
    parser = argparse.ArgumentParser(prog="lgcaa", description=DESCRIPTION, epilog=_plumbing_epilog(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action=_Version, help="print the version, git commit and Python, then exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = argv[0] if argv and argv[0] in {**COMMANDS, **PLUMBING} else None
    for name, (module, help_text) in {**COMMANDS, **PLUMBING}.items():
        kwargs = {"help": help_text} if name in COMMANDS else {}  # plumbing: listed in the epilog instead
        sp = sub.add_parser(name, description=help_text[:1].upper() + help_text[1:] + ".", **kwargs)
        if full or name == wanted:
            importlib.import_module(module).add_arguments(sp)
            fill_descriptions(sp)
    return parser


def main(argv: list[str] | None = None) -> int:
    from lgcaa.job import note_command

    whole_process = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    note_command(argv, whole_process)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    module = importlib.import_module({**COMMANDS, **PLUMBING}[args.command][0])
    try:
        return int(module.run(args) or 0)
    except Exception as exc:  # the one place an error becomes the one line (lgcaa.errors.one_line) and exit 2
        line = one_line(exc)
        if line is None:
            raise
        print(f"lgcaa {args.command}: error: {line}", file=sys.stderr)
        return 2
