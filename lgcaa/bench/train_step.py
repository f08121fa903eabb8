"""`lgcaa bench train-step`: time and peak memory of one LGCAA training step (forward, backward, Adam).

Random init (no download) with the full trainable set, DPACM losses (LPIPS with a random AlexNet trunk: the
cost is the same as with ImageNet weights) and the trainer's precision handling (autocast; frozen VAE, DINO
and LPIPS cast to the low-precision dtype). The same step with the `standard` attention variant (plain
ControlNet training of the same trainable set) runs in the same process, alternating, and
`ratio_vs_standard` = LGCAA's step time / standard's (min over steps; goal ≤ 1.25, issue 16), beside the
absolute figures of both. GPU, SD2-base scale at 512²:
  lgcaa bench train-step --arch sd2-base --device cuda --batch 8 --precision bf16
CPU smoke test: lgcaa bench train-step --arch tiny
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

PAPER_BATCH, PAPER_ITERS = 192, 150_000
GOAL_VS_STANDARD = 1.25


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--arch", choices=["tiny", "sd2-base"], default="tiny", help="backbone preset")
    parser.add_argument("--device", default="cpu", help="torch device (cpu, cuda, ...)")
    parser.add_argument("--batch", type=int, default=2, help="micro-batch per step")
    parser.add_argument("--precision", choices=["fp32", "bf16", "fp16"], default="fp32", help="autocast dtype")
    parser.add_argument("--size", type=int, help="HR crop side (default: arch training size; 512 for sd2-base)")
    parser.add_argument("--steps", type=int, default=5, help="timed steps")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    parser.add_argument("--attention", default="lgcaa", help="attention variant measured")
    parser.add_argument("--dpacm", default="dpacm", help="DPACM loss variant")
    parser.add_argument("--gradient-checkpointing", action="store_true",
                        help="diffusers' gradient checkpointing of the UNet and ControlNet blocks")
    parser.add_argument("--no-attention-checkpointing", action="store_true",
                        help="keep LGCAA's local-stage and MLP activations instead of recomputing them")
    parser.add_argument("--compile-attention", action="store_true", help="torch.compile the LGCAA processors")
    parser.add_argument("--no-standard", action="store_true",
                        help="skip the same step with the standard attention variant (no ratio_vs_standard)")


def _setup(cfg, dev, precision: str, batch: int, size: int, gradient_checkpointing: bool):
    """Build one network with its optimizer and fixed inputs; returns (net, step function, build seconds)."""
    import contextlib

    import torch

    from lgcaa.model.network import build_network

    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    t0 = time.perf_counter()
    with torch.device(dev):
        net = build_network(cfg)
    net.to(dev)  # modules copied from per-process caches (LPIPS) were built on the CPU
    build_s = time.perf_counter() - t0
    if gradient_checkpointing:
        net.unet.enable_gradient_checkpointing()
        net.controlnet.enable_gradient_checkpointing()
    for frozen in (net.vae, net.condition.vit, net.lpips):
        if frozen is not None and dtype != torch.float32:
            frozen.to(dtype=dtype)
    net.train()
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=5e-5, betas=(0.9, 0.999))
    scaler = torch.amp.GradScaler(dev.type) if precision == "fp16" else None

    def autocast():
        return torch.autocast(dev.type, dtype=dtype) if precision != "fp32" else contextlib.nullcontext()

    gen = torch.Generator().manual_seed(0)
    f = net.latent_factor
    hr = torch.rand((batch, 3, size, size), generator=gen).to(dev)
    lr = torch.rand((batch, 3, size // 4, size // 4), generator=gen).to(dev)
    latent_noise = torch.randn((batch, 4, size // f, size // f), generator=gen).to(dev)
    noise = torch.randn((batch, 4, size // f, size // f), generator=gen).to(dev)
    timesteps = torch.randint(0, 1000, (batch,), generator=gen).to(dev)

    def step() -> None:
        with autocast():
            terms = net(hr, lr, latent_noise, noise, timesteps)
        if scaler is not None:
            scaler.scale(terms["total"]).backward()
            scaler.step(opt)
            scaler.update()
        else:
            terms["total"].backward()
            opt.step()
        opt.zero_grad(set_to_none=True)

    return net, step, build_s


def measure(arch: str = "tiny", device: str = "cpu", batch: int = 2, precision: str = "fp32", size: int | None = None,
            steps: int = 5, warmup: int = 2, attention: str = "lgcaa", dpacm: str = "dpacm",
            gradient_checkpointing: bool = False, attention_checkpointing: bool = True,
            compile_attention: bool = False, compare_standard: bool = True) -> dict[str, Any]:
    import torch

    from lgcaa.model.config import ModelConfig
    from lgcaa.model.network import count_parameters
    from lgcaa.model.presets import ARCH_PRESETS

    dev = torch.device(device)
    if dev.type == "cpu":
        torch.set_flush_denormal(True)
    size = size or ARCH_PRESETS[arch].train_size
    common = {"arch": arch, "dpacm": dpacm, "lpips_backbone": "random (offline)",
              "attention_checkpointing": attention_checkpointing, "compile_attention": compile_attention}
    configs = {"lgcaa": ModelConfig(attention=attention, **common)}
    if compare_standard and attention != "standard":
        configs["standard"] = ModelConfig(attention="standard", **common)
    built = {name: _setup(cfg, dev, precision, batch, size, gradient_checkpointing) for name, cfg in configs.items()}
    times = _alternating_steps(built, dev, steps, warmup)
    mems = _peak_memories(built, dev)
    net, _step, build_s = built["lgcaa"]
    mem, method = mems["lgcaa"]
    sec = min(times["lgcaa"])
    counts = count_parameters(net)
    out: dict[str, Any] = {
        "bench": "train-step",
        "arch": arch,
        "attention": attention,
        "dpacm": dpacm,
        "device": str(dev) if dev.type != "cuda" else torch.cuda.get_device_name(dev),
        "precision": precision,
        "micro_batch": batch,
        "size": size,
        "gradient_checkpointing": gradient_checkpointing,
        "attention_checkpointing": attention_checkpointing,
        "compile_attention": compile_attention,
        "torch": torch.__version__,
        "build_seconds": round(build_s, 2),
        "step_seconds": {"min": round(sec, 4), "median": round(statistics.median(times["lgcaa"]), 4)},
        "samples_per_second": round(batch / sec, 3),
        "peak_step_memory_mb": None if mem is None else round(mem / 2**20, 1),
        "memory_method": method + (" (above weights, optimizer state and inputs present before the step)" if mem is not None else ""),
        "parameters": counts,
        "paper_schedule_hours_single_device": round(PAPER_ITERS * PAPER_BATCH / (batch / sec) / 3600, 1),
        "note": "paper: batch 192 (reached by gradient accumulation), 150K iterations, one A100 80GB, ~24 GB used",
    }
    if "standard" in times:
        out.update(_vs_standard(times, mems, batch))
    if dev.type == "cuda":
        out["peak_total_allocated_gb"] = round(torch.cuda.max_memory_allocated(dev) / 2**30, 2)
    return out


def _alternating_steps(built: dict[str, tuple], dev, steps: int, warmup: int) -> dict[str, list[float]]:
    """{name: seconds of each timed step}: `warmup` untimed rounds, then `steps` rounds in which every network
    takes one step in turn (alternating: all see the same drift in machine load)."""
    import torch

    sync = (lambda: torch.cuda.synchronize(dev)) if dev.type == "cuda" else (lambda: None)
    for _ in range(warmup):
        for _net, step, _b in built.values():
            step()
    times: dict[str, list[float]] = {name: [] for name in built}
    for _ in range(steps):
        for name, (_net, step, _b) in built.items():
            sync()
            t = time.perf_counter()
            step()
            sync()
            times[name].append(time.perf_counter() - t)
    return times


def _peak_memories(built: dict[str, tuple], dev) -> dict[str, tuple[int | None, str]]:
    """{name: (peak bytes of one more step or None, how it was measured)}. The standard network is measured
    first and then freed (its entry in `built` loses net and step), so LGCAA's total is measured alone. On CPU
    MemTracker cannot follow frozen parameters: the process peak RSS is reported instead (bytes None)."""
    import gc

    import torch

    from lgcaa.model.memory import peak_bytes

    mems: dict[str, tuple[int | None, str]] = {}
    for name in reversed(list(built)):
        net, step, _b = built[name]
        if dev.type == "cuda":
            mems[name] = peak_bytes(step, dev)
        else:
            import resource

            mems[name] = (None, f"CPU: process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        if name != "lgcaa":
            del net, step
            built[name] = (None, None, built[name][2])
            gc.collect()
            if dev.type == "cuda":
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats(dev)
    return mems


def _vs_standard(times: dict[str, list[float]], mems: dict[str, tuple[int | None, str]], batch: int) -> dict[str, Any]:
    """The standard variant's figures and LGCAA / standard ratios (time: min over steps; memory when measured)
    against the goal."""
    sec, std_sec = min(times["lgcaa"]), min(times["standard"])
    mem, std_mem = mems["lgcaa"][0], mems["standard"][0]
    out: dict[str, Any] = {"standard": {
        "step_seconds": {"min": round(std_sec, 4), "median": round(statistics.median(times["standard"]), 4)},
        "samples_per_second": round(batch / std_sec, 3),
        "peak_step_memory_mb": None if std_mem is None else round(std_mem / 2**20, 1),
    }}
    ratio = sec / std_sec
    out["ratio_vs_standard"] = round(ratio, 3)
    out["ratio_vs_standard_median"] = round(statistics.median(times["lgcaa"]) / statistics.median(times["standard"]), 3)
    if mem is not None and std_mem:
        out["memory_ratio_vs_standard"] = round(mem / std_mem, 3)
    out["goal_vs_standard"] = GOAL_VS_STANDARD
    out["meets_goal_vs_standard"] = ratio <= GOAL_VS_STANDARD
    out["over_goal_by"] = round(max(0.0, ratio / GOAL_VS_STANDARD - 1), 3)
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    return measure(args.arch, args.device, args.batch, args.precision, args.size, args.steps, args.warmup,
                   args.attention, args.dpacm, args.gradient_checkpointing, not args.no_attention_checkpointing,
                   args.compile_attention, not args.no_standard)
