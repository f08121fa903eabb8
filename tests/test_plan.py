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
    # measured at 512² crops; the paper profile trains on 256² crops (LDM's size): a quarter of the pixels
    assert cfg.train.hr_size == 256
    assert est.seconds == pytest.approx(150_000 * 192 / 24.921 / 4)
    assert 80 < est.hours < 81  # ≈ 3.3 GPU-days on one H200
    # doubling the crop side quadruples the pixels, hence the cost
    double = resolve_run({**load_config("paper")["model"], "train": {"hr_size": 512}}, None)
    assert train_estimate(double).seconds == pytest.approx(train_estimate(resolve_run(load_config("paper")["model"], None)).seconds * 4)


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


# --- readiness: each check on its own, with the probes passed in ------------------------------------------------

def test_datasets_are_checked_through_the_manifest_verifier(tmp_path):
    from lgcaa.errors import UserError
    from lgcaa.plan.readiness import check_datasets

    cfg = load_config("paper")
    cfg["paths"] = {"data": str(tmp_path / "data"), "results": str(tmp_path / "res")}
    seen = []

    def verify(root):
        seen.append(root.name)
        if root.name == "realsr":
            raise UserError(f"{root}/manifest.json: manifest missing; rebuild the dataset")

    missing = check_datasets(cfg, verify)
    assert seen == list(cfg["datasets"])
    assert [m.kind for m in missing] == ["dataset"]
    assert "realsr/manifest.json" in missing[0].what
    assert missing[0].fix == f"lgcaa data fetch realsr --as realsr --data-root {tmp_path / 'data'}"
    assert check_datasets(load_config("mini"), verify) == []  # the DAG builds mini sets itself


def test_training_data_gpu_and_disk(tmp_path):
    from lgcaa.plan.jobs import plan_jobs
    from lgcaa.plan.readiness import check_disk, check_gpu, check_training_data

    cfg = load_config("paper")
    folder = tmp_path / "imagenet"
    for run in cfg["model"]["runs"].values():
        run.setdefault("train", {})["data"] = str(folder)
    cfg["model"]["train"]["data"] = str(folder)
    [m] = check_training_data(cfg)
    assert str(folder) in m.what and m.kind == "training data"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"x")
    assert check_training_data(cfg) == []

    jobs = plan_jobs(cfg)
    [gpu] = check_gpu(jobs, gpu_here=False, where="local")
    assert gpu.kind == "GPU" and str(sum(1 for j in jobs if j.resources.gpu)) in gpu.what
    assert check_gpu(jobs, gpu_here=True, where="local") == []
    assert check_gpu(plan_jobs(load_config("mini")), gpu_here=False, where="local") == []  # mini needs none
    need = sum(j.out_bytes for j in jobs)
    assert check_disk(cfg, jobs, need) == [] and check_disk(cfg, jobs, need - 1)[0].kind == "disk"


def test_baselines_and_metrics_report_what_the_status_functions_say():
    from baselines.prerequisites import Missing as BaselineMissing
    from lgcaa.plan.readiness import check_baselines, check_metrics

    cfg = load_config("paper")
    asked = []

    def missing_for(base):
        asked.append(base)
        if base == "seesr":
            return [BaselineMissing("GPU", "none", "x"), BaselineMissing("checkout", "SeeSR @ 628bb37", "lgcaa baselines setup seesr")]
        return []

    [m] = check_baselines(cfg, missing_for)
    from lgcaa.instances import baseline_base, sr_jobs

    bases = {baseline_base(cfg, m)[0] for m in cfg["methods"]}  # SeeSR's 30/40-step instances are SeeSR
    assert sorted(asked) == sorted(bases)  # each base once, GPU left to the GPU check
    # 6 sets (3 test sets, Fig. 7's subset, the LR-only sets of Figs. 5-6) x 3 seeds + RealSR's 30/40-step instances x 3
    n_seesr = sum(j.base == "seesr" for j in sr_jobs(cfg))
    assert n_seesr == 24
    assert m.kind == "baseline checkout" and m.fix == "lgcaa baselines setup seesr" and f"{n_seesr} sr jobs" in m.needed_by
    [m] = check_metrics(cfg, lambda n: {"reason": "absent", "fix": f"lgcaa weights fetch {n}"} if n == "fid" else None)
    assert m.fix == "lgcaa weights fetch fid"


