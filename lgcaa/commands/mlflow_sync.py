"""`lgcaa mlflow-sync RECORD...`: log job records into the sqlite MLflow store under --results."""

from __future__ import annotations

import argparse
from pathlib import Path

from lgcaa.mlflow_store import sync_records, tracking_uri, write_runs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("records", nargs="+", type=Path, help="job records (run.json files) written by the DAG's jobs")
    parser.add_argument("--results", type=Path, required=True, help="results folder holding mlflow.db")
    parser.add_argument("--out", type=Path, required=True, help="JSON map record -> MLflow run id")


def run(args: argparse.Namespace) -> int:

    ids = sync_records(args.records, args.results)
    write_runs(args.out, args.results, ids)
    print(f"{len(ids)} records in {tracking_uri(args.results)}")
    return 0
