"""In-process PyTorch runners of the GAN family (BSRGAN, Real-ESRGAN, LDL: RRDBNet; DASR: expert network).

Each factory returns an `Upscaler`: (H,W,3) uint8 -> (4H,4W,3) uint8, the network applied on [0,1] RGB,
optionally tile by tile (`tile`, `tile_pad`), output clamped to [0,1], x255, rounded — the protocol of the
authors' test scripts (no pre-padding). CUDA when available; fp16 only on CUDA.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from baselines.rrdbnet import load_rrdbnet
from baselines.tiling import upscale_uint8
from lgcaa.errors import UserError

Upscaler = Callable[[np.ndarray], np.ndarray]


def torch_device(precision: str):
    """(device, dtype) for a precision setting 'fp32' | 'fp16'; fp16 needs CUDA.

    'fp32' on CUDA turns TF32 off (PyTorch enables it for cuDNN convolutions by default), so fp32 means fp32
    and CUDA results match CPU ones to rounding.
    """
    import torch

    cuda = torch.cuda.is_available()
    if precision == "fp32":
        if cuda:
            torch.backends.cudnn.allow_tf32 = False
            torch.backends.cuda.matmul.allow_tf32 = False
        return torch.device("cuda" if cuda else "cpu"), torch.float32
    if precision == "fp16":
        if not cuda:
            raise UserError("precision fp16 needs a CUDA GPU; run with --settings '{\"precision\": \"fp32\"}'")
        return torch.device("cuda"), torch.float16
    raise UserError(f"precision must be 'fp32' or 'fp16', got {precision!r}")


class TorchNet:
    """Wraps forward((1,3,h,w) tensor) -> (1,3,sh,sw) as (h,w,3) float32 [0,1] -> (sh,sw,3) float32 [0,1]."""

    def __init__(self, forward: Callable, device, dtype):
        self.forward, self.device, self.dtype = forward, device, dtype

    def __call__(self, lr: np.ndarray) -> np.ndarray:
        import torch

        x = torch.from_numpy(np.ascontiguousarray(lr.transpose(2, 0, 1)))[None].to(self.device, self.dtype)
        with torch.inference_mode():
            return self.forward(x)[0].float().clamp_(0, 1).permute(1, 2, 0).cpu().numpy()


def rrdbnet_upscaler(weight: Path, layout: str, param_key: str | None, settings: dict[str, Any], threads: int) -> Upscaler:
    import torch

    torch.set_num_threads(threads)
    device, dtype = torch_device(settings["precision"])
    net = load_rrdbnet(weight, layout, param_key).to(device, dtype)
    fn = TorchNet(net, device, dtype)
    return lambda lr: upscale_uint8(fn, lr, 4, settings["tile"], settings["tile_pad"])


def dasr_upscaler(g_weight: Path, p_weight: Path, settings: dict[str, Any], threads: int) -> Upscaler:
    """The mixing coefficients are predicted once from the whole LR image, then shared by all tiles."""
    import torch

    from baselines.dasr_arch import load_dasr

    torch.set_num_threads(threads)
    device, dtype = torch_device(settings["precision"])
    net_g, net_p = (n.to(device, dtype) for n in load_dasr(g_weight, p_weight))

    def upscale(lr: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(lr.astype(np.float32).transpose(2, 0, 1) / 255.0)[None].to(device, dtype)
        with torch.inference_mode():
            _, coeffs = net_p(x)
        fn = TorchNet(lambda t: net_g(t, coeffs), device, dtype)
        return upscale_uint8(fn, lr, 4, settings["tile"], settings["tile_pad"])

    return upscale
