"""Subset datasets: a few pairs of a built set, or (lr_only) its LR images alone — the LR-only sets of Figs. 5-6."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from PIL import Image

from lgcaa.config import load_config, validate
from lgcaa.data.manifest import build_manifest, write_manifest
from lgcaa.data.subset import make_subset
from lgcaa.errors import UserError
from lgcaa.instances import eval_pairs, lr_only


def _source(root):
    rng = np.random.default_rng(0)
    for sub, side in (("hr", 32), ("lr", 8)):
        (root / sub).mkdir(parents=True)
        for i in range(4):
            Image.fromarray(rng.integers(0, 255, (side, side, 3), dtype=np.uint8)).save(root / sub / f"im{i}.png")
    write_manifest(root, build_manifest(root, root.name, 4))
    return root


def test_lr_only_subset_copies_the_lr_images_alone(tmp_path):
    src = _source(tmp_path / "realsr")
    m = make_subset(src, tmp_path / "realsr-lr", 2, lr_only=True, offset=1)
    out = tmp_path / "realsr-lr"
    assert m["lr_only"] and m["count"] == 2 and sorted(m["files"]) == ["lr/im1.png", "lr/im2.png"]
    assert not (out / "hr").exists() and sorted(p.name for p in (out / "lr").iterdir()) == ["im1.png", "im2.png"]
    pairs = make_subset(src, tmp_path / "pairs", 2)  # the plain subset keeps its HR
    assert not pairs.get("lr_only") and (tmp_path / "pairs" / "hr" / "im0.png").is_file()


def test_paper_figs_5_6_use_lr_only_sets_that_are_never_scored():
    cfg = load_config("paper")
    for fig in ("fig5", "fig6"):
        ds = cfg["figures"][fig]["dataset"]
        assert lr_only(cfg, ds) and cfg["datasets"][ds]["lr_only"]
        assert not any(d == ds for d, _ in eval_pairs(cfg))
    bad = copy.deepcopy(cfg)
    bad["tables"]["table2"]["dataset"] = cfg["figures"]["fig5"]["dataset"]
    with pytest.raises(UserError, match="LR-only dataset"):
        validate(bad)


def test_images_are_a_count_or_file_names():
    from lgcaa.data.subset import parse_images

    assert parse_images("3") == 3 and parse_images("a.png,,b.png") == ["a.png", "b.png"]
    assert parse_images("0001.png") == ["0001.png"]
