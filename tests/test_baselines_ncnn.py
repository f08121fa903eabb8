"""The offline real-weight path: ncnn Real-ESRGAN x4plus and RealSR (DF2K) on a real photo, whole and tiled."""

from __future__ import annotations

import numpy as np
import pytest

from baselines.registry import get, resolve_settings


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse))


@pytest.fixture(scope="module")
def photo() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """HR: a 256x256 crop of skimage's astronaut (a real photo in the wheel); LR: its bicubic x1/4; bicubic x4 of LR."""
    from PIL import Image
    from skimage import data

    hr = np.ascontiguousarray(data.astronaut()[64:320, 128:384])
    lr = np.asarray(Image.fromarray(hr).resize((64, 64), Image.Resampling.BICUBIC))
    bicubic = np.asarray(Image.fromarray(lr).resize((256, 256), Image.Resampling.BICUBIC))
    return hr, lr, bicubic


@pytest.mark.parametrize("name", ["realesrgan-x4plus", "realsr-df2k"])
def test_ncnn_model_restores_a_real_photo(name, photo):
    hr, lr, bicubic = photo
    settings = resolve_settings(name)
    sr = get(name).make_upscaler(settings, 2, {})(lr)
    assert sr.shape == hr.shape and sr.dtype == np.uint8
    assert sr.std() > 30  # a picture, not a constant (the all-black bug of an unowned ncnn.Mat buffer)
    psnr, psnr_bicubic = _psnr(sr, hr), _psnr(bicubic, hr)
    assert 18 < psnr < 40 and abs(psnr - psnr_bicubic) < 6, (psnr, psnr_bicubic)
    assert np.corrcoef(sr.ravel(), hr.ravel())[0, 1] > 0.9  # aligned with the photo, not shifted or flipped
    if name == "realesrgan-x4plus":
        tiled = get(name).make_upscaler({**settings, "tile": 32, "tile_pad": 10}, 2, {})(lr)
        assert tiled.shape == sr.shape and _psnr(tiled, sr) > 32  # tiles with 10 px context ~ whole-image result
