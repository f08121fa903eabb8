"""The one MLflow writer: every run, param, metric, tag and artifact of the harness reaches MLflow through here.

Two callers, one set of rules (`lgcaa.tracking` says who calls when):
  - `sync_records` (`lgcaa mlflow-sync`, at the end of the DAG): logs every job record into the sqlite store,
    idempotently (a record already logged, same content hash, is skipped). One sync at a time keeps parallel jobs
    free of sqlite write contention.
  - `LiveRun` (only `lgcaa train --mlflow-uri`): a training's metrics while it trains. The sync completes that
    same run from the training's record (`live_run` in it) instead of logging a second one.
Both create experiments with `experiment`, cut params with `param_value` (MLflow's own limit,
`mlflow.utils.validation.MAX_PARAM_VAL_LENGTH`) and put files under one artifact root, `<results>/mlflow-artifacts`
(`artifact_root`). Nothing here writes SQL: only MLflow's client and its artifact repository.

In MLflow each record becomes a run of experiment `<profile>/<stage>` whose start and end are the job's, nested
under one parent run per sync, named by the DAG target and time. Provenance lands in MLflow's own tags
(`mlflow.source.git.commit`, `mlflow.source.name` = the command line), in `lgcaa.*` tags and in the run's
description (`mlflow.note.content`, shown at the top of the run page). An experiment's artifact location is
`mlflow-artifacts:/<experiment>` (`experiment_location`): MLflow stores such a proxied location as given and its
server resolves it against the artifact root it serves (`lgcaa ui`), so a moved or copied tree keeps its
artifacts; the writers put files there themselves (`artifact_dir`). The empty "Default" experiment MLflow creates
is deleted.

Lineage: a record's `upstream` ({role: job record}) becomes one tag per role, `lgcaa.upstream.<role>` = the run ID
of that record's run, and an "Upstream" list of links in the run's description (eval -> its sr/sample run -> the
training run -> the backbone run; a table -> the eval run of every cell). Each experiment and each parent run has
its own name and description, and every run a Source (`mlflow.source.name`). An eval record's `folders`
({artifact folder: files}) land in those folders: a capped sample of its SR outputs under `sr/`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from lgcaa.errors import UserError
from lgcaa.io import file_lock
from lgcaa.tracking import ENV_DAG_STARTED, ENV_TARGET


def record_key(record: dict[str, Any], path: str | Path) -> str:
    """The record's identity in the store: a hash of its path and content (a changed record is logged anew)."""
    blob = json.dumps({"path": str(path), "record": record}, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def tracking_uri(results_dir: str | Path) -> str:
    """sqlite URI of the store; relative (to the project folder, where jobs and `lgcaa ui` run) when
    `results_dir` is."""
    p = Path(results_dir)
    return f"sqlite:///{p.as_posix() if not p.is_absolute() else p}/mlflow.db"


ARTIFACT_SCHEME = "mlflow-artifacts:"  # MLflow's proxied artifact locations: kept as given, served by `lgcaa ui`


def artifact_root(results_dir: str | Path) -> str:
    """The one artifact root: `<results>/mlflow-artifacts`, the folder `lgcaa ui` serves `mlflow-artifacts:/` from."""
    return (Path(results_dir) / "mlflow-artifacts").as_posix()


def experiment_location(name: str) -> str:
    """An experiment's artifact location, `mlflow-artifacts:/<name>`: relative to the artifact root, not to a
    folder on this machine (MLflow turns a local path into an absolute one when it creates an experiment)."""
    return f"{ARTIFACT_SCHEME}/{name}"


def artifact_dir(results_dir: str | Path, artifact_uri: str) -> Path:
    """The folder on disk of a run's (or experiment's) artifact location: `mlflow-artifacts:/P` ->
    `<results>/mlflow-artifacts/P`; a local path (a store made before locations were proxied) as it is."""
    if artifact_uri.startswith(ARTIFACT_SCHEME):
        return Path(artifact_root(results_dir)) / artifact_uri[len(ARTIFACT_SCHEME):].lstrip("/")
    from mlflow.utils.file_utils import local_file_uri_to_path

    return Path(local_file_uri_to_path(artifact_uri))


def artifact_repo(results_dir: str | Path, artifact_uri: str) -> Any:
    """MLflow's own local artifact repository on `artifact_dir` (writes and lists a run's files)."""
    from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository

    return LocalArtifactRepository(artifact_dir(results_dir, artifact_uri).as_posix())


def param_value(value: Any) -> str:
    """A param as MLflow stores it: text, cut at MLflow's own limit (the one place that cuts params)."""
    from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH

    return str(value)[:MAX_PARAM_VAL_LENGTH]


def results_of(uri: str) -> Path:
    """The results folder of the harness's store URI `sqlite:///<results>/mlflow.db` (`tracking_uri`)."""
    path = uri[len("sqlite:///"):] if uri.startswith("sqlite:///") else ""
    if not path.endswith("/mlflow.db"):
        raise UserError(f"{uri}: not the harness's MLflow store; give sqlite:///<results>/mlflow.db (the store "
                        "`lgcaa mlflow-sync` writes and `lgcaa ui` serves), e.g. sqlite:///results/mlflow.db")
    return Path(path).parent


def read_history(path: str | Path, started: float) -> list[tuple[str, float, int, int]]:
    """(metric, value, timestamp ms, step) for every finite number of every line of a metrics.jsonl.

    Lines carry "step" and, from trainers that record it, "time" (unix seconds); without it the time is
    reconstructed from `started` and the lines' seconds_per_step."""
    out = []
    clock = started
    for line in Path(path).read_text().splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        clock += float(row.get("seconds_per_step", 0.0) or 0.0)
        ts = int(1000 * float(row.get("time", clock)))
        for k, v in row.items():
            if k in ("step", "time") or isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                continue
            out.append((k, float(v), ts, int(row["step"])))
    return out


# What each stage's experiment holds (`<profile>/<stage>`, lgcaa.tracking.experiment_name): its MLflow description.
STAGES = {
    "data": "dataset jobs: fetched, regenerated or built test sets, each with the digest of its images",
    "sr": "super-resolution jobs: one baseline or LGCAA sampling run per (dataset, method); LGCAA runs link their "
          "training run",
    "eval": "evaluations: the pinned metric protocol on one SR folder against its HR; each links its SR run",
    "train": "LGCAA training runs: the metric history of every logged step; each links the backbone it started from",
    "backbone": "the tiny backbone pre-trained for the offline profile",
    "report": "Tables I-III: each table run logs the cell values it rendered and links the eval run of every cell",
    "claims": "the paper's claims of §IV checked on the reproduced numbers",
    "figures": "the paper's figures regenerated from the reproduced numbers",
}


def experiment_description(name: str) -> str:
    profile, _, stage = name.rpartition("/")
    what = STAGES.get(stage, f"job runs of the stage '{stage}'")
    return f"**{name}** — {what}" + (f" (profile `{profile}`)." if profile else ".")


def run_link(exp_id: str, run_id: str) -> str:
    """A link to a run that works wherever the UI is served (relative to the UI's own page)."""
    return f"#/experiments/{exp_id}/runs/{run_id}"


def describe(record: dict[str, Any], upstream: dict[str, tuple[str, str, str]] | None = None) -> str:
    """The run's description (markdown, shown at the top of its MLflow page): what ran, on what, from which code;
    `upstream`: {role: (experiment id, run id, run name)} of the runs it consumed, as links on the first line (MLflow
    shows only the first lines of a description until "Show more" is clicked)."""
    p = record.get("provenance", {})
    lines = []
    if upstream:
        lines.append("**Upstream runs** (what this run consumed): " + " · ".join(
            f"{role}: [{name}]({run_link(e, r)})" for role, (e, r, name) in sorted(upstream.items())))
    lines += [f"**Command** `{p.get('command', '?')}`", ""]
    dirty = {True: "**dirty** (uncommitted changes)", False: "clean", None: "unknown"}[p.get("git_dirty")]
    lines.append(f"**Code** git `{p.get('git_commit', 'unknown')}`, {dirty}")
    if p.get("profile"):
        lines.append(f"**Profile** `{p['profile']}` (config sha256 `{p.get('config_sha256', '')[:16]}`)")
    if p.get("protocol_lock"):
        lines.append(f"**Protocol lock** `{p['protocol_lock']}`")
    if "started" in p:
        t0, t1 = p["started"], p["ended"]
        lines.append(f"**Job** {_iso(t0)} → {_iso(t1)} ({t1 - t0:.1f} s) on `{p.get('host', '?')}`")
    lines = [ln + "  " for ln in lines]  # markdown line breaks
    if record.get("inputs"):
        lines += ["", "| dataset | role | images | sha256 (of `sha256sum *.png`) | path |", "|---|---|---:|---|---|"]
        lines += [f"| {i['name']} | {i['context']} | {i.get('files', '')} | `{i.get('sha256', '')}` | `{i['path']}` |"
                  for i in record["inputs"]]
    weights = {k: v for k, v in record.get("params", {}).items() if "sha256" in k and k.startswith("weights")}
    links = record.get("links", {})
    if weights or links:
        lines += ["", "| weights / checkpoints | |", "|---|---|"]
        lines += [f"| {k} | `{v}` |" for k, v in sorted(weights.items())]
        lines += [f"| {k} | `{v}` |" for k, v in sorted(links.items())]
    return "\n".join(lines)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t).astimezone().isoformat(timespec="seconds")


