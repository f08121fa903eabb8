"""Architecture presets: the diffusers/transformers constructor configs (no weights) of the two backbones.

`sd2-base`: Stable Diffusion 2-base (512², epsilon prediction) + DINO ViT-B/16, the paper's backbone.
`tiny`: a few hundred thousand parameters, built from code (tests, the offline mini profile); its VAE and
UNet can be pre-trained on offline photos (`lgcaa.model.prepare`) the way SD2-base comes pre-trained.
Torch-free: the config layer and the cost model read these without importing diffusers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ARCHS = ("tiny", "sd2-base")
SD2_BASE_HUB_ID = "stabilityai/stable-diffusion-2-base"
DINO_HUB_ID = "facebook/dino-vitb16"

# ----------------------------------------------------------------------------------------------------------
# Architecture presets: constructor configs only (no weights). sd2-base values are those of
# stabilityai/stable-diffusion-2-base (unet/, vae/, scheduler/ config.json) and facebook/dino-vitb16.
# ----------------------------------------------------------------------------------------------------------

SD2_BASE_UNET = {
    "sample_size": 64,
    "in_channels": 4,
    "out_channels": 4,
    "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
    "block_out_channels": [320, 640, 1280, 1280],
    "layers_per_block": 2,
    "attention_head_dim": [5, 10, 20, 20],  # diffusers' legacy name: these are the numbers of heads (64-d each)
    "cross_attention_dim": 1024,
    "use_linear_projection": True,
    "norm_num_groups": 32,
    "act_fn": "silu",
    "flip_sin_to_cos": True,
    "freq_shift": 0,
    "downsample_padding": 1,
    "mid_block_scale_factor": 1,
    "upcast_attention": False,
}
SD2_BASE_VAE = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "block_out_channels": [128, 256, 512, 512],
    "layers_per_block": 2,
    "latent_channels": 4,
    "norm_num_groups": 32,
    "act_fn": "silu",
    "sample_size": 512,
    "scaling_factor": 0.18215,
}
# SD2-base ships a PNDM config with these betas; we sample it with DDPM (paper: "40 DDPM sampling steps").
SD2_BASE_SCHEDULER = {
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "prediction_type": "epsilon",
    "clip_sample": False,
    "steps_offset": 1,
    "timestep_spacing": "leading",
}
DINO_VITB16 = {  # transformers ViTConfig of facebook/dino-vitb16
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "image_size": 224,
    "patch_size": 16,
    "qkv_bias": True,
    "layer_norm_eps": 1e-6,
}

# tiny = the same architectures as sd2-base, only smaller: the keys that differ, the rest inherited
TINY_UNET = {
    **SD2_BASE_UNET,
    "sample_size": 16,
    "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
    "block_out_channels": [16, 32],
    "layers_per_block": 1,
    "attention_head_dim": [1, 2],  # heads; 16-d each
    "cross_attention_dim": 32,
    "norm_num_groups": 8,
}
TINY_VAE = {
    **SD2_BASE_VAE,
    "block_out_channels": [8, 16, 16, 16],  # still 4 blocks: 8x downsampling, like SD's VAE
    "layers_per_block": 1,
    "norm_num_groups": 4,
    "sample_size": 128,
}
TINY_DINO = {
    **DINO_VITB16,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "image_size": 32,
    "patch_size": 8,
}


@dataclass(frozen=True)
class ArchPreset:
    """Constructor configs of one backbone. `pixel_multiple`: output sizes are padded to a multiple of it."""

    name: str
    unet: dict[str, Any]
    vae: dict[str, Any]
    scheduler: dict[str, Any]
    dino: dict[str, Any]
    controlnet_embedding_channels: tuple[int, ...]
    train_size: int  # native training resolution of HR crops (pixels)

    @property
    def vae_factor(self) -> int:
        return 2 ** (len(self.vae["block_out_channels"]) - 1)

    @property
    def pixel_multiple(self) -> int:
        """Latent must survive the UNet's downsamplings: vae_factor * 2**(levels-1)."""
        return self.vae_factor * 2 ** (len(self.unet["block_out_channels"]) - 1)


ARCH_PRESETS: dict[str, ArchPreset] = {
    "sd2-base": ArchPreset(
        "sd2-base", SD2_BASE_UNET, SD2_BASE_VAE, SD2_BASE_SCHEDULER, DINO_VITB16, (16, 32, 96, 256), 512
    ),
    "tiny": ArchPreset("tiny", TINY_UNET, TINY_VAE, SD2_BASE_SCHEDULER, TINY_DINO, (8, 16, 32, 32), 128),
}
