"""The baseline registry against the paper's Table I, its declarations, and `lgcaa baselines list`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from baselines.external import render_argv
from baselines.registry import BASELINES, effective_seed, resolve_settings
from baselines.tiling import upscale_tiled
from lgcaa.errors import UserError
from lgcaa.weights.manifest import CACHE, WeightFile

# Table I of the paper, column order (LGCAA itself is the proposed method, not a baseline).
# Table I column labels (paper order) -> registry names. LGCAA itself is not a baseline.
TABLE1 = {b.paper_label: name for name, b in BASELINES.items() if b.paper_label}
PAPER_TABLE1 = ["BSRGAN", "Real-ESRGAN", "LDL", "DASR", "LDM", "StableSR", "ResShift", "PASD", "SeeSR"]
GAN = {"BSRGAN", "Real-ESRGAN", "LDL", "DASR"}
HEX40, HEX64 = re.compile(r"^[0-9a-f]{40}$"), re.compile(r"^[0-9a-f]{64}$")
ENVS = Path(__file__).resolve().parents[1] / "baselines" / "envs"


def test_registry_covers_table1_in_paper_order():
    assert list(TABLE1) == PAPER_TABLE1
    labels = [b.paper_label for b in BASELINES.values() if b.paper_label]
    assert sorted(labels) == sorted(PAPER_TABLE1)  # each column exactly once
    for label, name in TABLE1.items():
        b = BASELINES[name]
        assert b.paper_label == label
        assert b.family == ("gan" if label in GAN else "diffusion")
        assert b.scale == 4 and b.licence and b.runs
        assert b.source["repository"].startswith("https://github.com/")
        assert HEX40.match(b.source["commit"]), f"{name}: commit not pinned"
        assert b.weights, f"{name}: no weight files declared"


def test_weight_declarations_never_invent_digests():
    files = [w for b in BASELINES.values() for w in b.weights]
    assert files and all(isinstance(w, WeightFile) for w in files)
    for w in files:
        owner = w.used_by[0]
        assert owner in BASELINES and w.dest.startswith(f"baselines/{owner}/") and w.root == CACHE
        assert w.sha256 is None or HEX64.match(w.sha256)
        assert len(w.urls) == 1 and w.urls[0].startswith("https://")
        if w.sha256 is not None:
            assert w.note, f"{w.name}: a digest needs its provenance"
    by_name = {w.name: w for w in files}
    assert by_name["BSRGAN.pth"].sha256.startswith("5d505a07") and by_name["BSRGAN.pth"].size == 67046751
    assert by_name["RealESRGAN_x4plus.pth"].urls[0].endswith("/v0.1.0/RealESRGAN_x4plus.pth")


def test_diffusion_baselines_declare_authors_settings():
    d = {name: BASELINES[name] for name in ("ldm", "stablesr", "resshift", "pasd", "seesr")}
    for name, b in d.items():
        assert b.requires_gpu and b.external is not None and not b.offline
        assert (ENVS / b.external.env_file).is_file(), name
        assert "seed" in b.defaults and "scale" in b.defaults
        assert "steps" in b.defaults or "steps" in b.fixed
        assert HEX40.match(b.external.commit) and b.external.commit == b.source["commit"]
    assert d["seesr"].defaults["steps"] == 50 and d["seesr"].defaults["cfg"] == 5.5
    assert d["seesr"].defaults["seed"] is None  # unset upstream: the harness seeds it
    assert d["stablesr"].defaults["steps"] == 200 and d["stablesr"].defaults["color_fix"] == "adain"
    assert d["resshift"].fixed["steps"] == 15
    assert d["pasd"].defaults["steps"] == 20 and d["pasd"].defaults["cfg"] == 9.0


def test_every_command_template_renders_completely():
    for name, b in BASELINES.items():
        if b.external is None:
            continue
        weights = {w.name: f"/w/{w.name}" for w in b.weights}
        argv = render_argv(b.external, "/env/bin/python", "/in", "/out", 3, resolve_settings(name), weights, "/cfg.yaml")
        assert argv[0] == "/env/bin/python" and b.external.script in argv[1]
        assert not any("{" in a or "}" in a for a in argv), (name, argv)
        assert "/in" in argv and "/out" in argv and "3" in argv
        for rel, weight in b.external.links:
            assert weight in weights, (name, weight)


def test_settings_validation_and_seed():
    assert resolve_settings("seesr", {"cfg": 7.0})["cfg"] == 7.0
    with pytest.raises(UserError, match="hard-coded"):
        resolve_settings("resshift", {"steps": 4})
    with pytest.raises(UserError, match="not settings of 'bsrgan'"):
        resolve_settings("bsrgan", {"steps": 4})
    assert effective_seed(resolve_settings("stablesr"), 7) == 42  # the authors' seed
    assert effective_seed(resolve_settings("seesr"), 7) == 7  # unset upstream -> harness seed


def test_mini_profile_keeps_only_offline_methods():
    from lgcaa.config import load_config

    cfg = load_config("mini")
    assert cfg["methods"] and all(BASELINES[m].offline for m in cfg["methods"])


def test_tiling_reassembles_exactly_for_a_local_operator():
    rng = np.random.default_rng(0)
    lr = rng.random((37, 29, 3), dtype=np.float32)
    nearest = lambda x: np.repeat(np.repeat(x, 4, axis=0), 4, axis=1)
    whole = upscale_tiled(nearest, lr, 4, tile=0)
    for tile, pad in ((8, 2), (16, 0), (10, 10)):
        np.testing.assert_array_equal(upscale_tiled(nearest, lr, 4, tile=tile, pad=pad), whole)


def test_baselines_list_shows_all_with_status(tmp_path):
    res = subprocess.run([sys.executable, "-m", "lgcaa", "baselines", "list", "--json", "--cache-dir", str(tmp_path / "c"),
                          "--imports", str(tmp_path / "i")], capture_output=True, text=True, check=True)
    rows = {r["name"]: r for r in json.loads(res.stdout)}
    assert set(TABLE1.values()) | {"bicubic", "lanczos"} <= set(rows)
    assert rows["bicubic"]["status"] == "runnable here" and rows["realesrgan-x4plus"]["status"] == "runnable here"
    assert rows["bsrgan"]["status"] == "needs weights" and "lgcaa weights fetch bsrgan" in rows["bsrgan"]["missing"]
    for name in ("ldm", "stablesr", "resshift", "pasd", "seesr"):
        assert rows[name]["status"].startswith("needs") and "setup, weights" in rows[name]["status"]
        assert f"lgcaa baselines setup {name}" in rows[name]["missing"]
    table = subprocess.run([sys.executable, "-m", "lgcaa", "baselines", "list", "--cache-dir", str(tmp_path / "c")],
                           capture_output=True, text=True, check=True).stdout
    for label in PAPER_TABLE1:
        assert label in table


def test_extra_seed_instances_override_the_authors_fixed_seed():
    """M@seed<s> runs with seed s even where the authors fix one (LDM: 42); M itself keeps the authors' seed."""
    import copy

    from baselines.registry import job_settings
    from lgcaa.config import load_config
    from lgcaa.instances import find_sr_job

    cfg = copy.deepcopy(load_config("paper"))
    cfg["seeds"] = {"k": 2, "methods": ["ldm", "seesr"]}
    assert job_settings(find_sr_job(cfg, "realsr", "ldm")) == {}
    assert job_settings(find_sr_job(cfg, "realsr", "ldm@seed1")) == {"seed": 1}
    assert job_settings(find_sr_job(cfg, "realsr", "seesr@seed1")) == {"seed": 1}  # authors leave it None
    assert job_settings(find_sr_job(cfg, "realsr", "bsrgan")) == {}


