"""Flags several sub-commands share, spelled (and explained) once."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_config(p: argparse.ArgumentParser, what: str = "") -> None:
    """`--config PROFILE_OR_FILE` (default: the embedded profile `mini`)."""
    p.add_argument("--config", default=None,
                   help=f"profile name or config file (default: mini){': ' + what if what else ''}")


def add_record(p: argparse.ArgumentParser, stage: str) -> None:
    """`--record R` (write a job record for `lgcaa mlflow-sync`) and `--experiment E` (its MLflow experiment;
    None: `<profile>/<stage>`, resolved by `lgcaa.tracking.experiment_name(stage, args.experiment)`)."""
    p.add_argument("--record", type=Path, default=None, help="write a job record (run.json) here for `lgcaa mlflow-sync`")
    p.add_argument("--experiment", default=None,
                   help=f"MLflow experiment of the job record (default: <profile>/{stage}, the profile of the DAG or --config)")
