"""lgcaa.layout: every results path, method instances (seeds, named baseline variants) and the job plans."""

from __future__ import annotations

import copy

import pytest

from lgcaa.config import load_config, validate
from lgcaa.errors import UserError
from lgcaa.layout import (
    Layout,
    beside,
    find_sr_job,
    model_runs,
    sample_jobs,
    seed_instances,
    sr_jobs,
    sr_pairs,
    steps_name,
)


def test_paths_are_the_profile_roots_joined_as_written():
    lay = Layout("res", "dat")
    assert lay.manifest("d") == "dat/d/manifest.json" and lay.lr_dir("d") == "dat/d/lr"
    assert lay.sr_dir("d", "m@seed1") == "res/sr/d/m@seed1"
    assert lay.sr_record("d", "m") == "res/sr/d/m.run.json" and lay.sr_missing("d", "m") == "res/sr/d/m.missing.json"
    assert lay.aggregate("d", "m") == "res/metrics/d/m/aggregate.json"
    assert lay.eval_record("d", "m") == "res/metrics/d/m/run.json"
    assert lay.train_done("r") == "res/models/r/train.json" and lay.train_record("r") == "res/models/r/run.json"
    assert lay.table_files("table1")[0] == "res/tables/table1.csv" and lay.table_record("t") == "res/tables/t.run.json"
    assert lay.log("sr", "d", "m") == "res/logs/sr/d/m.log" and lay.mlflow_file("runs") == "res/mlflow/runs.json"
    assert lay.cache_dir() == "res/cache" and Layout("res", "dat", "/c").cache_dir() == "/c"
    # a rule pattern is the same function called with wildcards
    assert lay.sr_dir("{dataset}", "{method}") == "res/sr/{dataset}/{method}"
    assert str(beside("res/sr/d/m", ".missing.json")) == "res/sr/d/m.missing.json"


def _cfg(**over):
    cfg = copy.deepcopy(load_config("mini"))
    cfg.update(over)
    return cfg


def test_seed_instances_only_add_jobs():
    cfg = _cfg(seed=5, seeds={"k": 3, "methods": ["bicubic", "lgcaa"]})
    assert seed_instances(cfg, "bicubic") == [(5, "bicubic"), (6, "bicubic@seed6"), (7, "bicubic@seed7")]
    assert seed_instances(cfg, "lanczos") == [(5, "lanczos")]
    k1 = {(j.dataset, j.instance) for j in sr_jobs(_cfg(seed=5))}
    assert k1 < {(j.dataset, j.instance) for j in sr_jobs(cfg)}
    extra = [j for j in sample_jobs(cfg) if j.extra_seed]
    assert {(j.instance, j.seed) for j in extra if j.dataset == "mini-bicubic"} == {("lgcaa@seed6", 6), ("lgcaa@seed7", 7)}
    assert all(j.seed is None and not j.extra_seed for j in sample_jobs(cfg, seeds=False))


def test_named_baseline_instances_carry_their_settings():
    cfg = _cfg()
    cfg["methods"] = [*cfg["methods"], "bicubic-x2"]
    cfg["baselines"] = {"bicubic": {"scale": 4}}
    cfg["instances"] = {"bicubic-x2": {"method": "bicubic", "settings": {"scale": 2}}}
    validate(cfg)
    job = find_sr_job(cfg, "mini-bicubic", "bicubic-x2")
    assert (job.base, job.method, job.settings) == ("bicubic", "bicubic-x2", {"scale": 2})
    assert find_sr_job(cfg, "mini-bicubic", "bicubic").settings == {"scale": 4}
    with pytest.raises(UserError, match="no baseline job for method 'nope'"):
        find_sr_job(cfg, "mini-bicubic", "nope")
    cfg["instances"]["chain"] = {"method": "bicubic-x2", "settings": {}}
    with pytest.raises(UserError, match="instances/chain/method.*is not a known name"):  # a baseline, not an instance
        validate(cfg)


def test_plan_of_the_mini_profile():
    cfg = load_config("mini")
    pairs = sr_pairs(cfg)
    assert len(pairs) == len(set(pairs))
    assert ("mini-realesrgan", steps_name("lgcaa", 30, 40)) in pairs
    assert ("mini-bicubic", "realsr-df2k") in pairs
    assert model_runs(cfg)[0] == "lgcaa" and set(model_runs(cfg)) == set(cfg["model"]["runs"])
