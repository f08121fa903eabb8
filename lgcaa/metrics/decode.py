"""Decoding images for scoring: one defined behaviour per input kind.

Metrics see (H,W,3) uint8 RGB, turned into (B,3,H,W) float32 in [0,1] by `to_batch`. Per input kind:

- 8-bit RGB: as is (identical to pyiqa's own reader, `PIL.Image.open(p).convert('RGB')`).
- greyscale (1/2/4/8-bit) and palette: converted to RGB (grey replicated to 3 channels).
- alpha (RGBA, grey+alpha, palette/RGB with a transparency key): dropped when every pixel is opaque;
  otherwise UserError naming the file — composite on which background would change the numbers.
- 16-bit (grey or RGB): rounded to 8-bit, `round(v / 257)` (exact inverse of 8->16 scaling), read at full
  precision with OpenCV (PIL truncates 16-bit RGB to its high byte).
- anything that does not decode: UserError naming the file; so is an image over PIL's decompression-bomb
  limit (89 M pixels; PIL would only warn up to twice that) and a `.png` holding other data (e.g. JPEG: the protocol scores
  lossless PNG; a JPEG renamed .png would be scored with its compression artefacts).

Odd sizes are accepted as they are (no crop, no pad); metrics with a minimum size (SSIM 11, NIQE 96) fail
naming the file. SR and HR sizes must match exactly (checked by the evaluator before any metric runs).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lgcaa.errors import UserError
from lgcaa.io import PNG_HEAD, check_pixels, png_ihdr

# Recorded in the protocol lock: any change here changes the lock.
DECODE_PROTOCOL = {
    "format": "png-uint8-rgb",
    "grey": "replicate to RGB",
    "alpha": "drop if fully opaque, else fail",
    "16bit": "round(v/257) to uint8",
    "range": "[0,1] float32 = uint8/255",
    "size": "as is (no crop, no pad); SR size must equal HR size",
}


def png_header(path: str | Path) -> tuple[int, int, int, int] | None:
    """(width, height, bit depth, colour type) from a PNG's IHDR; None if the file is not a PNG."""
    with open(path, "rb") as f:
        return png_ihdr(f.read(PNG_HEAD))


def image_size(path: str | Path) -> tuple[int, int]:
    """(H, W) without decoding pixels; UserError naming the file if it is not an image."""
    hdr = png_header(path)
    if hdr is not None:
        return hdr[1], hdr[0]
    return _pil_header(path)[:2]


def _pil_header(path: str | Path) -> tuple[int, int, str]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return im.size[1], im.size[0], str(im.format)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise UserError(f"{path}: cannot decode image ({exc}); delete or replace the file, then rerun") from exc


def scoring_size(path: str | Path) -> tuple[int, int]:
    """(H, W) of an image to be scored; UserError unless it is PNG data (whatever its name says) within PIL's
    decompression-bomb limit."""
    hdr = png_header(path)
    if hdr is None:
        fmt = _pil_header(path)[2]
        raise UserError(f"{path}: holds {fmt} data, not PNG; the protocol scores lossless PNG (uint8 RGB) -- write "
                        "the method's output as PNG (re-run it: a JPEG re-saved as PNG keeps its artefacts)")
    h, w = hdr[1], hdr[0]
    check_pixels(path, w, h)
    return h, w


def decode(path: str | Path) -> np.ndarray:
    """Decode one image file to (H,W,3) uint8 RGB by the rules of this module."""
    path = Path(path)
    try:
        hdr = png_header(path)
        if hdr is not None and hdr[2] == 16:
            return _decode_16bit(path)
        return _decode_pil(path)
    except UserError:
        raise
    except Exception as exc:  # PIL/OpenCV raise assorted types on corrupt files
        raise UserError(f"{path}: cannot decode image ({exc.__class__.__name__}: {exc}); delete or replace the "
                        "file, then rerun") from exc


def _opaque_rgb(path: Path, rgba: np.ndarray, alpha_max: int) -> np.ndarray:
    alpha = rgba[..., 3]
    if (alpha != alpha_max).any():
        n = int((alpha != alpha_max).sum())
        raise UserError(f"{path}: {n} pixels are not fully opaque (alpha channel); scores would depend on the "
                        "background — flatten the image to RGB and rerun")
    return np.ascontiguousarray(rgba[..., :3])


def _decode_pil(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        check_pixels(path, *im.size)
        im.load()
        has_alpha = im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in im.info
        if has_alpha:
            return _opaque_rgb(path, np.asarray(im.convert("RGBA")), 255)
        if im.mode.startswith("I;16") or im.mode == "I":  # 16-bit grey that PIL reports without a PNG header
            arr = np.asarray(im, dtype=np.float64)
            return np.repeat(_to8(arr)[..., None], 3, axis=2)
        return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()


def _to8(arr: np.ndarray) -> np.ndarray:
    return np.clip(np.round(arr.astype(np.float64) / 257.0), 0, 255).astype(np.uint8)


def _decode_16bit(path: Path) -> np.ndarray:
    import cv2

    raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise UserError(f"{path}: cannot decode 16-bit PNG; delete or replace the file, then rerun")
    if raw.dtype != np.uint16:
        raise UserError(f"{path}: PNG header says 16-bit but the decoder returned {raw.dtype}; re-save it")
    if raw.ndim == 2:
        return np.repeat(_to8(raw)[..., None], 3, axis=2)
    if raw.shape[2] == 3:
        return _to8(raw[..., ::-1])
    if raw.shape[2] == 4:
        rgba = np.concatenate([raw[..., 2::-1], raw[..., 3:]], axis=2)
        return _to8(_opaque_rgb(path, rgba, 65535))
    raise UserError(f"{path}: unsupported 16-bit PNG layout with {raw.shape[2]} channels; re-save it as RGB")


def to_batch(images: list[np.ndarray]):
    """[(H,W,3) uint8] (same shape) -> (B,3,H,W) float32 in [0,1]."""
    import torch

    arr = np.stack(images)
    return torch.from_numpy(arr).permute(0, 3, 1, 2).contiguous().float().div_(255.0)
