"""Links from numbers to MLflow runs: job record path -> link to the run's page in the MLflow UI.

Input is `results/mlflow/runs.json` written by `lgcaa mlflow-sync` ({tracking_uri, runs: {record: run id}}).
The run's experiment id is read through the MLflow client (the UI's run URL needs it).

By default a link is relative (`../#/experiments/<id>/runs/<id>?workflowType=machine_learning`): `lgcaa ui` serves
MLflow at its root and the results' folders (`report/`, `tables/`, ...) one level below it (`lgcaa.ui`), on one
port, so every link of the report and of the tables opens the run in the same server whatever its host and port.
A base URL (`--ui`, the profile's `report.mlflow_ui`) makes absolute links to an MLflow UI served elsewhere.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from lgcaa.errors import UserError

DEFAULT_UI = ""  # relative links, served by `lgcaa ui`
RELATIVE_BASE = ".."  # MLflow's root, from a page one folder below it (`lgcaa.ui.SERVED`)
LINK_SCHEMES = ("http", "https")  # the only URL schemes a link the harness writes may have
URL_PATTERN = r"^https?://[^\s\"'<>`]+$"  # the profile schema's pattern for report.mlflow_ui (same rule)
# a relative link the harness writes: MLflow's run page (classic "Model training" view) beside the served folders
RELATIVE_PATTERN = r"\.\./#/experiments/[0-9]+/runs/[0-9a-f]+(\?workflowType=machine_learning)?"


def check_url(url: str, source: str, relative: bool = False) -> str:
    """`url` when it is an absolute http(s) URL with a host and no whitespace, quotes or angle brackets (or, with
    `relative`, a run link relative to `lgcaa ui`, `RELATIVE_PATTERN`); else UserError naming `source` (a flag, a
    profile key, a links file). A `javascript:` or `data:` URL would make every linked number in the tables and
    the report run script when clicked."""
    from urllib.parse import urlsplit

    text = str(url)
    if relative and re.fullmatch(RELATIVE_PATTERN, text):
        return text
    parts = urlsplit(text)
    if not re.fullmatch(URL_PATTERN[1:-1], text) or parts.scheme not in LINK_SCHEMES or not parts.netloc:
        raise UserError(f"{source}: {text[:80]!r} is not an http(s) URL"
                        + (" nor a run link relative to `lgcaa ui` (../#/experiments/ID/runs/ID)" if relative else "")
                        + "; only http:// and https:// links are written (e.g. http://127.0.0.1:5000), or "
                          "relative ones without --ui")
    return text


def check_link(url: str, source: str) -> str:
    """A link a table or the report writes: `check_url` with relative run links allowed."""
    return check_url(url, source, relative=True)


def read_links(path: str | Path) -> dict[str, str]:
    """links.json ({record path: run URL}) with every URL checked (`check_url`)."""
    path = Path(path)
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise UserError(f"{path}: not a links map (record -> URL); rebuild it with `lgcaa report links`")
    return {str(k): check_link(v, f"{path} (link of {k})") for k, v in data.items()}


def run_url(base: str, experiment_id: str, run_id: str) -> str:
    """The run's page under `base` (empty: relative to `lgcaa ui`); `workflowType=machine_learning` opens MLflow
    3's UI in its "Model training" mode (runs, metrics, datasets) instead of its default GenAI mode (the UI reads
    the mode from this query parameter, else from the experiment's `mlflow.experimentKind` tag, which the sync
    sets to `custom_model_development`)."""
    return f"{(base or RELATIVE_BASE).rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}?workflowType=machine_learning"


def mlflow_links(runs_json: str | Path, base: str = DEFAULT_UI) -> dict[str, str]:
    """{record path: link}; relative to `lgcaa ui` unless `base` is an MLflow UI's URL; records whose run is not
    in the store are left out."""

    if base:
        check_url(base, "--ui")
    path = Path(runs_json)
    if not path.is_file():
        raise UserError(f"{path}: not found; run the mlflow_sync rule first (snakemake {path})")
    data = json.loads(path.read_text())
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    from lgcaa.mlflow_store import results_of, tracking_uri

    # absolute: MLflow caches stores by URI, and a relative one opened from another folder is that folder's store
    client = MlflowClient(tracking_uri(results_of(data["tracking_uri"]).resolve()))
    out = {}
    for record, rid in sorted(data["runs"].items()):
        try:
            exp = client.get_run(rid).info.experiment_id
        except MlflowException:
            continue
        out[record] = check_link(run_url(base, exp, rid), f"{path} (run {rid})")
    return out
