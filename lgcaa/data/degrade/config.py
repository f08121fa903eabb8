"""Degradation configs (flat YAML with Real-ESRGAN's key names, `CONFIGS`) and the per-image seeds.

`image_seed(dataset, name, seed)` fixes one image's randomness; `phase_seed` splits it into independent
phases ('plan', 'noise'); `seeded` runs a block under one seed and restores the callers' RNG states.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import random
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from lgcaa.errors import UserError

# name -> packaged YAML (lgcaa/configs). Explicit registry.
CONFIGS: dict[str, str] = {
    "realesrgan-x4plus": "degradation_realesrgan_x4plus.yaml",
    "resshift-testing": "degradation_resshift_testing.yaml",
}
DEFAULT_CONFIG = CONFIGS["realesrgan-x4plus"]
RESIZE_MODES = ("area", "bilinear", "bicubic")
REQUIRED_KEYS = (
    "scale", "usm_sharpen", "blur_kernel_size", "kernel_range", "kernel_list", "kernel_prob", "sinc_prob",
    "blur_sigma", "betag_range", "betap_range", "blur_kernel_size2", "kernel_range2", "kernel_list2",
    "kernel_prob2", "sinc_prob2", "blur_sigma2", "betag_range2", "betap_range2", "final_sinc_prob",
    "resize_prob", "resize_range", "gaussian_noise_prob", "noise_range", "poisson_scale_range",
    "gray_noise_prob", "jpeg_range", "second_order_prob", "second_blur_prob", "resize_prob2", "resize_range2",
    "gaussian_noise_prob2", "noise_range2", "poisson_scale_range2", "gray_noise_prob2", "jpeg_range2",
)
USM_RADIUS = 51  # basicsr USMSharp(radius=50) rounds up to the odd size 51; sigma from cv2 (= 8.0)



def image_seed(dataset: str, name: str, seed: int) -> int:
    """A 63-bit seed determined only by (dataset, file name, global seed)."""
    digest = hashlib.sha256(f"{dataset}\0{name}\0{seed}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def phase_seed(seed: int, phase: str) -> int:
    """Independent 63-bit seed for one randomness phase ('plan', 'noise') of an image seed."""
    digest = hashlib.sha256(f"lgcaa-degrade\0{seed}\0{phase}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


@lru_cache(maxsize=8)
def _load_packaged(filename: str) -> dict[str, Any]:
    return yaml.safe_load(resources.files("lgcaa.configs").joinpath(filename).read_text())


def load_degradation_config(name_or_path: str | None = None) -> dict[str, Any]:
    """A validated config: registry name (`CONFIGS`), packaged file name, or a YAML path. Returns a copy."""
    name = name_or_path or DEFAULT_CONFIG
    filename = CONFIGS.get(name, name)
    if resources.files("lgcaa.configs").joinpath(filename).is_file():
        cfg, source = dict(_load_packaged(filename)), f"lgcaa/configs/{filename}"
    else:
        path = Path(name)
        if not path.is_file():
            raise UserError(f"{path}: degradation config not found; use one of {', '.join(CONFIGS)} or a YAML path")
        from lgcaa.config import read_config_file

        cfg, source = read_config_file(path) or {}, str(path)
    missing = [k for k in REQUIRED_KEYS if k not in cfg]
    if missing:
        raise UserError(f"{source}: degradation config lacks {', '.join(missing)}; compare with {DEFAULT_CONFIG}")
    for key in ("blur_kernel_size", "blur_kernel_size2"):
        if cfg[key] % 2 != 1:
            raise UserError(f"{source}: {key} must be odd, got {cfg[key]}")
    return cfg


def config_digest(cfg: dict[str, Any]) -> str:
    """sha256 of the config's canonical JSON (recorded in manifests of regenerated sets)."""
    return hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed Python, NumPy and torch global RNGs; restore their previous states on exit."""
    import torch

    py_state, np_state, torch_state = random.getstate(), np.random.get_state(), torch.get_rng_state()
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        torch.set_rng_state(torch_state)


def min_hr_size(cfg: dict[str, Any], scale: int | None = None) -> int:
    """Smallest HR side the pipeline accepts: basicsr's reflect padding needs every blurred image larger than
    the kernel radius, including after the smallest random down-resize (x4plus: 74 px; ResShift test: 16 px)."""
    s = int(scale or cfg["scale"])
    pad1, pad2 = cfg["blur_kernel_size"] // 2, cfg["blur_kernel_size2"] // 2
    need = [pad1 + 1, s * (pad2 + 1)]
    if cfg["usm_sharpen"]:
        need.append(USM_RADIUS // 2 + 1)
    if cfg["second_order_prob"] > 0 and cfg["second_blur_prob"] > 0:
        need.append(math.ceil((pad2 + 1) / cfg["resize_range"][0]))
    return max(need)
