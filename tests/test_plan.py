"""`lgcaa plan`: throughput table, cost model, scheduler resources (pure functions)."""

from __future__ import annotations

import shlex

import pytest

from lgcaa.config import load_config
from lgcaa.model.config import resolve_run
from lgcaa.plan.cost import dataset_size, sample_estimate, sr_estimate, train_estimate, unet_evaluations
from lgcaa.plan.resources import RUNTIME_FLOOR, launch_prefix, sr_resources, train_resources
from lgcaa.plan.throughput import RATES


def test_every_rate_names_its_device_and_command_or_derivation():
    for r in RATES.values():
        assert r.per_second > 0 and r.device and r.source
        assert r.measured == (not r.source.startswith("extrapolated")), r.key


def test_paper_training_cost_is_iterations_times_batch_over_the_h200_rate():
    cfg = resolve_run(load_config("paper")["model"], "lgcaa")
    est = train_estimate(cfg)
    assert est.device == "gpu" and est.rate.measured
    assert est.seconds == pytest.approx(150_000 * 192 / 24.921)
    assert 320 < est.hours < 322  # ≈ 13.4 GPU-days on one H200
    # halving the crop side quarters the pixels, hence the cost
    half = resolve_run({**load_config("paper")["model"], "train": {"hr_size": 256}}, None)
    assert train_estimate(half).seconds == pytest.approx(train_estimate(resolve_run(load_config("paper")["model"], None)).seconds / 4)


def test_sampling_scales_with_images_and_steps():
    cfg = resolve_run(load_config("paper")["model"], "lgcaa")
    one = sample_estimate(cfg, 40, 100, 512)
    assert sample_estimate(cfg, 20, 100, 512).seconds == pytest.approx(one.seconds / 2)
    assert sample_estimate(cfg, 40, 300, 512).seconds == pytest.approx(one.seconds * 3)
    assert not one.rate.measured


def test_diffusion_baselines_count_guided_unet_evaluations():
    assert unet_evaluations({"steps": 50, "cfg": 5.5}, {}) == 100
    assert unet_evaluations({"steps": 200}, {}) == 200
    assert unet_evaluations({}, {"steps": 15}) == 15
    a = sr_estimate("diffusion", "x", {"steps": 50, "cfg": 5.5, "process_size": 512}, {}, 10, 512, True)
    b = sr_estimate("diffusion", "x", {"steps": 50, "cfg": 1.0, "process_size": 512}, {}, 10, 512, True)
    assert a.seconds == pytest.approx(2 * b.seconds) and a.device == "gpu"


def test_resources_ask_for_a_gpu_only_where_one_is_needed():
    paper, mini = load_config("paper"), load_config("mini")
    assert train_resources(paper["model"], "lgcaa").gpu == 1
    assert train_resources(mini["model"], "lgcaa").gpu == 0
    assert train_resources(paper["model"], "lgcaa", gpus=4).cpus_per_task == 4 * train_resources(paper["model"], "lgcaa").cpus_per_task
    assert sr_resources("classical", False, "bicubic", {}, {}, 8, 256).gpu == 0
    assert sr_resources("diffusion", True, "seesr", {"steps": 50}, {}, 100, 512).gpu == 1
    assert sr_resources("classical", False, "bicubic", {}, {}, 8, 256).runtime >= RUNTIME_FLOOR
    assert dataset_size(paper, "div2k-val") == (3000, 512) and dataset_size(mini, "mini-bicubic") == (8, 256)


def test_train_launcher_runs_one_process_per_gpu():
    assert launch_prefix("/py", 0) == launch_prefix("/py", 1) == "/py -m lgcaa"
    argv = shlex.split(launch_prefix("/py", 4, "lgcaa"))
    assert argv[:3] == ["/py", "-m", "accelerate.commands.launch"] and argv[-2:] == ["-m", "lgcaa"]
    assert argv[argv.index("--num_processes") + 1] == "4" and "--multi_gpu" in argv
    assert launch_prefix("/py", 4, "a") != launch_prefix("/py", 4, "b")  # distinct rendezvous ports
