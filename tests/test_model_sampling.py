"""Sampling: seeded determinism (byte-identical PNGs), tiling, colour fixes, the `lgcaa sample` CLI."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from profile_helpers import TINY_RUN_SECTION, mini_profile

from lgcaa.errors import UserError
from lgcaa.io import write_png
from lgcaa.model.colorfix import adain, color_fix, low_frequency, wavelet
from lgcaa.model.tiling import tile_boxes, tile_starts, tile_weight

pytestmark = pytest.mark.usefixtures("one_torch_thread")


SECTION = TINY_RUN_SECTION


@pytest.fixture(scope="module")
def run_dir(tiny_run_dir) -> Path:
    return tiny_run_dir


@pytest.fixture(scope="module")
def lr_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("lr")
    rng = np.random.default_rng(0)
    for name, shape in (("a.png", (16, 16, 3)), ("b.png", (16, 16, 3)), ("c.png", (12, 20, 3))):
        write_png(folder / name, rng.integers(0, 256, size=shape, dtype=np.uint8))
    return folder


def test_same_seed_gives_identical_png_bytes(run_dir, lr_dir, tmp_path):
    from lgcaa.model.sampler import load_trained, sample_folder

    net, cfg = load_trained(run_dir)
    rec1 = sample_folder(net, cfg, lr_dir, tmp_path / "one")
    net2, _ = load_trained(run_dir)  # a fresh model: nothing carried over between calls
    sample_folder(net2, cfg, lr_dir, tmp_path / "two")
    sample_folder(net, cfg, lr_dir, tmp_path / "seed1", replace(cfg.sample, seed=1))
    names = sorted(p.name for p in (tmp_path / "one").glob("*.png"))
    assert names == ["a.png", "b.png", "c.png"]
    for n in names:
        assert (tmp_path / "one" / n).read_bytes() == (tmp_path / "two" / n).read_bytes()
        assert (tmp_path / "one" / n).read_bytes() != (tmp_path / "seed1" / n).read_bytes()
    from lgcaa.io import read_rgb

    assert read_rgb(tmp_path / "one" / "c.png").shape == (48, 80, 3)  # x4, non-square, padded internally
    meta = json.loads((tmp_path / "one" / "sample.json").read_text())
    assert meta == {**meta, "steps": 3, "color_fix": "none", "images": 3, "prediction_type": "epsilon",
                    "lpips_backbone": "random (offline)", "scheduler": "DDPMScheduler"}
    assert meta["seeds"] == rec1["seeds"] and len(set(meta["seeds"].values())) == 3


def test_tiled_sampling_for_outputs_larger_than_the_tile(run_dir):
    from lgcaa.model.sampler import load_trained, super_resolve

    net, _ = load_trained(run_dir)
    lr = torch.rand(1, 3, 24, 24, generator=torch.Generator().manual_seed(0))
    tiled = super_resolve(net, lr, 4, [7], 2, tile=64, tile_overlap=16)  # 96² output, 64² tiles: 2x2 tiles
    whole = super_resolve(net, lr, 4, [7], 2, tile=96, tile_overlap=16)
    assert tiled.shape == whole.shape == (1, 3, 96, 96)
    assert torch.isfinite(tiled).all() and 0 <= tiled.min() and tiled.max() <= 1
    assert not torch.equal(tiled, whole)  # the tiled path really ran
    with pytest.raises(UserError, match="multiple of 16"):
        super_resolve(net, lr, 4, [7], 2, tile=40, tile_overlap=16)


def test_tiles_cover_and_weights_are_positive():
    assert tile_starts(10, 16, 4) == [0]
    assert tile_starts(40, 16, 4) == [0, 12, 24]
    boxes = tile_boxes(40, 20, 16, 4)
    cover = torch.zeros(40, 20)
    for y0, y1, x0, x1 in boxes:
        cover[y0:y1, x0:x1] += 1
    assert cover.min() >= 1 and all(y1 - y0 == 16 and x1 - x0 == 16 for y0, y1, x0, x1 in boxes)
    w = tile_weight(16, 16)
    assert w.min() > 0.02 and w.max() == 1 and w[0, 0, 7, 7] > w[0, 0, 0, 0]


def test_color_fixes():
    g = torch.Generator().manual_seed(0)
    img = 0.3 + 0.2 * torch.rand(2, 3, 64, 64, generator=g)
    ref = 0.5 + 0.1 * torch.rand(2, 3, 64, 64, generator=g)
    out = adain(img, ref)
    assert torch.allclose(out.mean((2, 3)), ref.mean((2, 3)), atol=1e-4)
    assert torch.allclose(out.std((2, 3)), ref.std((2, 3)), atol=1e-3)
    fixed = wavelet(img, ref)
    assert torch.allclose(fixed - low_frequency(ref), img - low_frequency(img), atol=1e-5)  # keeps img's detail
    assert torch.equal(color_fix(img, ref, "none"), img)
    with pytest.raises(ValueError):
        color_fix(img, ref, "histogram")


def test_missing_weights_and_config(tmp_path, run_dir):
    from lgcaa.model.sampler import load_trained

    with pytest.raises(UserError, match="config.json: not found"):
        load_trained(tmp_path)
    (tmp_path / "config.json").write_text((run_dir / "config.json").read_text())
    with pytest.raises(UserError, match="trained weights not found"):
        load_trained(tmp_path)


def test_sample_cli_single_job_and_profile_plan(run_dir, lr_dir, tmp_path):
    from lgcaa import cli

    assert cli.main(["sample", "--run-dir", str(run_dir), "--lr-dir", str(lr_dir), "--out", str(tmp_path / "o"),
                     "--steps", "2", "--color-fix", "wavelet", "--device", "cpu"]) == 0
    meta = json.loads((tmp_path / "o" / "sample.json").read_text())
    assert meta["steps"] == 2 and meta["color_fix"] == "wavelet" and meta["method"] == "run"

    results, data = tmp_path / "results", tmp_path / "data" / "mini-bicubic"
    (results / "models").mkdir(parents=True)
    (results / "models" / "main").symlink_to(run_dir, target_is_directory=True)
    data.mkdir(parents=True)
    (data / "lr").symlink_to(lr_dir, target_is_directory=True)
    profile = {**mini_profile(), "model": {**SECTION, "runs": {"main": {"datasets": ["mini-bicubic"], "sample_steps": [2, 3]}}}}
    profile["paths"] = {"data": str(tmp_path / "data"), "results": str(results)}
    path = tmp_path / "p.json"
    path.write_text(json.dumps(profile))
    assert cli.main(["sample", "--config", str(path), "--device", "cpu"]) == 0  # folders from lgcaa.layout
    out = results / "sr" / "mini-bicubic"
    assert sorted(p.name for p in out.iterdir()) == ["main", "main-2steps", "main-2steps.run.json", "main.run.json"]
    assert len(list((out / "main-2steps").glob("*.png"))) == 3
    assert json.loads((out / "main" / "sample.json").read_text())["steps"] == 3
    record = json.loads((out / "main-2steps.run.json").read_text())
    assert record["experiment"] == "mini/sr" and record["params"]["steps"] == "2" and record["params"]["dataset"] == "mini-bicubic"


def test_start_point_lr_is_seesrs_noised_lr_latent(run_dir):
    """SeeSR's `--start_point lr`: the VAE latent of the bicubic-upsampled LR, noised to `start_step` with the
    scheduler's add_noise; DDPM timesteps above start_step are skipped. "noise" starts from N(0, I)."""
    from lgcaa.model.backbone import scheduler_from_config
    from lgcaa.model.network import upsample_lr
    from lgcaa.model.sampler import load_trained, start_latents, super_resolve

    net, _ = load_trained(run_dir)
    control = upsample_lr(torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(1)), (64, 64))
    sched = scheduler_from_config(net.scheduler_config)
    gens = lambda: [torch.Generator().manual_seed(s) for s in (3, 4)]
    noise = start_latents(net, control, gens(), sched, "noise", 999, 64, 0)
    lr_start = start_latents(net, control, gens(), sched, "lr", 999, 64, 0)
    g = gens()
    eps = torch.cat([torch.randn((1, *noise.shape[1:]), generator=x) for x in g])
    n = torch.cat([torch.randn((1, *noise.shape[1:]), generator=x) for x in g])
    with torch.no_grad():
        dist = net.vae.encode(control * 2 - 1).latent_dist
    z_lr = (dist.mean + dist.std * n) * net.vae.config.scaling_factor
    assert torch.equal(noise, eps * sched.init_noise_sigma)
    assert torch.allclose(lr_start, sched.add_noise(z_lr, eps, torch.tensor([999, 999])), atol=1e-6)

    calls = []
    original = net.denoise
    net.denoise = lambda z, t, c, e: (calls.append(int(t[0])), original(z, t, c, e))[1]
    try:
        super_resolve(net, torch.rand(1, 3, 16, 16), 4, [0], 10, 64, 0, start_point="lr", start_step=500)
        assert calls and max(calls) <= 500 and len(calls) < 10
        calls.clear()
        super_resolve(net, torch.rand(1, 3, 16, 16), 4, [0], 10, 64, 0, start_point="noise")
        assert len(calls) == 10
    finally:
        net.denoise = original


