"""Tiny backbone preparation: `lgcaa prepare-backbone` writes a diffusers folder the runs load as model.pretrained."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from lgcaa.errors import UserError
from lgcaa.model.config import ModelConfig, PrepareConfig
from lgcaa.model.network import build_network
from lgcaa.model.prepare import prepare_backbone

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TOKEN = PrepareConfig(size=64, vae_steps=2, vae_batch=2, unet_steps=2, unet_batch=2)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    out = tmp_path_factory.mktemp("bb") / "backbone"
    return out, prepare_backbone(TOKEN, out, log=lambda _: None)


def test_prepared_folder_is_a_loadable_backbone(prepared):
    out, record = prepared
    for part in ("vae/config.json", "unet/config.json", "scheduler/scheduler_config.json", "prepare.json"):
        assert (out / part).is_file(), part
    assert record["settings"] == TOKEN.to_dict() and len(record["vae"]["loss"]) == 2 and len(record["unet"]["loss"]) == 2
    vae_cfg = json.loads((out / "vae/config.json").read_text())
    assert vae_cfg["scaling_factor"] == pytest.approx(record["vae"]["scaling_factor"])  # 1/std, not SD's 0.18215
    net = build_network(ModelConfig(arch="tiny", window=4, lpips_backbone="random (offline)", pretrained=str(out)))
    assert net.source == str(out)
    from safetensors.torch import load_file

    saved = load_file(str(out / "unet/diffusion_pytorch_model.safetensors"))
    assert torch.equal(net.unet.conv_in.weight, saved["conv_in.weight"])  # the prepared weights, not a random init
    assert torch.equal(net.controlnet.conv_in.weight, saved["conv_in.weight"])  # ControlNet copies the prepared UNet


def test_same_settings_are_a_no_op_and_a_missing_folder_says_how_to_make_it(prepared, tmp_path):
    out, record = prepared
    before = (out / "vae/diffusion_pytorch_model.safetensors").stat().st_mtime_ns
    assert prepare_backbone(TOKEN, out, log=lambda _: None)["settings"] == record["settings"]
    assert (out / "vae/diffusion_pytorch_model.safetensors").stat().st_mtime_ns == before
    with pytest.raises(UserError, match="lgcaa prepare-backbone --config <profile>"):
        build_network(ModelConfig(arch="tiny", lpips_backbone="random (offline)", pretrained=str(tmp_path / "none")))


def test_cli_reads_the_profile_recipe_and_writes_a_job_record(tmp_path, repo_root):
    from profile_helpers import mini_profile

    cfg = mini_profile()
    cfg["paths"] = {"data": str(tmp_path / "data"), "results": str(tmp_path / "results")}
    cfg["model"] = {"prepare": TOKEN.to_dict(), "model": {"arch": "tiny"}}
    (tmp_path / "p.json").write_text(json.dumps(cfg))
    res = subprocess.run([sys.executable, "-m", "lgcaa", "prepare-backbone", "--config", str(tmp_path / "p.json"),
                          "--record", str(tmp_path / "run.json"), "--set", "unet_steps=0", "--threads", "1"],
                         capture_output=True, text=True, cwd=repo_root, check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "prepare-backbone (vae, then unet): 2/2 steps (100%) in " in res.stderr  # rate and ETA like `train`
    assert " steps/s" in res.stderr
    assert (tmp_path / "results/backbone/prepare.json").is_file()  # the layout's folder, where training looks
    rec = json.loads((tmp_path / "run.json").read_text())
    assert rec["params"]["prepare.unet_steps"] == "0" and rec["metrics"]["vae_reconstruction_psnr_db"] > 0
