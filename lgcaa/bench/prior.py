"""`lgcaa bench prior`: how far step 0 of each LGCAA variant starts from the pretrained model.

For each attention variant and each `model.norm_init` reading, the network is built on the same backbone
(`--pretrained`: SD2-base weights; without it the preset at random init, which has no prior to keep), its
post-merge LayerNorms set as that reading says (`lgcaa.model.calibrate.calibrate_post_norms` on the held-out
photos for "pretrained"; LayerNorm's default for "unit"), and its prediction MSE (ε or v, the training target)
is measured on held-out pairs — the packaged mini test photos, which calibration never sees: centre crops at
`--size`, LR by ×4 area downscaling — at fixed noise and timesteps (`lgcaa.model.calibrate.step0_mse`).
Printed: each MSE and its ratio to `standard`'s (1 = the pretrained model's own step-0 error).

  lgcaa bench prior --arch tiny --pretrained results/mini/backbone
  lgcaa bench prior --arch sd2-base --pretrained /path/to/stable-diffusion-2-base --dino /path/to/dino-vitb16 --device cuda
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from lgcaa.model.variants import ATTENTION_VARIANTS, NORM_INITS

MEASURE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle_left", "china", "flower", "grace_hopper")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--arch", choices=["tiny", "sd2-base"], default="tiny", help="backbone preset")
    parser.add_argument("--pretrained", help="backbone folder/hub id (SD2-base, or a prepared tiny backbone); "
                        "default: random init (no prior to keep)")
    parser.add_argument("--dino", help="DINO ViT folder/hub id (default: random init)")
    parser.add_argument("--device", default="cpu", help="torch device (cpu, cuda, ...)")
    parser.add_argument("--size", type=int, help="HR side of calibration and measurement crops (default: the "
                        "arch's training size)")
    parser.add_argument("--window", type=int, default=8, help="local window (latent tokens)")
    parser.add_argument("--variants", default=",".join(n for n in ATTENTION_VARIANTS if n != "standard"),
                        help="comma-separated LGCAA variants compared with standard")
    parser.add_argument("--norm-inits", default=",".join(NORM_INITS), help="comma-separated model.norm_init values")
    parser.add_argument("--timesteps", default="100,300,500,700,900", help="comma-separated DDPM timesteps")
    parser.add_argument("--seed", type=int, default=0, help="seed of the measurement noise")


def measure(arch: str = "tiny", pretrained: str | None = None, dino: str | None = None, device: str = "cpu",
            size: int | None = None, window: int = 8, variants: tuple[str, ...] = ("lgcaa",),
            norm_inits: tuple[str, ...] = NORM_INITS, timesteps: tuple[int, ...] = (100, 300, 500, 700, 900),
            seed: int = 0) -> dict[str, Any]:
    import torch

    from lgcaa.model.calibrate import calibrate_post_norms, centre_crops, step0_mse
    from lgcaa.model.config import ModelConfig
    from lgcaa.model.network import build_network
    from lgcaa.model.presets import ARCH_PRESETS

    dev = torch.device(device)
    size = size or ARCH_PRESETS[arch].train_size
    hr = centre_crops(MEASURE_PHOTOS, size)
    lr = torch.nn.functional.interpolate(hr, scale_factor=0.25, mode="area")
    t0 = time.perf_counter()

    def mse(variant: str, norm_init: str) -> float:
        cfg = ModelConfig(arch=arch, pretrained=pretrained, dino=dino, attention=variant, window=window,
                          dpacm="none", norm_init=norm_init)
        with torch.device(dev):
            net = build_network(cfg, with_losses=False, calibrate=False)
        net = net.to(dev)
        if norm_init == "pretrained":
            calibrate_post_norms(net, size, seed=cfg.init_seed)
        value = step0_mse(net, hr, lr, timesteps, seed)
        del net
        return value

    standard = mse("standard", "unit")
    rows = {}
    for variant in variants:
        for norm_init in norm_inits:
            value = mse(variant, norm_init)
            rows[f"{variant}|{norm_init}"] = {"mse": round(value, 6), "ratio_vs_standard": round(value / standard, 4)}
    return {
        "bench": "prior",
        "arch": arch,
        "weights": pretrained or "random init",
        "dino": dino or "random init",
        "device": str(dev) if dev.type != "cuda" else torch.cuda.get_device_name(dev),
        "size": size,
        "photos": list(MEASURE_PHOTOS),
        "timesteps": list(timesteps),
        "standard_mse": round(standard, 6),
        "variants": rows,
        "ratio": {k: v["ratio_vs_standard"] for k, v in rows.items()},
        "seconds": round(time.perf_counter() - t0, 1),
        "note": "step-0 prediction MSE (training target) on held-out photos; ratio 1 = the pretrained model's own",
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    variants = tuple(v.strip() for v in args.variants.split(",") if v.strip())
    norm_inits = tuple(v.strip() for v in args.norm_inits.split(",") if v.strip())
    timesteps = tuple(int(t) for t in args.timesteps.split(",") if t.strip())
    return measure(args.arch, args.pretrained, args.dino, args.device, args.size, args.window, variants, norm_inits,
                   timesteps, args.seed)