def test_sample_json_records_the_start_point(run_dir, lr_dir, tmp_path):
    from lgcaa.model.sampler import load_trained, sample_folder

    net, cfg = load_trained(run_dir)
    rec = sample_folder(net, cfg, lr_dir, tmp_path / "noise", replace(cfg.sample, start_point="noise"))
    assert rec["start_point"] == "noise" and rec["start_step"] == 999
    assert cfg.sample.start_point == "lr"  # the default: SeeSR's


def test_sample_settings_take_the_job_then_the_command_line_then_the_run(run_dir):
    from lgcaa.model.config import config_from_dict
    from lgcaa.model.sample_job import SampleOverrides, sample_settings

    cfg = config_from_dict(json.loads((run_dir / "config.json").read_text()))
    assert sample_settings(cfg, SampleOverrides()) == cfg.sample  # nothing given: the run's own settings
    over = SampleOverrides(steps=5, seed=3, color_fix="adain", batch_size=1)
    s = sample_settings(cfg, over)
    assert (s.steps, s.seed, s.color_fix, s.batch_size) == (5, 3, "adain", 1)
    assert s.tile_overlap == cfg.sample.tile_overlap and s.start_point == cfg.sample.start_point
    s = sample_settings(cfg, over, steps=2, seed=9)  # a profile job's own steps and seed win
    assert (s.steps, s.seed, s.color_fix) == (2, 9, "adain")
    with pytest.raises(UserError, match="sample.tile must be a multiple of 8"):
        sample_settings(cfg, SampleOverrides(tile=20))


