"""Real RGB photos that ship inside installed packages (no download).

Explicit registry: name -> loader. Each loader returns (H,W,3) uint8 RGB and the package it came from,
so the manifest can record provenance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from lgcaa.errors import UserError

if TYPE_CHECKING:  # numpy is imported where a photo loads: the model config schema reads PHOTOS' names
    import numpy as np


def _skimage(fn: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from skimage import data

        img = getattr(data, fn)()
        return img[0] if isinstance(img, tuple) else img  # stereo_motorcycle -> (left, right, disparity)

    return load


def _skimage_right() -> np.ndarray:
    from skimage import data

    return data.stereo_motorcycle()[1]


def _sklearn(fname: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from sklearn.datasets import load_sample_image

        return load_sample_image(fname)

    return load


def _matplotlib(fname: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        import numpy as np
        from matplotlib import cbook
        from PIL import Image

        with cbook.get_sample_data(fname) as f, Image.open(f) as im:
            return np.asarray(im.convert("RGB"))

    return load


def _pyiqa(rel: str) -> Callable[[], np.ndarray]:
    """A reference photo shipped in pyiqa's wheel (its calibration and speed-test images), by path in the wheel."""

    def load() -> np.ndarray:
        from importlib.metadata import distribution

        import numpy as np
        from PIL import Image

        with Image.open(str(distribution("pyiqa").locate_file(rel))) as im:
            return np.asarray(im.convert("RGB"))

    return load


# name -> (package, loader)
PHOTOS: dict[str, tuple[str, Callable[[], np.ndarray]]] = {
    "astronaut": ("scikit-image", _skimage("astronaut")),
    "chelsea": ("scikit-image", _skimage("chelsea")),
    "coffee": ("scikit-image", _skimage("coffee")),
    "rocket": ("scikit-image", _skimage("rocket")),
    "motorcycle_left": ("scikit-image", _skimage("stereo_motorcycle")),
    "motorcycle_right": ("scikit-image", _skimage_right),
    "china": ("scikit-learn", _sklearn("china.jpg")),
    "flower": ("scikit-learn", _sklearn("flower.jpg")),
    "grace_hopper": ("matplotlib", _matplotlib("grace_hopper.jpg")),
    "immunohistochemistry": ("scikit-image", _skimage("immunohistochemistry")),
    "hubble_deep_field": ("scikit-image", _skimage("hubble_deep_field")),
    "retina": ("scikit-image", _skimage("retina")),
    # pyiqa's wheel: TID2013's reference images (Kodak kodim03/04/06/08/19, 512x384) and four phone photos
    "kodim03": ("pyiqa", _pyiqa("ResultsCalibra/ref_dir/I03.bmp")),
    "kodim04": ("pyiqa", _pyiqa("ResultsCalibra/ref_dir/I04.bmp")),
    "kodim06": ("pyiqa", _pyiqa("ResultsCalibra/ref_dir/I06.bmp")),
    "kodim08": ("pyiqa", _pyiqa("ResultsCalibra/ref_dir/I08.bmp")),
    "kodim19": ("pyiqa", _pyiqa("ResultsCalibra/ref_dir/I19.bmp")),
    "spaq_10241": ("pyiqa", _pyiqa("tests/test_efficiency_img_dir/SPAQ_10241.jpg")),
    "frame_4wrwr": ("pyiqa", _pyiqa("tests/test_efficiency_img_dir/frame_4wrwr48cdk6rbcjl.jpg")),
    "frame_7gzd": ("pyiqa", _pyiqa("tests/test_efficiency_img_dir/frame_7gzdcz9sif0ekg31.jpg")),
    "frame_9ogw": ("pyiqa", _pyiqa("tests/test_efficiency_img_dir/frame_9ogwhvvy7gfj6jzh.jpg")),
}

# Photos the mini test sets never use: training data for the tiny backbone and the mini LGCAA runs, so the
# mini tables score generalisation to unseen photos (motorcycle_right, a stereo twin of a test photo, is left out).
HELD_OUT_PHOTOS: tuple[str, ...] = (
    "kodim03", "kodim04", "kodim06", "kodim08", "kodim19", "spaq_10241", "frame_4wrwr", "frame_7gzd",
    "frame_9ogw", "hubble_deep_field", "retina", "immunohistochemistry",
)


def load_photo(name: str) -> np.ndarray:
    """(H,W,3) uint8 RGB of a registered photo."""
    import numpy as np

    if name not in PHOTOS:
        raise UserError(f"unknown mini photo '{name}'; choose from: {', '.join(PHOTOS)}")
    img = np.ascontiguousarray(PHOTOS[name][1]())
    assert img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.uint8, (name, img.shape, img.dtype)
    return img


def center_crop(img: np.ndarray, size: int) -> np.ndarray:
    """Central (size,size) crop of (H,W,C); raises ValueError if the image is smaller."""
    h, w = img.shape[:2]
    if h < size or w < size:
        raise ValueError(f"image {h}x{w} smaller than crop {size}")
    top, left = (h - size) // 2, (w - size) // 2
    return img[top : top + size, left : left + size].copy()
