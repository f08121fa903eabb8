"""The latent-diffusion backbone: UNet2DConditionModel, AutoencoderKL, DDPMScheduler and a ControlNetModel.

Either built at random init from an `ArchPreset` (tiny for tests/mini; sd2-base for speed and memory
measurements, also on the meta device) or loaded from Stable Diffusion 2-base weights in diffusers format
(local folder or hub id). The ControlNet is always created from the UNet (`ControlNetModel.from_unet`: a
trainable copy of conv_in, time embedding, down and mid blocks, zero-initialised output convs), and must be
created before any attention processor with parameters is installed in the UNet.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    from diffusers import DDPMScheduler

    return DDPMScheduler.from_config(config)


def build_random(preset: ArchPreset, seed: int = 0) -> Backbone:
    """All three networks at random init (deterministic in `seed`); use under `torch.device('meta')` for counts."""
    from diffusers import AutoencoderKL, ControlNetModel, UNet2DConditionModel

    with seeded_init(seed):
        unet = UNet2DConditionModel(**preset.unet)
        vae = AutoencoderKL(**preset.vae)
        controlnet = ControlNetModel.from_unet(
            unet, conditioning_embedding_out_channels=preset.controlnet_embedding_channels
        )
    return Backbone(unet, vae, controlnet, dict(preset.scheduler), f"random-init:{preset.name}:seed={seed}")


def load_sd2(source: str, preset: ArchPreset, seed: int = 0) -> Backbone:
    """Pretrained SD2-base UNet + VAE + scheduler config from a diffusers folder or hub id; ControlNet from UNet.

    Raises UserError with the expected folder layout when the weights are absent.
    """
    from diffusers import AutoencoderKL, ControlNetModel, DDPMScheduler, UNet2DConditionModel

    local = Path(source).expanduser()
    if local.is_dir():
        missing = [p for p in ("unet/config.json", "vae/config.json", "scheduler/scheduler_config.json") if not (local / p).is_file()]
        if missing:
            raise UserError(missing_sd2_message(str(local)) + f" (missing: {', '.join(missing)})")
        source = str(local)
    elif not _looks_like_hub_id(source):
        raise UserError(missing_sd2_message(source))
    try:
        unet = UNet2DConditionModel.from_pretrained(source, subfolder="unet")
        vae = AutoencoderKL.from_pretrained(source, subfolder="vae")
        scheduler_config = dict(DDPMScheduler.load_config(source, subfolder="scheduler"))
    except (OSError, ValueError) as exc:
        raise UserError(missing_sd2_message(source) + f" ({exc.__class__.__name__})") from None
    scheduler_config = {k: v for k, v in scheduler_config.items() if not k.startswith("_")}
    for key in ("block_out_channels", "cross_attention_dim"):
        if list(_as_list(unet.config[key])) != list(_as_list(preset.unet[key])):
            raise UserError(
                f"{source}/unet/config.json: {key}={unet.config[key]} does not match SD2-base ({preset.unet[key]}); "
                "point model.pretrained at a Stable Diffusion 2-base folder"
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
    return load_sd2(pretrained, preset, seed)
