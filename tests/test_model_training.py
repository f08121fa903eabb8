"""Training: exact resume, atomic checkpoints, the non-finite guard, MLflow logging, the `lgcaa train` CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from profile_helpers import mini_profile

from lgcaa.errors import UserError
from lgcaa.model.config import config_from_dict

pytestmark = pytest.mark.usefixtures("one_torch_thread")


BASE = {
    "model": {"arch": "tiny", "window": 4, "lpips_backbone": "random (offline)"},
    "train": {"steps": 4, "batch_size": 2, "micro_batch": 1, "hr_size": 64, "degradation": "bicubic",
              "photos": ["astronaut", "coffee"], "checkpoint_every": 2, "lr": 1e-3, "log_every": 1},
    "sample": {"steps": 3},
}


def cfg(**train):
    values = json.loads(json.dumps(BASE))
    values["train"].update(train)
    return config_from_dict(values)


def losses(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def curve(run_dir: Path) -> list[tuple]:
    return [(m["step"], m["loss/mse"], m["loss/wasserstein"], m["loss/lpips"], m["loss/total"], m["grad_norm"])
            for m in losses(run_dir)]


def test_resume_reproduces_the_uninterrupted_loss_curve(tmp_path):
    from safetensors.torch import load_file

    from lgcaa.model.trainer import train

    full = train(cfg(), tmp_path / "full", cpu=True, preview_count=0, log=lambda s: None)
    assert full["finished"] and (tmp_path / "full" / "model.safetensors").is_file()
    # "killed" after step 3: the last checkpoint is step 2, step 3's metrics line is stale
    part = train(cfg(), tmp_path / "resumed", cpu=True, stop_after=3, preview_count=0, log=lambda s: None)
    assert part == {"run_dir": str(tmp_path / "resumed"), "step": 3, "finished": False}
    assert (tmp_path / "resumed" / "checkpoints" / "latest").read_text().strip() == "step-0000002"
    assert not (tmp_path / "resumed" / "model.safetensors").exists()
    messages = []
    train(cfg(), tmp_path / "resumed", cpu=True, preview_count=0, log=messages.append)
    assert any("resuming from step-0000002 (step 2)" in m for m in messages)
    assert curve(tmp_path / "resumed") == curve(tmp_path / "full")  # bit-exact, all terms, every step
    assert [m["step"] for m in losses(tmp_path / "resumed")] == [1, 2, 3, 4]
    a, b = load_file(tmp_path / "full" / "model.safetensors"), load_file(tmp_path / "resumed" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    # the loss actually moves (lr 1e-3): a test of resume on a frozen model would prove nothing
    assert len({m[4] for m in curve(tmp_path / "full")}) == 4


def test_gradient_accumulation_matches_the_full_batch(tmp_path):
    """batch 2 as one micro-batch of 2 or two accumulated micro-batches of 1: same samples, same noise,
    same updates (to float rounding)."""
    from lgcaa.model.trainer import train

    train(cfg(steps=3, micro_batch=2), tmp_path / "one", cpu=True, preview_count=0, log=lambda s: None)
    train(cfg(steps=3, micro_batch=1), tmp_path / "acc", cpu=True, preview_count=0, log=lambda s: None)
    one, acc = curve(tmp_path / "one"), curve(tmp_path / "acc")
    for a, b in zip(one, acc):
        # losses to float rounding; the gradient norm looser: Adam's first steps move every parameter by about
        # ±lr whatever its gradient's size, so gradient elements at rounding level (seen in the conditioning
        # network and the DPACM conv, whose signs differ between one batch of 2 and two of 1) move apart by
        # 2·lr, and the next gradient norm by ~1e-4 relative
        assert a[0] == b[0] and a[1:5] == pytest.approx(b[1:5], rel=1e-5, abs=1e-7)
        assert a[5] == pytest.approx(b[5], rel=1e-3)
    assert json.loads((tmp_path / "acc" / "train.json").read_text())["accumulation"] == 2


def test_bf16_mixed_precision_on_cpu(tmp_path):
    from lgcaa.model.trainer import train

    out = train(cfg(steps=2, mixed_precision="bf16"), tmp_path / "bf16", cpu=True, preview_count=0, log=lambda s: None)
    assert out["finished"] and all(torch.isfinite(torch.tensor(m[4])) for m in curve(tmp_path / "bf16"))


def test_checkpoint_contents_and_pruning(tmp_path):
    from safetensors import safe_open

    from lgcaa.model.trainer import train

    train(cfg(steps=6, keep_checkpoints=2), tmp_path / "run", cpu=True, preview_count=0, log=lambda s: None)
    ckpts = sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir() if p.is_dir())
    assert ckpts == ["step-0000004", "step-0000006"]
    last = tmp_path / "run" / "checkpoints" / "step-0000006"
    assert {p.name for p in last.iterdir()} == {"trainable.safetensors", "optimizer.safetensors", "rng.safetensors", "state.json"}
    state = json.loads((last / "state.json").read_text())
    assert state["step"] == 6 and state["base_fingerprint"] and "lr_scheduler" in state
    with safe_open(str(last / "optimizer.safetensors"), "pt") as f:
        meta = json.loads(f.metadata()["meta"])
        assert meta["param_groups"][0]["betas"] == [0.9, 0.999]
        assert any(k.endswith(".exp_avg_sq") for k in f.keys())  # noqa: SIM118
    assert not list((tmp_path / "run" / "checkpoints").glob(".tmp-*"))
    summary = json.loads((tmp_path / "run" / "train.json").read_text())
    assert summary["accumulation"] == 2 and summary["prediction_type"] == "epsilon"
    assert summary["lpips_backbone"] == "random (offline)"
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["experiment"] == "adhoc/train" and record["params"]["model.lpips_backbone"] == "random (offline)"
    # finished runs are not retrained
    again = train(cfg(steps=6, keep_checkpoints=2), tmp_path / "run", cpu=True, preview_count=0, log=lambda s: None)
    assert again["step"] == 6


def test_changed_config_refuses_to_resume(tmp_path):
    from lgcaa.model.trainer import train

    train(cfg(), tmp_path / "run", cpu=True, stop_after=2, preview_count=0, log=lambda s: None)
    with pytest.raises(UserError, match="different config"):
        train(cfg(lr=5e-4), tmp_path / "run", cpu=True, preview_count=0, log=lambda s: None)


def test_nonfinite_loss_stops_with_the_step_number(tmp_path, monkeypatch):
    from lgcaa.model import network
    from lgcaa.model.trainer import NonFiniteLossError, train

    real_forward = network.LGCAANet.forward
    calls = {"n": 0}

    def poisoned(self, *args):
        calls["n"] += 1
        terms = real_forward(self, *args)
        if calls["n"] == 5:  # step 3 (2 micro-batches per step), first micro-batch
            terms["total"] = terms["total"] * float("nan")
        return terms

    monkeypatch.setattr(network.LGCAANet, "forward", poisoned)
    with pytest.raises(NonFiniteLossError, match="non-finite loss at step 3") as err:
        train(cfg(), tmp_path / "run", cpu=True, preview_count=0, log=lambda s: None)
    assert "step-0000002" in str(err.value)
    assert (tmp_path / "run" / "checkpoints" / "latest").read_text().strip() == "step-0000002"
    assert [m["step"] for m in losses(tmp_path / "run")] == [1, 2]
    assert not (tmp_path / "run" / "model.safetensors").exists()


def test_mlflow_logging_to_sqlite(tmp_path):
    from mlflow.tracking import MlflowClient

    from lgcaa.mlflow_store import artifact_repo, sync_records
    from lgcaa.model.trainer import train

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    train(cfg(steps=2), tmp_path / "run", cpu=True, mlflow_uri=uri, preview_count=1, run_name="tiny-test", log=lambda s: None)
    client = MlflowClient(tracking_uri=uri)
    run_id = (tmp_path / "run" / "mlflow_run_id").read_text().strip()
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "tiny-test"
    assert run.data.tags["mlflow.source.name"] and run.data.tags["mlflow.source.type"] == "JOB"  # a Source
    assert run.data.params["model.attention"] == "lgcaa" and run.data.params["train.batch_size"] == "2"
    for key in ("loss/mse", "loss/wasserstein", "loss/lpips", "loss/total", "samples_per_second", "peak_rss_mb"):
        assert key in run.data.metrics
    assert len(client.get_metric_history(run_id, "loss/total")) == 2
    arts = {a.path for a in artifact_repo(tmp_path, run.info.artifact_uri).list_artifacts("samples")}
    assert arts == {"samples/step-0000002.png"}
    assert (tmp_path / "mlflow-artifacts").is_dir()  # the one artifact root, next to the database
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/")  # relative to it: the tree can move
    # one writer: the sync completes the live run from the training's record instead of logging a second run
    record = tmp_path / "run" / "run.json"
    assert json.loads(record.read_text())["live_run"] == run_id
    assert sync_records([record], tmp_path) == {str(record): run_id}
    run = client.get_run(run_id)
    assert run.data.tags["lgcaa.record_key"] and run.data.params["weights.model.sha256"]
    assert run.data.params["model.attention"] == "lgcaa" and "version.torch" in run.data.params
    assert len(client.get_metric_history(run_id, "loss/total")) == 2  # the live points, none twice
    exp = run.info.experiment_id
    assert [r.info.run_id for r in client.search_runs([exp], filter_string="tags.`lgcaa.record_key` != ''")] == [run_id]


def test_train_cli_runs_several_runs(tmp_path, monkeypatch):
    from lgcaa import cli

    profile = {**mini_profile(), "model": {**BASE, "runs": {"a": {}, "b": {"model": {"attention": "standard"}}}}}
    path = tmp_path / "p.json"
    path.write_text(json.dumps(profile))
    rc = cli.main(["train", "--config", str(path), "--run", "a", "--run", "b", "--out-root", str(tmp_path / "m"),
                   "--set", "train.steps=1", "--preview", "0", "--cpu"])
    assert rc == 0
    for run in ("a", "b"):
        assert (tmp_path / "m" / run / "train.json").is_file()
    assert json.loads((tmp_path / "m" / "b" / "config.json").read_text())["model"]["attention"] == "standard"
    assert cli.main(["train", "--config", str(path), "--run", "zzz", "--out", str(tmp_path / "z")]) == 2


@pytest.mark.slow
def test_sigkill_then_rerun_resumes_from_the_last_checkpoint(tmp_path):
    """A real `lgcaa train` process killed with SIGKILL mid-run; rerunning the same command finishes the run
    with the loss curve of an uninterrupted run."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from lgcaa.model.trainer import train

    profile = {**mini_profile(), "model": {**BASE, "train": {**BASE["train"], "steps": 14, "checkpoint_every": 2}}}
    path = tmp_path / "p.json"
    path.write_text(json.dumps(profile))
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "lgcaa", "train", "--config", str(path), "--out", str(run), "--preview", "0", "--cpu"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # same thread count as this process (see _one_thread)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    latest = run / "checkpoints" / "latest"
    deadline = time.time() + 180
    while time.time() < deadline and proc.poll() is None:
        if latest.is_file() and latest.read_text().strip() >= "step-0000004":
            break
        time.sleep(0.05)
    assert proc.poll() is None, "training finished before it could be killed; raise train.steps"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (run / "model.safetensors").exists()
    killed_at = max(m["step"] for m in losses(run))
    assert killed_at < 14
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    reference = tmp_path / "reference"
    c = cfg(steps=14, checkpoint_every=2)
    train(c, reference, cpu=True, preview_count=0, log=lambda s: None)
    assert curve(run) == curve(reference)


