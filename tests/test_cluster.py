"""A small DAG (two mini images, the classical and the ncnn baselines, metrics, Table I) run locally, then
through `snakemake --profile workflow/profiles/slurm` on a real SLURM, then moved.

The SLURM is a throw-away single-node cluster (slurmctld + slurmd 22.05 with munge, started by
workflow/profiles/slurm/testcluster.sh, loopback only). Where the job facts come from: there is no slurmdbd (it
needs a MariaDB server), so SLURM's accounting storage is off and the cluster writes one job completion record
per job (jobcomp/filetxt); `sacct -c` reads those records (JobID, Partition, State). The GPU request of a job is
read from `scontrol show job` (TresPerJob; finished jobs stay visible for MinJobAge = 10 min). Snakemake polls
with `--slurm-status-command squeue` (plain `sacct` fails without accounting and the executor plugin would then
wait forever); every run is wrapped in `timeout -s KILL`.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SCRIPT = "workflow/profiles/slurm/testcluster.sh"
TARGET = "results/tables/table1.csv"


def small_config() -> dict:
    from lgcaa.config import load_config, validate

    cfg = copy.deepcopy(load_config(None))
    cfg["mini"].update(photos=["astronaut", "chelsea"], hr_size=128)
    cfg["datasets"] = {"mini-bicubic": {**cfg["datasets"]["mini-bicubic"], "expected_count": 2}}  # one set: 8 jobs
    cfg["tables"]["table1"]["datasets"] = ["mini-bicubic"]
    cfg["methods"] = ["bicubic", "realesrgan-x4plus"]
    for key in ("model", "seeds", "figures"):
        cfg.pop(key, None)
    for key in ("table2", "table3", "curves"):
        cfg["tables"].pop(key, None)
    cfg["tables"]["table1"]["methods"] = list(cfg["methods"])
    cfg["tables"]["compare"]["methods"].pop("lgcaa", None)
    cfg["tables"]["compare"]["datasets"].pop("mini-realesrgan", None)
    cfg["tables"]["labels"] = {k: v for k, v in cfg["tables"].get("labels", {}).items() if k in cfg["methods"]}
    return validate(cfg, source="tests/test_cluster.py small_config()")


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}


def workspace(repo: Path, ws: Path) -> Path:
    """A checkout-like folder: Snakefile, workflow/, results/paper/ and config.json (relative data/results paths)."""
    ws.mkdir(parents=True)
    shutil.copy(repo / "Snakefile", ws / "Snakefile")
    shutil.copytree(repo / "workflow", ws / "workflow")
    shutil.copytree(repo / "results" / "paper", ws / "results" / "paper")
    (ws / "config.json").write_text(json.dumps(small_config()))
    return ws


def snakemake(ws: Path, *args: str, env: dict[str, str] | None = None, limit: int = 900) -> subprocess.CompletedProcess:
    # --configfile takes several values: keep it last so it cannot swallow a target
    cmd = ["timeout", "-s", "KILL", str(limit), sys.executable, "-m", "snakemake", *args, "--configfile", "config.json"]
    return subprocess.run(cmd, cwd=ws, capture_output=True, text=True, env=env or _env(), check=False)


@pytest.fixture(scope="module")
def local_run(repo_root, tmp_path_factory) -> Path:
    ws = workspace(repo_root, tmp_path_factory.mktemp("local") / "ws")
    res = snakemake(ws, "--cores", "2", TARGET)
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    return ws


@pytest.fixture(scope="module")
def slurm(repo_root, tmp_path_factory):
    """A running test cluster: (its folder, an environment with SLURM_CONF)."""
    missing = [b for b in ("slurmctld", "slurmd", "munged", "sacct") if shutil.which(b) is None]
    if missing or os.geteuid() != 0:
        why = f"needs root and slurm-wlm + munge (missing: {', '.join(missing) or 'root'}); .ci/run installs them"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    folder = tmp_path_factory.mktemp("slurm")
    start = subprocess.run(["timeout", "-s", "KILL", "60", str(repo_root / SCRIPT), "start", str(folder)],
                           capture_output=True, text=True, check=False)
    assert start.returncode == 0, start.stdout + start.stderr
    yield folder, {**_env(), "SLURM_CONF": str(folder / "slurm.conf")}
    subprocess.run(["timeout", "-s", "KILL", "60", str(repo_root / SCRIPT), "stop", str(folder)], check=False)


def _submitted(log: str) -> dict[str, str]:
    """SLURM job id -> rule, from the executor's 'submitted with SLURM jobid X (log: .../rule_<rule>/...)' lines."""
    return {m.group(1): m.group(2)
            for m in re.finditer(r"submitted with SLURM jobid (\d+) \(log: \S*/slurm_logs/rule_(\w+)/", log)}


# `slurm` before `local_run`: without SLURM the test skips before the ~100 s local DAG run is built
def test_table1_through_slurm_equals_the_local_run(repo_root, slurm, local_run, tmp_path):
    folder, env = slurm
    ws = workspace(repo_root, tmp_path / "ws")
    # the `sr` jobs (bicubic, ncnn Real-ESRGAN) ask for a GPU here only, so both partitions are exercised: the
    # profile's partitions.yaml must send them to `gpu` with --gpus=1 and every other job to `cpu`
    res = snakemake(ws, TARGET, "--profile", "workflow/profiles/slurm", "--slurm-status-command", "squeue",
                    "--slurm-init-seconds-before-status-checks", "1", "--seconds-between-status-checks", "1",
                    "--latency-wait", "5", "--retries", "0", "--set-resources", "sr:gpu=1", env=env)
    log = res.stdout + res.stderr
    assert res.returncode == 0, log[-4000:]

    jobs = _submitted(log)
    assert sorted(set(jobs.values())) == ["data_mini", "evaluate", "mlflow_links", "mlflow_sync", "sr", "table"]
    n_dag = int(re.search(r"^total\s+(\d+)$", log, re.M).group(1))
    assert len(jobs) == n_dag == 8  # every job of the DAG ran as a SLURM job

    acct = subprocess.run(["sacct", "-c", "-P", "-n", "-o", "JobID,Partition,State"], capture_output=True,
                          text=True, env=env, check=True).stdout
    records = {row.split("|")[0]: row.split("|")[1:] for row in acct.split()}
    for job_id, rule in jobs.items():
        partition, state = records[job_id]
        assert state == "COMPLETED", (job_id, rule, state)
        assert partition == ("gpu" if rule == "sr" else "cpu"), (job_id, rule, partition)
        shown = subprocess.run(["scontrol", "-o", "show", "job", job_id], capture_output=True, text=True,
                               env=env, check=True).stdout
        assert ("gres:gpu:1" in shown) == (rule == "sr"), (job_id, rule, shown)

    assert (ws / TARGET).read_bytes() == (local_run / TARGET).read_bytes()


def test_a_copied_finished_run_has_nothing_to_do(local_run, tmp_path):
    """No rule parameter or input names an absolute path (the paper's numbers were `workflow.basedir/...`)."""
    copy_ = tmp_path / "elsewhere" / "ws"
    shutil.copytree(local_run, copy_, symlinks=True)  # keeps mtimes and Snakemake's metadata
    res = snakemake(copy_, "--cores", "2", "-n", TARGET)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    assert "Nothing to be done" in out, re.findall(r"reason: .*", out)[:10]
    res = snakemake(copy_, "--cores", "2", "-n", "-p", "--forceall", TARGET)
    assert res.returncode == 0 and str(local_run) not in res.stdout.replace(str(copy_), "")
