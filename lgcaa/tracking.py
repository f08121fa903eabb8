"""Job records and their provenance; who writes MLflow, and when.

One MLflow writer: `lgcaa.mlflow_store`. Jobs do not talk to MLflow: each writes a small `run.json` record next to
its outputs, and one `lgcaa mlflow-sync` job at the end of the DAG logs every record into MLflow through
`lgcaa.mlflow_store.sync_records`. The one exception is asked for by hand: `lgcaa train --mlflow-uri` shows a
training's metrics while it trains, through `lgcaa.mlflow_store.LiveRun` (same store, same experiment, param
limit and artifact root as the sync); its record names that run (`live_run`) and the sync completes it instead
of logging a second run. No other module imports MLflow to write, and nothing writes SQL into MLflow's schema.

A record holds
  - params, metrics, artifacts (files), tags; params are flattened here (`flatten`) and cut to MLflow's own limit
    only by the writer (`lgcaa.mlflow_store.param_value`);
  - optionally `folders`: {artifact folder: files} logged under that folder (an evaluation's first SR outputs, `sr/`);
  - `provenance`: the git commit and dirty flag of the code that ran, the command line, the job's real start and
    end time (unix seconds), the host, and — when the job runs for a profile — the profile name, the sha256 of
    its validated config and the metric protocol lock (`provenance_env`, set by the DAG for every job);
  - `inputs`: the folders it read or wrote (LR, HR, SR, a dataset manifest), each with a content digest computed
    once, when the record is written (`lgcaa.data.manifest.folder_digest`: the sha256 of `sha256sum *.png`);
  - optionally `history` (a training run's metrics.jsonl: every logged step) and `links` (checkpoints and
    weights left where they are, with their sha256);
  - optionally `upstream`: {role: job record path} of the jobs whose outputs it consumed (eval -> its sr/sample
    job, sample -> the training run, training -> the prepared backbone, table -> the evaluations of its cells);
    only records that exist when it is written. The sync turns them into run-ID tags (`lgcaa.mlflow_store`).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from lgcaa.io import write_json
from lgcaa.job import adopt, command_line, context, git_state, job_started
from lgcaa.layout import MANIFEST

VERSIONED_PACKAGES = ("lgcaa-harness", "torch", "pyiqa", "basicsr", "diffusers", "ncnn", "numpy", "pillow")

# Provenance the DAG hands to every job through the environment (not params: provenance must not rerun jobs).
ENV_PROFILE = "LGCAA_PROFILE"
ENV_CONFIG_SHA256 = "LGCAA_CONFIG_SHA256"
ENV_LOCK = "LGCAA_PROTOCOL_LOCK"
ENV_TARGET = "LGCAA_DAG_TARGET"
ENV_DAG_STARTED = "LGCAA_DAG_STARTED"


# ------------------------------------------------------------------------------------------------ provenance


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in VERSIONED_PACKAGES:
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "absent"
    return out


def flatten(prefix: str, value: Any, out: dict[str, str]) -> dict[str, str]:
    """Nested settings as flat `a.b.c` params (text, uncut: the writer cuts them to MLflow's limit)."""
    if isinstance(value, dict):
        for k, v in value.items():
            flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = str(value)
    return out


def experiment_name(stage: str, given: str | None = None) -> str:
    """MLflow experiment of a job record: `given`, else `<profile>/<stage>` (the DAG's profile, or "adhoc" for a
    command run by hand without one)."""
    return given or f"{context(ENV_PROFILE) or 'adhoc'}/{stage}"


def config_sha256(cfg: dict[str, Any]) -> str:
    """sha256 of the validated profile config (canonical JSON)."""
    return hashlib.sha256(json.dumps(cfg, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def provenance_env(cfg: dict[str, Any], lock: str, target: str = "") -> dict[str, str]:
    """The environment the DAG (workflow/rules/common.smk) gives every job: profile, config digest, lock."""
    env = {ENV_PROFILE: str(cfg.get("profile", "")), ENV_CONFIG_SHA256: config_sha256(cfg), ENV_LOCK: lock}
    if target:
        env[ENV_TARGET] = target
    env.setdefault(ENV_DAG_STARTED, os.environ.get(ENV_DAG_STARTED) or f"{time.time():.3f}")
    return env


def adopt_profile(cfg: dict[str, Any], lock: str | None = None) -> None:
    """For a command run by hand with --config: record that profile unless the DAG already set one."""
    adopt({k: v for k, v in provenance_env(cfg, lock or "").items() if k != ENV_DAG_STARTED})


def provenance(started: float | None = None) -> dict[str, Any]:
    git = git_state()
    return {
        "git_commit": git["commit"],
        "git_dirty": git["dirty"],
        "git_describe": git["describe"],
        "command": command_line(),
        "started": round(started if started is not None else job_started(), 3),
        "ended": round(time.time(), 3),
        "host": platform.node(),
        "profile": context(ENV_PROFILE),
        "config_sha256": context(ENV_CONFIG_SHA256),
        "protocol_lock": context(ENV_LOCK),
    }


# ------------------------------------------------------------------------------------------------ inputs


def dataset_input(name: str, path: str | Path, context: str, digest: dict[str, Any] | None = None) -> dict[str, Any]:
    """A dataset the job read or wrote, with its content digest (computed now, once, unless the job already has
    it: `digest` = {"sha256", "files", "from"}).

    `path`: a folder of images (digest of its PNGs) or a dataset's manifest.json (digest of every file it lists,
    i.e. `sha256sum hr/*.png lr/*.png | sha256sum` in the dataset folder)."""
    from lgcaa.data.manifest import folder_digest, listing_digest

    path = Path(path)
    if digest is None and path.name == MANIFEST:
        files = json.loads(path.read_text()).get("files", {})
        digest = {"sha256": listing_digest({k: v["sha256"] for k, v in files.items()}), "files": len(files),
                  "from": "manifest"}
    elif digest is None:
        digest = folder_digest(path)
    return {"name": name, "path": str(path), "context": context, **digest}


# ------------------------------------------------------------------------------------------------ records


SR_IMAGES = 4  # SR outputs an evaluation's MLflow run shows (`folders: {"sr": ...}`), unless the profile says


def image_sample(folder: str | Path, n: int) -> list[str]:
    """The first `n` PNGs of a folder by file name: the images a record's run shows (a capped sample)."""
    return [str(p) for p in sorted(Path(folder).glob("*.png"))[:max(n, 0)]]



def write_record(
    dest: str | Path,
    experiment: str,
    run_name: str,
    params: dict[str, Any],
    metrics: dict[str, float] | None = None,
    artifacts: list[str] | None = None,
    tags: dict[str, str] | None = None,
    inputs: list[dict[str, Any]] | None = None,
    *,
    started: float | None = None,
    history: str | Path | None = None,
    links: dict[str, str] | None = None,
    upstream: dict[str, str | Path] | None = None,
    folders: dict[str, list[str]] | None = None,
    live_run: str | None = None,
) -> Path:
    """Write a job record (see the module docstring). `artifacts` (and the files of `folders`) are files relative
    to the working directory; `inputs` come from `dataset_input`; `started` defaults to the job's start
    (`note_command`); `live_run`: the MLflow run a `LiveRun` logged this job into."""
    record: dict[str, Any] = {
        "experiment": experiment,
        "run_name": run_name,
        "params": {**params, **{f"version.{k}": v for k, v in versions().items()}},
        "metrics": metrics or {},
        "artifacts": artifacts or [],
        "tags": tags or {},
        "inputs": inputs or [],
        "provenance": provenance(started),
    }
    if history is not None:
        record["history"] = str(history)
    if links:
        record["links"] = links
    if folders:
        record["folders"] = {k: [str(f) for f in v] for k, v in folders.items() if v}
    if live_run:
        record["live_run"] = live_run
    found = {role: str(p) for role, p in (upstream or {}).items() if Path(p).is_file()}
    if found:
        record["upstream"] = found
    write_json(dest, record)
    return Path(dest)
