"""Links from numbers to MLflow runs: job record path -> run page URL of the MLflow UI.

Input is `results/mlflow/runs.json` written by `lgcaa mlflow-sync` ({tracking_uri, runs: {record: run id}}).
The run's experiment id is read through the MLflow client (the UI's run URL needs it).
"""

from __future__ import annotations

import json
from pathlib import Path

from lgcaa.errors import UserError

DEFAULT_UI = "http://127.0.0.1:5000"


def run_url(base: str, experiment_id: str, run_id: str) -> str:
    """The run's page; `workflowType=machine_learning` opens MLflow 3's UI in its "Model training" mode (runs,
    metrics, datasets) instead of its default GenAI mode."""
    return f"{base.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}?workflowType=machine_learning"


def mlflow_links(runs_json: str | Path, base: str = DEFAULT_UI) -> dict[str, str]:
    """{record path: URL}; records whose run is not in the store are left out."""

    path = Path(runs_json)
    if not path.is_file():
        raise UserError(f"{path}: not found; run the mlflow_sync rule first (snakemake {path})")
    data = json.loads(path.read_text())
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient(data["tracking_uri"])
    out = {}
    for record, rid in sorted(data["runs"].items()):
        try:
            exp = client.get_run(rid).info.experiment_id
        except MlflowException:
            continue
        out[record] = run_url(base, exp, rid)
    return out
