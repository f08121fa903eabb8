"""Model/training/sampling config: parsing, validation messages, run resolution, sample plan."""

from __future__ import annotations

import pytest

from lgcaa.errors import UserError
from lgcaa.instances import model_methods, model_sample_jobs, steps_name
from lgcaa.model.config import (
    DPACM_VARIANTS,
    TrainConfig,
    apply_overrides,
    config_from_dict,
    resolve_run,
)
from lgcaa.model.presets import ARCH_PRESETS
from lgcaa.model.variants import ATTENTION_VARIANTS

SECTION = {
    "model": {"arch": "tiny", "lpips_backbone": "random"},
    "train": {"steps": 10, "batch_size": 4, "micro_batch": 2, "hr_size": 64, "degradation": "bicubic"},
    "sample": {"steps": 40},
    "runs": {
        "lgcaa": {"datasets": ["a", "b"], "sample_steps": {"b": [30, 40, 50]}},
        "lgcaa-attn-local": {"model": {"attention": "local"}, "train": {"steps": 5}, "datasets": ["b"]},
    },
}


def test_defaults_follow_the_paper():
    cfg = config_from_dict({"model": {"arch": "sd2-base"}})
    assert cfg.train.batch_size == 192 and cfg.train.steps == 150_000
    assert cfg.train.betas == (0.9, 0.999) and cfg.train.lr == 5e-5
    assert cfg.sample.steps == 40
    assert (cfg.model.lambda_w, cfg.model.lambda_p) == (2.0, 0.3)  # Table III's columns read as (λ_w, λ_p)
    assert cfg.model.attention == "lgcaa" and cfg.model.dpacm == "dpacm"
    # the readings docs/interpretation.md chose, each with its switch
    assert (cfg.model.w1_on, cfg.model.unet_trainable, cfg.model.dino_input) == ("embedding", "attention", "lr")
    assert cfg.model.norm_init == "pretrained"
    assert (cfg.train.crop, cfg.train.min_crop_f, cfg.train.max_crop_f, cfg.train.hflip, cfg.train.hr_size) == (
        "ldm", 0.5, 1.0, False, 256)
    assert (cfg.sample.start_point, cfg.sample.start_step) == ("lr", 999)
    assert ARCH_PRESETS["sd2-base"].scheduler["prediction_type"] == "epsilon"
    assert ARCH_PRESETS["sd2-base"].pixel_multiple == 64 and ARCH_PRESETS["sd2-base"].vae_factor == 8
    assert set(ATTENTION_VARIANTS) == {"standard", "local", "global", "local+global-no-norm", "lgcaa"}
    assert set(DPACM_VARIANTS) == {"none", "perceptual", "wasserstein", "dpacm"}


@pytest.mark.parametrize("section,key,value", [
    ("model", "w1_on", "latent"), ("model", "norm_init", "unit"), ("model", "unet_trainable", "added"), ("model", "dino_input", "hr"),
    ("train", "crop", "random"), ("train", "hflip", True), ("sample", "start_point", "noise"),
])
def test_every_reading_switch_is_in_the_schema_and_reaches_the_run_params(section, key, value):
    """Each losing reading is a profile setting: the profile schema lists it, the config takes it, and the
    training job record (MLflow params via mlflow-sync) carries it."""
    from lgcaa.config import schema
    from lgcaa.tracking import flatten

    props = schema()["properties"]["model"]["properties"][section]["properties"]
    assert value in props[key].get("enum", [value])
    cfg = config_from_dict({section: {key: value}})
    params = flatten("", cfg.to_dict(), {})
    assert params[f"{section}.{key}"] == str(value)
    with pytest.raises(UserError, match=f"{section}.{key}"):
        config_from_dict({section: {key: "nonsense" if isinstance(value, str) else 3}})


def test_lpips_random_is_flagged_offline():
    assert config_from_dict({"model": {"lpips_backbone": "random"}}).model.lpips_backbone == "random (offline)"


