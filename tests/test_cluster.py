"""The shared DAG run (`dag_run`, tests/conftest.py) with one part deleted, rebuilt through
`snakemake --profile workflow/profiles/slurm` on a real SLURM and compared byte for byte with the local build; the
finished run copied elsewhere has nothing to do.

The part: the classical baseline on the bicubic mini set — its SR folder and record, its evaluation and Table I —
so the SLURM run is 5 jobs (sr, evaluate, mlflow_sync, mlflow_links, table) of both partitions: `sr` asks for a GPU
here only (`--set-resources sr:gpu=1`) and must land on `gpu` with --gpus=1, every other job on `cpu`. The files it
rebuilds must equal the ones `dvc repro` built locally (the SR images, the per-image scores, the aggregate, Table
I's csv).

The SLURM is a throw-away single-node cluster (slurmctld + slurmd 22.05 with munge, started by
workflow/profiles/slurm/testcluster.sh, loopback only). Where the job facts come from: there is no slurmdbd (it
needs a MariaDB server), so SLURM's accounting storage is off and the cluster writes one job completion record
per job (jobcomp/filetxt); `sacct -c` reads those records (JobID, Partition, State). The GPU request of a job is
read from `scontrol show job` (TresPerJob; finished jobs stay visible for MinJobAge = 10 min). Snakemake polls
with `--slurm-status-command squeue` (plain `sacct` fails without accounting and the executor plugin would then
wait forever); every run is wrapped in `timeout -s KILL`.
"""

from __future__ import annotations

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
PAIR = ("mini-bicubic", "bicubic")  # the part of the DAG run that SLURM rebuilds


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}


def snakemake(ws: Path, *args: str, env: dict[str, str] | None = None, limit: int = 900) -> subprocess.CompletedProcess:
    # --configfile takes several values: keep it last so it cannot swallow a target
    cmd = ["timeout", "-s", "KILL", str(limit), sys.executable, "-m", "snakemake", *args, "--configfile", "config.json"]
    return subprocess.run(cmd, cwd=ws, capture_output=True, text=True, env=env or _env(), check=False)


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


def _rebuilt_files(layout) -> list[str]:
    """The files of PAIR's part that SLURM rebuilds and that must equal the local build (the job records differ:
    times, hosts, run IDs)."""
    images = Path(layout.sr_dir(*PAIR))
    return [*(str(images / name) for name in ("astronaut.png", "chelsea.png")),
            layout.per_image(*PAIR), layout.aggregate(*PAIR), TARGET]


def test_a_deleted_part_rebuilt_through_slurm_equals_the_local_run(slurm, request, tmp_path):
    _, env = slurm
    dag_run = request.getfixturevalue("dag_run")  # after `slurm`: without SLURM the test skips before the DAG run
    run = dag_run.copy(tmp_path / "ws")
    lay = run.layout
    expected = {rel: dag_run.path(rel).read_bytes() for rel in _rebuilt_files(lay)}
    shutil.rmtree(run.path(lay.sr_dir(*PAIR)))
    shutil.rmtree(run.path(lay.metrics_dir(*PAIR)))
    for rel in (lay.sr_record(*PAIR), *lay.table_files("table1")):
        run.path(rel).unlink()
    # the `sr` job asks for a GPU here only, so both partitions are exercised: the profile's partitions.yaml must
    # send it to `gpu` with --gpus=1 and every other job to `cpu`
    res = snakemake(run.root, TARGET, "--profile", "workflow/profiles/slurm", "--slurm-status-command", "squeue",
                    "--slurm-init-seconds-before-status-checks", "1", "--seconds-between-status-checks", "1",
                    "--latency-wait", "5", "--retries", "0", "--set-resources", "sr:gpu=1", env=env)
    log = res.stdout + res.stderr
    assert res.returncode == 0, log[-4000:]

    jobs = _submitted(log)
    assert sorted(jobs.values()) == ["evaluate", "mlflow_links", "mlflow_sync", "sr", "table"], jobs
    n_dag = int(re.search(r"^total\s+(\d+)$", log, re.M).group(1))
    assert len(jobs) == n_dag == 5  # every job of the DAG ran as a SLURM job

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

    rebuilt = {rel: run.path(rel).read_bytes() for rel in expected}
    assert [rel for rel in expected if rebuilt[rel] != expected[rel]] == []


def test_a_copied_finished_run_has_nothing_to_do(dag_run, tmp_path):
    """No rule parameter or input names an absolute path (the paper's numbers were `workflow.basedir/...`)."""
    copy_ = dag_run.copy(tmp_path / "elsewhere" / "ws").root  # keeps mtimes and Snakemake's metadata
    res = snakemake(copy_, "--cores", "2", "-n", "tables")
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    assert "Nothing to be done" in out, re.findall(r"reason: .*", out)[:10]
    res = snakemake(copy_, "--cores", "2", "-n", "-p", "--forceall", "tables")
    assert res.returncode == 0 and str(dag_run.root) not in res.stdout.replace(str(copy_), "")
