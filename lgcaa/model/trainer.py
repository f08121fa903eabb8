"""Training loop with accelerate: single GPU, multi-GPU DDP, mixed precision, gradient accumulation, Adam,
atomic checkpoints every N steps, exact resume, a non-finite-loss guard and MLflow logging.

One optimizer step consumes `train.batch_size` samples = micro_batch × processes × accumulation. All
randomness of a sample (crop, degradation, VAE posterior noise, diffusion noise, timestep) is a pure
function of (train.seed, sample index), so a run resumed from its last checkpoint reproduces the loss curve
of an uninterrupted run exactly (on CPU; bit-exactness on GPU depends on the kernels), and any split of the
batch into micro-batches and processes optimises on the same samples.

`train` runs four phases, each its own function: `setup` (accelerator, network, optimizer), `resume`
(finished run, newest checkpoint, metrics file), `train_step` (one optimizer step over its micro-batches,
with the non-finite guard) and `finish` (final weights, preview, job record, summary).

Outputs in the run folder: config.json, metrics.jsonl (one line per optimizer step), checkpoints/,
model.safetensors (final trainable weights), samples/step-XXXXXXX.png (LR-up | SR | HR previews), run.json
(a job record for `lgcaa mlflow-sync`), train.json (summary; written last).
"""

from __future__ import annotations

import contextlib
import json
import math
import resource
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from lgcaa.errors import UserError
from lgcaa.io import sha256_file, write_json, write_png
from lgcaa.layout import JOB_RECORD, TRAIN_DONE, record_in
from lgcaa.model.checkpoint import (
    fingerprint,
    latest_checkpoint,
    load_checkpoint,
    save_checkpoint,
    save_weights,
    write_config,
)
from lgcaa.model.config import LGCAAConfig
from lgcaa.model.data import TrainPairs, micro_batches, sample_noise, training_data_input
from lgcaa.model.network import build_network, count_parameters, upsample_lr
from lgcaa.model.sampler import super_resolve, to_uint8
from lgcaa.progress import Progress
from lgcaa.tracking import flatten, write_record

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
        AcceleratorState._reset_state()  # several runs in one process (tests)
    return Accelerator(mixed_precision=mixed_precision, cpu=cpu)


def comparable_config(config: dict[str, Any]) -> dict[str, Any]:
    """Config minus the settings a resumed run may change (step budget, logging, checkpoint cadence)."""
    out = json.loads(json.dumps(config))
    for key in ("steps", "checkpoint_every", "keep_checkpoints", "log_every", "num_workers", "preview_images", "preview_steps"):
        out["train"].pop(key, None)
    out.pop("sample", None)
    return out


def check_or_write_config(run_dir: Path, cfg: LGCAAConfig) -> None:
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
    if count <= 0:
        return None
    items = [pairs.make(10**12 + i) for i in range(count)]  # indices no training step reaches
    hr = torch.stack([h for h, _ in items]).to(device)
    lr = torch.stack([lo for _, lo in items]).to(device)
    was_training = net.training
    net.eval()
    try:
        sr = super_resolve(net, lr, cfg.train.scale, list(range(count)), steps, cfg.train.hr_size, 0,
                           start_point=cfg.sample.start_point, start_step=cfg.sample.start_step)
    finally:
        net.train(was_training)
    up = upsample_lr(lr.float(), tuple(hr.shape[-2:]))
    rows = [torch.cat([u, s, h], dim=-1) for u, s, h in zip(up, sr.to(device), hr)]
    write_png(dest, to_uint8(torch.cat(rows, dim=-2)))
    return dest


# ----------------------------------------------------------------------------------------------------------
# The four phases
# ----------------------------------------------------------------------------------------------------------


