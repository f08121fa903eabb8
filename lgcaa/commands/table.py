"""`lgcaa table ACTION NAME`: Tables I-III (CSV, Markdown, LaTeX, HTML, long CSV, reported-vs-reproduced).

  lgcaa table spec NAME [--config PROFILE_OR_FILE]      the table's spec (entries, aggregates) as JSON
  lgcaa table render NAME [--config PROFILE_OR_FILE]    render from the evaluator's aggregates
  lgcaa table paper NAME [--paper DIR]                  the paper's cells of the table (checked)
  lgcaa table headline [--config PROFILE_OR_FILE]       the compact metrics `dvc metrics show` prints

`render` writes <results>/tables/NAME.{csv,md,tex,html,long.csv,compare.csv,compare.md,compare.html,
metrics.json} (lgcaa.layout) from the profile's spec (lgcaa.tables.spec.build_spec); with --record it also
writes a job record for MLflow. The .md and .html end with the paper beside us (paper | ours | Δ | verdict;
compare.html holds it alone), compare.{csv,md} list every paper cell; a profile that is not comparable to the
paper shows no paper number, one sentence instead (lgcaa.tables.compare). The writing is lgcaa.tables.write's.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lgcaa.commands.args import add_config, add_record
from lgcaa.config import load_config
from lgcaa.layout import Layout
from lgcaa.tables.paper import DEFAULT_DIR, load_paper, paper_lines
from lgcaa.tables.spec import TABLE_NAMES, build_spec
from lgcaa.tables.write import headline_line, write_headline, write_table


def _name(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", choices=TABLE_NAMES, help="which table")


def _paper(p: argparse.ArgumentParser) -> None:
    p.add_argument("--paper", type=Path, default=DEFAULT_DIR, help=f"folder of the paper's tables (default {DEFAULT_DIR})")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("spec", help="print the table's spec (entries, aggregates) as JSON")
    _name(p)
    add_config(p)
    p = sub.add_parser("render", help="render the table from the evaluator's aggregates into <results>/tables")
    _name(p)
    add_config(p)
    _paper(p)
    p.add_argument("--links", type=Path, default=None, help="JSON {record: MLflow run URL} (lgcaa report links)")
    add_record(p, "report")
    p = sub.add_parser("paper", help="print the paper's cells of the table (shape-checked)")
    _name(p)
    _paper(p)
    p = sub.add_parser("headline", help="write <results>/headline/: Table I's headline cells per dataset and method "
                                        "and the claims' verdict counts, the compact view `dvc metrics show` prints")
    add_config(p)


def run(args: argparse.Namespace) -> int:
    if args.action == "spec":
        print(build_spec(load_config(args.config), args.name).to_json())
    elif args.action == "headline":
        print(headline_line(write_headline(load_config(args.config))))
    elif args.action == "paper":
        for line in paper_lines(load_paper(args.name, args.paper)):
            print(line)
    else:
        cfg = load_config(args.config)
        out = write_table(build_spec(cfg, args.name), Layout.of(cfg), args.paper, args.links, args.record,
                          args.experiment)
        print(out["md"].read_text())
    return 0
