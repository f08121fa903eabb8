"""Job records and MLflow.

Jobs never talk to MLflow directly: each writes a small `run.json` record next to its outputs (params,
metrics, artifact paths). One `lgcaa mlflow-sync` job at the end of the DAG logs every record into the
sqlite-backed MLflow store, idempotently (a record already logged, same content hash, is skipped). This
keeps parallel jobs free of sqlite write contention and makes MLflow a faithful mirror of the files.
"""

from __future__ import annotations

import hashlib
import json
import platform
from pathlib import Path
from typing import Any

from lgcaa.io import file_lock, write_json

RECORD_NAME = "run.json"
VERSIONED_PACKAGES = ("lgcaa-harness", "torch", "pyiqa", "basicsr", "diffusers", "ncnn", "numpy", "pillow")


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in VERSIONED_PACKAGES:
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "absent"
    return out


def write_record(
    dest: str | Path,
    experiment: str,
    run_name: str,
    params: dict[str, Any],
    metrics: dict[str, float] | None = None,
    artifacts: list[str] | None = None,
    tags: dict[str, str] | None = None,
    inputs: list[dict[str, str]] | None = None,
) -> Path:
    """Write a job record. `artifacts` are paths (files) relative to the working directory. `inputs` are
    datasets the job read, each {"name", "source" (its manifest.json), "context"}, logged with MLflow's
    `log_inputs`."""
    record = {
        "experiment": experiment,
        "run_name": run_name,
        "params": {**params, **{f"version.{k}": v for k, v in versions().items()}},
        "metrics": metrics or {},
        "artifacts": artifacts or [],
        "tags": tags or {},
    }
    if inputs:
        record["inputs"] = inputs
    write_json(dest, record)
    return Path(dest)


def record_key(record: dict[str, Any], path: str | Path) -> str:
    blob = json.dumps({"path": str(path), "record": record}, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def tracking_uri(results_dir: str | Path) -> str:
    return f"sqlite:///{Path(results_dir).resolve() / 'mlflow.db'}"


def open_store(results_dir: str | Path) -> Any:
    """An MlflowClient on the sqlite store under `results_dir`, creating the database first if needed. The
    creation (alembic's schema migrations) is serialised across processes with a file lock next to the
    database: two syncs on a new store would otherwise race in the migration and one would die."""
    from mlflow.tracking import MlflowClient

    uri = tracking_uri(results_dir)
    db = Path(results_dir).resolve() / "mlflow.db"
    with file_lock(db.parent / ".mlflow.db.lock"):
        client = MlflowClient(uri)
        client.search_experiments(max_results=1)  # the first access creates and migrates the schema
    return client


def artifact_root(results_dir: str | Path) -> str:
    return (Path(results_dir).resolve() / "mlflow-artifacts").as_uri()


def record_inputs(record: dict[str, Any]) -> list[dict[str, str]]:
    """The datasets of a record: its explicit "inputs", else any dataset manifest among its artifacts."""
    if record.get("inputs"):
        return list(record["inputs"])
    return [{"name": record["params"].get("dataset", Path(a).parent.name), "source": a, "context": "build"}
            for a in record.get("artifacts", []) if Path(a).name == "manifest.json"]


def log_dataset_inputs(run_id: str, inputs: list[dict[str, str]]) -> None:
    """Log each dataset manifest as an MLflow dataset input of run `run_id` (digest = its sha256).

    Uses the current tracking URI (set by the caller)."""
    import warnings

    import mlflow
    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.data.meta_dataset import MetaDataset

    from lgcaa.io import sha256_file

    present = [i for i in inputs if Path(i["source"]).is_file()]
    if not present:
        return
    with mlflow.start_run(run_id=run_id):
        for item in present:
            src = Path(item["source"])
            with warnings.catch_warnings():  # "can be interpreted in multiple ways": both are the local file
                warnings.simplefilter("ignore", UserWarning)
                source = resolve_dataset_source(src.resolve().as_uri())
            ds = MetaDataset(source, name=item["name"], digest=sha256_file(src)[:16])
            mlflow.log_input(ds, context=item.get("context", "input"))


def sync_records(record_paths: list[str | Path], results_dir: str | Path, parent_name: str = "dag") -> dict[str, Any]:
    """Log every record into MLflow (sqlite under results_dir); returns {record path: run id}.

    Runs are nested under one parent run per sync (per DAG invocation) in each experiment; a record whose
    key is already present in the store is not logged again (its existing run id is returned).
    """
    import mlflow

    uri = tracking_uri(results_dir)
    mlflow.set_tracking_uri(uri)
    client = open_store(results_dir)
    run_ids: dict[str, str] = {}
    parents: dict[str, str] = {}
    for path in sorted(map(str, record_paths)):
        record = json.loads(Path(path).read_text())
        key = record_key(record, path)
        exp_name = record["experiment"]
        exp = client.get_experiment_by_name(exp_name)
        exp_id = exp.experiment_id if exp else client.create_experiment(exp_name, artifact_location=f"{artifact_root(results_dir)}/{exp_name}")
        found = client.search_runs([exp_id], filter_string=f"tags.`lgcaa.record_key` = '{key}'", max_results=1)
        if found:
            run_ids[path] = found[0].info.run_id
            continue
        if exp_id not in parents:
            parent = client.create_run(exp_id, run_name=parent_name, tags={"lgcaa.kind": "dag-invocation"})
            client.set_terminated(parent.info.run_id)
            parents[exp_id] = parent.info.run_id
        run = client.create_run(
            exp_id, run_name=record["run_name"],
            tags={**record["tags"], "lgcaa.record_key": key, "lgcaa.record": path, "mlflow.parentRunId": parents[exp_id]},
        )
        rid = run.info.run_id
        for k, v in record["params"].items():
            client.log_param(rid, k, str(v)[:6000])
        for k, v in record["metrics"].items():
            client.log_metric(rid, k, float(v))
        for art in record["artifacts"]:
            if Path(art).is_file():
                client.log_artifact(rid, art)
        log_dataset_inputs(rid, record_inputs(record))
        client.set_terminated(rid)
        run_ids[path] = rid
    return run_ids
