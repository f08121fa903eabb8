"""Profile configs are validated against the JSON schema; errors name the source and field."""

from __future__ import annotations

import copy
import json

import pytest

from lgcaa.config import load_config, profile_names, validate
from lgcaa.errors import UserError


def test_default_is_mini_and_valid():
    cfg = load_config(None)
    assert cfg["profile"] == "mini"
    assert "mini" in profile_names()
    assert len(cfg["mini"]["photos"]) >= 8


@pytest.mark.parametrize("name", profile_names())
def test_every_packaged_profile_validates(name):
    assert load_config(name)["profile"] == name


def test_invalid_field_is_named(tmp_path):
    cfg = copy.deepcopy(load_config(None))
    cfg["metrics"].append("psnrr")
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(cfg))
    with pytest.raises(UserError) as exc:
        load_config(path)
    assert str(path) in str(exc.value) and "metrics" in str(exc.value)


def test_table_must_reference_known_datasets():
    cfg = copy.deepcopy(load_config(None))
    cfg["tables"]["table1"]["datasets"].append("nope")
    with pytest.raises(UserError, match="nope"):
        validate(cfg, "x")


def test_missing_config_file_names_profiles(tmp_path):
    with pytest.raises(UserError, match="mini"):
        load_config(tmp_path / "absent.yaml")


def test_model_runs_must_sample_known_datasets():
    cfg = copy.deepcopy(load_config(None))
    cfg["datasets"].pop("mini-bicubic")
    cfg["tables"]["table1"]["datasets"] = ["mini-realesrgan"]
    with pytest.raises(UserError, match="model/runs/lgcaa samples dataset 'mini-bicubic'"):
        validate(cfg, "x")
