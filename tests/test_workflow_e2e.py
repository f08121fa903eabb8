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
    # one quick LGCAA run (tiny, a few steps) sampled on both sets; the ablation tables are tested elsewhere
    cfg["model"]["train"].update(steps=6, checkpoint_every=3, log_every=3, pair_pool=8)
    cfg["model"]["runs"] = {"lgcaa": {"datasets": list(cfg["datasets"]), "train": {"preview_images": 0}, "sample": {"steps": 3}}}
    for name in ("table2", "table3", "curves"):
        cfg["tables"].pop(name)
    cfg["tables"]["table1"]["methods"] = [*cfg["methods"], "lgcaa"]
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
    assert header[:6] == ["dataset", "metric", "direction", "bicubic", "realesrgan-x4plus", "lgcaa"], header
    rows = {(r.split(",")[0], r.split(",")[1]): r.split(",") for r in csv[1:]}
    for ds in ("mini-bicubic", "mini-realesrgan"):
        for metric in ("psnr", "ssim", "niqe"):
            row = rows[(ds, metric)]
            values = [float(v) for v in row[3:6]]
            assert all(v == v for v in values)  # numbers, not NaN
            assert row[6] in ("bicubic", "realesrgan-x4plus", "lgcaa")  # a best method is named
        assert rows[(ds, "psnr")][3] and 15 < float(rows[(ds, "psnr")][3]) < 40
    assert "missing" in md and "lgcaa weights fetch" in md
    assert "**" in md and "<u>" in md
    assert "Protocol lock" in md and "N = 2" in md


def test_every_job_is_an_mlflow_run(finished_run):
    from mlflow.tracking import MlflowClient

    tmp, _ = finished_run
    runs_map = json.loads((tmp / "results/mlflow/runs.json").read_text())
    n_jobs = 2 + (4 + 2) + 1 + 6  # data + sr (baselines + LGCAA sampling) + LGCAA training + eval
    assert len(runs_map["runs"]) == n_jobs
    client = MlflowClient(runs_map["tracking_uri"])
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()],
                              filter_string="tags.`lgcaa.record_key` != ''")
    assert len({r.info.run_id for r in runs} & set(runs_map["runs"].values())) == n_jobs
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
