"""Overlapping square tiles over a latent grid and their blending weights.

Latents larger than the training size are denoised tile by tile at every step; the per-tile predictions are
averaged with Gaussian weights (highest at the tile centre, never zero, so image borders covered by a single
tile edge stay well defined).
"""

from __future__ import annotations

import torch


def tile_starts(size: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of length `tile` covering [0, size) with at least `overlap` overlap."""
    if size <= tile:
        return [0]
    stride = tile - overlap
    if stride <= 0:
        raise ValueError(f"overlap {overlap} must be smaller than tile {tile}")
    starts = list(range(0, size - tile, stride))
    starts.append(size - tile)
    return starts


def tile_boxes(height: int, width: int, tile: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """(y0, y1, x0, x1) boxes; a side shorter than `tile` gives one tile of that side's length."""
    boxes = []
    for y in tile_starts(height, tile, overlap):
        for x in tile_starts(width, tile, overlap):
            boxes.append((y, min(y + tile, height), x, min(x + tile, width)))
    return boxes


def tile_weight(h: int, w: int, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(1,1,h,w) separable Gaussian, sigma = side/4, scaled to max 1 (corners ~0.03)."""

    def g(n: int) -> torch.Tensor:
        x = torch.arange(n, dtype=torch.float64) - (n - 1) / 2
        return torch.exp(-(x**2) / (2 * (max(n, 1) / 4) ** 2))

    w2d = g(h)[:, None] * g(w)[None, :]
    return (w2d / w2d.max()).to(device=device, dtype=dtype)[None, None]
