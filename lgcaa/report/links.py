"""Links from numbers to MLflow runs: job record path -> run page URL of the MLflow UI.

Input is `results/mlflow/runs.json` written by `lgcaa mlflow-sync` ({tracking_uri, runs: {record: run id}}).
The run's experiment id is read through the MLflow client (the UI's run URL needs it).
"""

from __future__ import annotations

import json
from pathlib import Path

from lgcaa.errors import UserError

DEFAULT_UI = "http://127.0.0.1:5000"
LINK_SCHEMES = ("http", "https")  # the only URL schemes a link the harness writes may have
URL_PATTERN = r"^https?://[^\s\"'<>`]+$"  # the profile schema's pattern for report.mlflow_ui (same rule)


def check_url(url: str, source: str) -> str:
    """`url` when it is an absolute http(s) URL with a host and no whitespace, quotes or angle brackets; else
    UserError naming `source` (a flag, a profile key, a links file). A `javascript:` or `data:` URL would make
    every linked number in the tables and the report run script when clicked."""
    import re
    from urllib.parse import urlsplit

    text = str(url)
    parts = urlsplit(text)
    if not re.fullmatch(URL_PATTERN[1:-1], text) or parts.scheme not in LINK_SCHEMES or not parts.netloc:
        raise UserError(f"{source}: {text[:80]!r} is not an http(s) URL; only http:// and https:// links are "
                        "written (e.g. http://127.0.0.1:5000)")
    return text


def read_links(path: str | Path) -> dict[str, str]:
    """links.json ({record path: run URL}) with every URL checked (`check_url`)."""
    path = Path(path)
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise UserError(f"{path}: not a links map (record -> URL); rebuild it with `lgcaa report links`")
    return {str(k): check_url(v, f"{path} (link of {k})") for k, v in data.items()}


def run_url(base: str, experiment_id: str, run_id: str) -> str:
    """The run's page; `workflowType=machine_learning` opens MLflow 3's UI in its "Model training" mode (runs,
    metrics, datasets) instead of its default GenAI mode."""
    return f"{base.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}?workflowType=machine_learning"


def mlflow_links(runs_json: str | Path, base: str = DEFAULT_UI) -> dict[str, str]:
    """{record path: URL}; records whose run is not in the store are left out."""

    check_url(base, "--ui")
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
        out[record] = check_url(run_url(base, exp, rid), f"{path} (run {rid})")
    return out
