"""The metric table: one explicit entry per metric of Table I with its pyiqa name and options.

Options are spelled out even where they equal pyiqa's defaults, so the protocol lock (lgcaa.metrics.lock)
changes whenever anything that changes a number changes. Weight files are named relative to
`torch.hub.get_dir()`; a metric whose files are absent is reported missing, never approximated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FIX_COMMAND = "lgcaa weights fetch {name}"


@dataclass(frozen=True)
class MetricSpec:
    name: str
    pyiqa_name: str
    options: dict[str, Any]
    mode: str  # "FR" full-reference per image, "NR" no-reference per image, "SET" folder vs folder (FID)
    lower_better: bool
    label: str
    weights: tuple[str, ...] = ()  # files under torch.hub.get_dir() the metric loads
    generated_offline: tuple[str, ...] = ()  # subset of `weights` that `lgcaa weights` can make offline
    notes: list[str] = field(default_factory=list)


METRICS: dict[str, MetricSpec] = {
    "psnr": MetricSpec(
        "psnr", "psnr", {"test_y_channel": True, "color_space": "ycbcr", "crop_border": 0}, "FR", False, "PSNR",
    ),
    "ssim": MetricSpec(
        "ssim", "ssim", {"test_y_channel": True, "color_space": "ycbcr", "crop_border": 0, "downsample": False},
        "FR", False, "SSIM",
    ),
    "lpips": MetricSpec(
        "lpips", "lpips", {"net": "alex", "version": "0.1"}, "FR", True, "LPIPS",
        weights=("checkpoints/alexnet-owt-7be5be79.pth", "pyiqa/LPIPS_v0.1_alex-df73285e.pth"),
    ),
    "dists": MetricSpec(
        "dists", "dists", {}, "FR", True, "DISTS",
        weights=("checkpoints/vgg16-397923af.pth", "pyiqa/DISTS_weights-f5e65c96.pth"),
    ),
    "fid": MetricSpec(
        "fid", "fid", {"mode": "clean"}, "SET", True, "FID",
        weights=("pyiqa/pt_inception-2015-12-05-6726825d.pth",),
        notes=["SR folder vs HR folder; comparable only at equal image counts"],
    ),
    "musiq": MetricSpec(
        "musiq", "musiq", {"pretrained": "koniq10k"}, "NR", False, "MUSIQ",
        weights=("pyiqa/musiq_koniq_ckpt-e95806b9.pth",),
    ),
    "clipiqa": MetricSpec(
        "clipiqa", "clipiqa", {}, "NR", False, "CLIPIQA",
        weights=("pyiqa/RN50.pt",),
    ),
    "niqe": MetricSpec(
        "niqe", "niqe", {"test_y_channel": True, "color_space": "yiq", "crop_border": 0, "version": "original"},
        "NR", True, "NIQE",
        weights=("pyiqa/niqe_modelparameters.mat",), generated_offline=("pyiqa/niqe_modelparameters.mat",),
        notes=["parameters converted offline from basicsr's shipped niqe_pris_params.npz"],
    ),
    "maniqa": MetricSpec(
        "maniqa", "maniqa-pipal", {}, "NR", False, "MANIQA",
        weights=("pyiqa/MANIQA_PIPAL-ae6d356b.pth",),
        notes=["maniqa-pipal: plain 'maniqa' changed meaning across pyiqa versions"],
    ),
}

TABLE_ORDER = ["psnr", "ssim", "lpips", "musiq", "clipiqa", "dists", "fid", "niqe", "maniqa"]  # paper's Table I


def get(name: str) -> MetricSpec:
    from lgcaa.errors import UserError

    if name not in METRICS:
        raise UserError(f"unknown metric '{name}'; known: {', '.join(METRICS)}")
    return METRICS[name]
