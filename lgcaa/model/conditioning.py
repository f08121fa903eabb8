"""Image conditioning without text: DINO ViT features of the LR input, projected to the cross-attention width.

The paper replaces SD's text encoder by a DINO module ([43], Caron et al. 2021) whose tokens are the
`encoder_hidden_states` of both the UNet and the ControlNet. DINO is frozen; only the linear projection
(ViT width -> UNet `cross_attention_dim`) is trained. The input is the ControlNet conditioning image (the LR
image upsampled to the output size), resized to the ViT's input size and ImageNet-normalised, so training
and tiled sampling feed DINO exactly the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from lgcaa.errors import UserError
from lgcaa.model.backbone import seeded_init
from lgcaa.model.presets import DINO_HUB_ID

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def missing_dino_message(source: str) -> str:
    return (
        f"DINO ViT weights not found at '{source}': expected a transformers folder with config.json and "
        f"model.safetensors (ViTModel). Get it with `hf download {DINO_HUB_ID} --local-dir weights/dino-vitb16` "
        f"and set model.dino to that folder (or to the hub id '{DINO_HUB_ID}' when online)"
    )


def build_vit(preset_config: dict[str, Any], source: str | None, seed: int = 0) -> nn.Module:
    """A frozen-to-be ViTModel: pretrained from `source` (folder or hub id) or random init from the preset."""
    from transformers import ViTConfig, ViTModel


    if source is None:
        with seeded_init(seed + 1):
            return ViTModel(ViTConfig(**preset_config), add_pooling_layer=False)
    local = Path(source).expanduser()
    if local.exists() and not (local / "config.json").is_file():
        raise UserError(missing_dino_message(str(local)))
    try:
        return ViTModel.from_pretrained(str(local) if local.exists() else source, add_pooling_layer=False)
    except (OSError, ValueError) as exc:
        raise UserError(missing_dino_message(source) + f" ({exc.__class__.__name__})") from None


class DinoCondition(nn.Module):
    """control (B,3,H,W) in [0,1] -> encoder_hidden_states (B, 1 + (S/p)^2, cross_attention_dim).

    `vit` is frozen and run without gradients; `proj` is trainable.
    """

    def __init__(self, vit: nn.Module, cross_attention_dim: int):
        super().__init__()
        self.vit = vit
        self.image_size = int(vit.config.image_size)
        self.proj = nn.Linear(vit.config.hidden_size, cross_attention_dim)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def features(self, control: torch.Tensor) -> torch.Tensor:
        """(B,3,H,W) in [0,1] -> frozen DINO tokens (B, T, hidden)."""
        import torch.nn.functional as F

        size = (self.image_size, self.image_size)
        x = control if control.shape[-2:] == size else F.interpolate(
            control.float(), size=size, mode="bicubic", align_corners=False, antialias=True
        )
        x = (x.clamp(0, 1) - self.mean) / self.std
        dtype = next(self.vit.parameters()).dtype
        with torch.no_grad():
            return self.vit(pixel_values=x.to(dtype)).last_hidden_state

    def forward(self, control: torch.Tensor) -> torch.Tensor:
        tokens = self.features(control)
        return self.proj(tokens.to(self.proj.weight.dtype))