@pytest.mark.parametrize(
    "values, fragment",
    [
        ({"model": {"attention": "windowed"}}, "model.model.attention"),
        ({"model": {"colour": 1}}, "unknown key 'colour'"),
        ({"train": {"steps": "10"}}, "expected an integer"),
        ({"train": {"batch_size": 10, "micro_batch": 4}}, "multiple of micro_batch"),
        ({"train": {"hr_size": 72}}, "hr_size"),
        ({"sample": {"color_fix": "histogram"}}, "color_fix"),
        ({"train": {"photos": ["no-such-photo"]}}, "train.photos: unknown photo"),
        ({"train": {"min_crop_f": 0.9, "max_crop_f": 0.5}}, "min_crop_f/max_crop_f"),
        ({"sample": {"start_point": "middle"}}, "sample.start_point"),
        ({"train": {"hr_size": 64}}, "below 74 px"),
        ({"train": {"steps": None}}, "null is not allowed"),
        ({"model": {"arch": "sd2-base", "pretrained": "w/sd2"}}, "model.model.dino"),
        ({"model": {"arch": "sd2-base", "pretrained": "w/sd2", "dino": "w/dino", "lpips_backbone": "random"}},
         "lpips_backbone"),
    ],
)
def test_bad_values_name_the_field(values, fragment):
    with pytest.raises(UserError, match=fragment):
        config_from_dict(values)


def test_prepare_section_is_tiny_only_and_validated():
    from lgcaa.model.config import prepare_config

    assert prepare_config({"model": {"arch": "tiny"}}) is None
    cfg = prepare_config({"prepare": {"vae_steps": 5}, "model": {"arch": "tiny"}})
    assert cfg.vae_steps == 5 and cfg.photos == TrainConfig().photos
    with pytest.raises(UserError, match="only the tiny backbone is prepared"):
        prepare_config({"prepare": {}, "model": {"arch": "sd2-base"}})
    with pytest.raises(UserError, match="only the tiny backbone is prepared"):
        prepare_config({"prepare": {}, "model": {"arch": "tiny", "pretrained": "somewhere"}})
    with pytest.raises(UserError, match="model.prepare: unknown key 'steps'"):
        resolve_run({"prepare": {"steps": 3}, "model": {"arch": "tiny"}}, None)


def test_resolve_run_merges_overrides():
    base = resolve_run(SECTION, "lgcaa")
    local = resolve_run(SECTION, "lgcaa-attn-local")
    assert base.model.attention == "lgcaa" and local.model.attention == "local"
    assert base.train.steps == 10 and local.train.steps == 5
    assert local.train.hr_size == 64  # inherited
    with pytest.raises(UserError, match="no run named 'nope'"):
        resolve_run(SECTION, "nope")


def test_overrides_parse_json_and_bare_strings():
    cfg = config_from_dict(apply_overrides(resolve_run(SECTION, "lgcaa").to_dict(), ["train.steps=3", "model.attention=global"]))
    assert cfg.train.steps == 3 and cfg.model.attention == "global"
    with pytest.raises(UserError, match="SECTION.KEY=VALUE"):
        apply_overrides({}, ["steps=3"])


def test_sample_plan_and_method_names():
    jobs = model_sample_jobs(SECTION)
    got = [(j.run, j.dataset, j.steps, j.method) for j in jobs]
    assert got == [
        ("lgcaa", "a", 40, "lgcaa"),
        ("lgcaa", "b", 30, "lgcaa-30steps"),
        ("lgcaa", "b", 40, "lgcaa"),
        ("lgcaa", "b", 50, "lgcaa-50steps"),
        ("lgcaa-attn-local", "b", 40, "lgcaa-attn-local"),
    ]
    assert model_methods(SECTION) == ["lgcaa", "lgcaa-30steps", "lgcaa-50steps", "lgcaa-attn-local"]
    assert steps_name("x", 40, 40) == "x" and steps_name("x", 30, 40) == "x-30steps"
    assert [j.method for j in model_sample_jobs(SECTION, runs=["lgcaa"], datasets=["a"])] == ["lgcaa"]


def test_train_run_dir_is_out_or_a_folder_per_run_under_out_root(tmp_path):
    from lgcaa.model.config import train_run_dir

    assert train_run_dir("lgcaa", tmp_path / "one", None) == tmp_path / "one"
    assert train_run_dir("lgcaa-attn-local", None, tmp_path) == tmp_path / "lgcaa-attn-local"
    assert train_run_dir(None, None, tmp_path) == tmp_path / "base"  # the base settings
    with pytest.raises(UserError, match="--out-root"):
        train_run_dir("lgcaa", None, None)
