"""The metric table: one explicit entry per metric of Table I — the one place a metric is declared.

Each entry carries what every other part derives from it: the pyiqa name and options (spelled out even where
they equal pyiqa's defaults, so the protocol lock, lgcaa.metrics.lock, changes whenever anything that changes a
number changes), its direction, its column in the paper's Table I (the order of `METRICS`), the default
tolerance of a reproduced cell, the decimals tables print and its build hooks. The weight files it loads
(relative to `torch.hub.get_dir()`; absent files make it *missing*, never approximated) are declared once, in
`lgcaa.weights.manifest` (each file's `used_by`), and `MetricSpec.weights` reads them from there. The profile
schema's metric enums, `lgcaa eval`'s and the benchmarks' defaults and the tables' tolerances come from here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lgcaa.errors import check_known
from lgcaa.weights.manifest import FILES

FIX_COMMAND = "lgcaa weights fetch {name}"


def constructor_options(spec: MetricSpec, hub: Path) -> dict[str, Any]:
    """Default build hook: the spec's options go to `pyiqa.create_metric`."""
    return dict(spec.options)


def _set_metric_options(spec: MetricSpec, hub: Path) -> dict[str, Any]:
    """FID: its options (mode='clean') are applied by our feature extraction (lgcaa.metrics.fid), not pyiqa's
    constructor."""
    return {}


def _niqe_options(spec: MetricSpec, hub: Path) -> dict[str, Any]:
    """NIQE: pyiqa reads its parameter file from an explicit path (the manifest's file in the hub dir)."""
    return {**spec.options, "pretrained_model_path": str(hub / spec.weights[0])}


@contextlib.contextmanager
def _vit_without_imagenet_download() -> Iterator[None]:
    """MANIQA: timm builds its ViT without the ImageNet download; the strict MANIQA_PIPAL load then overwrites
    every ViT parameter (tested), so the scores are unchanged."""
    from unittest import mock

    import timm  # pyiqa's dependency; imported only while MANIQA is built

    original = timm.create_model

    def create_model(model_name: str, *args: Any, **kwargs: Any) -> Any:
        if model_name == "vit_base_patch8_224":
            kwargs["pretrained"] = False
        return original(model_name, *args, **kwargs)

    with mock.patch.object(timm, "create_model", create_model):
        yield


@dataclass(frozen=True, kw_only=True)
class MetricSpec:
    name: str
    pyiqa_name: str
    options: dict[str, Any]
    mode: str  # "FR" full-reference per image, "NR" no-reference per image, "SET" folder vs folder (FID)
    lower_better: bool
    label: str
    tolerance: float = 0.0  # |ours - paper| within which a reproduced cell "matches", in the metric's units
    decimals: int = 4  # digits after the point in rendered tables
    notes: list[str] = field(default_factory=list)
    batchable: bool = True  # same-shape images may share one forward (per-image values unchanged; tested)
    min_side: int = 1  # smallest H and W the metric is defined on; smaller images fail naming the file
    thread_safe: bool = True  # forward may run concurrently from evaluator worker threads (else serialised)
    build_options: Callable[[MetricSpec, Path], dict[str, Any]] = constructor_options  # (spec, hub dir) -> kwargs
    build_context: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext  # around the build
    # memory (lgcaa.metrics.memory): peak bytes of the whole-image forward per image pixel and per image (fixed
    # part: crops, resized copies), measured (lgcaa/metrics/memory.py says how); None = not measured (counted at
    # the largest measured rate)
    bytes_per_pixel: int | None = None
    bytes_per_image: int = 0
    # strip-wise forward (model, sr, hr) -> (B,), used by the evaluator at every image size, bitwise equal
    # to the whole-image one, and its measured cost: bytes per image pixel + one strip at `bytes_per_pixel`
    tiled: Callable[[Any, Any, Any], Any] | None = None
    tiled_bytes_per_pixel: int | None = None
    undefined_reason: str = ""  # when set, a per-image failure of the metric's math (LinAlgError, NaN) marks that
    # image's value undefined for this reason (reported per image, left out of the mean) instead of failing

    @property
    def weights(self) -> tuple[str, ...]:
        """Files under torch.hub.get_dir() the metric loads: those of lgcaa.weights.manifest whose `used_by` names
        it (the link is declared there, once)."""
        return tuple(f.dest for f in FILES if self.name in f.used_by)

    @property
    def generated_offline(self) -> tuple[str, ...]:
        """The part of `weights` that `lgcaa weights` can make without network (an offline producer)."""
        return tuple(f.dest for f in FILES if self.name in f.used_by and f.offline)


def _tiled_ssim(model: Any, sr: Any, hr: Any) -> Any:
    from lgcaa.metrics.tiled import ssim

    return ssim(model, sr, hr)


