"""Regenerated test sets (our seeded LR from a source's HR), the regenerated-vs-released comparison, and the
HR side of ResShift's ImageNet-Test rebuilt from an ImageNet-val-like folder."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from lgcaa.data.compare import compare_lr
from lgcaa.data.lowres import bicubic_down
from lgcaa.data.manifest import build_manifest, verify_manifest, write_manifest
from lgcaa.data.photos import center_crop, load_photo
from lgcaa.errors import UserError
from lgcaa.io import write_png

PHOTOS = ["astronaut", "chelsea", "coffee"]


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    """A small 'released' set in the canonical layout: HR 128 crops, LR = MATLAB bicubic x4."""
    root = tmp_path_factory.mktemp("data")
    out = root / "div2k-val"
    for name in PHOTOS:
        hr = center_crop(load_photo(name), 128)
        write_png(out / "hr" / f"{name}.png", hr)
        write_png(out / "lr" / f"{name}.png", bicubic_down(hr, 4))
    write_manifest(out, build_manifest(out, "div2k-val", 4, extra={"lr_kind": "released"}))
    return root


def test_cli_regenerate_writes_set_record_and_comparison(released, tmp_path):
    from lgcaa.cli import main

    rec, cmp_out = tmp_path / "run.json", tmp_path / "cmp.json"
    args = ["data", "regenerate", "div2k-val-regen", "--source", "div2k-val", "--data-root", str(released),
            "--expected-count", "3", "--no-dvc", "--compare-out", str(cmp_out), "--record", str(rec)]
    assert main(args) == 0
    out = released / "div2k-val-regen"
    manifest = verify_manifest(out)
    assert manifest["count"] == 3 and manifest["lr_kind"] == "realesrgan" and manifest["seed"] == 0
    deg = manifest["degradation"]
    assert deg["config"] == "realesrgan-x4plus" and len(deg["config_sha256"]) == 64 and set(deg["plans"]) == set(PHOTOS)
    for name in PHOTOS:  # HR copied byte for byte from the source
        assert (out / "hr" / f"{name}.png").read_bytes() == (released / "div2k-val/hr" / f"{name}.png").read_bytes()
    report = json.loads(cmp_out.read_text())
    assert report["count"] == 3 and report["hr_identical"] == 3
    assert all(v is not None and 10 < v < 60 for v in report["per_image"].values())
    record = json.loads(rec.read_text())
    assert record["metrics"]["lr_psnr_vs_released_mean_db"] == report["lr_psnr_db"]["mean"]
    first = (out / "lr/coffee.png").read_bytes()
    assert main(args) == 0  # a rerun regenerates byte-identical LR
    assert (out / "lr/coffee.png").read_bytes() == first


def test_regenerate_refuses_to_overwrite_the_released_set_and_checks_counts(released):
    from lgcaa.cli import main

    assert main(["data", "regenerate", "div2k-val", "--source", "div2k-val", "--data-root", str(released),
                 "--no-dvc"]) == 2
    assert main(["data", "regenerate", "x-regen", "--source", "div2k-val", "--data-root", str(released),
                 "--no-dvc", "--expected-count", "5"]) == 2
    assert not (released / "x-regen").exists()
    assert verify_manifest(released / "div2k-val")["count"] == 3


def test_compare_names_unpaired_images(released, tmp_path):
    import shutil

    other = tmp_path / "other"
    shutil.copytree(released / "div2k-val", other)
    (other / "lr/chelsea.png").unlink()
    with pytest.raises(UserError, match=r"1 LR name\(s\) not in both, first: chelsea\.png"):
        compare_lr(other, released / "div2k-val")
    same = compare_lr(released / "div2k-val", released / "div2k-val")
    assert same["identical"] == 3 and same["lr_psnr_db"]["mean"] is None


def test_regenerated_bicubic_equals_released_bicubic(released, tmp_path):
    from lgcaa.data.regenerate import hr_from_folder, regenerate_dataset

    regenerate_dataset(tmp_path / "bic", "bic", hr_from_folder(released / "div2k-val/hr"), "bicubic", 4, seed=0)
    assert compare_lr(tmp_path / "bic", released / "div2k-val")["identical"] == 3


def _fake_imagenet_val(root: Path, n: int = 14) -> Path:
    """ILSVRC2012-val-like: class folders of RGB JPEGs of assorted sizes."""
    from PIL import Image

    val = root / "val"
    rng = np.random.default_rng(0)
    for i in range(n):
        h, w = int(rng.integers(260, 400)), int(rng.integers(260, 400))
        folder = val / f"n{i % 3:08d}"
        folder.mkdir(parents=True, exist_ok=True)
        img = (rng.random((h, w, 3)) * 255).astype(np.uint8)
        Image.fromarray(img).save(folder / f"ILSVRC2012_val_{i:08d}.JPEG", quality=90)
    return val


def test_resshift_selection_follows_the_script_exactly(tmp_path):
    from lgcaa.data.imagenet import resshift_selection

    val = _fake_imagenet_val(tmp_path)
    ours = resshift_selection(val, count=5)
    # ResShift's recipe with the global RNG, written out independently
    state = random.getstate()
    try:
        random.seed(10000)
        img_list = sorted(Path(val).glob("**/*.JPEG"))
        random.shuffle(img_list)
        paths = []
        for ext in ("png", "JPEG"):
            paths.extend(sorted(str(x) for x in Path(val).glob(f"**/*.{ext}")))
        theirs = random.sample(paths, 5)
    finally:
        random.setstate(state)
    assert [str(p) for p in ours] == theirs
    with pytest.raises(UserError, match="need 50"):
        resshift_selection(val, count=50)


def test_imagenet_test_regenerated_from_val_folder(tmp_path):
    from lgcaa.data.imagenet import resshift_hr, resshift_selection
    from lgcaa.data.regenerate import regenerate_dataset

    val = _fake_imagenet_val(tmp_path)
    hr = resshift_hr(next(val.glob("**/*.JPEG")))
    assert hr.shape == (256, 256, 3) and hr.dtype == np.uint8
    files = resshift_selection(val, count=3)
    manifest = regenerate_dataset(tmp_path / "data/imagenet-test-regen", "imagenet-test-regen", files, "realesrgan",
                                  4, seed=0, config="resshift-testing", expected_count=3, hr_loader=resshift_hr)
    assert manifest["count"] == 3
    sizes = {(f["height"], f["width"]) for f in manifest["files"].values()}
    assert sizes == {(256, 256), (64, 64)}
    assert all(not p["second_order"] for p in manifest["degradation"]["plans"].values())
    assert sorted(Path(k).stem for k in manifest["degradation"]["plans"]) == sorted(p.stem for p in files)
