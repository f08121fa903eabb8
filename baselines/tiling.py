"""Tiled inference for SR networks whose memory grows with the input size.

`upscale_tiled(fn, lr, scale, tile, pad)` cuts the LR image into `tile`x`tile` tiles with `pad` pixels of
context on each side, runs `fn` on each padded tile and pastes the central `scale*tile` region back — the
scheme of Real-ESRGAN's `tile`/`tile_pad` options. tile=0 runs the whole image at once.
`upscale_uint8` wraps it for uint8 images: /255, tiles, clamp to [0,1], x255, round.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def upscale_tiled(
    fn: Callable[[np.ndarray], np.ndarray], lr: np.ndarray, scale: int, tile: int = 0, pad: int = 10
) -> np.ndarray:
    """fn: (h,w,3) float32 [0,1] -> (h*scale,w*scale,3) float32; lr: (H,W,3) float32 [0,1]."""
    h, w = lr.shape[:2]
    if tile <= 0 or (h <= tile and w <= tile):
        return fn(lr)
    out = np.zeros((h * scale, w * scale, 3), dtype=np.float32)
    for y0 in range(0, h, tile):
        for x0 in range(0, w, tile):
            y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
            py0, px0 = max(y0 - pad, 0), max(x0 - pad, 0)
            py1, px1 = min(y1 + pad, h), min(x1 + pad, w)
            sr = fn(lr[py0:py1, px0:px1])
            oy, ox = (y0 - py0) * scale, (x0 - px0) * scale
            out[y0 * scale : y1 * scale, x0 * scale : x1 * scale] = sr[oy : oy + (y1 - y0) * scale, ox : ox + (x1 - x0) * scale]
    return out


def upscale_uint8(
    fn: Callable[[np.ndarray], np.ndarray], lr: np.ndarray, scale: int, tile: int = 0, pad: int = 10
) -> np.ndarray:
    """(H,W,3) uint8 -> (sH,sW,3) uint8 through a float network `fn` (see upscale_tiled)."""
    sr = upscale_tiled(fn, lr.astype(np.float32) / 255.0, scale, tile, pad)
    return np.clip(np.round(np.clip(sr, 0.0, 1.0) * 255.0), 0, 255).astype(np.uint8)
