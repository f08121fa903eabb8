"""PyTorch GAN-family runners load checkpoints with the official key layouts (built here, offline).

The official files are absent on this machine; the state dicts below are written with the key names and
shapes of the published checkpoints (BSRGAN.pth: cszn/KAIR layout, bare dict; RealESRGAN_x4plus.pth:
basicsr layout under params_ema; DASR net_g.pth / net_p.pth), filled with random values.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from lgcaa.errors import UserError

NF, GC, NB = 64, 32, 23


def _conv(g: torch.Generator, cout: int, cin: int, k: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(cout, cin, k, k, generator=g) * 0.01, torch.randn(cout, generator=g) * 0.01


def kair_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """BSRGAN.pth key layout (cszn/KAIR RRDBNet, nf 64, nb 23, gc 32, x4)."""
    g = torch.Generator().manual_seed(seed)
    sd = {}

    def put(key, cout, cin):
        sd[f"{key}.weight"], sd[f"{key}.bias"] = _conv(g, cout, cin)

    put("conv_first", NF, 3)
    for i in range(NB):
        for r in (1, 2, 3):
            for c in range(1, 6):
                put(f"RRDB_trunk.{i}.RDB{r}.conv{c}", NF if c == 5 else GC, NF + (c - 1) * GC)
    for key in ("trunk_conv", "upconv1", "upconv2", "HRconv"):
        put(key, NF, NF)
    put("conv_last", 3, NF)
    return sd


def basicsr_state(seed: int = 1) -> dict[str, torch.Tensor]:
    """RealESRGAN_x4plus.pth / LDL key layout (basicsr RRDBNet)."""
    g = torch.Generator().manual_seed(seed)
    sd = {}

    def put(key, cout, cin):
        sd[f"{key}.weight"], sd[f"{key}.bias"] = _conv(g, cout, cin)

    put("conv_first", NF, 3)
    for i in range(NB):
        for r in (1, 2, 3):
            for c in range(1, 6):
                put(f"body.{i}.rdb{r}.conv{c}", NF if c == 5 else GC, NF + (c - 1) * GC)
    for key in ("conv_body", "conv_up1", "conv_up2", "conv_hr"):
        put(key, NF, NF)
    put("conv_last", 3, NF)
    return sd


@pytest.fixture(scope="module")
def kair_file(tmp_path_factory) -> tuple[Path, dict[str, torch.Tensor]]:
    sd = kair_state()
    path = tmp_path_factory.mktemp("kair") / "BSRGAN.pth"
    torch.save(sd, path)
    return path, sd


def test_bsrgan_kair_layout_loads_into_basicsr_rrdbnet(kair_file):
    from baselines.rrdbnet import load_rrdbnet

    path, sd = kair_file
    net = load_rrdbnet(path, "kair", None)
    # every role is mapped to its counterpart (these four convs share one shape, so a swap would still load)
    pairs = {"trunk_conv": net.conv_body, "upconv1": net.conv_up1, "upconv2": net.conv_up2, "HRconv": net.conv_hr,
             "conv_first": net.conv_first, "conv_last": net.conv_last, "RRDB_trunk.22.RDB3.conv5": net.body[22].rdb3.conv5,
             "RRDB_trunk.0.RDB1.conv1": net.body[0].rdb1.conv1}
    for key, module in pairs.items():
        assert torch.equal(module.weight, sd[f"{key}.weight"]) and torch.equal(module.bias, sd[f"{key}.bias"]), key
    with torch.inference_mode():
        assert net(torch.rand(1, 3, 8, 12)).shape == (1, 3, 32, 48)


def test_realesrgan_layout_uses_params_ema(tmp_path):
    from baselines.rrdbnet import load_rrdbnet, unwrap_state_dict

    ema = basicsr_state(1)
    plain = {k: v + 1 for k, v in ema.items()}
    path = tmp_path / "RealESRGAN_x4plus.pth"
    torch.save({"params_ema": ema, "params": plain}, path)
    net = load_rrdbnet(path, "basicsr", "params_ema")
    assert torch.equal(net.conv_hr.weight, ema["conv_hr.weight"])
    ckpt = torch.load(path, weights_only=True)
    assert unwrap_state_dict(ckpt, "params") is ckpt["params"]  # LDL's test option selects 'params'
    assert unwrap_state_dict(ckpt["params"], "params_ema") is ckpt["params"]  # bare dicts pass through


def test_wrong_layout_is_a_user_error_naming_the_file(kair_file):
    from baselines.rrdbnet import load_rrdbnet

    path, _ = kair_file
    with pytest.raises(UserError, match=r"BSRGAN\.pth: not an RRDBNet checkpoint in the basicsr key layout") as exc:
        load_rrdbnet(path, "basicsr", None)
    assert "\n" not in str(exc.value)


def dasr_states(seed: int = 0) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """DASR net_g.pth (MSRResNetDynamic, 64 feat, 16 blocks, 5 experts) and net_p.pth (33 params) layouts."""
    g = torch.Generator().manual_seed(seed)
    K = 5
    net_g = {}

    def dyn(key, cout, cin):
        net_g[f"{key}.weight"] = torch.randn(K, cout, cin, 3, 3, generator=g) * 0.01
        net_g[f"{key}.bias"] = torch.randn(K, cout, generator=g) * 0.01

    dyn("conv_first", 64, 3)
    for i in range(16):
        dyn(f"body.{i}.conv1", 64, 64)
        dyn(f"body.{i}.conv2", 64, 64)
    dyn("upconv1", 256, 64)
    dyn("upconv2", 256, 64)
    dyn("conv_hr", 64, 64)
    dyn("conv_last", 3, 64)
    net_p = {}
    for idx, (cout, cin) in zip((0, 2, 4, 6, 8, 10), ((64, 3), (64, 64), (64, 64), (64, 64), (64, 64), (33, 64))):
        net_p[f"ConvNet.{idx}.weight"], net_p[f"ConvNet.{idx}.bias"] = _conv(g, cout, cin, 5)
    net_p["MappingNet.0.weight"], net_p["MappingNet.0.bias"] = torch.randn(15, 33, generator=g), torch.randn(15, generator=g)
    net_p["MappingNet.1.weight"], net_p["MappingNet.1.bias"] = torch.randn(5, 15, generator=g), torch.randn(5, generator=g)
    return net_g, net_p


def test_dasr_loads_official_layout_and_runs(tmp_path):
    from baselines.dasr_arch import load_dasr

    g_sd, p_sd = dasr_states()
    torch.save(g_sd, tmp_path / "net_g.pth")
    torch.save({"params": p_sd}, tmp_path / "net_p.pth")  # both bare and basicsr-wrapped files load
    net_g, net_p = load_dasr(tmp_path / "net_g.pth", tmp_path / "net_p.pth")
    assert torch.equal(net_g.body[15].conv2.weight, g_sd["body.15.conv2.weight"])
    x = torch.rand(2, 3, 12, 10)
    with torch.inference_mode():
        params, coeffs = net_p(x)
        assert params.shape == (2, 33) and coeffs.shape == (2, 5)
        assert net_g(x, coeffs).shape == (2, 3, 48, 40)
    torch.save({"conv_first.weight": g_sd["conv_first.weight"]}, tmp_path / "bad.pth")
    with pytest.raises(UserError, match=r"bad\.pth: not a DASR DASRNet checkpoint"):
        load_dasr(tmp_path / "bad.pth", tmp_path / "net_p.pth")


def test_expert_conv_mixes_kernels_per_image():
    from baselines.dasr_arch import ExpertConv2d

    torch.manual_seed(0)
    conv = ExpertConv2d(4, 6, experts=3)
    conv.bias.data.normal_()
    x = torch.randn(2, 4, 9, 7)
    coeffs = torch.tensor([[0.0, 1.0, 0.0], [0.3, -0.5, 2.0]])
    out = conv(x, coeffs)
    one_hot = F.conv2d(x[:1], conv.weight[1], conv.bias[1], padding=1)
    mixed_w = torch.einsum("k,koiyx->oiyx", coeffs[1], conv.weight)
    mixed = F.conv2d(x[1:], mixed_w, coeffs[1] @ conv.bias, padding=1)
    torch.testing.assert_close(out[:1], one_hot)
    torch.testing.assert_close(out[1:], mixed)


def test_bsrgan_runs_in_process_through_run_method(tmp_path, kair_file, monkeypatch):
    """Weights placed where the registry declares them -> `run_method` upscales a folder, tiled, x4, and
    reports the sha256 of the file it used. (The stand-in checkpoint is not BSRGAN.pth: the registry's pin is
    replaced by its digest for this test.)"""
    import dataclasses

    from baselines.registry import BASELINES, get, resolve_settings
    from baselines.run import RunContext, run_method
    from lgcaa.io import read_rgb, sha256_file, write_png
    from lgcaa.weights.roots import root_of

    b = get("bsrgan")
    w = dataclasses.replace(b.weights[0], sha256=sha256_file(kair_file[0]), size=None)
    monkeypatch.setitem(BASELINES, "bsrgan", dataclasses.replace(b, weights=(w,)))
    cache = tmp_path / "cache"
    w = get("bsrgan").weights[0]
    dest = root_of(w, cache) / w.dest
    dest.parent.mkdir(parents=True)
    dest.symlink_to(kair_file[0])
    lr_dir = tmp_path / "lr"
    rng = np.random.default_rng(0)
    write_png(lr_dir / "x.png", rng.integers(0, 255, (10, 14, 3), dtype=np.uint8))
    settings = resolve_settings("bsrgan", {"tile": 6, "tile_pad": 2})
    summary = run_method("bsrgan", lr_dir, tmp_path / "out", settings, RunContext(cache, tmp_path / "imports"))
    assert summary["runner"] == "in-process" and summary["n_images"] == 1
    assert summary["weights"][0]["sha256"] == w.sha256
    assert read_rgb(tmp_path / "out" / "x.png").shape == (40, 56, 3)
