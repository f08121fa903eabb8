"""Training loop with accelerate: single GPU, multi-GPU DDP, mixed precision, gradient accumulation, Adam,
atomic checkpoints every N steps, exact resume, a non-finite-loss guard and MLflow logging.

One optimizer step consumes `train.batch_size` samples = micro_batch × processes × accumulation. All
randomness of a sample (crop, degradation, VAE posterior noise, diffusion noise, timestep) is a pure
function of (train.seed, sample index), so a run resumed from its last checkpoint reproduces the loss curve
of an uninterrupted run exactly (on CPU; bit-exactness on GPU depends on the kernels), and any split of the
batch into micro-batches and processes optimises on the same samples.

Outputs in the run folder: config.json, metrics.jsonl (one line per optimizer step), checkpoints/,
model.safetensors (final trainable weights), samples/step-XXXXXXX.png (LR-up | SR | HR previews), run.json
(a job record for `lgcaa mlflow-sync`), train.json (summary; written last).
"""

from __future__ import annotations

import contextlib
import json
import math
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from lgcaa.errors import UserError
from lgcaa.model.config import LGCAAConfig

WEIGHT_DTYPES = {"no": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


class NonFiniteLossError(UserError):
    """A loss term or the gradient norm became NaN/Inf; nothing was written for this step."""


def make_accelerator(mixed_precision: str, cpu: bool):
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState

    state = AcceleratorState._shared_state
    if state and (state.get("_mixed_precision") != mixed_precision or (cpu and str(state.get("device")) != "cpu")):
        if state.get("num_processes", 1) > 1:
            raise UserError("cannot change mixed precision inside a multi-process run; start a new `accelerate launch`")
        AcceleratorState._reset_state()  # several runs in one process (mini profile, tests)
    return Accelerator(mixed_precision=mixed_precision, cpu=cpu)


def comparable_config(config: dict[str, Any]) -> dict[str, Any]:
    """Config minus the settings a resumed run may change (step budget, logging, checkpoint cadence)."""
    out = json.loads(json.dumps(config))
    for key in ("steps", "checkpoint_every", "keep_checkpoints", "log_every", "num_workers", "preview_images", "preview_steps"):
        out["train"].pop(key, None)
    out.pop("sample", None)
    return out


def check_or_write_config(run_dir: Path, cfg: LGCAAConfig) -> None:
    from lgcaa.model.checkpoint import write_config

    path = run_dir / "config.json"
    current = cfg.to_dict()
    if path.is_file():
        saved = json.loads(path.read_text())
        if comparable_config(saved) != comparable_config(current):
            raise UserError(
                f"{path}: this run folder was started with a different config; use a new --out folder "
                "(or delete the old one) to train with the new settings"
            )
    write_config(run_dir, current)


def peak_memory_mb(device: torch.device) -> dict[str, float]:
    out = {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if device.type == "cuda":
        out["peak_cuda_allocated_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return out


def preview(net, pairs, cfg: LGCAAConfig, dest: Path, count: int, steps: int, device: torch.device) -> Path | None:
    """Sample `count` held-out training crops; save a grid of rows (LR bicubic-up | SR | HR)."""
    from lgcaa.io import write_png
    from lgcaa.model.network import upsample_lr
    from lgcaa.model.sampler import super_resolve, to_uint8

    if count <= 0:
        return None
    items = [pairs.make(10**12 + i) for i in range(count)]  # indices no training step reaches
    hr = torch.stack([h for h, _ in items]).to(device)
    lr = torch.stack([lo for _, lo in items]).to(device)
    was_training = net.training
    net.eval()
    try:
        sr = super_resolve(net, lr, cfg.train.scale, list(range(count)), steps, cfg.train.hr_size, 0)
    finally:
        net.train(was_training)
    up = upsample_lr(lr.float(), tuple(hr.shape[-2:]))
    rows = [torch.cat([u, s, h], dim=-1) for u, s, h in zip(up, sr.to(device), hr)]
    write_png(dest, to_uint8(torch.cat(rows, dim=-2)))
    return dest


def train(cfg: LGCAAConfig, run_dir: str | Path, *, run_name: str | None = None, mlflow_uri: str | None = None,
          cpu: bool = False, stop_after: int | None = None, preview_count: int | None = None,
          log: Callable[[str], None] = print) -> dict[str, Any]:
    """Train (or resume) the run in `run_dir`. `stop_after`: return after that many optimizer steps as if
    killed (the checkpoints written so far stay). `preview_count` overrides train.preview_images.
    Returns the summary written to train.json."""
    from diffusers.optimization import get_scheduler

    from lgcaa.io import write_json
    from lgcaa.model.checkpoint import fingerprint, latest_checkpoint, load_checkpoint, save_checkpoint, save_weights
    from lgcaa.model.data import TrainPairs, micro_batches, sample_noise
    from lgcaa.model.network import build_network

    run_dir = Path(run_dir)
    run_name = run_name or run_dir.name
    tc = cfg.train
    accelerator = make_accelerator(tc.mixed_precision, cpu)
    world, rank, device = accelerator.num_processes, accelerator.process_index, accelerator.device
    if tc.batch_size % (tc.micro_batch * world):
        raise UserError(
            f"train.batch_size {tc.batch_size} is not a multiple of micro_batch {tc.micro_batch} x {world} processes"
        )
    accum = tc.batch_size // (tc.micro_batch * world)
    if device.type == "cpu":
        torch.set_flush_denormal(True)  # process-wide; subnormal activations slow CPU kernels ~10x
    if accelerator.is_main_process:
        run_dir.mkdir(parents=True, exist_ok=True)
        check_or_write_config(run_dir, cfg)
        for stale in (run_dir / "checkpoints").glob(".tmp-step-*"):  # left by a killed run
            import shutil

            shutil.rmtree(stale, ignore_errors=True)
    accelerator.wait_for_everyone()

    net = build_network(cfg.model)
    base_fp = fingerprint(net.frozen_state()) if cfg.model.arch == "tiny" else None
    if tc.gradient_checkpointing:
        net.unet.enable_gradient_checkpointing()
        net.controlnet.enable_gradient_checkpointing()
    weight_dtype = WEIGHT_DTYPES[tc.mixed_precision]
    for frozen in (net.vae, net.condition.vit, net.lpips):
        if frozen is not None and weight_dtype != torch.float32:
            frozen.to(dtype=weight_dtype)
    params = [p for p in net.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=tc.lr, betas=tuple(tc.betas), eps=tc.eps, weight_decay=tc.weight_decay)
    lr_scheduler = get_scheduler(tc.lr_schedule, optimizer, num_warmup_steps=tc.warmup_steps, num_training_steps=tc.steps)
    net, optimizer = accelerator.prepare(net, optimizer)
    model = accelerator.unwrap_model(net)

    done_file = run_dir / "train.json"
    if done_file.is_file() and (run_dir / "model.safetensors").is_file():
        finished = json.loads(done_file.read_text())
        if finished.get("step") == tc.steps:
            log(f"[{run_name}] already trained ({tc.steps} steps): {done_file}")
            return finished
    start = 0
    ckpt = latest_checkpoint(run_dir)
    if ckpt is not None:
        state = load_checkpoint(ckpt, model, optimizer, lr_scheduler)
        if state.get("base_fingerprint") != base_fp:
            raise UserError(f"{ckpt}: frozen base weights differ from this build; delete {run_dir} and retrain")
        start = int(state["step"])
        log(f"[{run_name}] resuming from {ckpt.name} (step {start})")
    metrics_path = run_dir / "metrics.jsonl"
    if accelerator.is_main_process:  # drop lines of steps that will be recomputed
        kept = [ln for ln in (metrics_path.read_text().splitlines() if metrics_path.exists() else [])
                if ln.strip() and json.loads(ln)["step"] <= start]
        metrics_path.write_text("".join(ln + "\n" for ln in kept))

    tracker = None
    if mlflow_uri and accelerator.is_main_process:
        from lgcaa.model.mlflow_log import MlflowRun

        tracker = MlflowRun(mlflow_uri, "lgcaa-train", run_name, run_dir,
                            {**cfg.to_dict(), "derived": {"accumulation": accum, "processes": world,
                                                          "device": str(device), "source": model.source}})

    pairs = TrainPairs(tc)
    end = tc.steps if stop_after is None else min(tc.steps, stop_after)
    batches = micro_batches(pairs, start, end, accum, world, rank, tc.num_workers)
    latent_hw = (tc.hr_size // model.latent_factor,) * 2
    channels = model.unet.config.in_channels
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    net.train()
    wall0 = time.perf_counter()
    last: dict[str, float] = {}
    for step in range(start, end):
        t0 = time.perf_counter()
        sums: dict[str, float] = {}
        for micro in range(accum):
            hr, lr, indices = next(batches)
            hr, lr = hr.to(device, non_blocking=True), lr.to(device, non_blocking=True)
            latent_noise, noise, timesteps = sample_noise(tc.seed, indices.tolist(), (channels, *latent_hw),
                                                          model.num_train_timesteps)
            sync = contextlib.nullcontext() if micro == accum - 1 else accelerator.no_sync(net)
            with sync:
                with accelerator.autocast():
                    terms = net(hr, lr, latent_noise.to(device), noise.to(device), timesteps.to(device))
                values = {k: float(v.detach()) for k, v in terms.items()}
                bad = torch.tensor(float(not all(math.isfinite(v) for v in values.values())), device=device)
                if world > 1:
                    bad = accelerator.reduce(bad, reduction="sum")
                if bad.item() > 0:
                    raise NonFiniteLossError(
                        f"{run_dir}: non-finite loss at step {step + 1} (micro-batch {micro}): {values}; stopped "
                        f"before any update or checkpoint of this step (last checkpoint: "
                        f"{latest_checkpoint(run_dir) or 'none'}); lower train.lr or use bf16 rather than fp16, "
                        "then rerun to resume"
                    )
                accelerator.backward(terms["total"] / accum)
            for k, v in values.items():
                sums[k] = sums.get(k, 0.0) + v / accum
        if world > 1:  # log the mean over the whole batch, not rank 0's share
            keys = sorted(sums)
            mean = accelerator.reduce(torch.tensor([sums[k] for k in keys], device=device, dtype=torch.float64), "mean")
            sums = dict(zip(keys, mean.tolist()))
        grad_norm = float("nan")
        if tc.grad_clip > 0:
            grad_norm = float(accelerator.clip_grad_norm_(params, tc.grad_clip))
            if not math.isfinite(grad_norm) and tc.mixed_precision != "fp16":  # fp16: the scaler skips the step
                raise NonFiniteLossError(
                    f"{run_dir}: non-finite gradient norm at step {step + 1}; stopped before the update "
                    f"(last checkpoint: {latest_checkpoint(run_dir) or 'none'}); lower train.lr, then rerun to resume"
                )
        optimizer.step()
        lr_scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        done = step + 1
        seconds = time.perf_counter() - t0
        last = {**{f"loss/{k}": v for k, v in sums.items()}, "lr": lr_scheduler.get_last_lr()[0],
                "grad_norm": grad_norm, "seconds_per_step": seconds, "samples_per_second": tc.batch_size / seconds,
                **peak_memory_mb(device)}
        if accelerator.is_main_process:
            with metrics_path.open("a") as fh:
                fh.write(json.dumps({"step": done, **last}, sort_keys=True) + "\n")
            if tracker and (done % tc.log_every == 0 or done == end):
                tracker.log_metrics({k: v for k, v in last.items() if math.isfinite(v)}, done)
            if done % tc.log_every == 0 or done == end:
                log(f"[{run_name}] step {done}/{tc.steps} loss {sums['total']:.4f} ({seconds:.2f} s/step)")
        if done % tc.checkpoint_every == 0 or done == tc.steps:
            if accelerator.is_main_process:
                save_checkpoint(run_dir, done, model, optimizer, lr_scheduler,
                                {"base_fingerprint": base_fp, "run_name": run_name}, keep=tc.keep_checkpoints)
            accelerator.wait_for_everyone()
    if end < tc.steps:  # simulated kill (tests) or partial budget
        return {"run_dir": str(run_dir), "step": end, "finished": False}

    summary: dict[str, Any] = {"run_dir": str(run_dir), "step": tc.steps, "finished": True}
    if accelerator.is_main_process:
        meta = {"base_fingerprint": base_fp or "", "source": model.source, "steps": str(tc.steps)}
        save_weights(run_dir / "model.safetensors", model.trainable_state(), metadata=meta)
        sample_png = None
        count = tc.preview_images if preview_count is None else preview_count
        if count:
            sample_png = preview(model, pairs, cfg, run_dir / "samples" / f"step-{tc.steps:07d}.png",
                                 count, tc.preview_steps, device)
        if tracker:
            if sample_png:
                tracker.log_artifact(sample_png, "samples")
            tracker.log_artifact(metrics_path)
            tracker.finish()
        from lgcaa.model.mlflow_log import flatten
        from lgcaa.model.network import count_parameters
        from lgcaa.tracking import write_record

        counts = count_parameters(model)
        summary.update({
            "seconds": round(time.perf_counter() - wall0, 3),
            "last": last,
            "accumulation": accum,
            "processes": world,
            "device": str(device),
            "prediction_type": model.prediction_type,
            "source": model.source,
            "lpips_backbone": cfg.model.lpips_backbone if cfg.model.uses_perceptual else "unused",
            "parameters": counts,
        })
        write_record(
            run_dir / "run.json", "lgcaa-train", run_name,
            params=flatten("", {**cfg.to_dict(), "accumulation": accum, "processes": world, "device": str(device)}, {}),
            metrics={k: v for k, v in last.items() if math.isfinite(v)},
            artifacts=[str(p) for p in (metrics_path, sample_png) if p],
            tags={"lpips_backbone": summary["lpips_backbone"], "arch": cfg.model.arch},
        )
        write_json(run_dir / "train.json", summary)
    accelerator.wait_for_everyone()
    return summary
