"""The attention-variant registry (`lgcaa.model.variants`) is the one source of Table II's attention names."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from lgcaa.errors import UserError
from lgcaa.model import config as model_config
from lgcaa.model.variants import ATTENTION_VARIANTS, get_variant

ATTENTION_NAMES = list(ATTENTION_VARIANTS)


def test_registry_is_torch_free_and_feeds_the_config():
    code = "import sys, lgcaa.model.variants, lgcaa.model.config; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
    assert model_config.ModelConfig().attention in ATTENTION_NAMES


def test_registry_matches_table2_and_schema(repo_root):
    with open(repo_root / "results/paper/table2.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["module"] == "LGCAA"]
    paper = dict.fromkeys((r["variant"], r["label"]) for r in rows)
    assert list(paper) == [(n, v.label) for n, v in ATTENTION_VARIANTS.items()], "Table II's order and labels"
    from lgcaa.config import registry_enums, schema

    assert registry_enums()["ablation-variants"][: len(ATTENTION_NAMES)] == list(ATTENTION_NAMES)
    text = json.dumps(schema())
    for name in ATTENTION_NAMES:
        assert json.dumps(name) in text


def test_variant_flags_are_consistent():
    for name, v in ATTENTION_VARIANTS.items():
        assert v.name == name and get_variant(name) is v
        assert v.clamp == v.global_, "the clamp acts on the global stage's output (and every global variant clamps)"
        if v.standard:
            assert v.stages == ()
        else:
            assert v.mlp and v.stages[-1] == "mlp"
    assert get_variant("lgcaa").stages == ("local", "global", "clamp", "post_norm", "mlp")
    pairs = {(v.local, v.global_, v.post_norm) for v in ATTENTION_VARIANTS.values()}
    assert len(pairs) == len(ATTENTION_VARIANTS), "every variant differs in its stages"
    with pytest.raises(UserError, match="unknown attention variant 'globl' \\(did you mean 'global'\\?\\); known: standard"):
        get_variant("globl")


def test_attention_fields_of_the_model_config():
    from lgcaa.errors import UserError
    from lgcaa.model.config import config_from_dict
    from lgcaa.model.variants import CLAMP_BOUNDS

    cfg = config_from_dict({"model": {"lgcaa_output": "residual", "attention_checkpointing": False,
                                      "compile_attention": True, "clamp": 8}}).model
    assert cfg.attention_settings() == {"window": 8, "clamp": 8.0, "mlp_ratio": 1.0, "output": "residual",
                                        "checkpointing": False, "compile": True}
    # unset clamp: the arch's measured bound, written into the parsed config (so run records hold the number)
    for arch in CLAMP_BOUNDS:
        extra = {"pretrained": None} if arch == "tiny" else {}
        assert config_from_dict({"model": {"arch": arch, **extra}}).model.clamp == CLAMP_BOUNDS[arch]
    assert model_config.ModelConfig(arch="sd2-base").attention_settings()["clamp"] == CLAMP_BOUNDS["sd2-base"]
    for bad, fragment in (({"lgcaa_output": "gated"}, "model.model.lgcaa_output"), ({"clamp": 0}, "clamp must be > 0"),
                          ({"clamp": "big"}, "model.model.clamp: expected float")):
        try:
            config_from_dict({"model": bad})
        except UserError as exc:
            assert fragment in str(exc)
        else:
            raise AssertionError(f"{bad} accepted")