def _tiled_niqe(model: Any, sr: Any, hr: Any) -> Any:
    from lgcaa.metrics.tiled import niqe

    return niqe(model, sr)


# In the paper's Table I column order.
METRICS: dict[str, MetricSpec] = {
    "psnr": MetricSpec(
        name="psnr", pyiqa_name="psnr", options={"test_y_channel": True, "color_space": "ycbcr", "crop_border": 0},
        mode="FR", lower_better=False, label="PSNR",
        tolerance=0.5, decimals=2, bytes_per_pixel=50,
    ),
    "ssim": MetricSpec(
        name="ssim", pyiqa_name="ssim",
        options={"test_y_channel": True, "color_space": "ycbcr", "crop_border": 0, "downsample": False},
        mode="FR", lower_better=False, label="SSIM", tolerance=0.02, min_side=11, bytes_per_pixel=1060,
        tiled=_tiled_ssim, tiled_bytes_per_pixel=16,
        notes=["11x11 Gaussian window, 'valid' filtering: images need H, W >= 11"],
    ),
    "lpips": MetricSpec(
        name="lpips", pyiqa_name="lpips", options={"net": "alex", "version": "0.1"},
        mode="FR", lower_better=True, label="LPIPS", tolerance=0.02,
        bytes_per_pixel=280, bytes_per_image=30 << 20,
        notes=["linear heads copied offline from the lpips wheel (same sha256); AlexNet trunk must be fetched"],
    ),
    "musiq": MetricSpec(
        name="musiq", pyiqa_name="musiq", options={"pretrained": "koniq10k"},
        mode="NR", lower_better=False, label="MUSIQ", tolerance=2.0, decimals=2,
        bytes_per_pixel=260, bytes_per_image=110 << 20,
    ),
    "clipiqa": MetricSpec(
        name="clipiqa", pyiqa_name="clipiqa", options={},
        mode="NR", lower_better=False, label="CLIPIQA", tolerance=0.03,
        thread_safe=False,  # forward calls clip_model.to(x) on a shared module
        notes=["OpenAI CLIP RN50 loaded by pyiqa from torch.hub.get_dir()/clip/"],
    ),
    "dists": MetricSpec(
        name="dists", pyiqa_name="dists", options={}, mode="FR", lower_better=True, label="DISTS", tolerance=0.02,
        bytes_per_pixel=1760,
    ),
    "fid": MetricSpec(
        name="fid", pyiqa_name="fid", options={"mode": "clean"},
        mode="SET", lower_better=True, label="FID", tolerance=5.0, decimals=2,
        bytes_per_pixel=0, bytes_per_image=45 << 20, build_options=_set_metric_options,
        notes=["SR folder vs HR folder; comparable only at equal image counts",
               "clean-fid resize: per channel, PIL bicubic on float32 to 299x299, then (x-128)/128"],
    ),
    "niqe": MetricSpec(
        name="niqe", pyiqa_name="niqe",
        options={"test_y_channel": True, "color_space": "yiq", "crop_border": 0, "version": "original"},
        mode="NR", lower_better=True, label="NIQE", tolerance=0.3,
        min_side=96, build_options=_niqe_options, bytes_per_pixel=410, tiled=_tiled_niqe, tiled_bytes_per_pixel=85,
        undefined_reason=("NIQE is undefined on an image without texture: flat 96x96 blocks have no natural-scene "
                          "statistics (pyiqa's covariance/pseudo-inverse fails or returns NaN)"),
        notes=["parameters converted offline from basicsr's shipped niqe_pris_params.npz",
               "96x96 blocks: images need H, W >= 96 (the border beyond a multiple of 96 is not scored)"],
    ),
    "maniqa": MetricSpec(
        name="maniqa", pyiqa_name="maniqa-pipal", options={},
        mode="NR", lower_better=False, label="MANIQA", tolerance=0.03,
        bytes_per_pixel=40, bytes_per_image=2300 << 20,
        thread_safe=False,  # ViT features pass through a shared hook list
        build_context=_vit_without_imagenet_download,
        notes=["maniqa-pipal: plain 'maniqa' changed meaning across pyiqa versions",
               "ViT built without timm's ImageNet download: the strict MANIQA_PIPAL load overwrites all of it"],
    ),
}

TABLE_ORDER = tuple(METRICS)  # the paper's Table I columns
DEFAULT_TOLERANCES = {name: spec.tolerance for name, spec in METRICS.items()}


def names() -> list[str]:
    """Every registered metric, in Table I order (the default selection of `lgcaa eval` and the benchmarks)."""
    return list(METRICS)


def split_names(text: str) -> list[str]:
    """A comma-separated list of metric names as given (`--metrics`), blanks dropped; not checked."""
    return [m.strip() for m in text.split(",") if m.strip()]


def get(name: str) -> MetricSpec:
    check_known("metric", [name], METRICS)
    return METRICS[name]
