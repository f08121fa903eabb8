"""Pre-train the tiny backbone on held-out offline photos: the stand-in for the weights SD2-base comes with.

Stable Diffusion's VAE and UNet come pretrained; the tiny preset's do not, and with a random VAE the mini
LGCAA runs can only produce noise. `prepare_backbone` gives the tiny backbone what SD2-base has, in two stages,
on LDM crops (`lgcaa.model.data.crop_side`) of photos the mini test sets never use:

  1. VAE: `AutoencoderKL(TINY_VAE)` as an autoencoder: MSE (or L1, `vae_loss`) between the crop and the decoded
     posterior sample, + kl_weight × KL (SD's VAE objective without its GAN and LPIPS terms; MSE, because the
     mini tables score PSNR: 22.8 vs 22.0 dB on held-out crops after 600 steps, measured). The log-variance output starts at
     −8 (std 0.02) so that a few hundred steps train an autoencoder rather than a decoder of noise; Adam with a
     cosine decay to zero (both stages), so that a short run ends at a calm point. Then
     `scaling_factor` = 1 / std of the latents of 256 crops (LDM's `scale_by_std`), so the diffusion sees
     unit-variance latents as SD2-base's 0.18215 gives it.
  2. UNet: `UNet2DConditionModel(TINY_UNET)` as an unconditional ε-prediction denoiser on those latents (SD2-base's
     noise schedule; encoder states are zeros: no text, no image), the role of SD's text-to-image pre-training.

Output (atomic): a diffusers folder `vae/`, `unet/`, `scheduler/` that `model.pretrained` points at, and
`prepare.json` (the settings, loss curves, the VAE's reconstruction PSNR on held-out crops of the training
photos, seconds). Every random draw comes from generators seeded by `PrepareConfig.seed`.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from lgcaa.compat import import_diffusers
from lgcaa.data.photos import load_photo
from lgcaa.io import atomic_dir, write_json
from lgcaa.layout import BACKBONE_DONE
from lgcaa.model.backbone import scheduler_from_config, seeded_init
from lgcaa.model.config import PrepareConfig
from lgcaa.model.data import crop_and_resize, crop_side, sample_seed
from lgcaa.model.presets import ARCH_PRESETS
from lgcaa.progress import Progress

LOGVAR_INIT = -8.0
SCALE_CROPS = 256  # crops whose latents set the VAE's scaling_factor
CHECK_CROPS = 16  # held-out crops (indices no training step reaches) for the reconstruction PSNR


class PhotoCrops:
    """index -> (3, size, size) float32 in [0,1]: an LDM crop of one of `photos`, a pure function of (seed, index)."""

    def __init__(self, photos: tuple[str, ...], size: int, seed: int):
        self.images = [load_photo(p) for p in photos]
        self.size, self.seed = size, seed

    def __call__(self, index: int) -> torch.Tensor:
        rng = np.random.default_rng(sample_seed(self.seed, index, "prepare"))
        while True:
            img = self.images[int(rng.integers(0, len(self.images)))]
            side = crop_side(min(img.shape[:2]), self.size, "ldm", 0.5, 1.0, rng)
            if side is not None:
                crop = crop_and_resize(img, self.size, side, rng, hflip=True)
                return torch.from_numpy(crop).permute(2, 0, 1).float() / 255.0

    def batch(self, start: int, count: int) -> torch.Tensor:
        """(count, 3, S, S) in [-1, 1]: crops start .. start+count-1."""
        return torch.stack([self(i) for i in range(start, start + count)]) * 2 - 1


def psnr(x: torch.Tensor, y: torch.Tensor) -> float:
    """Mean PSNR (dB) over images of two (B,3,H,W) batches in [-1, 1], after rounding to 8 bits."""
    x8, y8 = [((t.clamp(-1, 1) + 1) * 127.5).round() for t in (x, y)]
    mse = ((x8 - y8) ** 2).mean(dim=(1, 2, 3)).clamp_min(1e-10)
    return float((10 * torch.log10(255.0**2 / mse)).mean())


def train_vae(cfg: PrepareConfig, crops: PhotoCrops, log: Callable[[str], None],
              bar: Progress | None = None) -> tuple[Any, dict[str, Any]]:
    """Stage 1 -> (trained AutoencoderKL with its scaling_factor set, record)."""
    import_diffusers()
    from diffusers import AutoencoderKL

    preset = ARCH_PRESETS["tiny"]
    with seeded_init(cfg.seed):
        vae = AutoencoderKL(**preset.vae)
    channels = vae.config.latent_channels
    with torch.no_grad():  # conv_out emits (mean, logvar): start the log-variance at LOGVAR_INIT
        vae.encoder.conv_out.weight[channels:] = 0
        vae.encoder.conv_out.bias[channels:] = LOGVAR_INIT
    opt = torch.optim.Adam(vae.parameters(), lr=cfg.vae_lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.vae_steps)  # a short run ends at a calm point
    gen = torch.Generator().manual_seed(sample_seed(cfg.seed, 0, "vae-noise"))
    losses = []
    vae.train()
    for step in range(cfg.vae_steps):
        x = crops.batch(step * cfg.vae_batch, cfg.vae_batch)
        post = vae.encode(x).latent_dist
        z = post.mean + post.std * torch.randn(post.mean.shape, generator=gen)
        recon = vae.decode(z).sample
        loss = (F.mse_loss if cfg.vae_loss == "mse" else F.l1_loss)(recon, x) + cfg.kl_weight * post.kl().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if bar is not None:
            bar.update()
        if (step + 1) % max(1, cfg.vae_steps // 10) == 0:
            log(f"[prepare] vae step {step + 1}/{cfg.vae_steps} loss {sum(losses[-20:]) / len(losses[-20:]):.4f}")
    vae.eval()
    held_out = 10**12  # crop indices no training step reaches
    with torch.no_grad():
        x = crops.batch(held_out, CHECK_CROPS)
        recon = psnr(vae.decode(vae.encode(x).latent_dist.mean).sample, x)
        latents = torch.cat([vae.encode(crops.batch(held_out + CHECK_CROPS + i, 32)).latent_dist.mean
                             for i in range(0, SCALE_CROPS, 32)])
    scaling = float(1.0 / latents.float().std())
    vae.register_to_config(scaling_factor=scaling)
    log(f"[prepare] vae: reconstruction PSNR {recon:.2f} dB on {CHECK_CROPS} held-out crops; scaling_factor {scaling:.4f}")
    return vae, {"loss": losses, "reconstruction_psnr_db": round(recon, 3), "scaling_factor": scaling}


def train_unet(cfg: PrepareConfig, vae: Any, crops: PhotoCrops, log: Callable[[str], None],
               bar: Progress | None = None) -> tuple[Any, dict[str, Any]]:
    """Stage 2 -> (UNet trained as an unconditional ε denoiser on the VAE's scaled latents, record)."""
    import_diffusers()
    from diffusers import UNet2DConditionModel

    preset = ARCH_PRESETS["tiny"]
    with seeded_init(cfg.seed + 1):
        unet = UNet2DConditionModel(**preset.unet)
    record: dict[str, Any] = {"loss": []}
    if cfg.unet_steps == 0:
        return unet, record
    scheduler = scheduler_from_config(preset.scheduler)
    opt = torch.optim.Adam(unet.parameters(), lr=cfg.unet_lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.unet_steps)
    gen = torch.Generator().manual_seed(sample_seed(cfg.seed, 0, "unet-noise"))
    ehs = torch.zeros(cfg.unet_batch, 1, unet.config.cross_attention_dim)
    offset = cfg.vae_steps * cfg.vae_batch  # fresh crops, not the VAE's
    unet.train()
    for step in range(cfg.unet_steps):
        with torch.no_grad():
            post = vae.encode(crops.batch(offset + step * cfg.unet_batch, cfg.unet_batch)).latent_dist
            z0 = (post.mean + post.std * torch.randn(post.mean.shape, generator=gen)) * vae.config.scaling_factor
        noise = torch.randn(z0.shape, generator=gen)
        t = torch.randint(0, scheduler.config.num_train_timesteps, (cfg.unet_batch,), generator=gen)
        pred = unet(scheduler.add_noise(z0, noise, t), t, encoder_hidden_states=ehs).sample
        loss = F.mse_loss(pred, noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        record["loss"].append(float(loss.detach()))
        if bar is not None:
            bar.update()
        if (step + 1) % max(1, cfg.unet_steps // 10) == 0:
            tail = record["loss"][-50:]
            log(f"[prepare] unet step {step + 1}/{cfg.unet_steps} loss {sum(tail) / len(tail):.4f}")
    unet.eval()
    return unet, record


def prepare_backbone(cfg: PrepareConfig, out: str | Path, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Write the prepared tiny backbone into `out` (atomically); no-op when `out/prepare.json` has the same
    settings. Returns the record written to prepare.json."""
    out = Path(out)
    done = out / BACKBONE_DONE
    if done.is_file() and json.loads(done.read_text()).get("settings") == cfg.to_dict():
        log(f"[prepare] {out}: already prepared with these settings")
        return json.loads(done.read_text())
    torch.set_flush_denormal(True)
    t0 = time.perf_counter()
    crops = PhotoCrops(cfg.photos, cfg.size, cfg.seed)
    # one bar over both stages: rate and ETA like `train` (lgcaa.progress; plain lines in a log file)
    with Progress("prepare-backbone (vae, then unet)", cfg.vae_steps + cfg.unet_steps, "steps") as bar:
        vae, vae_record = train_vae(cfg, crops, log, bar)
        t_vae = time.perf_counter() - t0
        unet, unet_record = train_unet(cfg, vae, crops, log, bar)
    record = {
        "settings": cfg.to_dict(),
        "arch": "tiny",
        "vae": {**vae_record, "seconds": round(t_vae, 2), "final_loss": _tail(vae_record["loss"])},
        "unet": {**unet_record, "seconds": round(time.perf_counter() - t0 - t_vae, 2),
                 "final_loss": _tail(unet_record["loss"])},
        "torch": torch.__version__,
    }
    with atomic_dir(out, BACKBONE_DONE) as tmp:
        vae.save_pretrained(tmp / "vae")
        unet.save_pretrained(tmp / "unet")
        scheduler_from_config(ARCH_PRESETS["tiny"].scheduler).save_pretrained(tmp / "scheduler")
        write_json(tmp / BACKBONE_DONE, record)
    log(f"[prepare] wrote {out} in {time.perf_counter() - t0:.1f} s")
    return record


def _tail(values: list[float], n: int = 50) -> float:
    tail = values[-n:]
    return round(sum(tail) / len(tail), 5) if tail else math.nan


def write_prepare_record(dest: str | Path, experiment: str, record: dict[str, Any], out: str | Path) -> Path:
    """The job record of the backbone prepared into `out` (`record`: what `prepare_backbone` returned)."""
    from lgcaa.tracking import flatten, write_record

    return write_record(
        dest, experiment, "backbone:tiny",
        params=flatten("", {"prepare": record["settings"], "out": str(out)}, {}),
        metrics={"vae_reconstruction_psnr_db": record["vae"]["reconstruction_psnr_db"],
                 "vae_final_loss": record["vae"]["final_loss"], "unet_final_loss": record["unet"]["final_loss"],
                 "vae_seconds": record["vae"]["seconds"], "unet_seconds": record["unet"]["seconds"]},
        artifacts=[str(Path(out) / BACKBONE_DONE)],
        tags={"arch": "tiny", "stage": "prepare-backbone"},
    )
