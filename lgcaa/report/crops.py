"""Fig. 4-style visual comparison: where do the methods disagree most, and the crops shown there.

`disagreement` is the per-pixel standard deviation of luminance across the methods' SR outputs; the crop
is the square window (aligned to the SR scale, so the LR crop maps to it exactly) with the largest summed
disagreement. Ties go to the top-most, then left-most window.
"""

from __future__ import annotations

import numpy as np

LUMA = np.array([0.299, 0.587, 0.114])


def disagreement(outputs: list[np.ndarray]) -> np.ndarray:
    """(H,W) std over methods of luminance; outputs: same-shape (H,W,3) uint8 images (>= 2)."""
    if len(outputs) < 2:
        raise ValueError("disagreement needs at least two outputs")
    shapes = {o.shape for o in outputs}
    if len(shapes) != 1:
        raise ValueError(f"outputs differ in shape: {sorted(shapes)}")
    y = np.stack([o.astype(np.float64) @ LUMA for o in outputs])  # (M,H,W)
    return y.std(axis=0)


def best_window(score: np.ndarray, size: int, align: int = 1) -> tuple[int, int]:
    """Top-left (y, x) of the size x size window with the largest sum of `score`, on an `align` grid."""
    h, w = score.shape
    size = min(size, h, w)
    s = np.zeros((h + 1, w + 1))
    s[1:, 1:] = score.cumsum(0).cumsum(1)
    ys = np.arange(0, h - size + 1, align)
    xs = np.arange(0, w - size + 1, align)
    sums = (
        s[ys[:, None] + size, xs[None, :] + size]
        - s[ys[:, None], xs[None, :] + size]
        - s[ys[:, None] + size, xs[None, :]]
        + s[ys[:, None], xs[None, :]]
    )  # (len(ys), len(xs))
    iy, ix = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return int(ys[iy]), int(xs[ix])


def crop(img: np.ndarray, y: int, x: int, size: int) -> np.ndarray:
    return img[y : y + size, x : x + size]


def draw_box(
    img: np.ndarray, y: int, x: int, size: int, width: int = 2, color: tuple[int, int, int] = (230, 30, 30)
) -> np.ndarray:
    """A copy of `img` with a rectangle outline (the crop's location)."""
    out = img.copy()
    h, w = out.shape[:2]
    y1, x1 = min(y + size, h), min(x + size, w)
    c = np.array(color, dtype=np.uint8)
    out[y : min(y + width, y1), x:x1] = c
    out[max(y1 - width, y) : y1, x:x1] = c
    out[y:y1, x : min(x + width, x1)] = c
    out[y:y1, max(x1 - width, x) : x1] = c
    return out
