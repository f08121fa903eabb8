"""Optional direct MLflow logging of a training run (params, loss terms, throughput, memory, sample images).

Uses `MlflowClient` against an explicit tracking URI (a sqlite store such as `sqlite:////abs/mlflow.db`;
the `./mlruns` file store is refused by MLflow 3) with the artifact root next to the database. The run id is
kept in `<run>/mlflow_run_id` so a resumed training continues the same MLflow run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def flatten(prefix: str, value: Any, out: dict[str, str]) -> dict[str, str]:
    if isinstance(value, dict):
        for k, v in value.items():
            flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = str(value)[:500]
    return out


def artifact_root_for(uri: str) -> str:
    if uri.startswith("sqlite:///"):
        return (Path(uri[len("sqlite:///"):]).resolve().parent / "mlflow-artifacts").as_uri()
    return (Path.cwd() / "mlflow-artifacts").resolve().as_uri()


class MlflowRun:
    def __init__(self, uri: str, experiment: str, run_name: str, run_dir: Path, params: dict[str, Any]):
        import mlflow  # noqa: F401  (fail early if absent)
        from mlflow.entities import Param
        from mlflow.tracking import MlflowClient

        self.client = MlflowClient(tracking_uri=uri)
        exp = self.client.get_experiment_by_name(experiment)
        exp_id = exp.experiment_id if exp else self.client.create_experiment(experiment, artifact_location=artifact_root_for(uri))
        id_file = Path(run_dir) / "mlflow_run_id"
        self.run_id = id_file.read_text().strip() if id_file.is_file() else None
        if self.run_id is None:
            from lgcaa.job import command_line, git_state

            # a Source like every synced run's: the command that trained, and the code's commit
            source = {"mlflow.source.type": "JOB", "mlflow.source.name": command_line()[:5000],
                      "mlflow.source.git.commit": git_state()["commit"]}
            self.run_id = self.client.create_run(exp_id, run_name=run_name, tags=source).info.run_id
            id_file.write_text(self.run_id + "\n")
            flat = flatten("", params, {})
            items = [Param(k, v) for k, v in sorted(flat.items())]
            for i in range(0, len(items), 100):
                self.client.log_batch(self.run_id, params=items[i : i + 100])
        else:
            self.client.update_run(self.run_id, status="RUNNING")

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        import time

        from mlflow.entities import Metric

        ts = int(time.time() * 1000)
        self.client.log_batch(self.run_id, metrics=[Metric(k, float(v), ts, step) for k, v in metrics.items()])

    def log_artifact(self, path: Path, folder: str | None = None) -> None:
        self.client.log_artifact(self.run_id, str(path), artifact_path=folder)

    def finish(self, status: str = "FINISHED") -> None:
        self.client.set_terminated(self.run_id, status=status)