# ------------------------------------------------------------------------------------------------ MLflow


class _Store:
    """Experiments and per-experiment parent runs of one sync."""

    def __init__(self, results_dir: str | Path, parent_name: str | None):
        from mlflow.tracking import MlflowClient

        self.results_dir = Path(results_dir)
        self.results_dir.mkdir(parents=True, exist_ok=True)
        # the connection uses the absolute path: MLflow caches stores by URI, so a relative URI opened earlier in
        # this process from another folder would silently write into that folder's database (artifact locations
        # stay relative: `experiment`)
        self.client = MlflowClient(tracking_uri(self.results_dir.resolve()))
        self.parent_name = parent_name
        self.experiments: dict[str, str] = {}
        self.parents: dict[str, str] = {}

    def experiment(self, name: str) -> str:
        """The id of experiment `name`, created on first use with its artifact location (`experiment_location`),
        its kind and its description."""
        if name not in self.experiments:
            exp = self.client.get_experiment_by_name(name)
            if exp is None:
                # the experiment kind makes MLflow 3's UI open it on the classic Runs view, not on GenAI traces
                exp_id = self.client.create_experiment(name, artifact_location=experiment_location(name),
                                                       tags={"mlflow.experimentKind": "custom_model_development",
                                                             "mlflow.note.content": experiment_description(name)})
            else:
                exp_id = exp.experiment_id
                if "mlflow.note.content" not in exp.tags:  # a store from before experiments had descriptions
                    self.client.set_experiment_tag(exp_id, "mlflow.note.content", experiment_description(name))
            self.experiments[name] = exp_id
        return self.experiments[name]

    def log_files(self, artifact_uri: str, files: list[str], folder: str | None = None) -> None:
        """Copy files into a run's artifacts (`artifact_uri`: the run's), under `folder` when given."""
        repo = artifact_repo(self.results_dir, artifact_uri)
        for f in files:
            repo.log_artifact(f, folder)

    def parent(self, exp_id: str, records: list[dict[str, Any]], experiment: str = "") -> str:
        """The parent run of this sync in one experiment: named by the experiment, the DAG target and time (each
        experiment's parent distinct), described by what it groups, with the DAG invocation as its Source."""
        if exp_id not in self.parents:
            started = min(r["provenance"]["started"] for r in records)
            dag_started = float(os.environ.get(ENV_DAG_STARTED) or started)
            target = os.environ.get(ENV_TARGET) or "dag"
            when = _iso(dag_started)[:16].replace("T", " ")
            stage = experiment.rpartition("/")[2] or "jobs"
            name = self.parent_name or f"{stage} · {target} {when}"
            prov = records[0]["provenance"]
            runs = sorted({r["run_name"] for r in records})
            note = (f"**{len(records)} {stage} job(s)** of one `snakemake {target}` invocation started {when}, "
                    f"profile `{prov.get('profile') or '?'}`, code git `{prov['git_commit']}`: "
                    + ", ".join(f"`{n}`" for n in runs[:20]) + (f" (+{len(runs) - 20} more)" if len(runs) > 20 else ""))
            tags = {"lgcaa.kind": "dag-invocation", "mlflow.source.git.commit": prov["git_commit"],
                    "mlflow.source.type": "JOB", "mlflow.source.name": f"snakemake {target}",
                    "mlflow.note.content": note,
                    "lgcaa.profile": prov.get("profile", ""), "lgcaa.config_sha256": prov.get("config_sha256", "")}
            run = self.client.create_run(exp_id, run_name=name, start_time=int(1000 * min(started, dag_started)),
                                         tags={k: v for k, v in tags.items() if v})
            self.parents[exp_id] = run.info.run_id
        return self.parents[exp_id]

    def close(self, ended: dict[str, float]) -> None:
        for exp_id, rid in self.parents.items():
            self.client.set_terminated(rid, end_time=int(1000 * ended[exp_id]))
        default = self.client.get_experiment("0")
        if default is not None and default.lifecycle_stage == "active" and not self.client.search_runs(["0"], max_results=1):
            self.client.delete_experiment("0")  # MLflow's empty "Default" experiment


