"""Seeded, batched Real-ESRGAN degradation: determinism, batch/order/worker invariance, agreement with
basicsr's own functions, and the statistics of the ResShift test config."""

from __future__ import annotations

import hashlib
import math
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from lgcaa.data.degrade import (
    CONFIGS,
    degrade_batch,
    degrade_realesrgan,
    image_seed,
    load_degradation_config,
    plan_degradation,
    poisson_noise,
    seeded,
    usm_sharpen,
)
from lgcaa.data.photos import center_crop, load_photo
from lgcaa.errors import UserError

PHOTOS = ["astronaut", "chelsea", "coffee", "rocket"]


def _hr(name: str, size: int = 128) -> torch.Tensor:
    return torch.from_numpy(center_crop(load_photo(name), size)).permute(2, 0, 1).float() / 255.0


@pytest.fixture(scope="module")
def hr_folder(tmp_path_factory) -> Path:
    from lgcaa.io import write_png

    folder = tmp_path_factory.mktemp("hr")
    for name in PHOTOS:
        write_png(folder / f"{name}.png", center_crop(load_photo(name), 128))
    return folder


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.png"))}


def test_packaged_configs_load_and_differ():
    real, resshift = (load_degradation_config(n) for n in CONFIGS)
    assert real["second_order_prob"] == 1.0 and real["usm_sharpen"] is True and real["jpeg_range"] == [30, 95]
    assert resshift["second_order_prob"] == 0.0 and resshift["usm_sharpen"] is False
    assert resshift["blur_sigma"] == [0.2, 0.8] and resshift["noise_range"] == [1, 15]
    assert resshift["jpeg_range"] == [70, 95] and resshift["jpeg_range2"] == [80, 100]


def test_bad_config_names_the_file_and_the_missing_keys(tmp_path):
    path = tmp_path / "deg.yaml"
    path.write_text("scale: 4\nusm_sharpen: true\n")
    with pytest.raises(UserError, match=r"deg\.yaml.*kernel_range"):
        load_degradation_config(str(path))
    with pytest.raises(UserError, match="not found"):
        load_degradation_config(str(tmp_path / "absent.yaml"))


def test_same_seed_same_output_and_callers_rng_untouched():
    hr = _hr("astronaut")
    random.seed(123)
    np.random.seed(123)
    torch.manual_seed(123)
    before = (random.random(), np.random.rand(), torch.rand(1).item())
    random.seed(123)
    np.random.seed(123)
    torch.manual_seed(123)
    a = degrade_realesrgan(hr, seed=7)
    after = (random.random(), np.random.rand(), torch.rand(1).item())
    assert before == after  # the caller's global RNG streams continue as if we had not run
    b = degrade_realesrgan(hr, seed=7)
    assert a.shape == (3, 32, 32) and torch.equal(a, b)
    assert torch.equal(a, (a * 255).round() / 255)  # on the 8-bit grid
    assert not torch.equal(a, degrade_realesrgan(hr, seed=8))


def test_batch_result_is_the_per_image_result():
    hrs = torch.stack([_hr(n) for n in PHOTOS])
    seeds = [image_seed("ds", n, 0) for n in PHOTOS]
    batch = degrade_batch(hrs, seeds)
    for i in range(len(PHOTOS)):
        assert torch.equal(batch[i], degrade_realesrgan(hrs[i], seeds[i]))
    assert torch.equal(degrade_batch(hrs[1:3], seeds[1:3]), batch[1:3])


def test_scale_must_divide_the_size_and_tiny_images_are_refused_up_front():
    from lgcaa.data.degrade import min_hr_size

    with pytest.raises(ValueError, match="divisible"):
        degrade_realesrgan(torch.rand(3, 130, 128), seed=0)
    assert min_hr_size(load_degradation_config()) == 74
    assert min_hr_size(load_degradation_config("resshift-testing")) == 16
    with pytest.raises(ValueError, match="below 74 px"):
        degrade_realesrgan(torch.rand(3, 64, 64), seed=0)
    # at the minimum size every plan runs (the smallest down-resize followed by the second blur included)
    cfg = load_degradation_config()
    seeds = [s for s in range(300) if (p := plan_degradation(s, cfg)).blur2 and p.resize1.factor < 0.17][:3]
    assert seeds
    x = torch.rand(len(seeds), 3, 76, 76)
    assert degrade_batch(x, seeds, cfg=cfg).shape == (len(seeds), 3, 19, 19)


