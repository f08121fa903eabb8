"""Classical interpolation baselines: MATLAB-compatible bicubic and PIL Lanczos.

Both map (H,W,3) uint8 -> (sH,sW,3) uint8.
"""

from __future__ import annotations

import numpy as np

from lgcaa.compat import import_basicsr


def bicubic_up(lr: np.ndarray, scale: int) -> np.ndarray:
    """MATLAB `imresize(lr, scale, 'bicubic')` (basicsr's port)."""

    import_basicsr()
    from basicsr.utils.matlab_functions import imresize

    out = imresize(lr.astype(np.float32) / 255.0, float(scale))
    out = out.numpy() if hasattr(out, "numpy") else out
    return np.clip(np.round(out * 255.0), 0, 255).astype(np.uint8)


def lanczos_up(lr: np.ndarray, scale: int) -> np.ndarray:
    """PIL Lanczos-3 resampling."""
    from PIL import Image

    h, w = lr.shape[:2]
    return np.asarray(Image.fromarray(lr).resize((w * scale, h * scale), Image.Resampling.LANCZOS))
