"""`lgcaa table table1`: render Table I (CSV + Markdown) from evaluator aggregates."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("table", choices=["table1"])
    parser.add_argument("aggregates", nargs="+", type=Path)
    parser.add_argument("--datasets", required=True, help="comma-separated row datasets, in order")
    parser.add_argument("--methods", required=True, help="comma-separated column methods, in order")
    parser.add_argument("--labels", default="{}", help="JSON {dataset: label}")
    parser.add_argument("--title", default="Table I")
    parser.add_argument("--csv", type=Path, required=True)
    parser.add_argument("--md", type=Path, required=True)


def run(args: argparse.Namespace) -> int:
    import json

    from lgcaa.io import write_text
    from lgcaa.tables.table1 import load_aggregates, metric_rows, to_csv, to_markdown

    datasets, methods = args.datasets.split(","), args.methods.split(",")
    cells, lock, counts = load_aggregates(args.aggregates)
    rows = metric_rows(cells, datasets, methods)
    write_text(args.csv, to_csv(rows, methods))
    write_text(args.md, to_markdown(rows, methods, json.loads(args.labels), lock, counts, title=args.title))
    print(args.md.read_text())
    return 0
