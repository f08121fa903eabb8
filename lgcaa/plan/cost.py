"""Estimated device-seconds of each kind of job, from the throughput table (`throughput.py`).

Scaling rules (the only ones used):
  training        iterations × batch samples at the run's crop side      (train/<arch>/<device>)
  LGCAA sampling  images × steps image-steps at the dataset's HR side    (sample/<arch>/<device>)
  SR baselines    images (× UNet evaluations for diffusion) at HR side   (sr/<family or method>/<device>)
  metrics         images × metrics at HR side                            (eval/<device>)
Pixel scaling: a rate measured at side s costs (side / s)² per unit at another side.

An `Estimate` keeps the seconds, the device class (gpu/cpu), the rate used and whether that rate is measured
or extrapolated, so `lgcaa plan` can say so for every job. All functions are pure.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from lgcaa.model.config import LGCAAConfig
from lgcaa.plan.throughput import EVAL_METRICS, RATES, Rate, rate


@dataclass(frozen=True)
class Estimate:
    seconds: float  # on one device of `device` class (divide by the job's GPU count for multi-GPU jobs)
    device: str  # "gpu" or "cpu"
    rate: Rate
    units: float  # work units at the job's side, in the rate's unit (samples, image-steps, images)

    @property
    def hours(self) -> float:
        return self.seconds / 3600.0


def dataset_size(profile: dict[str, Any], name: str) -> tuple[int, int]:
    """(image count, HR side) of a profile's dataset: its `expected_count` (else the registry's or, for a
    mini set, its photo count) and the registry's HR side (a mini set: `mini.hr_size`)."""
    from lgcaa.data.registry import DATASETS

    entry = profile["datasets"][name]
    if entry["source"] == "folder":  # your own LR images: count them when the folder is here (HR side: x4 of ~128)
        from pathlib import Path

        found = len(list(Path(entry["lr_dir"]).glob("*.png"))) if Path(entry["lr_dir"]).is_dir() else 0
        return int(entry.get("expected_count") or found), 512
    if entry["source"] == "mini":
        mini = profile.get("mini", {})
        return int(entry.get("expected_count") or len(mini.get("photos", []))), int(mini.get("hr_size", 256))
    from lgcaa.config import expected_pairs

    spec = DATASETS[entry["source"]]
    return expected_pairs(entry, spec.expected_count), int(spec.hr_size)


def _pixels(side: int, ref: int) -> float:
    return (side / ref) ** 2


def model_device(cfg: LGCAAConfig) -> str:
    """The tiny backbone trains and samples on CPU (mini profile); every other arch needs a GPU."""
    return "cpu" if cfg.model.arch == "tiny" else "gpu"


def _model_rate(kind: str, cfg: LGCAAConfig) -> Rate:
    arch = cfg.model.arch if cfg.model.arch == "tiny" else "sd2-base"  # sd2-base numbers for every SD-sized arch
    return rate(f"{kind}/{arch}/{model_device(cfg)}")


def train_estimate(cfg: LGCAAConfig) -> Estimate:
    """iterations × batch samples (+ the preview sampling at the end, negligible and left out)."""
    r = _model_rate("train", cfg)
    units = cfg.train.steps * cfg.train.batch_size * _pixels(cfg.train.hr_size, r.side)
    return Estimate(units / r.per_second, model_device(cfg), r, units)


def sample_estimate(cfg: LGCAAConfig, steps: int, images: int, side: int) -> Estimate:
    """images × steps DDPM steps at the output side `side` (tiles overlap: a lower bound for tiled outputs)."""
    r = _model_rate("sample", cfg)
    units = images * steps * _pixels(side, r.side)
    return Estimate(units / r.per_second, model_device(cfg), r, units)


def unet_evaluations(settings: dict[str, Any], fixed: dict[str, Any]) -> int:
    """Denoising network evaluations per image of a diffusion baseline: steps (× 2 with CFG > 1)."""
    steps = settings.get("steps", fixed.get("steps"))
    steps = int(steps) if isinstance(steps, int | float) else int(str(steps).split()[0])
    cfg_scale = float(settings.get("cfg", 1.0) or 1.0)
    return steps * (2 if cfg_scale > 1.0 else 1)


def sr_estimate(family: str, method: str, settings: dict[str, Any], fixed: dict[str, Any], images: int,
                side: int, gpu: bool) -> Estimate:
    """A baseline on `images` LR images giving HR side `side`. Diffusion: UNet evaluations at the
    method's processing size (`process_size`/`input_size`, default the output side)."""
    if family == "diffusion":
        r = rate("sr/diffusion/gpu")
        work_side = int(settings.get("process_size", settings.get("input_size", side)))
        units = images * unet_evaluations(settings, fixed) * _pixels(max(side, work_side), r.side)
        return Estimate(units / r.per_second, "gpu", r, units)
    r = rate(f"sr/{method}/cpu" if f"sr/{method}/cpu" in RATES else f"sr/{family}/cpu")
    units = images * _pixels(side, r.side)
    return Estimate(units / r.per_second, "gpu" if gpu else "cpu", r, units)


def eval_estimate(n_metrics: int, images: int, side: int) -> Estimate:
    """images × metrics at the HR side; the rate was measured with EVAL_METRICS metrics per image."""
    r = rate("eval/metrics/cpu")
    units = images * _pixels(side, r.side) * n_metrics / EVAL_METRICS
    if n_metrics != EVAL_METRICS:  # another metric set: the measured per-metric cost, scaled
        r = replace(r, key=f"{r.key} x {n_metrics}/{EVAL_METRICS} metrics", measured=False,
                    source=f"extrapolated: {r.source} scaled by metric count ({n_metrics} metrics)")
    return Estimate(units / r.per_second, "cpu", r, units)