@pytest.mark.slow
def test_two_process_ddp_matches_one_process(tmp_path):
    """The DAG's train-job launcher for a 2-GPU job (`accelerate launch`, here 2 CPU processes over gloo): same
    effective batch, same samples, same updates as one process with gradient accumulation; the logged loss is
    the mean over both processes."""
    import os
    import shlex
    import subprocess
    import sys

    from lgcaa.model.trainer import train
    from lgcaa.plan.resources import launch_prefix

    profile = {**mini_profile(), "model": {**BASE, "train": {**BASE["train"], "steps": 3, "preview_images": 0}}}
    path = tmp_path / "p.json"
    path.write_text(json.dumps(profile))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    launch = shlex.split(launch_prefix(sys.executable, 2, "ddp-test"))
    assert "--num_processes" in launch and launch[launch.index("--num_processes") + 1] == "2"
    subprocess.run([*launch, "train", "--config", str(path), "--out", str(tmp_path / "ddp"), "--cpu"], check=True,
                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    summary = json.loads((tmp_path / "ddp" / "train.json").read_text())
    assert summary["processes"] == 2 and summary["accumulation"] == 1
    train(cfg(steps=3), tmp_path / "one", cpu=True, preview_count=0, log=lambda s: None)
    for a, b in zip(curve(tmp_path / "ddp"), curve(tmp_path / "one")):
        assert a[0] == b[0] and a[1:] == pytest.approx(b[1:], rel=1e-5, abs=1e-7)
