"""The assembled model: every variant trains on the tiny config, the trainable set is the paper's, the
SD2-base-scale architecture builds at random init on the meta device, missing weights fail clearly."""

from __future__ import annotations

import json

import pytest
import torch

from lgcaa.errors import UserError
from lgcaa.model.config import DPACM_VARIANTS, ModelConfig
from lgcaa.model.network import LGCAANet, build_network, count_parameters
from lgcaa.model.variants import ATTENTION_VARIANTS

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny(**kw) -> ModelConfig:
    return ModelConfig(arch="tiny", window=4, lpips_backbone="random (offline)", **kw)


def batch(b: int = 2, size: int = 64, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    hr = torch.rand(b, 3, size, size, generator=g)
    lr = torch.nn.functional.interpolate(hr, scale_factor=0.25, mode="area")
    preset = ModelConfig().preset
    f = preset.vae_factor
    lat = (b, preset.unet["in_channels"], size // f, size // f)
    return hr, lr, torch.randn(lat, generator=g), torch.randn(lat, generator=g), torch.randint(0, 1000, (b,), generator=g)


@pytest.fixture(scope="module")
def lgcaa_net() -> LGCAANet:
    return build_network(tiny())


@pytest.mark.parametrize("attention", list(ATTENTION_VARIANTS))
@pytest.mark.parametrize("dpacm", list(DPACM_VARIANTS))
def test_every_variant_runs_forward_and_backward(attention, dpacm):
    net = build_network(tiny(attention=attention, dpacm=dpacm))
    terms = net(*batch())
    expected = {"mse", "total"} | ({"wasserstein"} if dpacm in ("wasserstein", "dpacm") else set()) | (
        {"lpips"} if dpacm in ("perceptual", "dpacm") else set())
    assert set(terms) == expected
    assert all(torch.isfinite(v) for v in terms.values())
    terms["total"].backward()
    trainable = [p for p in net.parameters() if p.requires_grad]
    assert all(p.grad is not None for p in trainable if p.grad is not None)
    assert sum(int(p.grad is not None) for p in trainable) > 0
    assert all(p.grad is None for p in net.parameters() if not p.requires_grad)
    if dpacm != "none":  # both terms on the DPACM conv (w1_on "embedding", default) reach it and the conditioning network
        assert net.dpacm_proj.conv.weight.grad.abs().sum() > 0
        assert net.controlnet.controlnet_cond_embedding.conv_in.weight.grad.abs().sum() > 0
    assert (net.dpacm_proj is None) == (dpacm == "none")  # only a run without DPACM has no projection
    latent = build_network(tiny(attention=attention, dpacm=dpacm, w1_on="latent"))
    assert (latent.dpacm_proj is None) == (dpacm in ("none", "wasserstein"))  # latent W1 needs no projection


def _grads_of(net: LGCAANet, loss: torch.Tensor) -> dict[str, float]:
    net.zero_grad(set_to_none=True)
    loss.backward()
    groups = {
        "unet_attention": [p for m in net.unet_trainable_modules() for p in m.parameters()],
        "controlnet_copy": [p for n, p in net.controlnet.named_parameters()
                            if not n.startswith(("controlnet_cond_embedding", "controlnet_down_blocks", "controlnet_mid_block"))],
        "conditioning_network": list(net.controlnet.controlnet_cond_embedding.parameters()),
        "dino_proj": list(net.condition.proj.parameters()),
        "dpacm_proj": list(net.dpacm_proj.parameters()) if net.dpacm_proj is not None else [],
    }
    return {k: sum(float(p.grad.abs().sum()) for p in ps if p.grad is not None) for k, ps in groups.items()}


def test_w1_readings_reach_the_parameters_they_should():
    """model.w1_on: "latent" = W1(x̂₀, z₀) trains the denoiser (UNet attention, ControlNet, DINO projection), not
    the DPACM conv; "embedding" = W1(projected embedding, HR) trains only the DPACM conv and the conditioning
    network. LPIPS always goes through the projection."""
    torch.manual_seed(0)
    latent = build_network(tiny(w1_on="latent"))
    with torch.no_grad():  # open the zero convs so gradient can flow back into the ControlNet copy
        for m in [*latent.controlnet.controlnet_down_blocks, latent.controlnet.controlnet_mid_block]:
            m.weight.normal_(0, 0.1)
    g = _grads_of(latent, latent(*batch())["wasserstein"])
    assert g["unet_attention"] > 0 and g["controlnet_copy"] > 0 and g["conditioning_network"] > 0 and g["dino_proj"] > 0
    assert g["dpacm_proj"] == 0

    embedding = build_network(tiny(w1_on="embedding"))
    g = _grads_of(embedding, embedding(*batch())["wasserstein"])
    assert g["dpacm_proj"] > 0 and g["conditioning_network"] > 0
    assert g["unet_attention"] == 0 and g["controlnet_copy"] == 0 and g["dino_proj"] == 0

    g = _grads_of(latent, latent(*batch())["lpips"])
    assert g["dpacm_proj"] > 0 and g["conditioning_network"] > 0 and g["unet_attention"] == 0


def test_latent_w1_compares_the_predicted_x0_with_z0():
    net = build_network(tiny(dpacm="wasserstein"))
    hr, lr, latent_noise, noise, t = batch()
    z0 = net.encode(hr, latent_noise)
    z_t = net.scheduler.add_noise(z0, noise, t)
    assert torch.allclose(net.predicted_x0(noise, z_t, t), z0, atol=1e-4)  # ε̂ = ε gives x̂₀ = z₀ exactly


def test_unet_trainable_added_freezes_every_existing_unet_module():
    """IV-A: "We freeze the existing modules of the UNet": only LGCAA's own parameters train in the UNet."""
    net = build_network(tiny(unet_trainable="added"))
    trainable = [n for n, p in net.unet.named_parameters() if p.requires_grad]
    assert trainable and all(".processor." in n for n in trainable)
    assert not any(p.requires_grad for n, p in net.unet.named_parameters() if ".to_q." in n or ".to_out." in n)
    standard = build_network(tiny(unet_trainable="added", attention="standard"))
    assert not any(p.requires_grad for p in standard.unet.parameters())
    assert all(p.requires_grad for p in standard.controlnet.parameters())


def test_dino_sees_the_lr_or_the_hr_in_training():
    hr, lr, latent_noise, noise, t = batch()
    seen = {}
    for reading in ("lr", "hr"):
        net = build_network(tiny(dino_input=reading, dpacm="none"))
        with torch.no_grad():
            handle = net.condition.register_forward_pre_hook(lambda _m, args, r=reading: seen.__setitem__(r, args[0]))
            net(hr, lr, latent_noise, noise, t)
            handle.remove()
    assert torch.equal(seen["hr"], hr)
    assert torch.allclose(seen["lr"], torch.nn.functional.interpolate(lr, size=hr.shape[-2:], mode="bicubic").clamp(0, 1))


def test_trainable_set_is_the_papers(lgcaa_net):
    net = lgcaa_net
    from diffusers.models.attention_processor import Attention

    attn_params = {id(p) for name, m in net.unet.named_modules() if isinstance(m, Attention) for p in m.parameters()}
    n_attn = sum(p.numel() for name, m in net.unet.named_modules() if isinstance(m, Attention) for p in m.parameters())
    expected_trainable = (
        sum(p.numel() for p in net.controlnet.parameters())
        + n_attn
        + sum(p.numel() for p in net.condition.proj.parameters())
        + sum(p.numel() for p in net.dpacm_proj.parameters())  # LPIPS needs it (dpacm "dpacm")
    )
    expected_frozen = (
        sum(p.numel() for p in net.vae.parameters())
        + sum(p.numel() for p in net.condition.vit.parameters())
        + sum(p.numel() for p in net.unet.parameters() if id(p) not in attn_params)
        + sum(p.numel() for p in net.lpips.parameters())
    )
    counts = count_parameters(net)
    assert counts["trainable"] == expected_trainable
    assert counts["frozen"] == expected_frozen
    assert counts["trainable"] + counts["frozen"] == sum(p.numel() for p in net.parameters())
    # the lightweight conditioning network is inside the trainable ControlNet; no UNet resnet is trainable
    assert all(p.requires_grad for p in net.controlnet.controlnet_cond_embedding.parameters())
    assert not any(p.requires_grad for p in net.unet.down_blocks[0].resnets.parameters())
    assert not any(p.requires_grad for p in net.unet.conv_in.parameters())
    # every self-attention of the UNet (down/mid/up) has an LGCAA processor; cross-attention has none
    procs = net.unet.attn_processors
    assert all(type(p).__name__ == "LGCAAProcessor" for k, p in procs.items() if ".attn1." in k)
    assert all(type(p).__name__ == "SDPAProcessor" for k, p in procs.items() if ".attn2." in k)
    assert any(k.startswith("mid_block") for k in procs if ".attn1." in k)


def test_sd2_base_scale_builds_on_meta_device(capsys):
    with torch.device("meta"):
        net = build_network(ModelConfig(arch="sd2-base", lpips_backbone="random (offline)"), with_losses=False)
        std = build_network(ModelConfig(arch="sd2-base", attention="standard", dpacm="none"), with_losses=False)
    counts, std_counts = count_parameters(net), count_parameters(std)
    with capsys.disabled():
        print("\nSD2-base-scale LGCAA parameter counts (random init, meta device):", json.dumps(counts))
        print("SD2-base-scale plain ControlNet parameter counts:", json.dumps(std_counts))
    assert std_counts["unet"] == 865_910_724  # Stable Diffusion 2 UNet
    assert counts["vae"] == 83_653_863  # SD VAE (AutoencoderKL)
    assert counts["dino_vit"] == 85_798_656  # ViT-B/16 without pooler (DINO)
    assert counts["dino_proj"] == 768 * 1024 + 1024
    assert counts["dpacm_proj"] == 256 * 3 * 9 + 3
    assert counts["unet"] > std_counts["unet"]  # LGCAA's own parameters live in the UNet's attention layers
    assert next(net.unet.parameters()).device.type == "meta"
    assert net.prediction_type == "epsilon"


def test_sd2_base_scale_forward_backward_shapes_at_512_on_meta():
    """The full training step of the SD2-base-scale model at 512² (LGCAA at 4096 tokens, DINO ViT-B/16, DPACM
    with LPIPS) runs on the meta device: every shape matches and every trainable tensor gets a gradient."""
    with torch.device("meta"):
        net = build_network(ModelConfig(arch="sd2-base", lpips_backbone="random (offline)"))
    net.to("meta")
    meta = torch.device("meta")
    b, s = 2, 512
    terms = net(torch.empty(b, 3, s, s, device=meta), torch.empty(b, 3, s // 4, s // 4, device=meta),
                torch.empty(b, 4, s // 8, s // 8, device=meta), torch.empty(b, 4, s // 8, s // 8, device=meta),
                torch.zeros(b, dtype=torch.long, device=meta))
    assert set(terms) == {"mse", "wasserstein", "lpips", "total"} and terms["total"].shape == ()
    terms["total"].backward()
    trainable = [p for p in net.parameters() if p.requires_grad]
    assert len(trainable) > 500 and all(p.grad is not None for p in trainable)


def test_missing_sd2_weights_give_layout_and_command(tmp_path):
    cfg = ModelConfig(arch="sd2-base", pretrained=str(tmp_path / "sd2"), lpips_backbone="random (offline)")
    with pytest.raises(UserError) as err:
        build_network(cfg)
    msg = str(err.value)
    for part in ("unet/config.json", "vae/diffusion_pytorch_model.safetensors", "scheduler/scheduler_config.json",
                 "hf download stabilityai/stable-diffusion-2-base"):
        assert part in msg
    (tmp_path / "sd2" / "unet").mkdir(parents=True)
    (tmp_path / "sd2" / "unet" / "config.json").write_text("{}")
    with pytest.raises(UserError, match="missing: vae/config.json, scheduler"):
        build_network(cfg)


def test_loads_a_diffusers_folder(tmp_path):
    """The pretrained path: save a (tiny-shaped) diffusers folder, load it through the SD2 loader."""
    from lgcaa.model.backbone import build_random, load_pretrained
    from lgcaa.model.presets import ARCH_PRESETS

    preset = ARCH_PRESETS["tiny"]
    bb = build_random(preset, seed=5)
    bb.unet.save_pretrained(tmp_path / "unet")
    bb.vae.save_pretrained(tmp_path / "vae")
    from diffusers import DDPMScheduler

    DDPMScheduler.from_config(preset.scheduler).save_pretrained(tmp_path / "scheduler")
    loaded = load_pretrained(str(tmp_path), preset)
    assert torch.equal(loaded.unet.conv_in.weight, bb.unet.conv_in.weight)
    assert loaded.scheduler_config["prediction_type"] == "epsilon"
    with pytest.raises(UserError, match="does not match the sd2-base preset"):
        load_pretrained(str(tmp_path), ARCH_PRESETS["sd2-base"])


def test_tiny_build_is_deterministic():
    a, b = build_network(tiny()), build_network(tiny())
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert na == nb and torch.equal(pa, pb)


def test_missing_dino_weights_name_folder_and_fix(tmp_path):
    (tmp_path / "dino").mkdir()
    with pytest.raises(UserError, match=r"config.json and model.safetensors .*hf download facebook/dino-vitb16"):
        build_network(tiny(dino=str(tmp_path / "dino")))