def test_separable_usm_is_basicsr_usm_up_to_float_rounding():
    from lgcaa.compat import import_basicsr

    import_basicsr()
    from basicsr.utils import USMSharp

    x = _hr("coffee", 256)[None]
    diff = (USMSharp()(x) - usm_sharpen(x)).abs().max().item()
    assert diff < 1e-4, diff
    assert (usm_sharpen(x) - x).abs().max().item() > 0.01  # it does sharpen


@pytest.mark.parametrize("gray", [False, True])
def test_fast_poisson_noise_is_bit_identical_to_basicsr(gray):
    from lgcaa.data.degrade import basicsr_poisson_noise

    x = _hr("chelsea")[None]
    with seeded(11):
        ours = poisson_noise(x, 0.8, gray)
    with seeded(11):
        theirs = basicsr_poisson_noise(x, 0.8, gray)
    assert torch.equal(ours, theirs)
    assert ours.abs().max() > 0


def test_agrees_with_basicsr_reference_loop():
    """Same plans through basicsr's own per-image loop (2-D USMSharp, torch.unique Poisson): equal up to the
    float rounding of the separable USM, which JPEG quantisation can amplify in a few blocks."""
    from lgcaa.bench.degrade import reference_degrade

    cfg = load_degradation_config()
    psnrs = []
    for i, name in enumerate(PHOTOS):
        hr = _hr(name)
        plan = plan_degradation(image_seed("ref", name, 0), cfg)
        ours = degrade_batch(hr[None], [], cfg=cfg, plans=[plan])[0]
        ref = reference_degrade(hr, plan)
        mse = torch.mean((ours * 255 - ref * 255) ** 2).item()
        psnrs.append(math.inf if mse == 0 else 10 * math.log10(255**2 / mse))
    assert min(psnrs) > 30, psnrs
    assert sum(math.isinf(p) for p in psnrs) >= 1, psnrs


def test_generate_lr_is_invariant_to_order_batch_and_workers(hr_folder, tmp_path):
    from lgcaa.data.generate import generate_lr

    files = sorted(hr_folder.glob("*.png"))
    plans = generate_lr(files, tmp_path / "a", "set", seed=0, batch_size=4, workers=1)
    generate_lr(files[::-1], tmp_path / "b", "set", seed=0, batch_size=1, workers=2)
    generate_lr([hr_folder / "coffee.png"], tmp_path / "c", "set", seed=0, batch_size=1)
    generate_lr(files, tmp_path / "d", "set", seed=1, batch_size=4)
    a, b, c, d = (_digests(tmp_path / x) for x in "abcd")
    assert a == b and len(a) == len(PHOTOS)
    assert c["coffee.png"] == a["coffee.png"]
    assert all(a[n] != d[n] for n in a)  # another seed changes every image
    assert set(plans) == set(PHOTOS) and plans["coffee"]["second_order"] is True


def test_generate_lr_bicubic_needs_no_seed(hr_folder, tmp_path):
    from lgcaa.data.generate import generate_lr

    files = sorted(hr_folder.glob("*.png"))
    generate_lr(files, tmp_path / "a", "set", seed=0, kind="bicubic")
    generate_lr(files, tmp_path / "b", "other", seed=5, kind="bicubic")
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")


def _binomial_ok(hits: int, n: int, p: float) -> bool:
    return abs(hits - n * p) <= 4.5 * math.sqrt(n * p * (1 - p)) + 1


