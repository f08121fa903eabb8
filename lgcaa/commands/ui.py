"""`lgcaa ui`: serve MLflow and the report of a results folder on one port, from the project folder.

    lgcaa ui                              # results/ (the mini profile): http://127.0.0.1:5000/report/
    lgcaa ui --results results/real --data data-real --port 5001

The report's numbers and the tables' links open their MLflow runs on the same server (`lgcaa.ui`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lgcaa.ui import DEFAULT_HOST, DEFAULT_PORT


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results", type=Path, default=Path("results"),
                        help="the profile's results folder holding mlflow.db and report/ (default: results, the mini "
                             "profile's; e.g. results/real)")
    parser.add_argument("--data", type=Path, default=Path("data"),
                        help="the profile's datasets folder, served for the gallery's HR and LR images (default: data, "
                             "the mini profile's; e.g. data-real)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default {DEFAULT_HOST}: this machine only)")


def run(args: argparse.Namespace) -> int:
    from lgcaa.ui import serve

    serve(args.results, args.host, args.port, args.data)
    return 0
