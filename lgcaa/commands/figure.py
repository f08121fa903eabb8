"""`lgcaa figure ACTION`: the paper's figures (and the report's extra plots) of a profile.

    lgcaa figure render fig4 --config mini [--record R]     -> <results>/figures/fig4.{png,pdf,csv}
    lgcaa figure render fig8 --config mini                    -> <results>/report/pd_curve.{png,pdf,csv}
    lgcaa figure spec fig9 --config paper                     print what the figure shows (JSON)
    lgcaa figure list                                         the figure names

Names: fig4 .. fig11 (the paper's), per_image, training. Everything comes from the profile (`--config`: a
profile name or a config file), the same way the DAG's rules call it.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from lgcaa.figures.render import NAMES

    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("render", help="draw one figure: PNG + PDF + its data as CSV")
    p.add_argument("name", choices=NAMES, help="which figure")
    p.add_argument("--config", default=None, help="profile name or config file (default: mini)")
    p.add_argument("--record", default=None, help="write a job record (run.json) here")
    p.add_argument("--experiment", default=None,
                   help="MLflow experiment of the job record (default: <profile>/figures)")
    p = sub.add_parser("spec", help="print what a figure shows in a profile (JSON)")
    p.add_argument("name", choices=NAMES, help="which figure")
    p.add_argument("--config", default=None, help="profile name or config file (default: mini)")
    sub.add_parser("list", help="the figure names and titles")


def run(args: argparse.Namespace) -> int:
    from lgcaa.config import load_config
    from lgcaa.figures.render import NAMES, paths, render, rendered_line, spec_json, title, write_figure_record

    if args.action == "list":
        for n in NAMES:
            print(f"{n:10s} {title(n)}")
        return 0
    cfg = load_config(args.config)
    if args.action == "spec":
        print(spec_json(cfg, args.name))
        return 0
    params = render(cfg, args.name)
    for note in params.pop("notes", []):
        print(note)
    files = paths(cfg, args.name)
    print(rendered_line(args.name, files, params))
    if args.record:
        write_figure_record(args.record, args.name, params, files, args.experiment)
    return 0
