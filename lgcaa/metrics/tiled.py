"""SSIM and NIQE strip by strip: the same numbers as pyiqa's whole-image forward, in bounded memory.

pyiqa computes both on the whole image in float64, with convolutions that unfold every pixel's window
(SSIM 11x11, NIQE 7x7): about 1 KB (SSIM) and 0.4 KB (NIQE) per pixel, 16 GB and 7 GB for a 4000x4000 pair.
Both are means of local statistics, so each strip of rows can be computed from its rows plus a halo:

- SSIM: the SSIM map of output rows [r0, r1) needs input rows [r0, r1 + 10) (a 'valid' 11x11 window). Each
  strip's map goes into one preallocated full map whose mean is taken exactly as pyiqa takes it.
- NIQE: features of the 96x96 blocks (scale 1) and of the 48x48 blocks of the half-size image (scale 2) of the
  block rows [r0, r1). Scale 1 needs rows r0-3..r1+3 (7x7 Gaussian; pyiqa's replicate padding applies at the
  true image border only, which a strip touching it shares); scale 2 needs rows of the half-size image made
  by pyiqa's own `imresize` from input rows r0-32..r1+32 (its 10-tap kernel reaches 5 input rows; rows whose
  taps leave the strip are discarded, except at the true border where padding is pyiqa's). The block features
  are put back in pyiqa's block order and the mean/covariance/distance are pyiqa's code on the full set.

Every per-pixel and per-block value is produced by the same pyiqa function on the same numbers, so the result
is bitwise identical to the whole-image forward (tested on the offline photos with small strips, CPU, one
intra-op thread as the evaluator runs, and on the RealSR pairs at 512²).

On CPU the evaluator takes this path for every image, not only for large ones: it is also the fast path
(on a GPU, where it has not been measured, only above `GPU_TILE_PIXELS`). pyiqa's
whole-image SSIM unfolds 121 float64 values per pixel (a ~250 MB buffer per 512² image, allocated and
page-faulted on every call); strips of ~`SSIM_STRIP_PIXELS` keep that buffer small enough to be reused from
cache. NIQE: one 96-row block row per strip (`NIQE_STRIP_PIXELS`) likewise. `lgcaa bench metrics` measures it.
NIQE's block features are computed by pyiqa's `compute_feature` over all blocks at once, as pyiqa does: its
per-block scalars pass through vectorised lgamma/exp whose last bit depends on how many blocks share a call.
"""

from __future__ import annotations

from typing import Any

GPU_TILE_PIXELS = 1 << 20  # on a GPU only images with more pixels go strip by strip (strips there: not measured)
SSIM_STRIP_PIXELS = 1 << 15  # target output pixels per SSIM strip, over the batch (32 rows of one 512-wide image)
SSIM_MIN_ROWS = 16  # at least this many output rows per strip (the halo is 10)
NIQE_STRIP_PIXELS = 96 * 512  # target pixels per NIQE strip (one block row up to 512 px wide)
SSIM_HALO = 10  # 11x11 'valid' window
NIQE_BLOCK = 96
NIQE_HALO = 3  # 7x7 Gaussian of normalize_img_with_gauss
NIQE_RESIZE_HALO = 32  # input rows beyond a strip for the half-size image (>= 2*3 + 5 needed)