def test_baseline_lines_align_the_table_and_end_with_what_is_missing():
    from baselines.prerequisites import baseline_lines
    from baselines.registry import entry

    rows = [{"name": "a", "table1": "Long label", "family": "gan", "runner": "in-process", "status": "runnable here",
             "missing": ""},
            {"name": "bbbbbbbb", "table1": "", "family": "diffusion", "runner": "external", "status": "needs setup",
             "missing": "checkout: absent — fix: lgcaa baselines setup bbbbbbbb"}]
    lines = baseline_lines(rows)
    assert lines[0].split() == ["NAME", "TABLE1", "FAMILY", "RUNNER", "STATUS"]
    assert len({len(line) for line in lines[:3]}) == 1  # every cell padded to its column's width
    for col in ("TABLE1", "FAMILY", "RUNNER", "STATUS"):
        at = lines[0].index(col)
        assert lines[1][at - 2:at] == "  " and lines[1][at] != " ", col
    assert lines[3:] == ["\nmissing:", "  bbbbbbbb: checkout: absent — fix: lgcaa baselines setup bbbbbbbb"]
    assert len(baseline_lines(rows[:1])) == 2  # nothing missing: no block
    shown = entry("bicubic")
    assert shown["name"] == "bicubic" and "make_upscaler" not in shown and json.loads(json.dumps(shown, default=str))