@dataclass
class Session:
    """Everything a training run holds between its phases."""

    cfg: LGCAAConfig
    run_dir: Path
    run_name: str
    accelerator: Any
    net: Any  # the prepared (possibly DDP-wrapped) LGCAANet
    model: Any  # the unwrapped LGCAANet
    optimizer: torch.optim.Optimizer
    lr_scheduler: Any
    params: list[torch.nn.Parameter]
    accum: int
    base_fp: str | None
    tracker: Any = None  # lgcaa.mlflow_store.LiveRun with `lgcaa train --mlflow-uri`
    last: dict[str, float] = field(default_factory=dict)
    experiment: str = "adhoc/train"  # MLflow experiment of the job record (and of the live run)
    started: float = field(default_factory=time.time)  # unix time the job started (the record's start)

    @property
    def world(self) -> int:
        return self.accelerator.num_processes

    @property
    def device(self) -> torch.device:
        return self.accelerator.device

    @property
    def main(self) -> bool:
        return self.accelerator.is_main_process

    @property
    def metrics_path(self) -> Path:
        return self.run_dir / "metrics.jsonl"

    def derived(self) -> dict[str, Any]:
        return {"accumulation": self.accum, "processes": self.world, "device": str(self.device)}


def setup(cfg: LGCAAConfig, run_dir: Path, run_name: str, cpu: bool) -> Session:
    """Accelerator, run folder (config.json), network with the paper's trainable set, Adam and LR schedule."""
    from lgcaa.compat import import_diffusers

    import_diffusers()
    from diffusers.optimization import get_scheduler

    tc = cfg.train
    accelerator = make_accelerator(tc.mixed_precision, cpu)
    world = accelerator.num_processes
    if tc.batch_size % (tc.micro_batch * world):
        raise UserError(
            f"train.batch_size {tc.batch_size} is not a multiple of micro_batch {tc.micro_batch} x {world} processes"
        )
    if accelerator.device.type == "cpu":
        torch.set_flush_denormal(True)  # process-wide; subnormal activations slow CPU kernels ~10x
    if accelerator.is_main_process:
        run_dir.mkdir(parents=True, exist_ok=True)
        check_or_write_config(run_dir, cfg)
        for stale in (run_dir / "checkpoints").glob(".tmp-step-*"):  # left by a killed run
            shutil.rmtree(stale, ignore_errors=True)
    accelerator.wait_for_everyone()

    net = build_network(cfg.model, calibration_size=tc.hr_size)
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
    prepared, optimizer = accelerator.prepare(net, optimizer)
    return Session(cfg, run_dir, run_name, accelerator, prepared, accelerator.unwrap_model(prepared), optimizer,
                   lr_scheduler, params, tc.batch_size // (tc.micro_batch * world), base_fp)


def resume(s: Session, log: Callable[[str], None]) -> int | dict[str, Any]:
    """The step to start from (0, or the newest checkpoint's), or the summary of an already finished run.
    Drops metrics.jsonl lines of steps that will be recomputed."""
    steps = s.cfg.train.steps
    done_file = s.run_dir / TRAIN_DONE
    if done_file.is_file() and (s.run_dir / "model.safetensors").is_file():
        finished = json.loads(done_file.read_text())
        if finished.get("step") == steps:
            log(f"[{s.run_name}] already trained ({steps} steps): {done_file}")
            return finished
    start = 0
    ckpt = latest_checkpoint(s.run_dir)
    if ckpt is not None:
        state = load_checkpoint(ckpt, s.model, s.optimizer, s.lr_scheduler)
        if state.get("base_fingerprint") != s.base_fp:
            raise UserError(f"{ckpt}: frozen base weights differ from this build; delete {s.run_dir} and retrain")
        start = int(state["step"])
        log(f"[{s.run_name}] resuming from {ckpt.name} (step {start})")
    if s.main:
        old = s.metrics_path.read_text().splitlines() if s.metrics_path.exists() else []
        kept = [ln for ln in old if ln.strip() and json.loads(ln)["step"] <= start]
        s.metrics_path.write_text("".join(ln + "\n" for ln in kept))
    return start


def _non_finite(s: Session, what: str, step: int, detail: str, fix: str) -> NonFiniteLossError:
    return NonFiniteLossError(
        f"{s.run_dir}: non-finite {what} at step {step + 1}{detail}; stopped before any update or checkpoint of this "
        f"step (last checkpoint: {latest_checkpoint(s.run_dir) or 'none'}); {fix}, then rerun to resume"
    )


def train_step(s: Session, batches: Iterator, step: int) -> tuple[dict[str, float], float]:
    """One optimizer step (0-based `step`) over `accum` micro-batches -> (mean loss terms, grad norm).
    Raises NonFiniteLossError before any update when a loss term (or, outside fp16, the grad norm) is not finite."""
    tc, model, device = s.cfg.train, s.model, s.device
    latent_hw = (tc.hr_size // model.latent_factor,) * 2
    channels = model.unet.config.in_channels
    sums: dict[str, float] = {}
    for micro in range(s.accum):
        hr, lr, indices = next(batches)
        hr, lr = hr.to(device, non_blocking=True), lr.to(device, non_blocking=True)
        latent_noise, noise, timesteps = sample_noise(tc.seed, indices.tolist(), (channels, *latent_hw),
                                                      model.num_train_timesteps)
        sync = contextlib.nullcontext() if micro == s.accum - 1 else s.accelerator.no_sync(s.net)
        with sync:
            with s.accelerator.autocast():
                terms = s.net(hr, lr, latent_noise.to(device), noise.to(device), timesteps.to(device))
            values = {k: float(v.detach()) for k, v in terms.items()}
            bad = torch.tensor(float(not all(math.isfinite(v) for v in values.values())), device=device)
            if s.world > 1:
                bad = s.accelerator.reduce(bad, reduction="sum")
            if bad.item() > 0:
                raise _non_finite(s, "loss", step, f" (micro-batch {micro}): {values}",
                                  "lower train.lr or use bf16 rather than fp16")
            s.accelerator.backward(terms["total"] / s.accum)
        for k, v in values.items():
            sums[k] = sums.get(k, 0.0) + v / s.accum
    if s.world > 1:  # log the mean over the whole batch, not rank 0's share
        keys = sorted(sums)
        mean = s.accelerator.reduce(torch.tensor([sums[k] for k in keys], device=device, dtype=torch.float64), "mean")
        sums = dict(zip(keys, mean.tolist()))
    grad_norm = float("nan")
    if tc.grad_clip > 0:
        grad_norm = float(s.accelerator.clip_grad_norm_(s.params, tc.grad_clip))
        if not math.isfinite(grad_norm) and tc.mixed_precision != "fp16":  # fp16: the scaler skips the step
            raise _non_finite(s, "gradient norm", step, "", "lower train.lr")
    s.optimizer.step()
    s.lr_scheduler.step()
    s.optimizer.zero_grad(set_to_none=True)
    return sums, grad_norm


def record_step(s: Session, done: int, end: int, sums: dict[str, float], grad_norm: float, seconds: float,
                log: Callable[[str], None]) -> None:
    """metrics.jsonl line, live MLflow metrics and the log line of finished step `done` (1-based); checkpoint."""
    tc = s.cfg.train
    s.last = {**{f"loss/{k}": v for k, v in sums.items()}, "lr": s.lr_scheduler.get_last_lr()[0],
              "grad_norm": grad_norm, "seconds_per_step": seconds, "samples_per_second": tc.batch_size / seconds,
              **peak_memory_mb(s.device)}
    due = done % tc.log_every == 0 or done == end
    if s.main:
        with s.metrics_path.open("a") as fh:
            fh.write(json.dumps({"step": done, "time": round(time.time(), 3), **s.last}, sort_keys=True) + "\n")
        if s.tracker and due:
            s.tracker.log_metrics({k: v for k, v in s.last.items() if math.isfinite(v)}, done)
        if due:
            log(f"[{s.run_name}] step {done}/{tc.steps} loss {sums['total']:.4f} ({seconds:.2f} s/step)")
    if done % tc.checkpoint_every == 0 or done == tc.steps:
        if s.main:
            save_checkpoint(s.run_dir, done, s.model, s.optimizer, s.lr_scheduler,
                            {"base_fingerprint": s.base_fp, "run_name": s.run_name}, keep=tc.keep_checkpoints)
        s.accelerator.wait_for_everyone()


def train_params(s: Session) -> dict[str, str]:
    """The training's params (its settings, derived values and the backbone's source, flattened), for its record
    and its live run."""
    return flatten("", {**s.cfg.to_dict(), **s.derived(), "source": s.model.source}, {})


def finish(s: Session, pairs: TrainPairs, seconds: float, preview_count: int | None) -> dict[str, Any]:
    """Final weights, preview grid, job record (run.json) and summary (train.json, written last)."""
    tc, model = s.cfg.train, s.model
    summary: dict[str, Any] = {"run_dir": str(s.run_dir), "step": tc.steps, "finished": True}
    if s.main:
        meta = {"base_fingerprint": s.base_fp or "", "source": model.source, "steps": str(tc.steps)}
        save_weights(s.run_dir / "model.safetensors", model.trainable_state(), metadata=meta)
        count = tc.preview_images if preview_count is None else preview_count
        sample_png = None
        if count:
            sample_png = preview(model, pairs, s.cfg, s.run_dir / "samples" / f"step-{tc.steps:07d}.png",
                                 count, tc.preview_steps, s.device)
        if s.tracker:
            if sample_png:
                s.tracker.log_artifact(sample_png, "samples")
            s.tracker.log_artifact(s.metrics_path)
            s.tracker.finish()
        lpips_backbone = s.cfg.model.lpips_backbone if s.cfg.model.uses_perceptual else "unused"
        summary.update({
            "seconds": round(seconds, 3),
            "last": s.last,
            **s.derived(),
            "prediction_type": model.prediction_type,
            "source": model.source,
            "lpips_backbone": lpips_backbone,
            "parameters": count_parameters(model),
        })
        weights = s.run_dir / "model.safetensors"
        write_record(
            s.run_dir / JOB_RECORD, s.experiment, s.run_name,
            params={**train_params(s), "weights.model.sha256": sha256_file(weights)},
            metrics={**{k: v for k, v in s.last.items() if math.isfinite(v)}, "seconds": summary["seconds"]},
            artifacts=[str(p) for p in (s.metrics_path, sample_png) if p],
            tags={"lpips_backbone": lpips_backbone, "arch": s.cfg.model.arch},
            inputs=[training_data_input(tc)],
            started=s.started, history=s.metrics_path,  # every logged step becomes MLflow metric history
            links={"weights": str(weights), "checkpoints": str(s.run_dir / "checkpoints")},
            # the prepared backbone's record when model.pretrained is one (a hub id has none: no upstream run)
            upstream={"backbone": record_in(s.cfg.model.pretrained)} if s.cfg.model.pretrained else None,
            live_run=s.tracker.run_id if s.tracker else None,
        )
        write_json(s.run_dir / TRAIN_DONE, summary)
    s.accelerator.wait_for_everyone()
    return summary


def train(cfg: LGCAAConfig, run_dir: str | Path, *, run_name: str | None = None, mlflow_uri: str | None = None,
          cpu: bool = False, stop_after: int | None = None, preview_count: int | None = None,
          log: Callable[[str], None] = print, experiment: str = "adhoc/train") -> dict[str, Any]:
    """Train (or resume) the run in `run_dir`. `stop_after`: return after that many optimizer steps as if
    killed (the checkpoints written so far stay). `preview_count` overrides train.preview_images.
    `experiment`: MLflow experiment of the job record (and of the live run with `mlflow_uri`).
    Returns the summary written to train.json."""
    started = time.time()
    run_dir = Path(run_dir)
    s = setup(cfg, run_dir, run_name or run_dir.name, cpu)
    s.experiment, s.started = experiment, started
    start = resume(s, log)
    if isinstance(start, dict):
        return start
    if mlflow_uri and s.main:
        from lgcaa.mlflow_store import LiveRun, results_of

        # the record's own params (the sync adds the rest to this run: weights digest, versions)
        s.tracker = LiveRun(results_of(mlflow_uri), s.experiment, s.run_name, run_dir, train_params(s))
    tc = cfg.train
    pairs = TrainPairs(tc)
    end = tc.steps if stop_after is None else min(tc.steps, stop_after)
    batches = micro_batches(pairs, start, end, s.accum, s.world, s.accelerator.process_index, tc.num_workers)
    if s.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(s.device)
    s.net.train()
    wall0 = time.perf_counter()
    bar = Progress(f"train {s.run_name}", tc.steps, "steps", initial=start) if s.main else None
    for step in range(start, end):
        t0 = time.perf_counter()
        sums, grad_norm = train_step(s, batches, step)
        record_step(s, step + 1, end, sums, grad_norm, time.perf_counter() - t0, log)
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    if end < tc.steps:  # simulated kill (tests) or partial budget
        return {"run_dir": str(run_dir), "step": end, "finished": False}
    return finish(s, pairs, time.perf_counter() - wall0, preview_count)
