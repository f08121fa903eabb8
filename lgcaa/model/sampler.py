"""Seeded DDPM sampling of SR outputs, tiled for outputs larger than the training size, with colour fix.

For an LR batch (B,3,h,w) in [0,1] and scale s: the control image is the bicubic upsampling to (s·h, s·w),
padded (replicate) to the backbone's pixel multiple. Every random draw of an image comes from its own CPU
generator (seed = `image_seed(seed, file name)`, independent of batching and device). DDPM starts
(`start_point`) from SeeSR's noised LR latent — the VAE posterior sample of the control image, noised to
`start_step` with `add_noise` — or from N(0,1) latents; it runs the `steps` DDPM timesteps
(`DDPMScheduler.set_timesteps`) not above `start_step`, each step evaluating ControlNet+UNet on overlapping
latent tiles of the training size blended with Gaussian weights; the VAE decodes with diffusers' tiled
decoding when the output exceeds the tile; the padding is cropped and the colour fix applied.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from lgcaa.errors import UserError
from lgcaa.io import atomic_dir, list_images, read_rgb, write_json, write_png
from lgcaa.model.backbone import scheduler_from_config
from lgcaa.model.checkpoint import fingerprint, load_trainable
from lgcaa.model.colorfix import color_fix as apply_color_fix
from lgcaa.model.config import LGCAAConfig, SampleConfig, config_from_dict
from lgcaa.model.network import build_network, upsample_lr
from lgcaa.model.tiling import tile_boxes, tile_weight
from lgcaa.progress import Progress

PRECISION_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def image_seed(seed: int, name: str) -> int:
    digest = hashlib.sha256(f"lgcaa-sample\0{seed}\0{name}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def effective_overlap(tile: int, overlap: int, latent_factor: int) -> int:
    """The overlap actually used: at most half a tile (rounded down to the latent factor)."""
    return min(overlap, (tile // 2) // latent_factor * latent_factor)


def _pad_to(x: torch.Tensor, multiple: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    return F.pad(x, (0, pw, 0, ph), mode="replicate") if (ph or pw) else x


def start_latents(net, control: torch.Tensor, generators: list[torch.Generator], scheduler, start_point: str,
                  start_step: int, tile: int, tile_overlap: int) -> torch.Tensor:
    """Initial latents (B,C,H/f,W/f) for control images (B,3,H,W) in [0,1] (float32, on the control's device).

    "noise": N(0, I) × init_noise_sigma. "lr" (SeeSR's `--start_point lr`): z_lr = scaling × (mean + std·n) of
    the VAE posterior of the control image, then `add_noise(z_lr, ε, start_step)`. ε and n are drawn in that
    order from each image's generator, so the noise of a "noise" start equals the ε of an "lr" start.
    """
    f = net.latent_factor
    shape = (net.unet.config.in_channels, control.shape[-2] // f, control.shape[-1] // f)
    noise = torch.cat([torch.randn((1, *shape), generator=g) for g in generators])
    if start_point == "noise":
        return (noise * scheduler.init_noise_sigma).to(control.device)
    if start_point != "lr":
        raise ValueError(f"unknown start point {start_point!r}")
    with vae_tiling(net.vae, control.shape[-2:], tile, tile_overlap, f):
        dist = net.vae.encode((control * 2 - 1).to(net.vae.dtype)).latent_dist
    posterior = torch.cat([torch.randn((1, *shape), generator=g) for g in generators]).to(control.device)
    z_lr = (dist.mean.float() + dist.std.float() * posterior) * net.vae.config.scaling_factor
    t = torch.full((control.shape[0],), int(start_step), dtype=torch.long, device=control.device)
    return scheduler.add_noise(z_lr, noise.to(control.device), t)


@contextlib.contextmanager
def vae_tiling(vae, hw: tuple[int, int], tile: int, tile_overlap: int, latent_factor: int) -> Iterator[None]:
    """diffusers' tiled VAE encode/decode inside the block when the image (H, W) exceeds `tile` pixels."""
    on = hw[0] > tile or hw[1] > tile
    if on:
        vae.tile_sample_min_size, vae.tile_latent_min_size = tile, tile // latent_factor
        vae.tile_overlap_factor = tile_overlap / tile
        vae.enable_tiling()
    try:
        yield
    finally:
        if on:
            vae.disable_tiling()


@torch.no_grad()
def super_resolve(net, lr: torch.Tensor, scale: int, seeds: list[int], steps: int, tile: int, tile_overlap: int,
                  color_fix: str = "none", start_point: str = "lr", start_step: int = 999) -> torch.Tensor:
    """lr (B,3,h,w) in [0,1] on the net's device -> SR (B,3,s·h,s·w) float32 in [0,1]."""

    if len(seeds) != lr.shape[0]:
        raise ValueError("one seed per image")
    if lr.device.type == "cpu":
        torch.set_flush_denormal(True)  # process-wide; subnormal activations slow CPU kernels ~10x
    multiple = net.cfg.preset.pixel_multiple
    if tile % multiple or tile_overlap % net.latent_factor:
        raise UserError(f"sample.tile ({tile}) must be a multiple of {multiple} and tile_overlap of {net.latent_factor}")
    tile_overlap = effective_overlap(tile, tile_overlap, net.latent_factor)
    dtype = net.unet.dtype
    b, _, h, w = lr.shape
    out_h, out_w = h * scale, w * scale
    control = _pad_to(upsample_lr(lr.float(), (out_h, out_w)), multiple)
    f = net.latent_factor
    lat_h, lat_w = control.shape[-2] // f, control.shape[-1] // f
    boxes = tile_boxes(lat_h, lat_w, tile // f, tile_overlap // f)
    controls = [control[..., y0 * f : y1 * f, x0 * f : x1 * f].to(dtype) for y0, y1, x0, x1 in boxes]
    ehs = [net.condition(c) for c in controls]
    weights = [tile_weight(y1 - y0, x1 - x0, control.device, torch.float32) for y0, y1, x0, x1 in boxes]

    generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
    scheduler = scheduler_from_config(net.scheduler_config)
    scheduler.set_timesteps(steps, device=control.device)
    latents = start_latents(net, control, generators, scheduler, start_point, start_step, tile, tile_overlap).to(dtype)
    for t in scheduler.timesteps:
        if start_point == "lr" and int(t) > start_step:  # SeeSR: "pass, if the timestep is larger than start_steps"
            continue
        z = scheduler.scale_model_input(latents, t)
        tt = t.expand(b)
        if len(boxes) == 1:
            pred = net.denoise(z, tt, controls[0], ehs[0])[0].float()
        else:
            pred = torch.zeros_like(latents, dtype=torch.float32)
            wsum = torch.zeros((1, 1, lat_h, lat_w), device=control.device)
            for (y0, y1, x0, x1), c, e, wt in zip(boxes, controls, ehs, weights):
                p = net.denoise(z[..., y0:y1, x0:x1].contiguous(), tt, c, e)[0].float()
                pred[..., y0:y1, x0:x1] += p * wt
                wsum[..., y0:y1, x0:x1] += wt
            pred = pred / wsum
        latents = scheduler.step(pred.to(dtype), t, latents, generator=generators).prev_sample
    with vae_tiling(net.vae, control.shape[-2:], tile, tile_overlap, f):
        image = net.decode(latents)
    image = image[..., :out_h, :out_w]
    return apply_color_fix(image, control[..., :out_h, :out_w].float(), color_fix)


def to_uint8(img: torch.Tensor) -> np.ndarray:
    """(3,H,W) in [0,1] -> (H,W,3) uint8."""
    return (img.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()


def load_trained(run_dir: Path, device: str = "cpu", precision: str = "fp32", pretrained: str | None = None,
                 dino: str | None = None, weights: Path | None = None):
    """Build the net of a finished run (its config.json) and load its trained weights; eval mode, no LPIPS.

    `pretrained` / `dino` override the base-weight locations recorded in the run (folders move).
    """
    from dataclasses import replace

    from safetensors import safe_open


    run_dir = Path(run_dir)
    cfg_path = run_dir / "config.json"
    weights = Path(weights) if weights else run_dir / "model.safetensors"
    if not cfg_path.is_file():
        raise UserError(f"{cfg_path}: not found; pass the folder written by `lgcaa train --out`")
    if not weights.is_file():
        raise UserError(f"{weights}: trained weights not found; finish (or resume) `lgcaa train` for {run_dir} first")
    cfg = config_from_dict(json.loads(cfg_path.read_text()), where=str(cfg_path))
    model_cfg = cfg.model
    if pretrained is not None:
        model_cfg = replace(model_cfg, pretrained=pretrained)
    if dino is not None:
        model_cfg = replace(model_cfg, dino=dino)
    net = build_network(model_cfg, with_losses=False, calibrate=False)  # the trained weights replace it
    with safe_open(str(weights), "pt") as fh:
        meta = fh.metadata() or {}
    expected = meta.get("base_fingerprint")
    if expected and expected != fingerprint(net.frozen_state()):
        raise UserError(
            f"{weights}: the frozen base weights built here differ from those it was trained with "
            "(library versions changed the seeded init?); retrain the run"
        )
    load_trainable(net, weights)
    net.eval()
    net.to(device=device, dtype=PRECISION_DTYPES[precision])
    return net, cfg


def sample_folder(net, cfg: LGCAAConfig, lr_dir: Path, out_dir: Path, sample: SampleConfig | None = None,
                  scale: int | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """SR every PNG of `lr_dir` into `out_dir` (same names), atomically (temp folder, then rename).

    Writes `out_dir/sample.json` with the settings, per-image seeds and timings; returns that dict.
    """

    sample = sample or cfg.sample
    scale = scale or cfg.train.scale
    tile = sample.tile or cfg.train.hr_size
    files = list_images(lr_dir)
    if not files:
        raise UserError(f"{lr_dir}: no PNG images to super-resolve")
    device = next(net.unet.parameters()).device
    seeds = {p.name: image_seed(sample.seed, p.name) for p in files}
    by_size: dict[tuple[int, ...], list[tuple[Path, np.ndarray]]] = {}
    for p in files:
        img = read_rgb(p)
        by_size.setdefault(img.shape, []).append((p, img))
    start = time.perf_counter()
    label = f"sample {(extra or {}).get('method', 'lgcaa')} on {lr_dir} ({sample.steps} steps)"
    with atomic_dir(out_dir, "sample.json") as tmp, Progress(label, len(files), "images") as bar:
        for group in by_size.values():
            for i in range(0, len(group), sample.batch_size):
                chunk = group[i : i + sample.batch_size]
                lr = torch.stack([torch.from_numpy(img).permute(2, 0, 1).float() / 255 for _, img in chunk]).to(device)
                sr = super_resolve(net, lr, scale, [seeds[p.name] for p, _ in chunk], sample.steps, tile,
                                   sample.tile_overlap, sample.color_fix, sample.start_point, sample.start_step)
                for (p, _), img in zip(chunk, sr):
                    write_png(tmp / p.name, to_uint8(img))
                bar.update(len(chunk))
        elapsed = time.perf_counter() - start
        record = {
            "images": len(files),
            "seconds": round(elapsed, 3),
            "seconds_per_image": round(elapsed / len(files), 4),
            "steps": sample.steps,
            "scheduler": "DDPMScheduler",
            "prediction_type": net.prediction_type,
            "seed": sample.seed,
            "seeds": seeds,
            "color_fix": sample.color_fix,
            "start_point": sample.start_point,
            "start_step": sample.start_step,
            "tile": tile,
            "tile_overlap": effective_overlap(tile, sample.tile_overlap, net.latent_factor),
            "batch_size": sample.batch_size,
            "precision": sample.precision,
            "cfg_scale": None,
            "scale": scale,
            "device": str(device),
            "torch": torch.__version__,
            "model": cfg.to_dict()["model"],
            "lpips_backbone": cfg.model.lpips_backbone,
            **(extra or {}),
        }
        write_json(tmp / "sample.json", record)
    return record
