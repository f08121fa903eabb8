"""Profile configs are validated against the JSON schema; errors name the source and field."""

from __future__ import annotations

import copy
import json
import re

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
    with pytest.raises(UserError, match="figures/fig4 names dataset 'mini-bicubic' that is not in 'datasets'"):
        validate(cfg, "x")  # figures are checked like tables
    cfg.pop("figures")
    with pytest.raises(UserError, match="model/runs/lgcaa samples dataset 'mini-bicubic'"):
        validate(cfg, "x")


def test_schema_enums_come_from_the_registries():
    """schema.json names registries (`x-lgcaa-enum`); loading fills each slot from its registry — never re-listed."""
    import json
    from importlib import resources

    from baselines.registry import BASELINES
    from lgcaa.config import registry_enums, schema
    from lgcaa.metrics.registry import METRICS

    raw = resources.files("lgcaa.profiles").joinpath("schema.json").read_text()
    slots = set(re.findall(r'"x-lgcaa-enum": "([a-z-]+)"', raw))
    assert slots == set(registry_enums())  # every slot is filled, every registry list is used
    assert '"enum": [\n            "psnr"' not in raw and "maniqa" not in raw  # no metric name is spelled there
    filled = schema()
    assert filled["properties"]["metrics"]["items"]["enum"] == list(METRICS)
    assert filled["properties"]["baselines"]["propertyNames"]["enum"] == list(BASELINES)
    assert json.dumps(filled).count('"x-lgcaa-enum"') == len(re.findall('"x-lgcaa-enum"', raw))


def test_baseline_settings_are_checked_when_the_config_loads():
    cfg = copy.deepcopy(load_config("mini"))
    cfg["baselines"] = {"realesrgan-x4plus": {"tile": 128}}
    validate(cfg)
    cfg["baselines"] = {"realesrgan-x4plus": {"scale": 4, "steps": 3}}
    with pytest.raises(UserError, match="baselines/realesrgan-x4plus.*unknown key.*'steps'"):
        validate(cfg)
    cfg["baselines"] = {"no-such-method": {}}
    with pytest.raises(UserError, match="baselines.*no-such-method"):
        validate(cfg)


def test_every_unknown_name_is_reported_at_once_with_the_closest_name():
    cfg = copy.deepcopy(load_config(None))
    cfg["metrics"] += ["psnrr", "ssmi"]
    cfg["seedz"] = 1
    with pytest.raises(UserError) as exc:
        validate(cfg, "x")
    msg = str(exc.value)
    assert "\n" not in msg
    for typo, meant in (("psnrr", "psnr"), ("ssmi", "ssim"), ("seedz", "seed")):
        assert f"'{typo}'" in msg and f"did you mean '{meant}'?" in msg, msg
    cfg = copy.deepcopy(load_config(None))
    cfg["methods"] += ["bicubik", "lanczoss"]
    cfg["tables"]["table1"]["datasets"].append("mini-bicubik")
    with pytest.raises(UserError, match="did you mean 'mini-bicubic'"):
        validate(cfg, "x")  # references: checked after the schema
    cfg["tables"]["table1"]["datasets"].pop()
    with pytest.raises(UserError, match=r"'bicubik' \(did you mean 'bicubic'\?\), 'lanczoss' \(did you mean 'lanczos'\?\)"):
        validate(cfg, "x")


def test_profile_typo_suggests_the_profile(tmp_path):
    with pytest.raises(UserError, match=r"did you mean 'mini'\?"):
        load_config("minni")


def test_config_show_yaml_round_trips(tmp_path, capsys):
    from lgcaa.cli import main

    assert main(["config", "show", "mini", "--format", "yaml"]) == 0
    path = tmp_path / "mini.yaml"
    path.write_text(capsys.readouterr().out)
    assert not path.read_text().lstrip().startswith("{")
    assert load_config(path) == load_config("mini")


def _raw(profile: str) -> dict:
    from importlib import resources

    return json.loads(resources.files("lgcaa.profiles").joinpath(f"{profile}.json").read_text())


@pytest.mark.parametrize("profile", ["mini", "paper"])
def test_table3_reading_sets_the_weights_its_runs_train_with(profile):
    """`tables.table3.columns` is a whole switch: each row's run trains with the weights the reading gives the
    row's printed (lambda_1, lambda_2), so the other reading swaps every grid run's λ (not only the labels)."""
    from lgcaa.instances import model_sample_jobs
    from lgcaa.model.config import resolve_run

    default = validate(_raw(profile))
    other_raw = _raw(profile)
    other_raw["tables"]["table3"]["columns"] = ["lambda_p", "lambda_w"]
    other = validate(other_raw)
    run_of = {j.method: j.run for j in model_sample_jobs(default["model"])}
    rows = default["tables"]["table3"]["rows"]
    assert len(rows) == 6
    for row in rows:
        a = resolve_run(default["model"], run_of[row["method"]]).model
        b = resolve_run(other["model"], run_of[row["method"]]).model
        assert (a.lambda_w, a.lambda_p) == (row["lambda_1"], row["lambda_2"])  # default: (λ_w, λ_p) as printed
        assert (b.lambda_p, b.lambda_w) == (row["lambda_1"], row["lambda_2"])  # the other reading
    full = resolve_run(default["model"], "lgcaa").model  # the full model is the printed (2.0, 0.3) cell
    assert (full.lambda_w, full.lambda_p) == (2.0, 0.3)


def test_a_table_row_whose_run_trains_other_settings_is_refused():
    raw = _raw("paper")  # a run that sets its own λ, different from what its Table III row gives it
    raw["model"]["runs"]["lgcaa-t3-1.0-0.1"]["model"] = {"lambda_w": 0.1, "lambda_p": 1.0}
    with pytest.raises(UserError, match=r"lgcaa-t3-1.0-0.1/model/lambda_w is 0.1.*row gives 1.0"):
        validate(raw)
    raw = _raw("paper")  # a Table II row whose run trains another attention variant
    raw["model"]["runs"]["lgcaa-attn-local"]["model"]["attention"] = "global"
    with pytest.raises(UserError, match=r"table2 row LGCAA/local reads run 'lgcaa-attn-local'.*'global'"):
        validate(raw)
    raw = _raw("paper")  # a DPACM row likewise
    raw["tables"]["table2"]["rows"][5]["method"] = "lgcaa-dpacm-perceptual"
    with pytest.raises(UserError, match=r"table2 row DPACM/none reads run 'lgcaa-dpacm-perceptual'"):
        validate(raw)
    raw = _raw("paper")  # a Table III row on an ablation run
    raw["tables"]["table3"]["rows"][0]["method"] = "lgcaa-attn-local"
    with pytest.raises(UserError, match=r"table3 reads run 'lgcaa-attn-local'.*attention 'local'"):
        validate(raw)