def strip_rows(width: int, block: int = 1, target_pixels: int = NIQE_STRIP_PIXELS) -> int:
    """Rows per strip: a multiple of `block`, at least one block, about `target_pixels` / width."""
    return max(block, target_pixels // max(width, 1) // block * block)


def ssim_rows(width: int, batch: int = 1) -> int:
    """Output rows per SSIM strip of a batch of `batch` images `width` wide."""
    return max(SSIM_MIN_ROWS, strip_rows(width * batch, 1, SSIM_STRIP_PIXELS))


def niqe_rows(width: int) -> int:
    """Rows per NIQE strip (whole 96-row blocks) of an image `width` wide."""
    return strip_rows(width, NIQE_BLOCK, NIQE_STRIP_PIXELS)


def ssim(model: Any, x: Any, y: Any, rows: int | None = None) -> Any:
    """pyiqa SSIM(`model`) of (B,3,H,W) float in [0,1], strip by strip; (B,) float64 like model(x, y)."""
    import torch
    from pyiqa.archs.func_util import preprocess_rgb
    from pyiqa.archs.ssim_arch import ssim as pyiqa_ssim

    net = model.net
    if net.crop_border != 0 or net.downsample:
        return model(x, y)  # pooling/cropping change the geometry: not tiled (our protocol uses neither)
    b, _, h, w = x.shape
    out_h, out_w = h - SSIM_HALO, w - SSIM_HALO
    rows = rows or ssim_rows(w, b)
    ssim_map = None  # (B, C, out_h, out_w): C = 1 on Y, 3 on RGB (test_y_channel off)
    for r0 in range(0, out_h, rows):
        r1 = min(out_h, r0 + rows)
        xs, ys = (preprocess_rgb(t[:, :, r0:r1 + SSIM_HALO], net.test_y_channel, net.data_range,
                                 net.color_space).to(torch.float64) for t in (x, y))
        strip = pyiqa_ssim(xs, ys, data_range=net.data_range, downsample=False, get_ssim_map=True)
        if ssim_map is None:
            ssim_map = torch.empty((b, strip.shape[1], out_h, out_w), dtype=torch.float64, device=x.device)
        ssim_map[:, :, r0:r1] = strip
    return ssim_map.mean([1, 2, 3])


def niqe(model: Any, x: Any, rows: int | None = None) -> Any:
    """pyiqa NIQE(`model`) of (B,3,H,W) float in [0,1], strip by strip, image by image; (B,) float64."""
    import torch

    return torch.stack([_niqe_one(model.net, x[i:i + 1], rows) for i in range(x.shape[0])]).reshape(-1)


def _niqe_one(net: Any, x: Any, rows: int | None) -> Any:
    import torch
    from pyiqa.archs.func_util import diff_round
    from pyiqa.archs.niqe_arch import compute_feature
    from pyiqa.matlab_utils import blockproc, imresize, nancov, nanmean
    from pyiqa.utils.color_util import to_y_channel

    if net.crop_border != 0 or not net.test_y_channel or x.shape[1] != 3:
        return net(x).reshape(-1)[0]
    img = diff_round(to_y_channel(x, 255, net.color_space)).to(torch.float64)  # as calculate_niqe
    h, w = img.shape[2] // NIQE_BLOCK * NIQE_BLOCK, img.shape[3] // NIQE_BLOCK * NIQE_BLOCK
    img = img[..., :h, :w]
    rows = rows or niqe_rows(w)
    norm1 = torch.empty_like(img)  # normalize_img_with_gauss(img) and of the half-size image, strip by strip
    norm2 = torch.empty((1, 1, h // 2, w // 2), dtype=img.dtype, device=img.device)
    for r0 in range(0, h, rows):
        r1 = min(h, r0 + rows)
        norm1[..., r0:r1, :] = _normalized_rows(img, r0, r1)
        a, b = max(0, r0 - NIQE_RESIZE_HALO), min(h, r1 + NIQE_RESIZE_HALO)
        half = imresize(img[..., a:b, :] / 255.0, scale=0.5, antialiasing=True) * 255.0  # rows a/2 .. b/2
        lo, hi = r0 // 2 - a // 2, r1 // 2 - a // 2  # the strip's rows within `half`
        norm2[..., r0 // 2:r1 // 2, :] = _normalized_rows(half, lo, hi, clip=(a == 0, b == h))
    del img
    # the block features: pyiqa's own code on all blocks at once (its per-block scalars go through vectorised
    # lgamma/exp, whose last bits depend on how many blocks share a call)
    distparam = torch.cat([blockproc(norm1, [NIQE_BLOCK, NIQE_BLOCK], fun=compute_feature),
                           blockproc(norm2, [NIQE_BLOCK // 2, NIQE_BLOCK // 2], fun=compute_feature)], -1)
    mu_dist, cov_dist = nanmean(distparam, dim=1), nancov(distparam)
    mu_pris = net.mu_pris_param.to(distparam).repeat(1, 1)
    cov_pris = net.cov_pris_param.to(distparam).repeat(1, 1, 1)
    invcov = torch.linalg.pinv((cov_pris + cov_dist) / 2)
    diff = (mu_pris - mu_dist).unsqueeze(1)
    return torch.sqrt(torch.bmm(torch.bmm(diff, invcov), diff.transpose(1, 2)).squeeze())


def _normalized_rows(img: Any, r0: int, r1: int, clip: tuple[bool, bool] | None = None) -> Any:
    """Rows [r0, r1) of pyiqa's normalize_img_with_gauss(img, padding='replicate'), from rows r0-3..r1+3.

    `clip` (top, bottom): whether `img`'s first/last row is the true image border (default: both, i.e. `img`
    is the whole image); rows beyond a non-border edge must be present in `img`."""
    from pyiqa.archs.func_util import normalize_img_with_gauss

    top, bottom = clip or (True, True)
    a, b = max(0, r0 - NIQE_HALO), min(img.shape[2], r1 + NIQE_HALO)
    if (a > r0 - NIQE_HALO and not top) or (b < r1 + NIQE_HALO and not bottom):
        raise ValueError("strip halo leaves the rows computed exactly")
    return normalize_img_with_gauss(img[..., a:b, :], padding="replicate")[..., r0 - a:r1 - a, :]
