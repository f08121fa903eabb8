"""Evaluation memory is bounded (hardening item 5): strip-wise SSIM/NIQE give pyiqa's numbers bit for bit, the
evaluator estimates each pair's cost from its header, sizes its workers to the memory available and refuses
what cannot fit in one line; PIL's decompression-bomb warning is an error. Small images only: the 4000x4000
measurement is `lgcaa bench eval-memory` (README)."""

from __future__ import annotations

import numpy as np
import pytest

from lgcaa.errors import UserError
from lgcaa.io import write_png

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")


def _pair(name: str):
    import skimage.data
    import torch

    img = np.ascontiguousarray(getattr(skimage.data, name)()[..., :3])
    hr = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255
    small = torch.nn.functional.interpolate(hr, scale_factor=0.25, mode="bicubic")
    sr = torch.nn.functional.interpolate(small, size=hr.shape[2:], mode="bicubic").clamp(0, 1)
    return (sr * 255).round() / 255, hr


@pytest.mark.parametrize("name", PHOTOS)
def test_strip_wise_ssim_and_niqe_equal_pyiqa_bitwise(name, one_torch_thread):
    import torch

    from lgcaa.metrics import tiled
    from lgcaa.metrics.build import get_model

    sr, hr = _pair(name)
    ssim, niqe = get_model("ssim", "cpu"), get_model("niqe", "cpu")
    with torch.no_grad():
        whole_ssim, whole_niqe = ssim(sr, hr).reshape(-1), niqe(sr).reshape(-1)
        for rows in (7, 64):  # strips far smaller than the image: many seams
            assert torch.equal(tiled.ssim(ssim, sr, hr, rows=rows).reshape(-1), whole_ssim), rows
        for rows in (96, 192):
            assert torch.equal(tiled.niqe(niqe, sr, rows=rows).reshape(-1), whole_niqe), rows


def test_strip_wise_ssim_on_rgb_equals_pyiqa_bitwise(one_torch_thread):
    """Not our protocol (Y only), but the strip path must not break another setting: 3-channel SSIM maps."""
    import pyiqa
    import torch

    from lgcaa.metrics import tiled

    sr, hr = _pair("coffee")
    rgb = pyiqa.create_metric("ssim", device="cpu", test_y_channel=False, color_space="ycbcr", downsample=False)
    with torch.no_grad():
        assert torch.equal(tiled.ssim(rgb, sr, hr, rows=64).reshape(-1), rgb(sr, hr).reshape(-1))


def test_evaluator_scores_every_image_strip_wise_with_pyiqas_whole_image_numbers(tmp_path, monkeypatch):
    """The evaluator takes the strip path at every size (it is the fast path too); its values are pyiqa's
    whole-image forward on the same decoded images, bit for bit."""
    import skimage.data
    import torch

    from lgcaa.metrics import evaluate as ev_mod
    from lgcaa.metrics import tiled
    from lgcaa.metrics.build import get_model
    from lgcaa.metrics.decode import decode, to_batch

    names = ("astronaut", "coffee")
    for name in names:
        img = np.ascontiguousarray(getattr(skimage.data, name)()[:384, :480, :3])
        write_png(tmp_path / "hr" / f"{name}.png", img)
        write_png(tmp_path / "sr" / f"{name}.png", (img // 4 * 4).astype(np.uint8))
    calls = {"ssim": 0, "niqe": 0}
    for m in calls:
        real = getattr(tiled, m)
        monkeypatch.setattr(tiled, m, lambda *a, _m=m, _real=real, **k: calls.__setitem__(_m, calls[_m] + 1) or _real(*a, **k))
    ev = ev_mod.evaluate(tmp_path / "sr", tmp_path / "hr", ["psnr", "ssim", "niqe"], workers=1)
    assert calls["ssim"] >= 1 and calls["niqe"] >= 1
    got = {(n, m): v for n, m, v in ev.rows}
    with torch.no_grad(), torch.inference_mode():
        torch.set_num_threads(1)
        for name in names:
            sr, hr = (to_batch([decode(tmp_path / d / f"{name}.png")]) for d in ("sr", "hr"))
            assert got[(f"{name}.png", "ssim")] == float(get_model("ssim", "cpu")(sr, hr).reshape(-1)[0].double())
            assert got[(f"{name}.png", "niqe")] == float(get_model("niqe", "cpu")(sr).reshape(-1)[0].double())


def test_cost_estimate_and_worker_sizing():
    from lgcaa.metrics.memory import chunk_bytes, metric_bytes, plan_workers
    from lgcaa.metrics.registry import get
    rate = get("ssim").bytes_per_pixel
    assert metric_bytes("ssim", 512, 512) < rate * 512 * 512 / 3  # strip-wise at every size
    big = metric_bytes("ssim", 4000, 4000)
    assert big < rate * 4000 * 4000 / 10  # ~16 B/px + one strip
    one = chunk_bytes(512, 512, 4, ["psnr", "ssim", "niqe"])
    chunks = [(f"im{i}.png", 512, 512, 4) for i in range(8)]
    assert plan_workers(chunks, ["psnr", "ssim", "niqe"], 8, budget=100 * one) == (8, 8 * one)
    workers, peak = plan_workers(chunks, ["psnr", "ssim", "niqe"], 8, budget=int(3.5 * one / 0.85))
    assert workers == 3 and peak == 3 * one
    with pytest.raises(UserError, match=r"im\d.png: scoring this 512x512 pair .* needs about .* drop ssim"):
        plan_workers(chunks, ["psnr", "ssim", "niqe"], 8, budget=one // 2)


def test_pair_that_cannot_fit_is_refused_in_one_line_before_scoring(tmp_path, capsys):
    from lgcaa.cli import main

    rng = np.random.default_rng(0)
    for sub in ("sr", "hr"):
        write_png(tmp_path / sub / "a.png", rng.integers(0, 255, (64, 64, 3), dtype=np.uint8))
    rc = main(["eval", str(tmp_path / "sr"), str(tmp_path / "hr"), "--metrics", "psnr,ssim",
               "--max-memory", "1M", "--out", str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "a.png: scoring this 64x64 pair" in err and "LGCAA_EVAL_MEMORY" in err
    assert not (tmp_path / "m").exists()


def test_decompression_bomb_warning_is_an_error(tmp_path, monkeypatch):
    from PIL import Image

    from lgcaa.io import read_rgb
    from lgcaa.metrics.decode import scoring_size

    path = tmp_path / "a.png"
    write_png(path, np.zeros((40, 40, 3), np.uint8))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 1600 pixels: PIL only warns (errors above 2x)
    with pytest.raises(UserError, match="decompression-bomb limit"):
        scoring_size(path)
    with pytest.raises(UserError, match="decompression-bomb limit"):
        read_rgb(path)
