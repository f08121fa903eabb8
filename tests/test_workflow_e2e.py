"""End to end: real Snakemake, real ncnn weights, real pyiqa metrics, real MLflow sqlite, on 2 photos.

All assertions read the one shared DAG run (`dag_run`, tests/conftest.py); tests that write work on a copy.
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


def test_table_has_real_numbers_and_honest_missing(dag_run):
    md = dag_run.path("results/tables/table1.md").read_text()
    csv = dag_run.path("results/tables/table1.csv").read_text().splitlines()
    header = csv[0].split(",")
    assert header[:6] == ["dataset", "metric", "direction", "bicubic", "realesrgan-x4plus", "lgcaa"], header
    rows = {(r.split(",")[0], r.split(",")[1]): r.split(",") for r in csv[1:]}
    for ds in ("mini-bicubic", "mini-realesrgan"):
        for metric in ("psnr", "ssim", "niqe"):
            row = rows[(ds, metric)]
            values = [float(v.split(" ")[0]) for v in row[3:6]]
            assert all(v == v for v in values)  # numbers, not NaN
            assert row[6] in ("bicubic", "realesrgan-x4plus", "lgcaa")  # a best method is named
        assert rows[(ds, "psnr")][3] and 15 < float(rows[(ds, "psnr")][3]) < 40
    assert "missing" in md and "lgcaa weights fetch" in md
    assert "**" in md and "<u>" in md
    assert "Protocol lock" in md and "N = 2" in md


def test_seed_instances_are_run_and_aggregated(dag_run):
    lay = dag_run.layout
    for ds in ("mini-bicubic", "mini-realesrgan"):
        a0 = json.loads(dag_run.path(lay.aggregate(ds, "lgcaa")).read_text())
        a1 = json.loads(dag_run.path(lay.aggregate(ds, "lgcaa@seed1")).read_text())
        assert a0["n_images"] == a1["n_images"] == 2
        assert a0["metrics"]["psnr"]["mean"] != a1["metrics"]["psnr"]["mean"]  # another seed, other samples
    long = dag_run.path("results/tables/table1.long.csv").read_text()
    assert "lgcaa@seed1" in long  # the cell cites both seeds' records


def test_every_job_is_an_mlflow_run(dag_run):
    from mlflow.tracking import MlflowClient

    from lgcaa.layout import model_runs, sr_pairs

    cfg = dag_run.cfg
    runs_map = json.loads(dag_run.path("results/mlflow/runs.json").read_text())
    n_jobs = len(cfg["datasets"]) + 2 * len(sr_pairs(cfg)) + len(model_runs(cfg))  # data + sr + eval + training
    assert n_jobs == 2 + 2 * (4 + 4) + 1  # 2 baselines + lgcaa (2 seeds) on 2 sets
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


def test_second_run_has_nothing_to_do(dag_run):
    res = dag_run.snakemake("tables", "-n")
    assert res.returncode == 0
    assert "Nothing to be done" in res.stdout + res.stderr


def test_corrupt_image_fails_one_job_naming_the_file(dag_run, tmp_path):
    run = dag_run.copy(tmp_path / "ws")
    bad = run.path("data/mini-bicubic/lr/chelsea.png")
    keep = run.path(run.layout.aggregate("mini-realesrgan", "bicubic"))
    before = keep.read_bytes()
    bad.write_bytes(b"\x89PNG garbage")
    res = run.snakemake("tables", "--keep-going", "--forcerun", "sr")
    assert res.returncode != 0
    assert "chelsea.png: cannot decode image" in res.stderr
    assert keep.read_bytes() == before  # other jobs' outputs intact
