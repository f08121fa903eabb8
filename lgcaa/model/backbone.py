"""The latent-diffusion backbone: UNet2DConditionModel, AutoencoderKL, DDPMScheduler and a ControlNetModel.

Either built at random init from an `ArchPreset` (tiny for tests; sd2-base for speed and memory
measurements, also on the meta device) or loaded in diffusers format: Stable Diffusion 2-base weights (local
folder or hub id), or a tiny backbone pre-trained on held-out offline photos by `lgcaa prepare-backbone`. The ControlNet is always created from the UNet (`ControlNetModel.from_unet`: a
trainable copy of conv_in, time embedding, down and mid blocks, zero-initialised output convs), and must be
created before any attention processor with parameters is installed in the UNet.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lgcaa.compat import import_diffusers
from lgcaa.errors import UserError
from lgcaa.model.presets import SD2_BASE_HUB_ID, ArchPreset

SD2_LAYOUT = (
    "unet/config.json, unet/diffusion_pytorch_model.safetensors, vae/config.json, "
    "vae/diffusion_pytorch_model.safetensors, scheduler/scheduler_config.json"
)


@dataclass
class Backbone:
    unet: Any  # diffusers.UNet2DConditionModel
    vae: Any  # diffusers.AutoencoderKL
    controlnet: Any  # diffusers.ControlNetModel
    scheduler_config: dict[str, Any]
    source: str  # "random-init:<arch>:seed=<n>" or the pretrained folder / hub id


@contextlib.contextmanager
def seeded_init(seed: int) -> Iterator[None]:
    """Deterministic parameter init: seed torch's CPU RNG inside, restore the caller's RNG state after."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def missing_sd2_message(source: str) -> str:
    return (
        f"Stable Diffusion 2-base weights not found at '{source}': expected a diffusers-format folder with "
        f"{SD2_LAYOUT}. Get it with `hf download {SD2_BASE_HUB_ID} --include 'unet/*' 'vae/*' 'scheduler/*' "
        f"--local-dir {source if not _looks_like_hub_id(source) else 'weights/sd2-base'}` and set "
        f"model.pretrained to that folder (or to the hub id '{SD2_BASE_HUB_ID}' when online)"
    )


def _looks_like_hub_id(source: str) -> bool:
    return source.count("/") == 1 and not source.startswith((".", "/", "~")) and not Path(source).exists()


def scheduler_from_config(config: dict[str, Any]):
    """A fresh DDPMScheduler (schedulers are stateful: make one per sampling call)."""
    import_diffusers()
    from diffusers import DDPMScheduler

    return DDPMScheduler.from_config(config)


def build_random(preset: ArchPreset, seed: int = 0) -> Backbone:
    """All three networks at random init (deterministic in `seed`); use under `torch.device('meta')` for counts."""
    import_diffusers()
    from diffusers import AutoencoderKL, ControlNetModel, UNet2DConditionModel

    with seeded_init(seed):
        unet = UNet2DConditionModel(**preset.unet)
        vae = AutoencoderKL(**preset.vae)
        controlnet = ControlNetModel.from_unet(
            unet, conditioning_embedding_out_channels=preset.controlnet_embedding_channels
        )
    return Backbone(unet, vae, controlnet, dict(preset.scheduler), f"random-init:{preset.name}:seed={seed}")


def missing_prepared_message(source: str) -> str:
    return (
        f"prepared tiny backbone not found at '{source}': expected the folder written by `lgcaa prepare-backbone` "
        f"({SD2_LAYOUT}); run `lgcaa prepare-backbone --config <profile> --out {source}` (the DAG's "
        "prepare_backbone job does), or set model.pretrained to null for a random tiny backbone"
    )


def load_pretrained(source: str, preset: ArchPreset, seed: int = 0) -> Backbone:
    """Pretrained UNet + VAE + scheduler config from a diffusers folder (or, for sd2-base, a hub id); ControlNet
    from the UNet. sd2-base: Stable Diffusion 2-base; tiny: a folder written by `lgcaa prepare-backbone`.

    Raises UserError with the expected folder layout (and how to get it) when the weights are absent.
    """
    import_diffusers()
    from diffusers import AutoencoderKL, ControlNetModel, DDPMScheduler, UNet2DConditionModel

    message = missing_sd2_message if preset.name == "sd2-base" else missing_prepared_message
    local = Path(source).expanduser()
    if local.is_dir():
        missing = [p for p in ("unet/config.json", "vae/config.json", "scheduler/scheduler_config.json") if not (local / p).is_file()]
        if missing:
            raise UserError(message(str(local)) + f" (missing: {', '.join(missing)})")
        source = str(local)
    elif preset.name != "sd2-base" or not _looks_like_hub_id(source):
        raise UserError(message(source))
    try:
        unet = UNet2DConditionModel.from_pretrained(source, subfolder="unet")
        vae = AutoencoderKL.from_pretrained(source, subfolder="vae")
        scheduler_config = dict(DDPMScheduler.load_config(source, subfolder="scheduler"))
    except (OSError, ValueError) as exc:
        raise UserError(message(source) + f" ({exc.__class__.__name__})") from None
    scheduler_config = {k: v for k, v in scheduler_config.items() if not k.startswith("_")}
    for key in ("block_out_channels", "cross_attention_dim"):
        if list(_as_list(unet.config[key])) != list(_as_list(preset.unet[key])):
            raise UserError(
                f"{source}/unet/config.json: {key}={unet.config[key]} does not match the {preset.name} preset "
                f"({preset.unet[key]}); point model.pretrained at a {preset.name} backbone folder"
            )
    if list(vae.config.block_out_channels) != list(preset.vae["block_out_channels"]):
        raise UserError(
            f"{source}/vae/config.json: block_out_channels={vae.config.block_out_channels} does not match the "
            f"{preset.name} preset ({preset.vae['block_out_channels']}); point model.pretrained at a {preset.name} folder"
        )
    with seeded_init(seed):  # zero convs are zero; the conditioning embedding's first convs are random
        controlnet = ControlNetModel.from_unet(
            unet, conditioning_embedding_out_channels=preset.controlnet_embedding_channels
        )
    return Backbone(unet, vae, controlnet, scheduler_config, source)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def build_backbone(preset: ArchPreset, pretrained: str | None, seed: int = 0) -> Backbone:
    if pretrained is None:
        return build_random(preset, seed)
    return load_pretrained(pretrained, preset, seed)
