"""`lgcaa baselines import`: published outputs registered with checksums and counts, then used by `lgcaa sr`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from baselines.imports import load_import, materialize, register
from lgcaa.errors import UserError
from lgcaa.io import list_images, read_rgb, write_png


@pytest.fixture
def dataset(tmp_path) -> Path:
    """data/ds/lr with three real-photo LR crops (skimage)."""
    from skimage import data

    lr = tmp_path / "data" / "ds" / "lr"
    for name, img in (("0001", data.astronaut()), ("0002", data.chelsea()), ("0003", data.coffee())):
        write_png(lr / f"{name}.png", np.ascontiguousarray(img[:64:4, :80:4]))  # 16x20
    return lr


def published(tmp_path: Path, lr: Path, suffix: str = "_out", ext: str = ".jpg") -> Path:
    """An authors'-style result folder: x4 images named <stem><suffix><ext>."""
    folder = tmp_path / "published"
    folder.mkdir()
    for f in list_images(lr):
        im = Image.open(f).convert("RGB")
        im.resize((im.width * 4, im.height * 4), Image.Resampling.BICUBIC).save(folder / f"{f.stem}{suffix}{ext}", quality=95)
    return folder


def lgcaa(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lgcaa", *args], capture_output=True, text=True, check=False)


def test_import_then_sr_uses_the_published_outputs(tmp_path, dataset):
    src = published(tmp_path, dataset)
    imports = tmp_path / "imports"
    res = lgcaa("baselines", "import", "seesr", str(src), "--dataset", "ds", "--data", str(tmp_path / "data"),
                "--imports", str(imports), "--strip-suffix", "_out", "--source", "https://example.org/seesr-results")
    assert res.returncode == 0, res.stderr
    record = load_import("seesr", "ds", imports)
    assert record["n_images"] == 3 and record["source"] == "https://example.org/seesr-results"
    assert [f["name"] for f in record["files"]] == ["0001.png", "0002.png", "0003.png"]
    assert all(len(f["sha256"]) == 64 and len(f["source_sha256"]) == 64 for f in record["files"])

    results = tmp_path / "results"
    out = results / "sr" / "ds" / "seesr"
    res = lgcaa("sr", "--method", "seesr", "--dataset", "ds", "--lr-dir", str(dataset), "--out-dir", str(out),
                "--imports", str(imports), "--cache-dir", str(tmp_path / "cache"),
                "--record", str(results / "sr" / "ds" / "seesr.run.json"))
    assert res.returncode == 0, res.stderr  # no GPU, no weights: the imported outputs are enough
    for f in list_images(dataset):
        np.testing.assert_array_equal(read_rgb(out / f.name), read_rgb(imports / "ds" / "seesr" / f.name))
        assert read_rgb(out / f.name).shape == (64, 80, 3)
    settings = json.loads((out.parent / "seesr.settings.json").read_text())
    assert settings["runner"] == "imported" and settings["import"]["source"] == "https://example.org/seesr-results"
    run = json.loads((out.parent / "seesr.run.json").read_text())
    assert run["params"]["runner"] == "imported" and run["params"]["import.n_images"] == 3

    rows = {r["name"]: r for r in json.loads(lgcaa("baselines", "list", "--json", "--imports", str(imports),
                                                     "--cache-dir", str(tmp_path / "cache")).stdout)}
    assert rows["seesr"]["status"].startswith("imported (ds)")


def test_count_mismatch_fails_and_writes_nothing(tmp_path, dataset):
    src = published(tmp_path, dataset)
    (src / "0002_out.jpg").unlink()
    imports = tmp_path / "imports"
    res = lgcaa("baselines", "import", "pasd", str(src), "--dataset", "ds", "--lr-dir", str(dataset),
                "--imports", str(imports), "--strip-suffix", "_out")
    assert res.returncode == 2
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "2 images for the dataset's 3 LR images" in lines[0] and "missing 0002.png" in lines[0]
    assert not (imports / "ds").exists() or not any((imports / "ds").iterdir())
    (src / "9999_out.jpg").write_bytes((src / "0001_out.jpg").read_bytes())
    (src / "0002_out.jpg").write_bytes((src / "0001_out.jpg").read_bytes())
    with pytest.raises(UserError, match="unmatched 9999_out.jpg"):
        register("pasd", "ds", src, dataset, imports, strip_suffix="_out")


def test_wrong_scale_and_tampering_are_refused(tmp_path, dataset):
    src = tmp_path / "x2"
    src.mkdir()
    for f in list_images(dataset):
        Image.open(f).resize((40, 32)).save(src / f.name)
    with pytest.raises(UserError, match=r"0001\.png: 40x32, expected 80x64"):
        register("ldm", "ds", src, dataset, tmp_path / "imports")
    assert load_import("ldm", "ds", tmp_path / "imports") is None

    imports = tmp_path / "imports"
    register("ldm", "ds", published(tmp_path, dataset, suffix="", ext=".png"), dataset, imports)
    stored = imports / "ds" / "ldm" / "0003.png"
    img = read_rgb(stored)
    img[0, 0] = 255 - img[0, 0]
    write_png(stored, img)
    with pytest.raises(UserError, match=r"0003\.png: sha256 differs"):
        materialize("ldm", "ds", imports, list_images(dataset), tmp_path / "out")


def test_osediff_published_outputs_are_fetched_verified_and_used_by_sr(tmp_path, monkeypatch):
    """OSEDiff's outputs, published file by file (cswry/OSEDiff@fcc4f09): fetched from the mirror for the LR images
    present (a 3-pair subset), registered with source, commit and licence, materialised by run_method; a tampered
    mirror copy is refused naming the file."""
    import shutil

    from test_data_files import MIRROR

    if MIRROR is None:
        pytest.skip("no mirror of the real test data (../shared/data or $LGCAA_DATA_MIRROR)")
    from baselines.registry import get
    from baselines.run import RunContext, run_method
    from lgcaa.data.fetch import obtain_released
    from lgcaa.data.registry import get_spec
    from lgcaa.io import sha256_file

    monkeypatch.setenv("LGCAA_DATA_MIRROR", str(MIRROR))
    b = get("osediff")
    assert b.label == "OSEDiff (published outputs)" and b.paper_label is None and b.licence.startswith("Apache-2.0")
    got = obtain_released(get_spec("realsr"), tmp_path / "data", tmp_path / "cache", try_dvc=False, limit=3)
    lr = tmp_path / "data/realsr/lr"
    ctx = RunContext(cache_dir=tmp_path / "cache", imports_dir=tmp_path / "imports", dataset="realsr")
    summary = run_method("osediff", lr, tmp_path / "out", {"scale": 4}, ctx)
    assert summary["runner"] == "imported" and summary["n_images"] == got.manifest["count"] == 3
    record = load_import("osediff", "realsr", tmp_path / "imports")
    pub = record["published"]
    assert pub["repository"] == "cswry/OSEDiff" and pub["commit"].startswith("fcc4f09c")
    assert pub["path"] == "preset/datasets/benchmark_realsr/results_osediff"
    assert [g["file"] for g in pub["logs"]] == ["test_METRICS_241023-172854.log"]
    for f in list_images(tmp_path / "out"):  # PNG published: stored byte for byte
        assert sha256_file(f) == sha256_file(MIRROR / "osediff-outputs/realsr" / f.name)
    # a mirror whose copy of one output differs by a byte: refused, naming it
    bad = tmp_path / "badmirror"
    shutil.copytree(MIRROR / "osediff-outputs/drealsr", bad / "osediff-outputs/drealsr")
    for sub in ("HR", "LR"):
        shutil.copytree(MIRROR / f"stablesr-crops/drealsr/{sub}", bad / f"stablesr-crops/drealsr/{sub}")
    first = min(p.name for p in (bad / "osediff-outputs/drealsr").glob("*.png"))
    raw = bytearray((bad / "osediff-outputs/drealsr" / first).read_bytes())
    raw[100] ^= 0x10
    (bad / "osediff-outputs/drealsr" / first).write_bytes(bytes(raw))
    obtain_released(get_spec("drealsr"), tmp_path / "data", tmp_path / "cache", try_dvc=False, limit=2)
    res = lgcaa("baselines", "import", "osediff", "--dataset", "drealsr", "--data", str(tmp_path / "data"),
                "--mirror", str(bad), "--imports", str(tmp_path / "imports"), "--cache-dir", str(tmp_path / "cache2"))
    assert res.returncode == 2 and f"{first}: sha256 mismatch" in res.stderr
    assert load_import("osediff", "drealsr", tmp_path / "imports") is None
