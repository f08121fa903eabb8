"""`lgcaa bench activations`: magnitudes of LGCAA's stage outputs on real photos -> the clamp bound.

The model (random init, or `--pretrained` SD2-base) denoises noisy latents of real photos (the packaged
offline photos, centre square crops resized to the training size) at several timesteps, without the clamp
(bound = inf), and the capture hook of every LGCAA layer records |value| of the local stage's output (Z),
the global stage's output (G, what the clamp acts on) and the processor's output (Y). Printed per layer and
over all layers: percentiles p50 / p99 / p99.9 / p99.99 and the max of |value|, and

    recommended_clamp = the smallest power of two >= margin * max |G| over all layers, photos and timesteps

i.e. the bound that never touches the global stage's values on this measurement (with a `margin`x headroom)
and cuts anything growing beyond that: "abnormal growth" (§III-B), Inf from overflow (§III-B1 "to mitigate
potential NaN values"). The magnitudes depend on the weights: a bound for SD2-base must come from a run with
`--pretrained`. Percentiles come from a strided subsample of at most 65,536 values per layer and call; the
max is exact.

  lgcaa bench activations --arch tiny
  lgcaa bench activations --arch sd2-base --pretrained /path/to/stable-diffusion-2-base --device cuda
"""

from __future__ import annotations

import argparse
import math
import time
from collections import defaultdict
from typing import Any

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle_left", "china", "flower", "grace_hopper")
QUANTILES = {"p50": 0.5, "p99": 0.99, "p99.9": 0.999, "p99.99": 0.9999}
SAMPLE_PER_CALL = 65536


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--arch", choices=["tiny", "sd2-base"], default="tiny", help="backbone preset")
    parser.add_argument("--pretrained", help="SD2-base folder/hub id (default: random init)")
    parser.add_argument("--dino", help="DINO ViT folder/hub id (default: random init)")
    parser.add_argument("--device", default="cpu", help="torch device (cpu, cuda, ...)")
    parser.add_argument("--precision", choices=["fp32", "bf16", "fp16"], default="fp32", help="model dtype")
    parser.add_argument("--photos", default=",".join(PHOTOS), help="comma-separated packaged photo names")
    parser.add_argument("--size", type=int, help="HR side (default: the arch's training size)")
    parser.add_argument("--timesteps", default="50,250,500,750,950", help="comma-separated DDPM timesteps")
    parser.add_argument("--variant", default="lgcaa", help="LGCAA variant whose stages are measured")
    parser.add_argument("--margin", type=float, default=2.0, help="headroom factor over the measured max |G|")
    parser.add_argument("--seed", type=int, default=0, help="seed of the latent noise")


