"""`lgcaa bench train-step`: time and peak memory of one LGCAA training step (forward, backward, Adam).

Random init (no download) with the full trainable set, DPACM losses (LPIPS with a random AlexNet trunk: the
cost is the same as with ImageNet weights) and the trainer's precision handling (autocast; frozen VAE, DINO
and LPIPS cast to the low-precision dtype). GPU, SD2-base scale at 512²:
  lgcaa bench train-step --arch sd2-base --device cuda --batch 8 --precision bf16
CPU smoke test: lgcaa bench train-step --arch tiny
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

PAPER_BATCH, PAPER_ITERS = 192, 150_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--arch", choices=["tiny", "sd2-base"], default="tiny")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=2, help="micro-batch per step")
    parser.add_argument("--precision", choices=["fp32", "bf16", "fp16"], default="fp32")
    parser.add_argument("--size", type=int, help="HR crop side (default: arch training size; 512 for sd2-base)")
    parser.add_argument("--steps", type=int, default=5, help="timed steps")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--attention", default="lgcaa")
    parser.add_argument("--dpacm", default="dpacm")
    parser.add_argument("--gradient-checkpointing", action="store_true")


def measure(arch: str = "tiny", device: str = "cpu", batch: int = 2, precision: str = "fp32", size: int | None = None,
            steps: int = 5, warmup: int = 2, attention: str = "lgcaa", dpacm: str = "dpacm",
            gradient_checkpointing: bool = False) -> dict[str, Any]:
    import contextlib

    import torch

    from lgcaa.model.config import ARCH_PRESETS, ModelConfig
    from lgcaa.model.memory import peak_bytes
    from lgcaa.model.network import build_network, count_parameters

    dev = torch.device(device)
    if dev.type == "cpu":
        torch.set_flush_denormal(True)
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    size = size or ARCH_PRESETS[arch].train_size
    cfg = ModelConfig(arch=arch, attention=attention, dpacm=dpacm, lpips_backbone="random (offline)")
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
    sync = (lambda: torch.cuda.synchronize(dev)) if dev.type == "cuda" else (lambda: None)

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

    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        sync()
        t = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t)
    if dev.type == "cuda":
        mem, method = peak_bytes(step, dev)
    else:  # MemTracker cannot follow frozen parameters; report the process peak RSS instead
        import resource

        mem, method = None, f"CPU: process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    sec = min(times)
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
        "torch": torch.__version__,
        "build_seconds": round(build_s, 2),
        "step_seconds": {"min": round(sec, 4), "median": round(statistics.median(times), 4)},
        "samples_per_second": round(batch / sec, 3),
        "peak_step_memory_mb": None if mem is None else round(mem / 2**20, 1),
        "memory_method": method + (" (above weights, optimizer state and inputs present before the step)" if mem is not None else ""),
        "parameters": counts,
        "paper_schedule_hours_single_device": round(PAPER_ITERS * PAPER_BATCH / (batch / sec) / 3600, 1),
        "note": "paper: batch 192 (reached by gradient accumulation), 150K iterations, one A100 80GB, ~24 GB used",
    }
    if dev.type == "cuda":
        out["peak_total_allocated_gb"] = round(torch.cuda.max_memory_allocated(dev) / 2**30, 2)
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    return measure(args.arch, args.device, args.batch, args.precision, args.size, args.steps, args.warmup,
                   args.attention, args.dpacm, args.gradient_checkpointing)