def run_tags(record: dict[str, Any], path: str, key: str, parent_id: str) -> dict[str, str]:
    p = record["provenance"]
    tags = {
        **{k: str(v) for k, v in record.get("tags", {}).items()},
        "lgcaa.record_key": key,
        "lgcaa.record": path,
        "mlflow.parentRunId": parent_id,
        "mlflow.source.type": "JOB",
        "mlflow.source.name": p["command"][:5000],
        "mlflow.source.git.commit": p["git_commit"],
        "mlflow.note.content": describe(record)[:50000],
        "lgcaa.git_commit": p["git_commit"],
        "lgcaa.git_dirty": str(p["git_dirty"]).lower(),
        "lgcaa.command": p["command"][:5000],
        "lgcaa.host": p.get("host", ""),
        "lgcaa.profile": p.get("profile", ""),
        "lgcaa.config_sha256": p.get("config_sha256", ""),
    }
    if p.get("protocol_lock"):  # the profile's lock when the job ran; "lgcaa.lock" is a result's own lock
        tags["lgcaa.protocol_lock"] = p["protocol_lock"]
        tags.setdefault("lgcaa.lock", p["protocol_lock"])
    tags.update({f"lgcaa.link.{k}": v for k, v in record.get("links", {}).items()})
    return {k: v for k, v in tags.items() if v != ""}


