"""FID in pyiqa's clean mode, from images already decoded by the evaluator (no second read of the files).

Features: clean-fid's 'clean' resize of each (H,W,3) uint8 image to 299x299 (per channel, PIL bicubic on float32,
clipped), then (x-128)/128 into pyiqa's FID Inception; the distance is pyiqa's own `frechet_distance` of the two
feature Gaussians. Equal to pyiqa's folder mode with the same weights (tests/test_metrics_plumbing.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image


def clean_resize(img, size: tuple[int, int] = (299, 299)):
    """clean-fid 'clean' preprocessing of one (H,W,3) uint8 image -> (3,299,299) float32 in [0,255].

    Per channel: PIL float ('F') image, bicubic resize, clip to [0,255] — as pyiqa's ResizeDataset(mode='clean').
    """
    chans = []
    for c in range(3):
        im = Image.fromarray(img[:, :, c].astype(np.float32), mode="F").resize(size, resample=Image.BICUBIC)
        chans.append(np.asarray(im).clip(0, 255).reshape(*size, 1))
    return np.concatenate(chans, axis=2).astype(np.float32).transpose(2, 0, 1)


def fid_features(model: Any, images: list, device: str):
    """(B, 2048) float32 numpy Inception pool features of images, clean mode."""
    import torch

    x = torch.from_numpy(np.stack([clean_resize(im) for im in images]))
    x = (x - 128) / 128
    feat = model.net.model(x.to(device), False, False)[0]
    return feat.reshape(feat.shape[0], feat.shape[1]).detach().cpu().numpy()


def frechet_from_features(sr_feats: list, hr_feats: list) -> float:
    """Fréchet distance between the Gaussians of two feature sets (pyiqa's fid_arch.frechet_distance)."""
    from pyiqa.archs.fid_arch import frechet_distance

    a, b = np.concatenate(sr_feats), np.concatenate(hr_feats)
    return float(frechet_distance(np.mean(a, axis=0), np.cov(a, rowvar=False), np.mean(b, axis=0),
                                  np.cov(b, rowvar=False)))
