"""`lgcaa bench attention`: LGCAA vs diffusers' AttnProcessor2_0, forward+backward time and peak memory.

Both processors run on the same diffusers `Attention` layer shaped like SD2-base's first-level self-
attention (320 channels, 5 heads of 64) on 4096 tokens (a 64×64 latent, i.e. a 512² image), in the same
process, alternating; the time ratio uses the minimum over repeats (the median is reported too). Goal: LGCAA ≤ 1.5× the baseline in both time and memory.
GPU: lgcaa bench attention --device cuda --dtype bf16
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from collections.abc import Callable
from typing import Any

GOAL = 1.5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", choices=["fp32", "bf16", "fp16"], default="fp32")
    parser.add_argument("--tokens", type=int, default=4096, help="a square number (latent side²)")
    parser.add_argument("--channels", type=int, default=320)
    parser.add_argument("--heads", type=int, default=5)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--variant", default="lgcaa", help="LGCAA variant to compare (default: lgcaa)")
    parser.add_argument("--window", type=int, default=8)
    parser.add_argument("--mlp-ratio", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)


def _time(fn: Callable[[], None], device, repeat: int, warmup: int) -> list[float]:
    import torch

    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return times


def measure(device: str = "cpu", dtype: str = "fp32", tokens: int = 4096, channels: int = 320, heads: int = 5,
            batch: int = 1, variant: str = "lgcaa", window: int = 8, mlp_ratio: float = 1.0, repeat: int = 7,
            warmup: int = 2, seed: int = 0) -> dict[str, Any]:
    import math

    import diffusers
    import torch
    from diffusers.models.attention_processor import Attention, AttnProcessor2_0

    from lgcaa.model.attention import ATTENTION_VARIANTS, LGCAAProcessor
    from lgcaa.model.memory import peak_bytes

    side = math.isqrt(tokens)
    if side * side != tokens:
        raise ValueError("--tokens must be a square number")
    dev = torch.device(device)
    torch_dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[dtype]
    if dev.type == "cpu":
        torch.set_flush_denormal(True)
    torch.manual_seed(seed)
    base = Attention(query_dim=channels, heads=heads, dim_head=channels // heads, bias=False, out_bias=True)
    base.set_processor(AttnProcessor2_0())
    ours = copy.deepcopy(base)
    ours.set_processor(LGCAAProcessor(ours, ATTENTION_VARIANTS[variant], window=window, mlp_ratio=mlp_ratio))
    base.to(dev, torch_dtype)
    ours.to(dev, torch_dtype)
    x = torch.randn(batch, tokens, channels, device=dev, dtype=torch_dtype)

    def step(layer, kwargs) -> Callable[[], None]:
        def run() -> None:
            inp = x.detach().requires_grad_(True)
            out = layer(inp, **kwargs)
            out.float().square().mean().backward()
            layer.zero_grad(set_to_none=True)
        return run

    runs = {"baseline": step(base, {}), "lgcaa": step(ours, {"spatial_hw": (side, side)})}
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(max(1, repeat)):  # alternate to share any drift in machine load
        for name, fn in runs.items():
            times[name] += _time(fn, dev, 1, warmup if not times[name] else 0)
    result: dict[str, Any] = {}
    method = ""
    for name, fn in runs.items():
        mem, method = peak_bytes(fn, dev)
        result[name] = {
            "fwd_bwd_ms_median": round(statistics.median(times[name]) * 1e3, 3),
            "fwd_bwd_ms_min": round(min(times[name]) * 1e3, 3),
            "peak_mb": round(mem / 2**20, 3),
            "parameters": sum(p.numel() for p in (base if name == "baseline" else ours).parameters()),
        }
    result["baseline"]["processor"] = "diffusers AttnProcessor2_0"
    result["lgcaa"]["processor"] = f"LGCAAProcessor({variant}, window={window}, mlp_ratio={mlp_ratio})"
    # min over repeats is the decision value (timeit's advice: other load only ever adds time)
    ratio_t = result["lgcaa"]["fwd_bwd_ms_min"] / result["baseline"]["fwd_bwd_ms_min"]
    ratio_t_median = result["lgcaa"]["fwd_bwd_ms_median"] / result["baseline"]["fwd_bwd_ms_median"]
    ratio_m = result["lgcaa"]["peak_mb"] / max(result["baseline"]["peak_mb"], 1e-9)
    return {
        "bench": "attention",
        "shape": {"batch": batch, "tokens": tokens, "channels": channels, "heads": heads},
        "dtype": dtype,
        "device": str(dev) if dev.type != "cuda" else torch.cuda.get_device_name(dev),
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "threads": torch.get_num_threads(),
        "repeat": repeat,
        **result,
        "ratio": {"time": round(ratio_t, 3), "time_median": round(ratio_t_median, 3), "memory": round(ratio_m, 3)},
        "goal": GOAL,
        "meets_goal": {"time": ratio_t <= GOAL, "memory": ratio_m <= GOAL},
        "memory_method": method,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    return measure(args.device, args.dtype, args.tokens, args.channels, args.heads, args.batch, args.variant,
                   args.window, args.mlp_ratio, args.repeat, args.warmup, args.seed)
