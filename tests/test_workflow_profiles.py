"""Every packaged profile resolves to a complete DAG (dry run with real Snakemake)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from lgcaa.config import load_config


def _dry_run(repo: Path, tmp: Path, profile: str) -> str:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    res = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(repo / "Snakefile"), "--directory", str(tmp),
         "--config", f"profile={profile}", "--cores", "8", "-n", "tables"],
        capture_output=True, text=True, env=env, check=False,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    return res.stdout + res.stderr


def _count(out: str, rule: str) -> int:
    m = re.search(rf"^{re.escape(rule)}\s+(\d+)$", out, re.MULTILINE)
    return int(m.group(1)) if m else 0


def _jobs(out: str) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """(rule, wildcards, resources) of every job block a dry run prints."""
    jobs = []
    for block in re.split(r"\n(?=rule \w+:)", out):
        m = re.match(r"rule (\w+):", block)
        if not m:
            continue
        found = {}
        for key in ("wildcards", "resources"):
            line = re.search(rf"^\s+{key}: (.*)$", block, re.MULTILINE)
            found[key] = dict(kv.split("=", 1) for kv in line.group(1).split(", ")) if line else {}
        jobs.append((m.group(1), found["wildcards"], found["resources"]))
    return jobs


def test_paper_profile_wires_everything(repo_root, tmp_path):
    cfg = load_config("paper")
    out = _dry_run(repo_root, tmp_path, "paper")
    from lgcaa.instances import baseline_base, sample_jobs, seed_instances, sr_jobs

    n_sets = len(cfg["datasets"])
    # the three test sets + ImageNet-Test, whose Fig. 7 images are a subset dataset of it; Figs. 5-6 show LR-only
    # subsets of RealSR and DRealSR (their LR images copied without HR)
    assert _count(out, "data_fetch") == len({d["source"] for d in cfg["datasets"].values()}) == 4
    assert _count(out, "data_subset") == 3
    # all nine Table I baselines (+ bicubic, the per-image reference) on every test set, the diffusion ones with
    # k seeds; SeeSR's 30/40-step instances (Fig. 8) on RealSR only
    k = cfg["seeds"]["k"]
    per_set = sum(len(seed_instances(cfg, m)) for m in cfg["methods"] if m not in cfg["instances"])
    assert per_set == 10 + 5 * (k - 1)
    assert _count(out, "sr") == n_sets * per_set + 2 * k == len(sr_jobs(cfg))
    steps = {(j.dataset, j.instance): j.settings.get("steps") for j in sr_jobs(cfg) if j.base == "seesr"}
    assert steps[("realsr", "seesr-30steps")] == 30 and steps[("realsr", "seesr-40steps@seed1")] == 40
    assert not any(d != "realsr" for d, i in steps if i.startswith("seesr-"))
    assert re.search(r"wildcards: dataset=imagenet-test-fig7, method=seesr\b", out)  # Fig. 7 jobs
    assert re.search(r"wildcards: dataset=imagenet-test-fig7, method=lgcaa\b", out)
    n_baseline_runs = n_sets * per_set + 2 * k
    assert _count(out, "table") == 3 and _count(out, "report") == 1 and _count(out, "curves") == 1
    assert _count(out, "figure_panels") == 5 and _count(out, "figure_capture") == 2 and _count(out, "claims") == 1
    from lgcaa.tables.spec import build_curve_spec

    curve = build_curve_spec(cfg)
    assert [label for label, _ in curve.series] == ["LGCAA", "SeeSR"] and curve.keys == ("lgcaa", "seesr")
    assert [e.method for _, e in curve.series[1][1]] == ["seesr-30steps", "seesr-40steps", "seesr"]
    from lgcaa.config import model_methods

    # one train job per model run, one sample job per (run, dataset, steps, seed)
    # one full-model run serves Table I, Table II's full rows and Table III's (2.0, 0.3) cell: 13 trainings
    assert _count(out, "train") == len(cfg["model"]["runs"]) == 13
    n_lgcaa = len(sample_jobs(cfg))
    n_base = len(sample_jobs(cfg, seeds=False))
    assert n_lgcaa == sum(len(seed_instances(cfg, j.method)) for j in sample_jobs(cfg, seeds=False))
    # lgcaa at 40 steps on 3 test sets, the Fig. 7 subset and the two LR-only sets of Figs. 5-6
    assert n_lgcaa - n_base == 6 * (cfg["seeds"]["k"] - 1)
    assert _count(out, "sample") == n_lgcaa
    from lgcaa.instances import eval_pairs, lr_only

    n_lr_only = sum(1 for d, _ in [*((j.dataset, 0) for j in sr_jobs(cfg)), *((j.dataset, 0) for j in sample_jobs(cfg))]
                    if lr_only(cfg, d))
    assert n_lr_only > 0 and _count(out, "evaluate") == n_baseline_runs + n_lgcaa - n_lr_only == len(eval_pairs(cfg))
    # the calibration gate: one job, and every evaluation waits for its record
    assert cfg["calibration"] and _count(out, "calibrate") == 1
    evals = [b for b in re.split(r"\n(?=rule \w+:)", out) if b.startswith("rule evaluate:")]
    assert len(evals) == _count(out, "evaluate") and all("checks/calibration.json" in b for b in evals)
    assert "lgcaa-30steps" in model_methods(cfg) and "lgcaa-50steps" in model_methods(cfg)

    # resources a scheduler can act on, on every job that runs a command; GPUs only where a GPU is needed
    from baselines.registry import BASELINES

    jobs = _jobs(out)
    assert len(jobs) == sum(_count(out, r) for r in {r for r, _, _ in jobs})
    # `lgcaa plan` lists the same jobs as the DAG, rule by rule, with the same resources
    from collections import Counter

    from lgcaa.plan.jobs import plan_jobs

    planned = plan_jobs(cfg)
    assert Counter(j.rule for j in planned) == Counter(r for r, _, _ in jobs if r != "tables")
    dag_res = {(r, wc.get("run") or f"{wc.get('dataset')}/{wc.get('method')}"): res for r, wc, res in jobs
               if r in ("train", "sample", "sr", "evaluate")}
    for j in planned:
        if j.rule in ("train", "sample", "sr", "evaluate"):
            got = dag_res[(j.rule, j.name)]
            assert {k: int(got[k]) for k in ("gpu", "cpus_per_task", "mem_mb", "runtime")} == j.resources.as_dict(), j
    for rule, wc, res in jobs:
        if rule in ("tables",):
            continue
        assert {"gpu", "cpus_per_task", "mem_mb", "runtime"} <= set(res), (rule, wc, res)
        if rule in ("train", "sample", "figure_capture"):
            want = 1
        elif rule == "sr":
            want = int(BASELINES[baseline_base(cfg, wc["method"].split("@")[0])[0]].requires_gpu)
        else:
            want = 0
        assert int(res["gpu"]) == want, (rule, wc, res)
    assert {int(res["gpu"]) for r, wc, res in jobs if r == "sr" and "@" not in wc["method"]
            and BASELINES[baseline_base(cfg, wc["method"])[0]].family != "diffusion"} == {0}


def test_mini_profile_is_the_default(repo_root, tmp_path):
    out = _dry_run(repo_root, tmp_path, "mini")
    assert _count(out, "data_mini") == 2 and _count(out, "sr") == 2 * 4
    cfg = load_config("mini")
    assert _count(out, "train") == len(cfg["model"]["runs"])


def test_k_seeds_add_instances_of_baselines_and_lgcaa(repo_root, tmp_path):
    import json

    cfg = load_config("mini")
    cfg["seeds"] = {"k": 2, "methods": ["bicubic", "lgcaa"]}
    path = tmp_path / "k2.json"
    path.write_text(json.dumps(cfg))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    res = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(repo_root / "Snakefile"), "--directory", str(tmp_path),
         "--configfile", str(path), "--cores", "8", "-n", "-p", "tables"],
        capture_output=True, text=True, env=env, check=False,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout + res.stderr
    assert _count(out, "sr") == 2 * (4 + 1)  # + bicubic@seed1 on each set
    from lgcaa.instances import sample_jobs

    assert _count(out, "sample") == len(sample_jobs(cfg, seeds=False)) + 2  # + lgcaa@seed1 on each set it samples
    assert f"lgcaa sr --config {path} --dataset mini-bicubic --method bicubic@seed1 " in out
    from lgcaa.instances import find_sr_job  # what that job runs: bicubic with seed 1

    job = find_sr_job(cfg, "mini-bicubic", "bicubic@seed1")
    assert (job.base, job.seed, job.extra_seed) == ("bicubic", 1, True)
    assert f"lgcaa sample --config {path} --dataset mini-realesrgan --method lgcaa@seed1 " in out
    # what the sampling jobs run: the extra seed with seed 1, the profile-seed instance with the run's own seed,
    # a step variant as its own job
    jobs = {(j.dataset, j.instance): j for j in sample_jobs(cfg)}
    assert (jobs[("mini-realesrgan", "lgcaa@seed1")].steps, jobs[("mini-realesrgan", "lgcaa@seed1")].seed) == (40, 1)
    assert (jobs[("mini-realesrgan", "lgcaa-30steps")].steps, jobs[("mini-realesrgan", "lgcaa-30steps")].seed) == (30, None)
    assert f"lgcaa sample --config {path} --dataset mini-realesrgan --method lgcaa-30steps " in out
    assert "metrics/mini-realesrgan/lgcaa@seed1/aggregate.json" in out


def test_config_override_without_a_file_gets_the_common_smk_line(repo_root, tmp_path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    res = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(repo_root / "Snakefile"), "--directory", str(tmp_path),
         "--config", "seed=1", "--cores", "1", "-n", "tables"], capture_output=True, text=True, env=env, check=False)
    out = res.stdout + res.stderr  # Snakemake prints a Snakefile's exception on stdout
    assert res.returncode != 0
    assert "--config seed: the jobs read their settings from a profile or a file" in out, out[-2000:]
    assert "required property" not in out


def test_every_rule_has_a_docstring(repo_root):
    missing = []
    for smk in [repo_root / "Snakefile", *sorted((repo_root / "workflow" / "rules").glob("*.smk"))]:
        lines = smk.read_text().splitlines()
        missing += [f"{smk.name}: {line}" for i, line in enumerate(lines)
                    if re.match(r"rule \w+:", line) and not lines[i + 1].strip().startswith('"""')]
    assert not missing, missing
