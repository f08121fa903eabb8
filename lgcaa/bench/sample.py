"""`lgcaa bench sample`: time of LGCAA sampling vs plain ControlNet sampling (standard self-attention) at
equal DDPM steps, same inputs and seeds, same process. Goal: ratio ≤ 1.2.

Both models are built at random init (no download; timing does not depend on the weights) unless
--pretrained is given. CPU default: tiny arch. GPU:
  lgcaa bench sample --arch sd2-base --device cuda --precision fp16 --steps 40
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

GOAL = 1.2
# default output side: the mini test sets' HR size for tiny, the paper test sets' (StableSR) HR size for sd2-base
EVAL_SIZE = {"tiny": 256, "sd2-base": 512}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--arch", choices=["tiny", "sd2-base"], default="tiny", help="backbone preset")
    parser.add_argument("--device", default="cpu", help="torch device (cpu, cuda, ...)")
    parser.add_argument("--precision", choices=["fp32", "fp16", "bf16"], default="fp32", help="sampling dtype")
    parser.add_argument("--steps", type=int, default=40, help="DDPM steps")
    parser.add_argument("--size", type=int, help="output side in pixels (default: 256 tiny, 512 sd2-base)")
    parser.add_argument("--batch", type=int, default=1, help="images per sampling call")
    parser.add_argument("--repeat", type=int, default=3, help="timed repeats per model")
    parser.add_argument("--variant", default="lgcaa", help="attention variant compared with standard")
    parser.add_argument("--pretrained", help="SD2-base folder/hub id (default: random init)")
    parser.add_argument("--compile-attention", action="store_true", help="torch.compile the LGCAA processors")
    parser.add_argument("--tile", type=int, help="sampling tile in output pixels (default: no tiling, the output "
                        "side or the training size, whichever is larger; sample.tile)")
    parser.add_argument("--tile-overlap", type=int, default=64, help="overlap of tiles in output pixels")


def _build(arch: str, attention: str, pretrained: str | None, device, dtype, compile_attention: bool = False):
    import torch

    from lgcaa.model.config import ModelConfig
    from lgcaa.model.network import build_network

    cfg = ModelConfig(arch=arch, attention=attention, pretrained=pretrained, dpacm="none",
                      compile_attention=compile_attention)
    with torch.device(device):
        net = build_network(cfg, with_losses=False)
    return net.eval().to(device=device, dtype=dtype)


def measure(arch: str = "tiny", device: str = "cpu", precision: str = "fp32", steps: int = 40, size: int | None = None,
            batch: int = 1, repeat: int = 3, variant: str = "lgcaa", pretrained: str | None = None,
            compile_attention: bool = False, tile: int | None = None, tile_overlap: int = 64) -> dict[str, Any]:
    import gc

    import torch

    from lgcaa.model.presets import ARCH_PRESETS
    from lgcaa.model.sampler import PRECISION_DTYPES, super_resolve

    dev = torch.device(device)
    dtype = PRECISION_DTYPES[precision]
    preset = ARCH_PRESETS[arch]
    size = size or EVAL_SIZE[arch]
    scale = 4
    gen = torch.Generator().manual_seed(0)
    lr = torch.rand((batch, 3, size // scale, size // scale), generator=gen).to(dev)
    seeds = list(range(batch))
    sync = (lambda: torch.cuda.synchronize(dev)) if dev.type == "cuda" else (lambda: None)

    tile = tile or max(size, preset.train_size)
    overlap = tile_overlap if tile < size else 0
    nets = {"controlnet": _build(arch, "standard", pretrained, dev, dtype),
            "lgcaa": _build(arch, variant, pretrained, dev, dtype, compile_attention)}
    times: dict[str, list[float]] = {k: [] for k in nets}
    for name, net in nets.items():  # warm-up (kernels, allocator)
        super_resolve(net, lr, scale, seeds, 2, tile, overlap)
    for _ in range(max(1, repeat)):
        for name, net in nets.items():
            sync()
            t0 = time.perf_counter()
            super_resolve(net, lr, scale, seeds, steps, tile, overlap)
            sync()
            times[name].append(time.perf_counter() - t0)
    del nets
    gc.collect()
    ratio = min(times["lgcaa"]) / min(times["controlnet"])
    return {
        "bench": "sample",
        "arch": arch,
        "weights": pretrained or "random init",
        "device": str(dev) if dev.type != "cuda" else torch.cuda.get_device_name(dev),
        "precision": precision,
        "steps": steps,
        "output_size": size,
        "tile": tile,
        "tile_overlap": overlap,
        "batch": batch,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "controlnet_seconds": {"min": round(min(times["controlnet"]), 4), "median": round(statistics.median(times["controlnet"]), 4)},
        "lgcaa_seconds": {"min": round(min(times["lgcaa"]), 4), "median": round(statistics.median(times["lgcaa"]), 4)},
        "images_per_second": {"controlnet": round(batch / min(times["controlnet"]), 4),
                              "lgcaa": round(batch / min(times["lgcaa"]), 4)},
        "images_per_second_ratio": round(min(times["controlnet"]) / min(times["lgcaa"]), 3),
        "compile_attention": compile_attention,
        "ratio": round(ratio, 3),
        "ratio_median": round(statistics.median(times["lgcaa"]) / statistics.median(times["controlnet"]), 3),
        "goal": GOAL,
        "meets_goal": ratio <= GOAL,
        "over_goal_by": round(max(0.0, ratio / GOAL - 1), 3),
        "note": "ratio = LGCAA seconds / standard (controlnet) seconds, min over repeats; images_per_second_ratio "
                "= LGCAA images/s / standard's (= 1/ratio); both include DINO conditioning, ControlNet, UNet, DDPM "
                "and VAE decode",
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    return measure(args.arch, args.device, args.precision, args.steps, args.size, args.batch, args.repeat,
                   args.variant, args.pretrained, args.compile_attention, args.tile, args.tile_overlap)