def test_plan_command_prints_costs_and_missing_inputs_and_fails_offline(tmp_path):
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "lgcaa", "plan", "--config", "paper"], capture_output=True, text=True,
                         cwd=tmp_path, check=False)
    assert res.returncode == 1, res.stderr
    out = res.stdout
    assert out.count("\ntrain ") == 13 and "\nsample " in out
    total = next(line for line in out.splitlines() if line.startswith("total:"))
    assert "GPU-hours" in total and "CPU-hours" in total
    assert "train/sd2-base/gpu: 24.9 samples/s" in out and "— measured:" in out and "— extrapolated:" in out
    assert "MISSING dataset: " in out and "fix: lgcaa data fetch div2k-val" in out
    assert "MISSING weights: stabilityai/stable-diffusion-2-base" in out


def test_stage_subtotals_add_up_and_wall_clock_shrinks_with_gpus_down_to_the_longest_job():
    from lgcaa.config import load_config
    from lgcaa.plan.jobs import gpu_wall_hours, plan_jobs, stage_totals, totals

    jobs = plan_jobs(load_config("paper"))
    stages, t = stage_totals(jobs), totals(jobs)
    assert sum(s.jobs for s in stages) == t.jobs
    assert abs(sum(s.gpu_hours for s in stages) - t.gpu_hours) < 1e-6
    assert abs(sum(s.cpu_hours for s in stages) - t.cpu_hours) < 1e-6
    one, eight, many = (gpu_wall_hours(jobs, n) for n in (1, 8, 10_000))
    assert abs(one - t.gpu_hours) < 1e-6  # one GPU: every GPU-hour in turn
    assert one > eight > many
    longest = {}
    for j in jobs:
        if j.device == "gpu" and j.estimate:
            longest[j.rule] = max(longest.get(j.rule, 0.0), j.device_hours / j.resources.gpu)
    assert abs(many - sum(longest.values())) < 1e-6  # every job at once: each stage its longest GPU job
    train = next(s for s in stages if s.rule == "train")
    assert train.jobs == 13  # 13 equal trainings on 8 GPUs: two rounds, not 13/8 of one
    assert eight >= 2 * train.longest_hours


def test_plan_prints_each_fix_once_and_the_wall_clock_for_n_gpus(tmp_path):
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "lgcaa", "plan", "--config", "paper", "--totals-only", "--gpus", "8"],
                         capture_output=True, text=True, cwd=tmp_path, check=False)
    out = res.stdout.splitlines()
    assert any(line.startswith("  train: 13 jobs, ") for line in out)
    assert any(line.startswith("wall-clock on 8 GPUs: ≈ ") for line in out)
    fixes = out[next(i for i, line in enumerate(out) if line.startswith("to fix (")) + 1:]
    assert fixes and len(fixes) == len(set(fixes))
    missing = [line for line in out if line.startswith("MISSING ")]
    assert sum("fix: lgcaa baselines setup ldm" in line for line in missing) == 2  # checkout and environment...
    assert fixes.count("  lgcaa baselines setup ldm") == 1  # ...one command
    alexnet = [line for line in missing if "alexnet-owt-7be5be79.pth" in line]
    if len(alexnet) > 1:  # LPIPS's trunk, needed by training and by the metric: fetched once
        assert sum(f.strip() in {"lgcaa weights fetch model", "lgcaa weights fetch lpips"} for f in fixes) == 1, fixes


def test_readme_quotes_what_plan_prints(repo_root):
    import re

    from lgcaa.config import load_config
    from lgcaa.plan.jobs import gpu_wall_hours, plan_jobs, stage_totals, totals

    readme = (repo_root / "README.md").read_text()
    m = re.search(r"prints: total ([\d.]+) GPU-hours \((\d+)\s+trainings of ([\d.]+) H200-hours.*?([\d.]+) CPU-hours.*?"
                  r"wall-clock of ≈ ([\d.]+) h for the GPU work on 8 GPUs \(≈ ([\d.]+) h on 16\)", readme, re.DOTALL)
    assert m, "README: the paper plan's sentence moved; keep it quoting `lgcaa plan --config paper --gpus 8`"
    jobs = plan_jobs(load_config("paper"))
    t, train = totals(jobs), next(s for s in stage_totals(jobs) if s.rule == "train")
    assert m.group(1) == f"{t.gpu_hours:.1f}" and int(m.group(2)) == train.jobs
    assert m.group(3) == f"{train.longest_hours:.2f}" and m.group(4) == f"{t.cpu_hours:.1f}"
    assert m.group(5) == f"{gpu_wall_hours(jobs, 8):.1f}" and m.group(6) == f"{gpu_wall_hours(jobs, 16):.1f}"
