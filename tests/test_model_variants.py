"""The attention-variant registry (`lgcaa.model.variants`) is the one source of Table II's attention names."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

from lgcaa.model import config as model_config
from lgcaa.model.variants import ATTENTION_NAMES, ATTENTION_VARIANTS, get_variant, variant_labels


def test_registry_is_torch_free_and_feeds_the_config():
    code = "import sys, lgcaa.model.variants, lgcaa.model.config; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
    assert model_config.ATTENTION_VARIANTS == ATTENTION_NAMES
    assert model_config.ModelConfig().attention in ATTENTION_NAMES


def test_registry_matches_table2_and_schema(repo_root):
    with open(repo_root / "results/paper/table2.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["module"] == "LGCAA"]
    paper = dict.fromkeys((r["variant"], r["label"]) for r in rows)
    assert list(paper) == list(variant_labels().items()), "Table II's order and labels"
    schema = json.loads((repo_root / "lgcaa/profiles/schema.json").read_text())
    text = json.dumps(schema)
    for name in ATTENTION_NAMES:
        assert json.dumps(name) in text


def test_variant_flags_are_consistent():
    for name, v in ATTENTION_VARIANTS.items():
        assert v.name == name and get_variant(name) is v
        assert v.clamp == v.global_, "the clamp acts on the global stage's output"
        if v.standard:
            assert v.stages == ()
        else:
            assert v.mlp and v.stages[-1] == "mlp"
    assert get_variant("lgcaa").stages == ("local", "global", "clamp", "post_norm", "mlp")
    pairs = {(v.local, v.global_, v.post_norm) for v in ATTENTION_VARIANTS.values()}
    assert len(pairs) == len(ATTENTION_VARIANTS), "every variant differs in its stages"
    try:
        get_variant("windowed")
    except ValueError as exc:
        assert "lgcaa" in str(exc)
    else:
        raise AssertionError("unknown variant accepted")