def _live_run(client: Any, exp_id: str, run_id: str | None) -> Any:
    """The live run a record names (`LiveRun`), when it is in this store's experiment `exp_id`; else None."""
    if not run_id:
        return None
    from mlflow.exceptions import MlflowException

    try:
        run = client.get_run(run_id)
    except MlflowException:
        return None
    return run if run.info.experiment_id == exp_id and run.info.lifecycle_stage == "active" else None


def _log_run(store: _Store, exp_id: str, parent_id: str, record: dict[str, Any], path: str, key: str) -> str:
    """Log one record as a run: a new one, or the training's live run (`LiveRun`) completed with what it lacks."""
    from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag

    client, p = store.client, record["provenance"]
    t0, t1 = int(1000 * p["started"]), int(1000 * p["ended"])
    tags = run_tags(record, path, key, parent_id)
    marker = tags.pop("lgcaa.record_key")  # set last: only a fully logged run is found as the record's
    live = _live_run(client, exp_id, record.get("live_run"))
    if live is None:
        run = client.create_run(exp_id, run_name=record["run_name"], start_time=t0, tags=tags)
        logged_params: dict[str, str] = {}
        logged_steps: set[tuple[str, int]] = set()
    else:
        run = live
        tag_list = [RunTag(k, v) for k, v in tags.items()]
        for i in range(0, len(tag_list), 100):
            client.log_batch(run.info.run_id, tags=tag_list[i:i + 100])
        logged_params = run.data.params
        logged_steps = {(m.key, m.step) for k in run.data.metrics for m in client.get_metric_history(run.info.run_id, k)}
    rid = run.info.run_id
    params = [Param(k, param_value(v)) for k, v in record["params"].items() if k not in logged_params]
    history = read_history(record["history"], p["started"]) if record.get("history") and Path(record["history"]).is_file() else []
    in_history = {name for name, *_ in history}
    metrics = [Metric(name, v, ts, step) for name, v, ts, step in history if (name, step) not in logged_steps]
    metrics += [Metric(k, float(v), t1, 0) for k, v in record["metrics"].items()
                if k not in in_history and (k, 0) not in logged_steps and isinstance(v, (int, float))
                and math.isfinite(float(v))]
    for i in range(0, len(params), 100):
        client.log_batch(rid, params=params[i:i + 100])
    for i in range(0, len(metrics), 1000):
        client.log_batch(rid, metrics=metrics[i:i + 1000])
    datasets = [
        DatasetInput(
            Dataset(name=i["name"], digest=i["sha256"][:16], source_type="local",
                    source=json.dumps({"uri": i["path"]}),
                    profile=json.dumps({"sha256": i["sha256"], "images": i.get("files"), "digest_of": i.get("from")})),
            tags=[InputTag("mlflow.data.context", i["context"])],
        )
        for i in record.get("inputs", []) if i.get("sha256")
    ]
    if datasets:
        client.log_inputs(rid, datasets=datasets)
    # all present: checked by _sync before any run is logged
    store.log_files(run.info.artifact_uri, record["artifacts"])
    for folder, files in sorted(record.get("folders", {}).items()):
        store.log_files(run.info.artifact_uri, files, folder)
    client.set_tag(rid, "lgcaa.record_key", marker)
    client.set_terminated(rid, end_time=t1)
    return rid


