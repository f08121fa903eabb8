"""Where to zoom: a crop with image structure where the methods that produce real images disagree.

Inputs are (H, W, 3) uint8 images of one scene at the SR size. Three maps, each (H, W) float64:
  structure     gradient magnitude of the reference's luminance (HR, or the bicubic-upsampled LR when there
                is no HR): flat regions (sky, a suit's interior) score ~0
  disagreement  standard deviation of luminance across the *real* outputs
  real          an output is real when its bicubic x1/scale downscale explains the LR input: R² on Y (1 - MSE /
                variance of the LR) >= `min_lr_fit`; noise or a broken method (its downscale is ~flat: R² <= 0)
                is shown but does not steer the crop. R², unlike PSNR, does not pass noise on flat scenes
The crop is the `size` x `size` window (on a `scale` grid, so the LR crop maps exactly) maximising
mean(disagreement) x mean(structure) over the window; with fewer than two real outputs, structure alone.
Ties go to the top-most, then left-most window.
"""

from __future__ import annotations

import numpy as np

LUMA = np.array([0.299, 0.587, 0.114])
# ITU-R BT.601 Y of YCbCr on 0-255 RGB (the metrics' PSNR convention: pyiqa/BasicSR test_y_channel)
Y_WEIGHTS = np.array([65.481, 128.553, 24.966]) / 255.0


def luminance(img: np.ndarray) -> np.ndarray:
    """(H, W) float64 luma (0-255) of an (H, W, 3) uint8 image."""
    return img.astype(np.float64) @ LUMA


def y_channel(img: np.ndarray) -> np.ndarray:
    """(H, W) float64 Y of YCbCr (16-235) of an (H, W, 3) uint8 RGB image."""
    return img.astype(np.float64) @ Y_WEIGHTS + 16.0


def psnr_y(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR (dB) on the Y channel of two same-shape uint8 RGB images; inf when identical."""
    mse = float(np.mean((y_channel(a) - y_channel(b)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


def structure(ref: np.ndarray) -> np.ndarray:
    """(H, W) gradient magnitude of the reference's luminance (central differences, edges replicated)."""
    y = luminance(ref)
    gy, gx = np.gradient(y)
    return np.hypot(gx, gy)


def disagreement(outputs: list[np.ndarray]) -> np.ndarray:
    """(H, W) std over outputs of luminance; outputs: same-shape (H, W, 3) uint8 images (>= 2)."""
    if len(outputs) < 2:
        raise ValueError("disagreement needs at least two outputs")
    shapes = {o.shape for o in outputs}
    if len(shapes) != 1:
        raise ValueError(f"outputs differ in shape: {sorted(shapes)}")
    return np.stack([luminance(o) for o in outputs]).std(axis=0)


def resize(img: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """Bicubic resize of an (H, W, 3) uint8 image to (h, w) (PIL, antialiased when shrinking)."""
    from PIL import Image

    if img.shape[:2] == tuple(hw):
        return img
    return np.asarray(Image.fromarray(img).resize((hw[1], hw[0]), Image.Resampling.BICUBIC))


def lr_consistency(output: np.ndarray, lr: np.ndarray) -> float:
    """PSNR (dB, Y) between the output downscaled to the LR size and the LR input."""
    return psnr_y(resize(output, lr.shape[:2]), lr)


def lr_fit(output: np.ndarray, lr: np.ndarray) -> float:
    """R² on Y of the output downscaled to the LR size as a prediction of the LR: 1 - MSE / Var(LR).

    1: the output explains the LR; <= 0: no better than a flat image (noise, a broken method). A flat LR
    (variance 0) gives 1 when matched exactly, else -inf.
    """
    down, ref = y_channel(resize(output, lr.shape[:2])), y_channel(lr)
    mse, var = float(np.mean((down - ref) ** 2)), float(ref.var())
    if var == 0:
        return 1.0 if mse == 0 else float("-inf")
    return 1.0 - mse / var


def window_means(score: np.ndarray, size: int, align: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ys, xs, means): top-left corners on an `align` grid and the mean of `score` in each size x size window."""
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
    return ys, xs, sums / float(size * size)


def pick_crop(ref: np.ndarray, real_outputs: list[np.ndarray], size: int, align: int) -> tuple[int, int, float]:
    """(y, x, score) of the crop: mean disagreement x mean structure, or structure alone (< 2 real outputs).

    ref: (H, W, 3) uint8 HR (or upsampled LR); real_outputs: same-shape outputs that passed `lr_fit`.
    """
    ys, xs, struct = window_means(structure(ref), size, align)
    if len(real_outputs) >= 2:
        _, _, dis = window_means(disagreement(real_outputs), size, align)
        score = struct * dis
    else:
        score = struct
    iy, ix = np.unravel_index(int(np.argmax(score)), score.shape)
    return int(ys[iy]), int(xs[ix]), float(score[iy, ix])


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