def test_resshift_test_config_statistics_match_its_ranges():
    cfg = load_degradation_config("resshift-testing")
    n = 400
    plans = [plan_degradation(image_seed("imagenet-test", f"img{i}", 0), cfg) for i in range(n)]
    assert not any(p.second_order for p in plans)  # second_order_prob 0.0
    assert not any(p.usm for p in plans)
    for p in plans:
        assert 70 <= p.jpeg1 <= 95 and 80 <= p.jpeg2 <= 100
        assert p.kernel1.weights.shape == (13, 13) and p.sinc.weights.shape == (7, 7)
        assert p.kernel1.size in (3, 5, 7, 9, 11) and p.sinc.size in (1, 3, 5)
        assert abs(float(p.kernel1.weights.sum()) - 1) < 1e-4
        if p.kernel1.kind == "mixed":
            assert p.kernel1.sigma() <= 0.8 + 1e-6  # blur_sigma [0.2, 0.8] (truncation only shrinks it)
        r = p.resize1
        assert {"up": 1 <= r.factor <= 1.5, "down": 0.5 <= r.factor <= 1, "keep": r.factor == 1}[r.kind]
        lo, hi = (1, 15) if p.noise1.kind == "gaussian" else (0.05, 0.3)
        assert lo <= p.noise1.level <= hi
    count = lambda pred: sum(1 for p in plans if pred(p))
    assert _binomial_ok(count(lambda p: p.noise1.kind == "gaussian"), n, 0.5)
    assert _binomial_ok(count(lambda p: p.noise1.gray), n, 0.4)
    assert _binomial_ok(count(lambda p: p.resize1.kind == "up"), n, 0.2)
    assert _binomial_ok(count(lambda p: p.resize1.kind == "down"), n, 0.7)
    assert _binomial_ok(count(lambda p: p.kernel1.kind == "sinc"), n, 0.1)
    assert _binomial_ok(count(lambda p: p.sinc.kind == "sinc"), n, 0.2)
    assert _binomial_ok(count(lambda p: p.final_resize_first), n, 0.5)
    # images: 256 -> 64, mild degradation keeps the content (mean colour) and stays close to bicubic
    import torch.nn.functional as F

    hrs = torch.stack([_hr(nm, 256) for nm in PHOTOS])
    lrs = degrade_batch(hrs, [image_seed("imagenet-test", nm, 0) for nm in PHOTOS], cfg=cfg)
    assert lrs.shape == (len(PHOTOS), 3, 64, 64)
    ref = F.interpolate(hrs, size=(64, 64), mode="area")
    assert (lrs.mean((1, 2, 3)) - hrs.mean((1, 2, 3))).abs().max() < 0.03
    psnr = -10 * torch.log10(((lrs - ref) ** 2).mean((1, 2, 3)))
    assert (psnr > 20).all(), psnr  # q >= 70 JPEG, sigma <= 15 noise, sigma <= 0.8 blur: a mild set


def test_realesrgan_config_always_runs_the_second_order():
    cfg = load_degradation_config()
    plans = [plan_degradation(s, cfg) for s in range(100)]
    assert all(p.second_order and p.usm for p in plans)
    assert all(30 <= p.jpeg1 <= 95 and 30 <= p.jpeg2 <= 95 for p in plans)
    assert all(p.kernel1.weights.shape == (21, 21) for p in plans)
    assert _binomial_ok(sum(p.blur2 for p in plans), 100, 0.8)


def test_bench_degrade_prints_both_rates_from_the_same_run(capsys):
    import json

    from lgcaa.cli import main

    assert main(["bench", "degrade", "--n", "2", "--reference-n", "1", "--size", "128", "--batch-size", "2",
                 "--rounds", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ours"]["images"] == 2 and out["ours"]["images_per_s"] > 0
    assert out["basicsr_reference_loop"]["images"] == 1 and out["basicsr_reference_loop"]["images_per_s"] > 0
    assert out["speedup"] == pytest.approx(out["ours"]["images_per_s"] / out["basicsr_reference_loop"]["images_per_s"],
                                           rel=0.02)
    assert out["hr_size"] == 128 and out["config"] == "realesrgan-x4plus"
