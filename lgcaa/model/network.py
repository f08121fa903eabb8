"""`LGCAANet`: backbone + DINO conditioning + LGCAA attention + DPACM, with the paper's trainable set.

Data flow for one training sample (paper Fig. 3, §III-A):
  hr (B,3,H,W) in [0,1] --VAE encoder (frozen)--> z0 (B,4,H/8,W/8) --q(z_t|z0)--> z_t
  lr (B,3,H/s,W/s) in [0,1] --bicubic up--> control (B,3,H,W) in [0,1]
  control --DINO (frozen) + proj--> ehs (B,T,cross_dim)       (encoder_hidden_states of UNet and ControlNet)
  control --ControlNet's conditioning network--> embedding --zero conv--> + conv_in(z_t)   (inside ControlNet)
  ControlNet(z_t, t, ehs, control) --> residuals --> UNet(z_t, t, ehs, residuals) --> epsilon (or v) prediction
  embedding --DPACM conv--> RGB --> W1 and LPIPS against hr (model.w1_on "embedding", default)
  prediction --> x̂₀ --> W1 against z0 instead (model.w1_on "latent")
  post-merge LayerNorms of LGCAA: fitted to the pretrained self-attention outputs at build (model.norm_init)

Trainable (the paper: "only the attention layers of the down, mid, and up blocks of the pretrained Stable
Diffusion UNet are updated", plus the added modules): the whole ControlNet (which contains the lightweight
conditioning network), every `Attention` module of the UNet's down/mid/up blocks (including LGCAA's own
parameters), the DINO projection and the DPACM projection. Frozen: the VAE, the DINO ViT, everything else in
the UNet, LPIPS.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from lgcaa.model.attention import Attention, install_attention
from lgcaa.model.backbone import build_backbone, scheduler_from_config, seeded_init
from lgcaa.model.calibrate import calibrate_post_norms
from lgcaa.model.conditioning import DinoCondition, build_vit
from lgcaa.model.config import ModelConfig
from lgcaa.model.dpacm import DPACMProjection, build_lpips, dpacm_losses, total_loss


@contextlib.contextmanager
def capture_input(module: nn.Module) -> Iterator[list[torch.Tensor]]:
    """Collect the first positional input of every call of `module` inside the block."""
    box: list[torch.Tensor] = []
    handle = module.register_forward_pre_hook(lambda _m, args: box.append(args[0]))
    try:
        yield box
    finally:
        handle.remove()


def upsample_lr(lr: torch.Tensor, out_hw: tuple[int, int]) -> torch.Tensor:
    """(B,3,h,w) in [0,1] -> bicubic (B,3,H,W) in [0,1]: the ControlNet conditioning image."""
    return F.interpolate(lr, size=out_hw, mode="bicubic", align_corners=False).clamp(0, 1)


class LGCAANet(nn.Module):
    def __init__(self, cfg: ModelConfig, unet: nn.Module, vae: nn.Module, controlnet: nn.Module,
                 condition: nn.Module, dpacm_proj: nn.Module | None, lpips_model: nn.Module | None,
                 scheduler_config: dict[str, Any], source: str):
        super().__init__()
        self.cfg = cfg
        self.unet, self.vae, self.controlnet, self.condition = unet, vae, controlnet, condition
        self.dpacm_proj = dpacm_proj
        self.lpips = lpips_model
        self.scheduler_config = dict(scheduler_config)
        self.source = source
        self.prediction_type = self.scheduler_config.get("prediction_type", "epsilon")
        self._scheduler = None

    def train(self, mode: bool = True) -> LGCAANet:
        """Frozen networks stay in eval mode (LPIPS has dropout in its heads; the VAE and DINO are inference-only)."""
        super().train(mode)
        for frozen in (self.vae, self.condition.vit, self.lpips):
            if frozen is not None:
                frozen.eval()
        return self

    # ---------------------------------------------------------------- trainable set
    def unet_attention_modules(self) -> list[tuple[str, nn.Module]]:
        return [
            (name, m) for name, m in self.unet.named_modules()
            if isinstance(m, Attention) and name.split(".")[0] in ("down_blocks", "mid_block", "up_blocks")
        ]

    def unet_trainable_modules(self) -> list[nn.Module]:
        """The UNet modules that train: every attention layer (`unet_trainable: attention`, III-A) or only the
        LGCAA processors inside them, i.e. the parameters LGCAA adds (`added`, IV-A: "We freeze the existing
        modules of the UNet")."""
        modules = [m for _, m in self.unet_attention_modules()]
        if self.cfg.unet_trainable == "attention":
            return modules
        return [m.processor for m in modules if isinstance(m.processor, nn.Module)]

    def trainable_modules(self) -> dict[str, nn.Module]:
        """Named groups of trainable modules (see module docstring)."""
        groups: dict[str, nn.Module] = {"controlnet": self.controlnet, "dino_proj": self.condition.proj}
        groups["unet_attention"] = nn.ModuleList(self.unet_trainable_modules())
        if self.dpacm_proj is not None:
            groups["dpacm_proj"] = self.dpacm_proj
        return groups

    def set_trainable(self) -> None:
        """Freeze everything, then unfreeze the paper's trainable set."""
        self.requires_grad_(False)
        for module in self.trainable_modules().values():
            module.requires_grad_(True)

    def trainable_state(self) -> dict[str, torch.Tensor]:
        return {n: p for n, p in self.named_parameters() if p.requires_grad}

    def frozen_state(self) -> dict[str, torch.Tensor]:
        """Frozen backbone parameters (VAE, DINO ViT, frozen UNet parts); the LPIPS loss network excluded."""
        return {n: p for n, p in self.named_parameters() if not p.requires_grad and not n.startswith("lpips.")}

    # ---------------------------------------------------------------- diffusion pieces
    @property
    def scheduler(self):
        """A DDPMScheduler for the forward process (add_noise / get_velocity); stateless use only."""
        if self._scheduler is None:

            self._scheduler = scheduler_from_config(self.scheduler_config)
        return self._scheduler

    @property
    def latent_factor(self) -> int:
        return 2 ** (len(self.vae.config.block_out_channels) - 1)

    @property
    def num_train_timesteps(self) -> int:
        return int(self.scheduler_config.get("num_train_timesteps", 1000))

    def encode(self, hr: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """hr (B,3,H,W) in [0,1] -> z0 = scaling * (mean + std * noise), noise (B,4,H/8,W/8) ~ N(0,1)."""
        with torch.no_grad():
            dist = self.vae.encode((hr * 2 - 1).to(self.vae.dtype)).latent_dist
            return (dist.mean + dist.std * noise.to(dist.mean.dtype)) * self.vae.config.scaling_factor

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """z0 (B,4,h,w) -> image (B,3,8h,8w) in [0,1]."""
        with torch.no_grad():
            img = self.vae.decode((latents / self.vae.config.scaling_factor).to(self.vae.dtype)).sample
        return ((img.float() + 1) / 2).clamp(0, 1)

    def denoise(self, z_t: torch.Tensor, t: torch.Tensor, control: torch.Tensor, ehs: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """One network evaluation -> (UNet prediction like z_t, conditioning embedding (B,C_e,h,w))."""
        kwargs = {"spatial_hw": tuple(z_t.shape[-2:])}
        with capture_input(self.controlnet.controlnet_cond_embedding.conv_out) as box:
            down, mid = self.controlnet(
                z_t, t, encoder_hidden_states=ehs, controlnet_cond=control.to(z_t.dtype),
                cross_attention_kwargs=kwargs, return_dict=False,
            )
        pred = self.unet(
            z_t, t, encoder_hidden_states=ehs, down_block_additional_residuals=down,
            mid_block_additional_residual=mid, cross_attention_kwargs=kwargs, return_dict=False,
        )[0]
        return pred, box[0]

    def predicted_x0(self, pred: torch.Tensor, z_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """x̂₀ (B,C,h,w) float32 from the network's prediction at timesteps t (B,): ε → (z_t − √(1−ᾱ)ε̂)/√ᾱ,
        v → √ᾱ z_t − √(1−ᾱ) v̂."""
        abar = self.scheduler.alphas_cumprod.to(z_t.device)[t].float().view(-1, 1, 1, 1)
        if self.prediction_type == "epsilon":
            return (z_t.float() - (1 - abar).sqrt() * pred.float()) / abar.sqrt()
        if self.prediction_type == "v_prediction":
            return abar.sqrt() * z_t.float() - (1 - abar).sqrt() * pred.float()
        raise ValueError(f"unsupported prediction_type {self.prediction_type!r}")

    # ---------------------------------------------------------------- training loss
    def forward(self, hr: torch.Tensor, lr: torch.Tensor, latent_noise: torch.Tensor, noise: torch.Tensor,
                timesteps: torch.Tensor) -> dict[str, torch.Tensor]:
        """Loss terms of one micro-batch; all randomness is passed in (exact resume, DDP-safe).

        hr (B,3,H,W), lr (B,3,H/s,W/s) in [0,1]; latent_noise, noise (B,4,H/8,W/8) ~ N(0,1); timesteps (B,) int.
        Returns {"mse", ["wasserstein"], ["lpips"], "total"} as float32 scalars.
        """
        z0 = self.encode(hr, latent_noise)
        z_t = self.scheduler.add_noise(z0, noise.to(z0.dtype), timesteps)
        control = upsample_lr(lr, tuple(hr.shape[-2:]))
        ehs = self.condition(hr if self.cfg.dino_input == "hr" else control)
        pred, embedding = self.denoise(z_t, timesteps, control, ehs)
        if self.prediction_type == "epsilon":
            target = noise
        elif self.prediction_type == "v_prediction":
            target = self.scheduler.get_velocity(z0, noise.to(z0.dtype), timesteps)
        else:
            raise ValueError(f"unsupported prediction_type {self.prediction_type!r}")
        terms = {"mse": F.mse_loss(pred.float(), target.float())}
        rgb = self.dpacm_proj(embedding, tuple(hr.shape[-2:])) if self.dpacm_proj is not None else None
        latent_w1 = self.cfg.uses_wasserstein and self.cfg.w1_on == "latent"
        latents = (self.predicted_x0(pred, z_t, timesteps), z0) if latent_w1 else None
        terms.update(dpacm_losses(self.cfg, hr * 2 - 1, rgb, latents, self.lpips))
        terms["total"] = total_loss(terms, self.cfg.lambda_w, self.cfg.lambda_p)
        return terms


def build_network(cfg: ModelConfig, with_losses: bool = True, calibrate: bool = True,
                  calibration_size: int | None = None) -> LGCAANet:
    """Assemble the model for `cfg` on the current default device (use `torch.device('meta')` for counts).

    with_losses=False skips LPIPS (sampling). Weights of pretrained parts come from cfg.pretrained / cfg.dino;
    everything random is seeded by cfg.init_seed. With a pretrained backbone and `norm_init: "pretrained"`, the
    post-merge LayerNorms are fitted to the pretrained self-attention outputs on held-out photos of side
    `calibration_size` (default: the preset's training size; `lgcaa.model.calibrate`); calibrate=False skips it
    (sampling, where the trained weights are loaded over it).
    """

    preset = cfg.preset
    bb = build_backbone(preset, cfg.pretrained, cfg.init_seed)
    vit = build_vit(preset.dino, cfg.dino, cfg.init_seed)
    # one seed per added module: the Table II/III rows then share every initial weight but the one they vary
    with seeded_init(cfg.init_seed + 3):
        install_attention(bb.unet, cfg.attention, **cfg.attention_settings())
        install_attention(bb.controlnet, cfg.attention if cfg.attention_in_controlnet else "standard",
                          **cfg.attention_settings())
    with seeded_init(cfg.init_seed + 4):
        condition = DinoCondition(vit, bb.unet.config.cross_attention_dim)
    with seeded_init(cfg.init_seed + 5):
        dpacm_proj = DPACMProjection(preset.controlnet_embedding_channels[-1]) if cfg.uses_projection else None
    lpips_model = build_lpips(cfg.lpips_backbone, cfg.init_seed) if with_losses and cfg.uses_perceptual else None
    net = LGCAANet(cfg, bb.unet, bb.vae, bb.controlnet, condition, dpacm_proj, lpips_model,
                   bb.scheduler_config, bb.source)
    if calibrate and cfg.norm_init == "pretrained" and cfg.pretrained is not None:
        calibrate_post_norms(net, calibration_size or preset.train_size, seed=cfg.init_seed)
    net.set_trainable()
    return net


def count_parameters(net: LGCAANet) -> dict[str, int]:
    """Parameter counts by group (works on the meta device)."""
    groups = {
        "unet": sum(p.numel() for p in net.unet.parameters()),
        "unet_attention": sum(p.numel() for _, m in net.unet_attention_modules() for p in m.parameters()),
        "controlnet": sum(p.numel() for p in net.controlnet.parameters()),
        "controlnet_conditioning_network": sum(p.numel() for p in net.controlnet.controlnet_cond_embedding.parameters()),
        "vae": sum(p.numel() for p in net.vae.parameters()),
        "dino_vit": sum(p.numel() for p in net.condition.vit.parameters()),
        "dino_proj": sum(p.numel() for p in net.condition.proj.parameters()),
        "dpacm_proj": sum(p.numel() for p in net.dpacm_proj.parameters()) if net.dpacm_proj is not None else 0,
        "lpips": sum(p.numel() for p in net.lpips.parameters()) if net.lpips is not None else 0,
    }
    groups["trainable"] = sum(p.numel() for p in net.parameters() if p.requires_grad)
    groups["frozen"] = sum(p.numel() for p in net.parameters() if not p.requires_grad)
    return groups