def record_files(record: dict[str, Any]) -> list[str]:
    """Every file a record has logged as an artifact: `artifacts` and the files of its `folders`."""
    return [*record["artifacts"], *(f for files in record.get("folders", {}).values() for f in files)]


def sync_records(record_paths: list[str | Path], results_dir: str | Path, parent_name: str | None = None) -> dict[str, str]:
    """Log every record into MLflow (sqlite under results_dir); returns {record path: run id}.

    Runs are nested under one parent run per sync (per DAG invocation) in each experiment; a record whose key is
    already in the store is not logged again (its existing run id is returned). Syncs are serialised with the
    store's file lock: two at once would race creating the schema (alembic's migrations on a new database), an
    experiment or a parent run."""
    Path(results_dir).mkdir(parents=True, exist_ok=True)
    import logging

    # MLflow logs a caught database error with its traceback before raising it; the CLI's one line names it
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
    with file_lock(Path(results_dir).resolve() / ".mlflow.db.lock"):
        try:
            wait_for_writers(Path(results_dir) / "mlflow.db")
            store = _Store(results_dir, parent_name)
            repair_unfinished(store.client)
            return _sync(record_paths, store)
        except Exception as exc:  # a locked or corrupt database: lgcaa.errors.one_line names this file
            exc.lgcaa_database = str(Path(results_dir) / "mlflow.db")
            raise


def write_runs(out: str | Path, results_dir: str | Path, ids: dict[str, str]) -> Path:
    """The runs map of a sync (`results/mlflow/runs.json`, read by `lgcaa.report.links.mlflow_links`): the store's
    URI and {record path: run id}."""
    from lgcaa.io import write_json

    write_json(out, {"tracking_uri": tracking_uri(results_dir), "runs": ids})
    return Path(out)


BUSY_ENV = "LGCAA_MLFLOW_BUSY_SECONDS"
BUSY_WAIT_S = 20.0  # MLflow's own sqlite busy timeout (a PRAGMA it sets on every session)


def busy_wait_seconds() -> float:
    """How long a sync waits for another process's write lock on the store: $LGCAA_MLFLOW_BUSY_SECONDS, else 20 s."""
    raw = os.environ.get(BUSY_ENV, "").strip()
    if not raw:
        return BUSY_WAIT_S
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also NaN
        raise UserError(f"${BUSY_ENV}={raw!r}: not a number of seconds >= 0; unset it for MLflow's {BUSY_WAIT_S:g} s")
    return seconds


