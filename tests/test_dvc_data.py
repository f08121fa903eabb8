"""Datasets through real DVC (a local remote in a temp dir) and the DAG's first rule (real Snakemake).

add -> push -> wipe cache and data -> the DAG's data rule pulls it from the remote -> identical manifest;
a dataset the remote lacks falls back to its source; a failed pull never touches sibling datasets; the
repository's data.dvc is reproduced byte for byte by rebuilding the mini sets.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from lgcaa.data.manifest import build_manifest, verify_manifest, write_manifest
from lgcaa.io import write_png

REPO = Path(__file__).resolve().parents[1]


def _dvc(repo: Path, *args: str) -> subprocess.CompletedProcess:
    res = subprocess.run([sys.executable, "-m", "dvc", *args], check=False, cwd=repo, capture_output=True, text=True,
                         env={**os.environ, "DVC_NO_ANALYTICS": "1"})
    assert res.returncode == 0, f"dvc {' '.join(args)}: {res.stdout}\n{res.stderr}"
    return res


def _image(side: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (side, side, 3), dtype=np.uint8)


def _make_dataset(root: Path, name: str = "realsr", n: int = 3) -> bytes:
    out = root / name
    for i in range(n):
        hr = _image(512, i)
        write_png(out / "hr" / f"p{i}.png", hr)
        write_png(out / "lr" / f"p{i}.png", hr[::4, ::4].copy())
    write_manifest(out, build_manifest(out, name, 4, extra={"lr_kind": "released", "source": {"registry": name}}))
    return (out / "manifest.json").read_bytes()


@pytest.fixture
def dvc_repo(tmp_path) -> Path:
    """A git + DVC repository using the harness's shipped .dvc/config, its remote pointed at a temp dir."""
    repo = tmp_path / "repo"
    (repo / ".dvc").mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    for rel in (".dvc/config", ".dvc/.gitignore", ".dvcignore"):
        shutil.copyfile(REPO / rel, repo / rel)
    (repo / ".gitignore").write_text("/data/\n")
    _dvc(repo, "remote", "modify", "storage", "url", str(tmp_path / "remote"))  # what the README tells users
    return repo


def test_shipped_dvc_config_is_offline_and_has_a_default_remote():
    text = (REPO / ".dvc/config").read_text()
    assert "analytics = false" in text and "remote = storage" in text
    assert "/cache" in (REPO / ".dvc/.gitignore").read_text()
    import yaml

    tracked = yaml.safe_load((REPO / "data.dvc").read_text())["outs"][0]
    assert tracked["path"] == "data" and tracked["md5"].endswith(".dir")


@pytest.mark.slow
def test_dag_pulls_a_pushed_dataset_identically(dvc_repo, tmp_path):
    """realsr, div2k-val: pulled by rule data_fetch. div2k-val-regen: rule data_regenerate takes the pulled
    div2k-val's HR, regenerates LR and compares it with the released LR."""
    manifest = _make_dataset(dvc_repo / "data")
    _make_dataset(dvc_repo / "data", name="div2k-val")
    _dvc(dvc_repo, "add", "data")
    _dvc(dvc_repo, "push")
    shutil.rmtree(dvc_repo / "data")
    shutil.rmtree(dvc_repo / ".dvc/cache")
    (dvc_repo / "data/keep").mkdir(parents=True)
    (dvc_repo / "data/keep/local.txt").write_text("not tracked, must survive")
    cfg = {
        "profile": "dvc-test", "seed": 0, "paths": {"data": "data", "results": "results"},
        "datasets": {"realsr": {"source": "realsr", "lr": "released", "expected_count": 3},
                     "div2k-val": {"source": "div2k-val", "lr": "released", "expected_count": 3},
                     "div2k-val-regen": {"source": "div2k-val", "lr": "realesrgan", "expected_count": 3}},
        "methods": ["bicubic"], "metrics": ["psnr"],
        "tables": {"table1": {"datasets": ["realsr"], "methods": ["bicubic"]}},
    }
    (dvc_repo / "cfg.json").write_text(json.dumps(cfg))
    env = {**os.environ, "LGCAA_OFFLINE": "1", "DVC_NO_ANALYTICS": "1",  # no network: DVC or nothing
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    res = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(dvc_repo),
         "--configfile", str(dvc_repo / "cfg.json"), "--cores", "2", "data/realsr/manifest.json",
         "data/div2k-val-regen/manifest.json"],
        check=False, capture_output=True, text=True, env=env,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert (dvc_repo / "data/realsr/manifest.json").read_bytes() == manifest
    assert verify_manifest(dvc_repo / "data/realsr")["count"] == 3
    record = json.loads((dvc_repo / "results/data/realsr.run.json").read_text())
    assert record["params"]["obtained"] == "dvc"
    assert (dvc_repo / "data/keep/local.txt").is_file()
    regen = json.loads((dvc_repo / "results/data/div2k-val-regen.run.json").read_text())
    assert regen["params"]["obtained"] == "regenerated" and regen["params"]["degradation"] == "realesrgan-x4plus"
    cmp = json.loads((dvc_repo / "results/data/div2k-val-regen.vs_released.json").read_text())
    assert cmp["count"] == 3 and cmp["hr_identical"] == 3 and cmp["lr_psnr_db"]["mean"] > 0
    assert json.loads((dvc_repo / "results/data/div2k-val.run.json").read_text())["params"]["obtained"] == "dvc"
    shutil.rmtree(dvc_repo / "data/keep")
    shutil.rmtree(dvc_repo / "data/div2k-val-regen")
    status = _dvc(dvc_repo, "status", "--json", "data.dvc")
    assert json.loads(status.stdout) == {}  # the workspace is exactly what data.dvc records