def test_sample_job_record_links_the_weights_and_the_training(run_dir, lr_dir, tmp_path):
    from lgcaa.instances import SampleTask
    from lgcaa.layout import record_in
    from lgcaa.model.sample_job import SampleOutcome, write_sample_record

    out = tmp_path / "sr" / "set" / "m"
    out.mkdir(parents=True)
    record = {"method": "m", "images": 3, "seeds": {"a.png": 1}, "seconds": 1.5, "seconds_per_image": 0.5,
              "steps": 2, "lpips_backbone": "x", "model": {"arch": {"width": 8}}}
    task = SampleTask(run_dir, lr_dir, out, None, None, "m", tmp_path / "m.run.json", "")
    write_sample_record(task, record, "t/sr", started=12.0)
    rec = json.loads((tmp_path / "m.run.json").read_text())
    assert rec["experiment"] == "t/sr" and rec["run_name"] == f"sample:m:{lr_dir.parent.name}"  # dataset: LR's parent
    assert rec["params"]["dataset"] == lr_dir.parent.name and rec["params"]["model.arch.width"] == "8"
    assert "seeds" not in rec["params"] and rec["metrics"] == {"seconds_per_image": 0.5, "seconds": 1.5}
    assert rec["links"] == {"weights": str(run_dir / "model.safetensors")} and rec["provenance"]["started"] == 12.0
    assert record_in(run_dir).is_file() and rec["upstream"] == {"train": str(record_in(run_dir))}
    assert [i["name"] for i in rec["inputs"]] == [f"{lr_dir.parent.name}/lr", f"{lr_dir.parent.name}/sr/m"]
    write_sample_record(task._replace(dataset="named"), record)
    rec = json.loads((tmp_path / "m.run.json").read_text())
    assert rec["run_name"] == "sample:m:named" and rec["experiment"].endswith("/sr")
    assert SampleOutcome(task, record, 2).line() == f"{out}: 3 images, 2 steps, 1.5 s"
