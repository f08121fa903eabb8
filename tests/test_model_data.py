"""Training pairs: LDM's ImageNetSR crop (side c × short side, c ~ U(0.5, 1), area-resized), never an upsampled
target, deterministic per sample index, held-out photos by default."""

from __future__ import annotations

import numpy as np
import pytest

from lgcaa.data.photos import HELD_OUT_PHOTOS, PHOTOS
from lgcaa.errors import UserError
from lgcaa.model.config import TrainConfig
from lgcaa.model.data import TrainPairs, crop_and_resize, crop_side


def test_ldm_crop_side_follows_the_uniform_draw_and_never_goes_below_the_target():
    rng = np.random.default_rng(0)
    sides = np.array([crop_side(1000, 256, "ldm", 0.5, 1.0, rng) for _ in range(4000)])
    assert sides.min() >= 500 and sides.max() <= 1000
    # c = side / short is uniform on [0.5, 1]: mean 0.75, quartiles 0.625 / 0.875
    c = sides / 1000
    assert abs(c.mean() - 0.75) < 0.01
    assert abs(np.quantile(c, 0.25) - 0.625) < 0.015 and abs(np.quantile(c, 0.75) - 0.875) < 0.015
    # short side 300 < 2 x 256: LDM would upsample crops below 256; the lower bound is raised instead
    sides = np.array([crop_side(300, 256, "ldm", 0.5, 1.0, rng) for _ in range(2000)])
    assert sides.min() >= 256 and sides.max() <= 300
    assert crop_side(255, 256, "ldm", 0.5, 1.0, rng) is None  # too small: skipped, never upsampled
    assert crop_side(255, 256, "random", 0.5, 1.0, rng) is None
    assert crop_side(900, 256, "random", 0.5, 1.0, rng) == 256


def test_crop_is_area_resized_and_flipped_only_when_asked():
    img = np.zeros((40, 40, 3), np.uint8)
    img[:, :20] = 200  # left half bright
    out = crop_and_resize(img, 20, 40, np.random.default_rng(0), hflip=False)
    assert out.shape == (20, 20, 3)
    assert (out[:, :10] == 200).all() and (out[:, 10:] == 0).all()  # area interpolation of a 2x box
    flips = {int(crop_and_resize(img, 20, 40, np.random.default_rng(s), hflip=True)[0, 0, 0]) for s in range(20)}
    assert flips == {0, 200}


def test_pairs_are_deterministic_and_targets_are_never_upsampled():
    small = np.full((100, 100, 3), 7, np.uint8)  # smaller than the target: must never be used
    big = (np.arange(300 * 400 * 3) % 251).astype(np.uint8).reshape(300, 400, 3)
    cfg = TrainConfig(hr_size=128, data="photos", degradation="bicubic")
    pairs = TrainPairs(cfg, images=[small, big])
    for i in range(30):
        hr = pairs.crop(i)
        assert hr.shape == (128, 128, 3)
        assert not (hr == 7).all()
    a, b = TrainPairs(cfg, images=[small, big]).make(5), TrainPairs(cfg, images=[small, big]).make(5)
    assert all(np.array_equal(x.numpy(), y.numpy()) for x, y in zip(a, b))
    assert a[1].shape == (3, 32, 32)
    with pytest.raises(UserError, match="smaller than train.hr_size=128"):
        TrainPairs(cfg, images=[small]).crop(0)


def test_training_lr_is_made_like_the_test_sets_lr():
    """One LR entry (lgcaa.data.lowres): a bicubic training pair's LR is the test sets' MATLAB bicubic of its HR."""
    from lgcaa.data.lowres import bicubic_down, make_lr, to_tensor

    big = (np.arange(300 * 400 * 3) % 251).astype(np.uint8).reshape(300, 400, 3)
    pairs = TrainPairs(TrainConfig(hr_size=128, data="photos", degradation="bicubic"), images=[big])
    hr, lr = pairs.make(3)
    assert np.array_equal(lr.numpy(), to_tensor(bicubic_down(pairs.crop(3), 4)).numpy())
    with pytest.raises(UserError, match="unknown LR kind 'bicubc' \\(did you mean 'bicubic'\\?\\)"):
        make_lr(hr[None], "bicubc", 4, [0])


def test_default_training_photos_are_held_out_from_the_mini_test_set():
    from lgcaa.config import load_config

    mini = load_config("mini")["mini"]["photos"]
    assert TrainConfig().photos == HELD_OUT_PHOTOS
    assert not set(HELD_OUT_PHOTOS) & set(mini)
    assert "motorcycle_right" not in HELD_OUT_PHOTOS  # the stereo twin of a test photo
    assert all(p in PHOTOS for p in HELD_OUT_PHOTOS)
