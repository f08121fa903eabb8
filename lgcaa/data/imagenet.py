"""HR side of ResShift's ImageNet-Test, rebuilt from an ImageNet validation folder.

ResShift's scripts/prepare_testing_imagenet.py (zsyOAOA/ResShift) does, with Python's `random` seeded once:
    random.seed(10000); random.shuffle(sorted(val.glob('**/*.JPEG')))          # consumes the RNG only
    paths = sorted(glob '**/*.png') + sorted(glob '**/*.JPEG')                  # RealESRGANDataset, im_exts
    chosen = random.sample(paths, 3000)                                          # opts['length'] = 3000
and each chosen image is resized so its short side is 256 (albumentations SmallestMaxSize, cv2 bilinear on
float32 BGR) and centre-cropped to 256x256, saved as `<stem>.png`. `resshift_selection` and `resshift_hr`
follow that recipe (not verified against ResShift's files, which are not published). Its LR cannot be
reproduced: ResShift seeds only Python's `random`, NumPy and torch draws are unseeded -- we regenerate LR
with our own seeds and the `resshift-testing` degradation config.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from lgcaa.errors import UserError

SELECTION_SEED = 10000
COUNT = 3000
GT_SIZE = 256


def resshift_selection(val_dir: str | Path, count: int = COUNT, seed: int = SELECTION_SEED) -> list[Path]:
    """The `count` images ResShift's script picks from `val_dir` (same RNG consumption, same order)."""
    val_dir = Path(val_dir)
    if not val_dir.is_dir():
        raise UserError(f"{val_dir}: ImageNet validation folder not found; download ILSVRC2012 val from image-net.org")
    rng = random.Random(seed)
    jpegs = sorted(val_dir.glob("**/*.JPEG"))
    rng.shuffle(jpegs)  # unused by ResShift except for advancing the RNG
    paths = sorted(str(p) for p in val_dir.glob("**/*.png")) + sorted(str(p) for p in val_dir.glob("**/*.JPEG"))
    if len(paths) < count:
        raise UserError(f"{val_dir}: {len(paths)} .png/.JPEG images, need {count}; is this the full ILSVRC2012 val?")
    return [Path(p) for p in rng.sample(paths, count)]


def resshift_hr(path: str | Path, size: int = GT_SIZE) -> np.ndarray:
    """(size,size,3) uint8 RGB: short side resized to `size` (cv2 bilinear on float32) then centre crop."""
    import cv2

    raw = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if raw is None:
        raise UserError(f"{path}: cannot decode image; delete or replace it")
    img = raw.astype(np.float32) / 255.0
    h, w = img.shape[:2]
    scale = size / float(min(h, w))
    if scale != 1.0:
        img = cv2.resize(img, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_LINEAR)
    h, w = img.shape[:2]
    top, left = (h - size) // 2, (w - size) // 2
    img = img[top : top + size, left : left + size, ::-1]  # BGR -> RGB
    return np.clip(np.round(np.clip(img, 0, 1) * 255.0), 0, 255).astype(np.uint8)
