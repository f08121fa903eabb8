"""The `real` profile: Table I's RealSR and DRealSR rows for what runs on a CPU (bicubic, Lanczos, the ncnn GANs,
OSEDiff's published outputs), the paper's printed cells beside ours; offline through the mirror
($LGCAA_DATA_MIRROR). The end-to-end run uses the profile's own subset option (`limit`: 1 pair per set) and a
method set of one ncnn network (the paper's Real-ESRGAN cell) and OSEDiff's published outputs (their golden
comparison with OSEDiff's log), as CI does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lgcaa.config import expected_pairs, load_config, validate
from lgcaa.data.files import MIRROR_ENV
from lgcaa.tables.spec import build_spec

REPO = Path(__file__).resolve().parents[1]


def test_real_profile_declares_the_paper_sets_methods_and_all_metrics():
    cfg = load_config("real")
    assert {d: (v["source"], v["lr"], v["expected_count"]) for d, v in cfg["datasets"].items()} == {
        "realsr": ("realsr", "released", 100), "drealsr": ("drealsr", "released", 93)}
    assert cfg["methods"] == ["bicubic", "lanczos", "realesrgan-x4plus", "realsr-df2k", "osediff"]
    assert len(cfg["metrics"]) == 9 and cfg["comparable_to_paper"] and cfg["calibration"]  # the gate runs first
    spec = build_spec(cfg, "table1")
    papered = {(e.dataset, e.method): e.paper for e in spec.entries if e.paper}
    assert papered == {("realsr", "realesrgan-x4plus"): {"dataset": "RealSR", "method": "realesrgan"},
                       ("drealsr", "realesrgan-x4plus"): {"dataset": "DRealSR", "method": "realesrgan"}}
    assert {e.label for e in spec.entries} >= {"OSEDiff (published outputs)", "Real-ESRGAN (ncnn)"}
    assert spec.note == "" and spec.subsets == {}


def test_limit_is_a_stated_subset():
    cfg = load_config("real")
    cfg["datasets"]["realsr"]["limit"] = 10
    cfg = validate(cfg)
    assert expected_pairs(cfg["datasets"]["realsr"]) == 10 and expected_pairs(cfg["datasets"]["drealsr"]) == 93
    spec = build_spec(cfg, "table1")
    assert spec.expected["realsr"] == 10
    assert spec.subsets == {"realsr": "the first 10 of 100 pairs sorted by file name"}
    assert "RealSR: the first 10 of 100 pairs sorted by file name" in spec.note


@pytest.mark.slow
def test_real_profile_runs_offline_from_the_mirror_on_a_subset(tmp_path):
    from test_data_files import MIRROR

    if MIRROR is None:
        pytest.skip(f"no mirror of the real test data (../shared/data beside the repository, or ${MIRROR_ENV})")
    cfg = load_config("real")
    for entry in cfg["datasets"].values():
        entry["limit"] = 1
    methods = ["realesrgan-x4plus", "osediff"]  # the classical rows run through the DAG in dag_run (mini)
    cfg["methods"] = cfg["tables"]["table1"]["methods"] = methods
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "real-1.json").write_text(json.dumps(cfg))
    env = {**os.environ, MIRROR_ENV: str(MIRROR), "LGCAA_OFFLINE": "1", "HF_HUB_OFFLINE": "1",
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    res = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(ws),
         "--configfile", str(ws / "real-1.json"), "--cores", "2", "table1",
         *(f"results/real/checks/golden-{d}-osediff.json" for d in ("realsr", "drealsr"))],
        check=False, capture_output=True, text=True, env=env,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    out = ws / "results/real"
    md = (out / "tables/table1.md").read_text()
    for row in ("| RealSR | PSNR ↑ |", "| DRealSR | NIQE ↓ |", "OSEDiff (published outputs)", "Real-ESRGAN (ncnn)"):
        assert row in md
    assert "RealSR: the first 1 of 100 pairs sorted by file name" in md
    beside = md.split("**Table I (real profile) beside the paper:")[1]  # paper | ours | Δ | verdict
    assert "| RealSR | Real-ESRGAN (ncnn) | realesrgan | PSNR | 25.69 |" in beside
    assert "| DRealSR | Real-ESRGAN (ncnn) | realesrgan | SSIM | 0.8053 |" in beside
    assert "| not comparable |" in beside  # a 1-pair mean is never judged against the paper's full-set mean
    assert "| within |" not in beside and "| outside |" not in beside
    for d in ("realsr", "drealsr"):  # the DAG's own OSEDiff scores equal OSEDiff's log on the images it scored
        golden = json.loads((out / f"checks/golden-{d}-osediff.json").read_text())
        assert golden["ok"] and golden["subset"] and golden["n_images"] == 1, golden
        assert {m: golden["metrics"][m]["status"] for m in ("psnr", "ssim", "niqe")} == dict.fromkeys(
            ("psnr", "ssim", "niqe"), "ok")
    record = json.loads((out / "sr/realsr/osediff.run.json").read_text())
    assert record["params"]["runner"] == "imported"
    manifest = json.loads((ws / "data-real/drealsr/manifest.json").read_text())
    assert manifest["count"] == 1 and manifest["limit"] == {"first": 1, "of": 93, "order": "file name"}
