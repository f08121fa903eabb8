"""The offline mini test sets: real packaged photos, deterministic crops, manifests and LR."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lgcaa.config import load_config
from lgcaa.data.manifest import verify_manifest
from lgcaa.data.mini import build_mini_dataset, mini_settings
from lgcaa.data.photos import load_photo
from lgcaa.errors import UserError

PHOTOS = ["astronaut", "chelsea"]


def test_default_photos_are_real_rgb_and_large_enough():
    cfg = load_config(None)["mini"]
    for name in cfg["photos"]:
        img = load_photo(name)
        assert img.dtype == np.uint8 and img.shape[2] == 3
        assert min(img.shape[:2]) >= cfg["hr_size"], name
        assert img.std() > 20, f"{name} looks flat"


def test_mini_settings_read_the_profile():
    cfg = load_config("mini")
    for name, entry in cfg["datasets"].items():
        if entry["source"] != "mini":
            continue
        s = mini_settings(cfg, name)
        assert (s.photos, s.hr_size, s.scale) == (tuple(cfg["mini"]["photos"]), cfg["mini"]["hr_size"], cfg["mini"]["scale"])
        assert (s.lr_kind, s.seed, s.out.name) == (entry["lr"], cfg["seed"], name)
    with pytest.raises(UserError, match="has no mini dataset 'div2k-val'"):
        mini_settings(load_config("paper"), "div2k-val")


@pytest.mark.parametrize("lr_kind", ["bicubic", "realesrgan"])
def test_rebuild_is_byte_identical(tmp_path, lr_kind):
    a = build_mini_dataset(tmp_path / "a", "mini-x", PHOTOS, 128, 4, lr_kind, seed=0)
    b = build_mini_dataset(tmp_path / "b", "mini-x", PHOTOS, 128, 4, lr_kind, seed=0)
    assert a["files"] == b["files"]
    assert (tmp_path / "a/manifest.json").read_bytes() == (tmp_path / "b/manifest.json").read_bytes()
    assert a["count"] == 2 and a["files"]["lr/astronaut.png"]["height"] == 32
    verify_manifest(tmp_path / "a")


def test_realesrgan_lr_depends_on_seed_and_not_on_order(tmp_path):
    a = build_mini_dataset(tmp_path / "a", "mini-x", PHOTOS, 128, 4, "realesrgan", seed=0)
    b = build_mini_dataset(tmp_path / "b", "mini-x", PHOTOS[::-1], 128, 4, "realesrgan", seed=0)
    c = build_mini_dataset(tmp_path / "c", "mini-x", PHOTOS, 128, 4, "realesrgan", seed=1)
    assert a["files"]["lr/chelsea.png"] == b["files"]["lr/chelsea.png"]
    assert a["files"]["lr/chelsea.png"]["sha256"] != c["files"]["lr/chelsea.png"]["sha256"]
    assert a["files"]["hr/chelsea.png"] == c["files"]["hr/chelsea.png"]


def test_manifest_detects_tampering(tmp_path):
    build_mini_dataset(tmp_path / "a", "mini-x", PHOTOS, 128, 4, "bicubic", seed=0)
    target = tmp_path / "a/lr/chelsea.png"
    target.write_bytes(target.read_bytes()[:-10])
    with pytest.raises(UserError, match="chelsea.png"):
        verify_manifest(tmp_path / "a")
    assert json.loads((tmp_path / "a/manifest.json").read_text())["count"] == 2