def _zip_of(dataset: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for sub, folder in (("test_HR", "hr"), ("test_LR", "lr")):
            for p in sorted((dataset / folder).iterdir()):
                zf.write(p, f"StableSR_testsets/RealSRVal_crop128/{sub}/{p.name}")
    return buf.getvalue()


def test_dataset_not_in_dvc_falls_back_to_its_source(dvc_repo, tmp_path):
    import dataclasses

    from lgcaa.data.fetch import obtain_released
    from lgcaa.data.registry import get_spec

    _make_dataset(tmp_path / "elsewhere")
    archive = tmp_path / "StableSR_testsets.zip"
    archive.write_bytes(_zip_of(tmp_path / "elsewhere/realsr"))
    _make_dataset(dvc_repo / "data", name="other", n=1)
    _dvc(dvc_repo, "add", "data")
    spec = dataclasses.replace(get_spec("realsr"), urls=(archive.as_uri(),), expected_count=3, file_set=None)
    got = obtain_released(spec, dvc_repo / "data", tmp_path / "cache", try_dvc=True)
    assert got.how == "fetch" and got.manifest["count"] == 3
    assert (dvc_repo / "data/other/manifest.json").is_file()


def test_a_regenerated_set_recorded_in_dvc_is_pulled_and_its_count_checked(dvc_repo, monkeypatch):
    """`lgcaa data regenerate` asks DVC first, as a fetch does (one helper: lgcaa.data.dvc.pull_checked): a set DVC
    records is materialised, not rebuilt; one whose pair count is not the expected one is refused in one line."""
    from lgcaa.data.regenerate import obtain_regenerated
    from lgcaa.data.registry import get_spec
    from lgcaa.errors import UserError

    manifest = _make_dataset(dvc_repo / "data", name="div2k-val-regen")
    _dvc(dvc_repo, "add", "data")
    _dvc(dvc_repo, "push")
    shutil.rmtree(dvc_repo / "data/div2k-val-regen")
    monkeypatch.chdir(dvc_repo)  # the DAG's jobs run in the project folder
    got = obtain_regenerated(get_spec("div2k-val"), Path("data"), "div2k-val-regen", expected_count=3)
    assert got.how == "dvc" and (dvc_repo / "data/div2k-val-regen/manifest.json").read_bytes() == manifest
    assert got.metrics == {"n_images": 3} and got.comparison is None
    shutil.rmtree(dvc_repo / "data/div2k-val-regen")
    with pytest.raises(UserError, match="pulled from DVC with 3 pairs, expected 5; delete it and rerun with --no-dvc"):
        obtain_regenerated(get_spec("div2k-val"), Path("data"), "div2k-val-regen", expected_count=5)


def test_failed_pull_keeps_siblings_and_leaves_nothing_half_done(dvc_repo):
    from lgcaa.data.dvc import pull_dataset

    _make_dataset(dvc_repo / "data")
    _dvc(dvc_repo, "add", "data")  # recorded, but never pushed
    shutil.rmtree(dvc_repo / ".dvc/cache")
    shutil.rmtree(dvc_repo / "data/realsr")
    (dvc_repo / "data/sibling").mkdir()
    (dvc_repo / "data/sibling/x.txt").write_text("keep me")
    ok, msg = pull_dataset(dvc_repo / "data/realsr")
    assert not ok and msg.startswith("dvc:")
    assert not (dvc_repo / "data/realsr").exists()
    assert (dvc_repo / "data/sibling/x.txt").read_text() == "keep me"
    assert sorted(p.name for p in (dvc_repo / "data").iterdir()) == ["sibling"]


@pytest.mark.slow
def test_rebuilt_mini_sets_match_the_repository_data_dvc(tmp_path):
    """A fresh build of the mini profile's sets hashes to exactly the directory recorded in data.dvc."""
    import yaml

    from lgcaa.config import load_config
    from lgcaa.data.mini import build_mini_dataset

    repo = tmp_path / "repo"
    (repo / ".dvc").mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    for rel in (".dvc/config", ".dvc/.gitignore", ".dvcignore"):
        shutil.copyfile(REPO / rel, repo / rel)
    (repo / ".gitignore").write_text("/data/\n")
    cfg = load_config("mini")
    for name, ds in cfg["datasets"].items():
        build_mini_dataset(repo / "data" / name, name, cfg["mini"]["photos"], cfg["mini"]["hr_size"],
                           cfg["mini"]["scale"], ds["lr"], cfg["seed"])
    _dvc(repo, "add", "data")
    ours, committed = (yaml.safe_load(p.read_text())["outs"][0] for p in (repo / "data.dvc", REPO / "data.dvc"))
    assert (ours["md5"], ours["nfiles"], ours["size"]) == (committed["md5"], committed["nfiles"], committed["size"]), (
        "rebuilt mini data differs from data.dvc; if the mini profile or the degradation changed on purpose, "
        "rebuild data/ (snakemake --forcerun data_mini ...) and run `dvc add data`"
    )


def test_rebuilt_data_is_committed_to_the_dvc_cache_so_status_is_clean(dvc_repo):
    """A fresh clone has data.dvc but no cache; the DAG rebuilds data/ byte-identically; its dvc-cache step makes
    `dvc status` clean. A data folder that differs from data.dvc is left alone with the command to run."""
    from lgcaa.data.dvc import cache_if_identical

    _make_dataset(dvc_repo / "data")
    _dvc(dvc_repo, "add", "data")
    shutil.rmtree(dvc_repo / ".dvc/cache")  # as on a fresh clone, after the DAG rebuilt data/
    recorded = (dvc_repo / "data.dvc").read_bytes()
    assert "not in cache" in _dvc(dvc_repo, "status", "data.dvc").stdout
    outcome = cache_if_identical(dvc_repo / "data")
    assert outcome["status"] == "cached", outcome
    assert "up to date" in _dvc(dvc_repo, "status", "data.dvc").stdout
    assert (dvc_repo / "data.dvc").read_bytes() == recorded
    assert cache_if_identical(dvc_repo / "data")["status"] == "up-to-date"
    (dvc_repo / "data/realsr/extra.txt").write_text("not recorded")
    outcome = cache_if_identical(dvc_repo / "data")
    assert outcome["status"] == "modified" and "dvc add" in outcome["message"]
    assert (dvc_repo / "data.dvc").read_bytes() == recorded


@pytest.mark.slow
def test_fetched_real_sets_match_the_repository_data_real_dvc_and_status_is_clean(tmp_path):
    """`lgcaa data fetch realsr|drealsr` (file by file, here from the mirror) lays out exactly the directory that
    the committed data-real.dvc records (the real profile's data root); the DAG's dvc-cache step then commits it
    to the local cache and `dvc status` is clean."""
    from test_data_files import MIRROR

    if MIRROR is None:
        pytest.skip("no mirror of the real test data (../shared/data beside the repository, or $LGCAA_DATA_MIRROR)")
    from lgcaa.data.dvc import cache_if_identical
    from lgcaa.data.fetch import obtain_released
    from lgcaa.data.registry import get_spec

    repo = tmp_path / "repo"
    (repo / ".dvc").mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    for rel in (".dvc/config", ".dvc/.gitignore", ".dvcignore", "data-real.dvc"):
        shutil.copyfile(REPO / rel, repo / rel)
    for name in ("realsr", "drealsr"):
        obtain_released(get_spec(name), repo / "data-real", tmp_path / "cache", try_dvc=False, mirror=MIRROR)
    outcome = cache_if_identical(repo / "data-real")
    assert outcome["status"] == "cached", outcome
    assert json.loads(_dvc(repo, "status", "--json", "data-real.dvc").stdout) == {}
    assert (repo / "data-real.dvc").read_bytes() == (REPO / "data-real.dvc").read_bytes()
