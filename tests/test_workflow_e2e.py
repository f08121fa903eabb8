"""End to end: real Snakemake, real ncnn weights, real pyiqa metrics, real MLflow sqlite, on 2 photos."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lgcaa.config import load_config

pytestmark = pytest.mark.slow


def _config(tmp: Path) -> Path:
    cfg = copy.deepcopy(load_config(None))
    cfg["paths"] = {"data": str(tmp / "data"), "results": str(tmp / "results")}
    cfg["mini"]["photos"] = ["astronaut", "chelsea"]
    for ds in cfg["datasets"].values():
        ds["expected_count"] = 2
    cfg["methods"] = ["bicubic", "realesrgan-x4plus"]
    cfg["tables"]["table1"]["methods"] = list(cfg["methods"])
    path = tmp / "config.json"
    path.write_text(json.dumps(cfg))
    return path


def _snakemake(repo: Path, config: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(repo / "Snakefile"), "--directory", str(config.parent),
         "--configfile", str(config), "--cores", "2", *extra],
        capture_output=True, text=True, env=env,
    )


@pytest.fixture(scope="module")
def finished_run(repo_root, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    config = _config(tmp)
    res = _snakemake(repo_root, config, "tables")
    assert res.returncode == 0, res.stderr[-4000:]
    return tmp, config


def test_table_has_real_numbers_and_honest_missing(finished_run):
    tmp, _ = finished_run
    md = (tmp / "results/tables/table1.md").read_text()
    csv = (tmp / "results/tables/table1.csv").read_text().splitlines()
    header = csv[0].split(",")
    assert header[:3] == ["dataset", "metric", "direction"] and "bicubic" in header and "realesrgan-x4plus" in header
    rows = {(r.split(",")[0], r.split(",")[1]): r.split(",") for r in csv[1:]}
    for ds in ("mini-bicubic", "mini-realesrgan"):
        for metric in ("psnr", "ssim", "niqe"):
            row = rows[(ds, metric)]
            values = [float(v) for v in row[3:5]]
            assert all(v == v for v in values)  # numbers, not NaN
            assert row[5] in ("bicubic", "realesrgan-x4plus")  # a best method is named
        assert rows[(ds, "psnr")][3] and 15 < float(rows[(ds, "psnr")][3]) < 40
    assert "missing" in md and "lgcaa weights fetch" in md
    assert "**" in md and "<u>" in md
    assert "Protocol lock" in md and "N = 2" in md


def test_every_job_is_an_mlflow_run(finished_run):
    from mlflow.tracking import MlflowClient

    tmp, _ = finished_run
    runs_map = json.loads((tmp / "results/mlflow/runs.json").read_text())
    assert len(runs_map["runs"]) == 2 + 4 + 4  # data + sr + eval jobs
    client = MlflowClient(runs_map["tracking_uri"])
    jobs = [e.experiment_id for e in client.search_experiments() if e.name.split("/")[-1] in ("data", "sr", "eval")]
    runs = client.search_runs(jobs, filter_string="tags.`lgcaa.record_key` != ''")
    assert len(runs) == 10
    ev = [r for r in runs if r.info.run_name == "eval:bicubic:mini-bicubic"][0]
    assert ev.data.params["method"] == "bicubic" and "version.pyiqa" in ev.data.params
    assert ev.data.metrics["psnr"] > 15
    arts = [a.path for a in client.list_artifacts(ev.info.run_id)]
    assert "per_image.csv" in arts


def test_second_run_has_nothing_to_do(repo_root, finished_run):
    tmp, config = finished_run
    res = _snakemake(repo_root, config, "tables", "-n")
    assert res.returncode == 0
    assert "Nothing to be done" in res.stdout + res.stderr


def test_corrupt_image_fails_one_job_naming_the_file(repo_root, finished_run):
    tmp, config = finished_run
    bad = tmp / "data/mini-bicubic/lr/chelsea.png"
    keep = tmp / "results/metrics/mini-realesrgan/bicubic/aggregate.json"
    before = keep.read_bytes()
    original = bad.read_bytes()
    try:
        bad.write_bytes(b"\x89PNG garbage")
        res = _snakemake(repo_root, config, "tables", "--keep-going", "--forcerun", "sr")
        assert res.returncode != 0
        assert "chelsea.png: cannot decode image" in res.stderr
        assert keep.read_bytes() == before  # other jobs' outputs intact
    finally:
        bad.write_bytes(original)