def wait_for_writers(db: Path) -> None:
    """Wait (`busy_wait_seconds`) until no other process holds a write lock on the sqlite file `db`, else raise
    sqlite's "database is locked" (the CLI's one line). Only takes and drops the write lock: writes nothing. A
    missing or corrupt file is left to MLflow's open, which creates or names it."""
    import sqlite3

    if not db.is_file():
        return
    con = sqlite3.connect(db, timeout=busy_wait_seconds(), isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc):
            raise
    except sqlite3.DatabaseError:
        pass
    finally:
        con.close()


def repair_unfinished(client: Any) -> dict[str, int]:
    """Clean up after a sync that was killed (syncs hold the store's lock, so no run of a sync is legitimately
    RUNNING when one starts): a job run left RUNNING is deleted (it is logged again, whole, by this sync: its record
    key is only set once everything else is logged) and a parent run left RUNNING is ended as KILLED at its last
    child's end (or its own start). A training's live run (`LiveRun`, no `lgcaa.record` tag) is the training's own
    and left as it is. Returns {"deleted": n, "killed": n}."""
    counts = {"deleted": 0, "killed": 0}
    exp_ids = [e.experiment_id for e in client.search_experiments()]
    if not exp_ids:
        return counts
    for run in client.search_runs(exp_ids, filter_string="attributes.status = 'RUNNING'", max_results=50000):
        rid = run.info.run_id
        if run.data.tags.get("lgcaa.kind") == "dag-invocation":
            children = client.search_runs([run.info.experiment_id], max_results=50000,
                                          filter_string=f"tags.`mlflow.parentRunId` = '{rid}' and "
                                                        "attributes.status = 'FINISHED'")
            end = max([c.info.end_time or 0 for c in children] + [run.info.start_time or 0])
            client.set_terminated(rid, status="KILLED", end_time=end)
            counts["killed"] += 1
        elif "lgcaa.record" in run.data.tags:
            client.delete_run(rid)
            counts["deleted"] += 1
    return counts


def _sync(record_paths: list[str | Path], store: _Store) -> dict[str, str]:
    loaded = [(path, json.loads(Path(path).read_text())) for path in sorted(map(str, record_paths))]
    for path, record in loaded:  # a record written before provenance existed: its file time stands in
        mtime = Path(path).stat().st_mtime
        record.setdefault("provenance", {"git_commit": "unknown", "git_dirty": None, "command": "unknown",
                                         "started": mtime, "ended": mtime})
    run_ids: dict[str, str] = {}
    todo: dict[str, list[tuple[str, dict[str, Any], str]]] = {}
    for path, record in loaded:
        key = record_key(record, path)
        exp_id = store.experiment(record["experiment"])
        found = store.client.search_runs([exp_id], max_results=1, filter_string=f"tags.`lgcaa.record_key` = '{key}' "
                                         "and attributes.status = 'FINISHED'")
        if found:
            run_ids[path] = found[0].info.run_id
        else:
            todo.setdefault(exp_id, []).append((path, record, key))
    for items in todo.values():  # before anything is logged: a run without its files would look complete
        for path, record, _ in items:
            absent = [a for a in record_files(record) if not Path(a).is_file()]
            if absent:
                raise UserError(f"{path}: its artifact {absent[0]} is not there from {Path.cwd()} (a job record's "
                                "paths are relative to the folder its job ran in); run mlflow-sync from that "
                                "folder, or rerun the job if the file was deleted")
    ended: dict[str, float] = {}
    names = {v: k for k, v in store.experiments.items()}
    for exp_id, items in todo.items():
        parent = store.parent(exp_id, [r for _, r, _ in items], names.get(exp_id, ""))
        for path, record, key in items:
            run_ids[path] = _log_run(store, exp_id, parent, record, path, key)
        ended[exp_id] = max(r["provenance"]["ended"] for _, r, _ in items)
    store.close(ended)
    link_upstream(store.client, loaded, run_ids)
    return run_ids


def _norm(path: str | Path) -> str:
    return os.path.normpath(str(path))