class Recorder:
    """Capture hook: per (layer, stage) a strided subsample of |values| and the exact max."""

    def __init__(self) -> None:
        self.samples: dict[tuple[str, str], list] = defaultdict(list)
        self.maxima: dict[tuple[str, str], float] = defaultdict(float)
        self.nonfinite: dict[tuple[str, str], int] = defaultdict(int)

    def __call__(self, layer: str, stage: str, record: dict[str, Any]) -> None:
        import torch

        v = record["output"].detach().float().abs().flatten()
        finite = torch.isfinite(v)
        self.nonfinite[(layer, stage)] += int((~finite).sum())
        v = v[finite]
        key = (layer, stage)
        self.maxima[key] = max(self.maxima[key], float(v.max()) if v.numel() else 0.0)
        stride = max(1, v.numel() // SAMPLE_PER_CALL)
        self.samples[key].append(v[::stride].cpu())

    def summary(self, keys) -> dict[str, float]:
        import torch

        v = torch.cat([t for k in keys for t in self.samples[k]]).double()
        q = torch.quantile(v, torch.tensor(list(QUANTILES.values()), dtype=torch.float64))
        out = {name: float(f"{x:.4g}") for name, x in zip(QUANTILES, q.tolist())}
        out["max"] = float(f"{max(self.maxima[k] for k in keys):.4g}")
        out["nonfinite"] = sum(self.nonfinite[k] for k in keys)
        return out


def recommended_clamp(max_abs: float, margin: float) -> float:
    """Smallest power of two >= margin * max_abs (a round, recordable number)."""
    return float(2.0 ** math.ceil(math.log2(max(margin * max_abs, 1e-30))))


def measure(arch: str = "tiny", pretrained: str | None = None, dino: str | None = None, device: str = "cpu",
            precision: str = "fp32", photos: tuple[str, ...] = PHOTOS, size: int | None = None,
            timesteps: tuple[int, ...] = (50, 250, 500, 750, 950), variant: str = "lgcaa", margin: float = 2.0,
            seed: int = 0) -> dict[str, Any]:
    import torch

    from lgcaa.model.attention import set_capture
    from lgcaa.model.calibrate import centre_crops
    from lgcaa.model.config import ModelConfig
    from lgcaa.model.network import build_network, upsample_lr
    from lgcaa.model.presets import ARCH_PRESETS
    from lgcaa.model.sampler import PRECISION_DTYPES

    dev = torch.device(device)
    dtype = PRECISION_DTYPES[precision]
    size = size or ARCH_PRESETS[arch].train_size
    cfg = ModelConfig(arch=arch, pretrained=pretrained, dino=dino, attention=variant, clamp=float("inf"),
                      dpacm="none")
    t0 = time.perf_counter()
    with torch.device(dev):
        net = build_network(cfg, with_losses=False)
    net = net.eval().to(device=dev, dtype=dtype)
    recorder = Recorder()
    n_layers = set_capture(net.unet, recorder)
    hr = centre_crops(list(photos), size).to(dev)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        control = upsample_lr(torch.nn.functional.interpolate(hr, scale_factor=0.25, mode="area"), tuple(hr.shape[-2:]))
        ehs = net.condition(control.to(dtype))
        for i in range(hr.shape[0]):  # one photo at a time: bounded memory at SD2 scale on small devices
            f = net.latent_factor
            latent_noise = torch.randn((1, 4, size // f, size // f), generator=gen).to(dev)
            z0 = net.encode(hr[i:i + 1].to(dtype), latent_noise.to(dtype))
            for t in timesteps:
                noise = torch.randn(z0.shape, generator=gen).to(dev, dtype)
                tt = torch.tensor([t], device=dev)
                z_t = net.scheduler.add_noise(z0, noise, tt)
                net.denoise(z_t, tt, control[i:i + 1].to(dtype), ehs[i:i + 1])
    set_capture(net.unet, None)
    layers = sorted({k[0] for k in recorder.samples})
    stages = ("local", "global", "output")
    per_layer = {layer: {s: recorder.summary([(layer, s)]) for s in stages if (layer, s) in recorder.samples}
                 for layer in layers}
    overall = {s: recorder.summary([k for k in recorder.samples if k[1] == s])
               for s in stages if any(k[1] == s for k in recorder.samples)}
    g_max = overall["global"]["max"] if "global" in overall else None
    return {
        "bench": "activations",
        "arch": arch,
        "weights": pretrained or "random init",
        "dino": dino or "random init",
        "variant": variant,
        "device": str(dev) if dev.type != "cuda" else torch.cuda.get_device_name(dev),
        "precision": precision,
        "torch": torch.__version__,
        "photos": list(photos),
        "size": size,
        "timesteps": list(timesteps),
        "lgcaa_layers": n_layers,
        "seconds": round(time.perf_counter() - t0, 1),
        "abs_value": overall,
        "abs_value_by_layer": per_layer,
        "margin": margin,
        "recommended_clamp": None if g_max is None else recommended_clamp(g_max, margin),
        "note": "|values| without the clamp; percentiles over all layers, photos and timesteps (strided subsample)",
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    photos = tuple(p.strip() for p in args.photos.split(",") if p.strip())
    timesteps = tuple(int(t) for t in args.timesteps.split(",") if t.strip())
    return measure(args.arch, args.pretrained, args.dino, args.device, args.precision, photos, args.size,
                   timesteps, args.variant, args.margin, args.seed)
