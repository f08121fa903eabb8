"""Benchmarks print JSON with absolute numbers, the ratio and the goal (small shapes here; the real sizes are
the defaults of `lgcaa bench attention|sample|train-step`)."""

from __future__ import annotations

import json

import pytest
import torch

from lgcaa import cli


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_bench_attention_json(capsys):
    assert cli.main(["bench", "attention", "--tokens", "256", "--channels", "64", "--heads", "2", "--repeat", "2",
                     "--warmup", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["goal"] == 1.5 and out["shape"]["tokens"] == 256
    assert out["baseline"]["processor"] == "diffusers AttnProcessor2_0"
    for side in ("baseline", "lgcaa"):
        assert out[side]["fwd_bwd_ms_min"] > 0 and out[side]["peak_mb"] > 0
    assert out["ratio"]["memory"] == round(out["lgcaa"]["peak_mb"] / out["baseline"]["peak_mb"], 3)
    assert out["lgcaa"]["parameters"] > out["baseline"]["parameters"]
    assert set(out["meets_goal"]) == {"time", "memory"} and "torch" in out


def test_bench_sample_json():
    from lgcaa.bench.sample import measure

    out = measure(arch="tiny", steps=2, size=64, repeat=1)
    assert out["goal"] == 1.2 and out["steps"] == 2 and out["weights"] == "random init"
    assert out["controlnet_seconds"]["min"] > 0 and out["lgcaa_seconds"]["min"] > 0
    assert out["ratio"] == pytest.approx(out["lgcaa_seconds"]["min"] / out["controlnet_seconds"]["min"], abs=0.01)


def test_bench_train_step_json():
    from lgcaa.bench.train_step import measure

    out = measure(arch="tiny", batch=1, size=64, steps=1, warmup=1)
    assert out["step_seconds"]["min"] > 0 and out["micro_batch"] == 1
    assert out["parameters"]["trainable"] > 0 and out["parameters"]["frozen"] > out["parameters"]["trainable"]
    assert out["paper_schedule_hours_single_device"] > 0
