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
    weights: tuple[str, ...] = ()  # files under torch.hub.get_dir() the metric loads (lgcaa.weights.manifest)
    generated_offline: tuple[str, ...] = ()  # subset of `weights` that `lgcaa weights` can make offline
    notes: list[str] = field(default_factory=list)
    batchable: bool = True  # same-shape images may share one forward (per-image values unchanged; tested)
    min_side: int = 1  # smallest H and W the metric is defined on; smaller images fail naming the file
    thread_safe: bool = True  # forward may run concurrently from evaluator worker threads (else serialised)


METRICS: dict[str, MetricSpec] = {
    "psnr": MetricSpec(
        "psnr", "psnr", {"test_y_channel": True, "color_space": "ycbcr", "crop_border": 0}, "FR", False, "PSNR",
    ),
    "ssim": MetricSpec(
        "ssim", "ssim", {"test_y_channel": True, "color_space": "ycbcr", "crop_border": 0, "downsample": False},
        "FR", False, "SSIM", min_side=11,
        notes=["11x11 Gaussian window, 'valid' filtering: images need H, W >= 11"],
    ),
    "lpips": MetricSpec(
        "lpips", "lpips", {"net": "alex", "version": "0.1"}, "FR", True, "LPIPS",
        weights=("checkpoints/alexnet-owt-7be5be79.pth", "pyiqa/LPIPS_v0.1_alex-df73285e.pth"),
        generated_offline=("pyiqa/LPIPS_v0.1_alex-df73285e.pth",),
        notes=["linear heads copied offline from the lpips wheel (same sha256); AlexNet trunk must be fetched"],
    ),
    "dists": MetricSpec(
        "dists", "dists", {}, "FR", True, "DISTS",
        weights=("checkpoints/vgg16-397923af.pth", "pyiqa/DISTS_weights-f5e65c96.pth"),
    ),
    "fid": MetricSpec(
        "fid", "fid", {"mode": "clean"}, "SET", True, "FID",
        weights=("pyiqa/pt_inception-2015-12-05-6726825d.pth",),
        notes=["SR folder vs HR folder; comparable only at equal image counts",
               "clean-fid resize: per channel, PIL bicubic on float32 to 299x299, then (x-128)/128"],
    ),
    "musiq": MetricSpec(
        "musiq", "musiq", {"pretrained": "koniq10k"}, "NR", False, "MUSIQ",
        weights=("pyiqa/musiq_koniq_ckpt-e95806b9.pth",),
    ),
    "clipiqa": MetricSpec(
        "clipiqa", "clipiqa", {}, "NR", False, "CLIPIQA",
        weights=("clip/RN50.pt",), thread_safe=False,  # forward calls clip_model.to(x) on a shared module
        notes=["OpenAI CLIP RN50 loaded by pyiqa from torch.hub.get_dir()/clip/"],
    ),
    "niqe": MetricSpec(
        "niqe", "niqe", {"test_y_channel": True, "color_space": "yiq", "crop_border": 0, "version": "original"},
        "NR", True, "NIQE",
        weights=("pyiqa/niqe_modelparameters.mat",), generated_offline=("pyiqa/niqe_modelparameters.mat",),
        min_side=96,
        notes=["parameters converted offline from basicsr's shipped niqe_pris_params.npz",
               "96x96 blocks: images need H, W >= 96 (the border beyond a multiple of 96 is not scored)"],
    ),
    "maniqa": MetricSpec(
        "maniqa", "maniqa-pipal", {}, "NR", False, "MANIQA",
        weights=("pyiqa/MANIQA_PIPAL-ae6d356b.pth",), thread_safe=False,  # ViT features pass through a shared hook list
        notes=["maniqa-pipal: plain 'maniqa' changed meaning across pyiqa versions",
               "ViT built without timm's ImageNet download: the strict MANIQA_PIPAL load overwrites all of it"],
    ),
}

TABLE_ORDER = ["psnr", "ssim", "lpips", "musiq", "clipiqa", "dists", "fid", "niqe", "maniqa"]  # paper's Table I


def get(name: str) -> MetricSpec:
    from lgcaa.errors import UserError

    if name not in METRICS:
        raise UserError(f"unknown metric '{name}'; known: {', '.join(METRICS)}")
    return METRICS[name]