def _run_of_record(client: Any, path: str, known: dict[str, str]) -> str | None:
    """The run ID of a job record: logged by this sync (`known`), else the newest finished run tagged with it."""
    if _norm(path) in known:
        return known[_norm(path)]
    exp_ids = [e.experiment_id for e in client.search_experiments()]
    for candidate in {path, _norm(path)}:
        found = client.search_runs(exp_ids, max_results=1, order_by=["attributes.start_time DESC"],
                                   filter_string=f"tags.`lgcaa.record` = '{candidate}' and attributes.status = 'FINISHED'")
        if found:
            return found[0].info.run_id
    return None


def upstream_tag(role: str) -> str:
    return "lgcaa.upstream." + re.sub(r"[^\w.\- :/]", "_", role)


def link_upstream(client: Any, loaded: list[tuple[str, dict[str, Any]]], run_ids: dict[str, str]) -> int:
    """Tag every run whose record names `upstream` records with their run IDs (`lgcaa.upstream.<role>`) and list
    them as links in its description; idempotent (tags are set again, to the same values, on a later sync). An
    upstream record with no run in the store is tagged `lgcaa.upstream.<role>.missing` with its path. Returns the
    number of links set."""
    from mlflow.entities import RunTag

    known = {_norm(p): rid for p, rid in run_ids.items()}
    n = 0
    for path, record in loaded:
        if not record.get("upstream") or path not in run_ids:
            continue
        tags, found = [], {}
        for role, up in sorted(record["upstream"].items()):
            rid = _run_of_record(client, up, known)
            if rid is None:
                tags.append(RunTag(upstream_tag(role) + ".missing", str(up)))
                continue
            run = client.get_run(rid)
            found[role] = (run.info.experiment_id, rid, run.info.run_name)
            tags.append(RunTag(upstream_tag(role), rid))
        if found:
            tags.append(RunTag("mlflow.note.content", describe(record, found)[:50000]))
        for i in range(0, len(tags), 100):
            client.log_batch(run_ids[path], tags=tags[i:i + 100])
        n += len(found)
    return n


# ------------------------------------------------------------------------------------------------ live training


class LiveRun:
    """A training's run logged while it trains (`lgcaa train --mlflow-uri`), into the harness's store under
    `results_dir` by the rules the sync follows (experiment, params, artifact root). The run id is kept in
    `<run_dir>/mlflow_run_id` (a resumed training continues the same run) and goes into the training's job record
    (`live_run`): the sync completes this run rather than logging a second one."""

    def __init__(self, results_dir: str | Path, experiment: str, run_name: str, run_dir: Path,
                 params: dict[str, Any]):
        from mlflow.entities import Param

        from lgcaa.job import command_line, git_state

        results_dir = Path(results_dir)
        results_dir.mkdir(parents=True, exist_ok=True)
        with file_lock(results_dir.resolve() / ".mlflow.db.lock"):  # the first creation of a store is serialised
            self.store = _Store(results_dir, None)
            exp_id = self.store.experiment(experiment)
        self.client = self.store.client
        id_file = Path(run_dir) / "mlflow_run_id"
        self.run_id = id_file.read_text().strip() if id_file.is_file() else None
        if self.run_id is None:
            # a Source like every synced run's: the command that trained, and the code's commit
            source = {"mlflow.source.type": "JOB", "mlflow.source.name": command_line()[:5000],
                      "mlflow.source.git.commit": git_state()["commit"]}
            self.run_id = self.client.create_run(exp_id, run_name=run_name, tags=source).info.run_id
            id_file.write_text(self.run_id + "\n")
            items = [Param(k, param_value(v)) for k, v in sorted(params.items())]
            for i in range(0, len(items), 100):
                self.client.log_batch(self.run_id, params=items[i : i + 100])
        else:
            self.client.update_run(self.run_id, status="RUNNING")
        self.artifact_uri = self.client.get_run(self.run_id).info.artifact_uri

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        import time

        from mlflow.entities import Metric

        ts = int(time.time() * 1000)
        self.client.log_batch(self.run_id, metrics=[Metric(k, float(v), ts, step) for k, v in metrics.items()])

    def log_artifact(self, path: Path, folder: str | None = None) -> None:
        self.store.log_files(self.artifact_uri, [str(path)], folder)

    def finish(self, status: str = "FINISHED") -> None:
        self.client.set_terminated(self.run_id, status=status)
