"""Classical interpolation baselines: MATLAB-compatible bicubic and PIL Lanczos.

Both map (H,W,3) uint8 -> (sH,sW,3) uint8.
"""

from __future__ import annotations

import numpy as np

from lgcaa.data.lowres import matlab_bicubic


def bicubic_up(lr: np.ndarray, scale: int) -> np.ndarray:
    """MATLAB `imresize(lr, scale, 'bicubic')` (basicsr's port)."""
    return matlab_bicubic(lr, float(scale))


def lanczos_up(lr: np.ndarray, scale: int) -> np.ndarray:
    """PIL Lanczos-3 resampling."""
    from PIL import Image

    h, w = lr.shape[:2]
    return np.asarray(Image.fromarray(lr).resize((w * scale, h * scale), Image.Resampling.LANCZOS))
