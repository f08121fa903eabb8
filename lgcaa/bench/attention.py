"""`lgcaa bench attention`: LGCAA vs diffusers' AttnProcessor2_0, forward+backward time and peak memory.

Both processors run on the same diffusers `Attention` layer shaped like SD2-base's first-level self-
attention (320 channels, 5 heads of 64) on 4096 tokens (a 64×64 latent, i.e. a 512² image), in the same
process, alternating; the time ratio uses the minimum over repeats (the median is reported too).
Goals (issue 16): LGCAA ≤ 1.5× the baseline in time and ≤ 1.2× in peak memory.

`--modes` measures several LGCAA settings in the same run (each against the same baseline), e.g. the
activation-checkpointing trade-off: `--modes checkpointing,no-checkpointing,compile,compile-no-checkpointing`.
The first mode fills the top-level `lgcaa` / `ratio` keys. Each mode's output is also checked against the
reference path (`lgcaa.model.attention.reference_forward`, float32 on the first batch item): `numerics`.

GPU: lgcaa bench attention --device cuda --dtype bf16 --batch 8 --tokens 1024 --channels 640 --heads 10
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from collections.abc import Callable
from typing import Any

GOAL_TIME = 1.5
GOAL_MEMORY = 1.2
# mode -> (activation checkpointing, torch.compile)
MODES: dict[str, tuple[bool, bool]] = {
    "checkpointing": (True, False),
    "no-checkpointing": (False, False),
    "compile": (True, True),
    "compile-no-checkpointing": (False, True),
}
# |fast - reference| / max|reference| allowed in the bench's dtype (float32 reference); fp32 uses the tests' bound
NUMERICS_RTOL = {"fp32": 1e-4, "bf16": 3e-2, "fp16": 5e-3}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="cpu", help="torch device (cpu, cuda, cuda:1, ...)")
    parser.add_argument("--dtype", choices=["fp32", "bf16", "fp16"], default="fp32", help="parameter/activation dtype")
    parser.add_argument("--tokens", type=int, default=4096, help="a square number (latent side²)")
    parser.add_argument("--channels", type=int, default=320, help="query width of the attention layer")
    parser.add_argument("--heads", type=int, default=5, help="attention heads (SD2-base: 64 channels each)")
    parser.add_argument("--batch", type=int, default=1, help="batch size")
    parser.add_argument("--variant", default="lgcaa", help="LGCAA variant to compare (default: lgcaa)")
    parser.add_argument("--window", type=int, default=8, help="local window side in tokens")
    parser.add_argument("--mlp-ratio", type=float, default=1.0, help="hidden width of the LGCAA MLP / channels")
    parser.add_argument("--modes", default="checkpointing",
                        help=f"comma-separated LGCAA settings to measure: {', '.join(MODES)}")
    parser.add_argument("--repeat", type=int, default=7, help="timed repeats per processor")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs first (compile happens here)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the layer's weights and the input")


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


def _numerics(layer, x, side: int, dtype: str) -> dict[str, Any]:
    """Fast path in the bench dtype vs the reference path in float32, first batch item, forward only."""
    import torch

    from lgcaa.model.attention import reference_forward

    ref_layer = copy.deepcopy(layer).float()
    ref_layer.processor.compile = False
    with torch.no_grad():
        fast = layer(x[:1], spatial_hw=(side, side)).float()
        ref = reference_forward(ref_layer.processor, ref_layer, x[:1].float(), (side, side))
    err = float((fast - ref).abs().max())
    scale = float(ref.abs().max())
    rel = err / max(scale, 1e-12)
    return {"max_abs_diff": float(f"{err:.3g}"), "max_abs_reference": float(f"{scale:.4g}"),
            "relative": float(f"{rel:.3g}"), "rtol": NUMERICS_RTOL[dtype], "ok": rel <= NUMERICS_RTOL[dtype]}


def measure(device: str = "cpu", dtype: str = "fp32", tokens: int = 4096, channels: int = 320, heads: int = 5,
            batch: int = 1, variant: str = "lgcaa", window: int = 8, mlp_ratio: float = 1.0, repeat: int = 7,
            warmup: int = 2, seed: int = 0, modes: tuple[str, ...] = ("checkpointing",)) -> dict[str, Any]:
    import torch

    from lgcaa.compat import import_diffusers

    diffusers = import_diffusers()
    side = _grid_side(tokens, modes)
    dev = torch.device(device)
    torch_dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[dtype]
    if dev.type == "cpu":
        torch.set_flush_denormal(True)
    torch.manual_seed(seed)
    layers = _layers(channels, heads, variant, window, mlp_ratio, modes)
    for layer in layers.values():
        layer.to(dev, torch_dtype)
    x = torch.randn(batch, tokens, channels, device=dev, dtype=torch_dtype)
    runs = {name: _fwd_bwd(layer, x, {} if name == "baseline" else {"spatial_hw": (side, side)})
            for name, layer in layers.items()}
    times = _alternating_times(runs, dev, repeat, warmup)
    result, method = _summaries(runs, times, layers, dev)
    b = result["baseline"]
    per_mode = {}
    for mode in modes:
        r = result[mode]
        r["processor"] = f"LGCAAProcessor({variant}, window={window}, mlp_ratio={mlp_ratio}, mode={mode})"
        r["ratio"] = _ratios(r, b)
        r["numerics"] = _numerics(layers[mode], x, side, dtype)
        per_mode[mode] = r
    first = per_mode[modes[0]]
    b["processor"] = "diffusers AttnProcessor2_0"
    return {
        "bench": "attention",
        "shape": {"batch": batch, "tokens": tokens, "channels": channels, "heads": heads},
        "dtype": dtype,
        "device": str(dev) if dev.type != "cuda" else torch.cuda.get_device_name(dev),
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "threads": torch.get_num_threads(),
        "repeat": repeat,
        "baseline": b,
        "lgcaa": first,
        "modes": per_mode,
        "ratio": first["ratio"],
        "goal": {"time": GOAL_TIME, "memory": GOAL_MEMORY},
        "meets_goal": {"time": first["ratio"]["time"] <= GOAL_TIME, "memory": first["ratio"]["memory"] <= GOAL_MEMORY},
        "over_goal_by": {"time": round(max(0.0, first["ratio"]["time"] / GOAL_TIME - 1), 3),
                         "memory": round(max(0.0, first["ratio"]["memory"] / GOAL_MEMORY - 1), 3)},
        "memory_method": method,
    }


def _grid_side(tokens: int, modes: tuple[str, ...]) -> int:
    """Side of the square token grid; ValueError for a non-square `tokens` or an unknown or empty `modes`."""
    import math

    side = math.isqrt(tokens)
    if side * side != tokens:
        raise ValueError("--tokens must be a square number")
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise ValueError(f"--modes: unknown {unknown}; choose from {', '.join(MODES)}")
    return side


def _layers(channels: int, heads: int, variant: str, window: int, mlp_ratio: float,
            modes: tuple[str, ...]) -> dict[str, Any]:
    """{"baseline": an SD2-like `Attention` layer with AttnProcessor2_0, mode: a copy of it (same weights) with
    an LGCAAProcessor set up for that mode}, built on the CPU in float32 from the current torch seed."""
    from diffusers.models.attention_processor import Attention, AttnProcessor2_0

    from lgcaa.model.attention import LGCAAProcessor
    from lgcaa.model.variants import get_variant

    base = Attention(query_dim=channels, heads=heads, dim_head=channels // heads, bias=False, out_bias=True)
    base.set_processor(AttnProcessor2_0())
    layers: dict[str, Any] = {"baseline": base}
    for mode in modes:
        ckpt, comp = MODES[mode]
        layer = copy.deepcopy(base)
        layer.set_processor(LGCAAProcessor(layer, get_variant(variant), window=window, mlp_ratio=mlp_ratio,
                                           checkpointing=ckpt, compile=comp))
        layers[mode] = layer
    return layers


def _fwd_bwd(layer, x, kwargs: dict[str, Any]) -> Callable[[], None]:
    """One forward+backward of `layer` on x (B, N, C) with a mean-square loss, gradients cleared after."""
    def run() -> None:
        inp = x.detach().requires_grad_(True)
        out = layer(inp, **kwargs)
        out.float().square().mean().backward()
        layer.zero_grad(set_to_none=True)
    return run


def _alternating_times(runs: dict[str, Callable[[], None]], dev, repeat: int, warmup: int) -> dict[str, list[float]]:
    """{name: seconds of each repeat}; the runs alternate so they share any drift in machine load, each warmed
    up `warmup` times before its first timed run."""
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(max(1, repeat)):
        for name, fn in runs.items():
            times[name] += _time(fn, dev, 1, warmup if not times[name] else 0)
    return times


def _summaries(runs: dict[str, Callable[[], None]], times: dict[str, list[float]], layers: dict[str, Any],
               dev) -> tuple[dict[str, dict[str, Any]], str]:
    """({name: median/min milliseconds, peak memory (MB) of one more run, parameter count}, memory method)."""
    from lgcaa.model.memory import peak_bytes

    result: dict[str, Any] = {}
    method = ""
    for name, fn in runs.items():
        mem, method = peak_bytes(fn, dev)
        result[name] = {
            "fwd_bwd_ms_median": round(statistics.median(times[name]) * 1e3, 3),
            "fwd_bwd_ms_min": round(min(times[name]) * 1e3, 3),
            "peak_mb": round(mem / 2**20, 3),
            "parameters": sum(p.numel() for p in layers[name].parameters()),
        }
    return result, method


def _ratios(r: dict[str, Any], b: dict[str, Any]) -> dict[str, float]:
    """LGCAA / baseline: time (min over repeats, the decision value: timeit's advice, other load only ever adds
    time), time of the medians, peak memory."""
    return {"time": round(r["fwd_bwd_ms_min"] / b["fwd_bwd_ms_min"], 3),
            "time_median": round(r["fwd_bwd_ms_median"] / b["fwd_bwd_ms_median"], 3),
            "memory": round(r["peak_mb"] / max(b["peak_mb"], 1e-9), 3)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    return measure(args.device, args.dtype, args.tokens, args.channels, args.heads, args.batch, args.variant,
                   args.window, args.mlp_ratio, args.repeat, args.warmup, args.seed, modes)
