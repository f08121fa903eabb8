"""Image-panel figures (Figs. 4-7, 9): per image one row — overview with the crop box | LR | methods | HR.

`compare_row` reads one image of one dataset, judges which outputs are real images (`crops.lr_fit`),
picks the crop (`crops.pick_crop`) and scores every crop against the HR crop (PSNR on Y; LPIPS when its
weights are on the machine). LR-only figures (Figs. 5-6) have no HR: the crop follows the upsampled LR's
structure and no crop is scored. Everything here reads images and returns arrays and numbers; `draw` renders.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lgcaa.figures.crops import crop, draw_box, lr_consistency, lr_fit, pick_crop, psnr_y, resize
from lgcaa.figures.spec import PanelFigure, PanelSet

LpipsFn = Callable[[np.ndarray, np.ndarray], float]


@dataclass
class Tile:
    label: str
    image: np.ndarray  # the crop (LR crop at LR resolution)
    caption: str = ""
    method: str = ""
    psnr: float | None = None
    lpips: float | None = None
    lr_psnr: float | None = None
    lr_fit: float | None = None
    real: bool | None = None


@dataclass
class Row:
    dataset: str
    dataset_label: str
    image: str
    box: tuple[int, int, int]  # y, x, size in SR pixels
    score: float
    overview: np.ndarray  # reference (HR or upsampled LR) with the box drawn, <= thumb px
    overview_label: str
    tiles: list[Tile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def excluded(self) -> dict[str, float]:
        """{label: R²} of the outputs left out of the crop choice (not real images of the scene)."""
        return {t.label: float(t.lr_fit) for t in self.tiles if t.real is False and t.lr_fit is not None}


def excluded_notes(rows: list[Row], min_lr_fit: float) -> list[str]:
    """One line per method left out of the crop choice on some image, with its R² range."""
    fits: dict[str, list[float]] = {}
    for r in rows:
        for label, fit in r.excluded().items():
            fits.setdefault(label, []).append(fit)
    return [f"{label}: left out of the crop choice on {len(v)}/{len(rows)} image(s) — its downscaled output explains "
            f"R² = {min(v):.2f}…{max(v):.2f} of the LR (< {min_lr_fit:g}: not a super-resolved image of the scene)"
            for label, v in fits.items()]


def thumbnail(img: np.ndarray, size: int) -> np.ndarray:
    h, w = img.shape[:2]
    if max(h, w) <= size:
        return img
    f = size / max(h, w)
    return resize(img, (max(1, round(h * f)), max(1, round(w * f))))


def image_names(lr_dir: str, images: int | tuple[str, ...], offset: int = 0) -> list[str]:
    """The images a figure shows: the listed names, or N LR images by name after skipping `offset`."""
    from lgcaa.io import list_images

    if isinstance(images, tuple):
        return list(images)
    return [p.name for p in list_images(lr_dir)][offset : offset + int(images)]


def _caption(psnr: float | None, lpips: float | None) -> str:
    parts = []
    if psnr is not None:
        parts.append("∞ dB" if psnr == float("inf") else f"{psnr:.2f} dB")
    if lpips is not None:
        parts.append(f"LPIPS {lpips:.3f}")
    return " · ".join(parts)


def compare_row(s: PanelSet, name: str, crop_size: int, min_lr_fit: float, thumb: int = 256,
                lpips: LpipsFn | None = None) -> Row:
    from lgcaa.io import read_rgb

    lr = read_rgb(Path(s.lr_dir) / name)
    hr = read_rgb(Path(s.hr_dir) / name) if s.hr_dir else None
    notes: list[str] = []
    outs: list[tuple[str, str, np.ndarray]] = []
    for method, label, folder in s.methods:
        p = Path(folder) / name
        if not p.is_file():
            notes.append(f"{label}: no output {p}")
            continue
        outs.append((method, label, read_rgb(p)))
    size_hw = hr.shape[:2] if hr is not None else (outs[0][2].shape[:2] if outs else (lr.shape[0] * 4, lr.shape[1] * 4))
    for method, label, img in list(outs):
        if img.shape[:2] != tuple(size_hw):
            notes.append(f"{label}: output {img.shape[1]}x{img.shape[0]} differs from {size_hw[1]}x{size_hw[0]}")
            outs.remove((method, label, img))
    scale = max(1, size_hw[0] // lr.shape[0])
    ref = hr if hr is not None else resize(lr, size_hw)
    lr_psnrs = {m: lr_consistency(img, lr) for m, _, img in outs}
    fits = {m: lr_fit(img, lr) for m, _, img in outs}
    real = [img for m, _, img in outs if fits[m] >= min_lr_fit]
    size = max(scale, (min(crop_size, *size_hw) // scale) * scale)
    y, x, score = pick_crop(ref, real, size, scale)
    tiles = [Tile("LR", crop(lr, y // scale, x // scale, size // scale), f"{lr.shape[1]}×{lr.shape[0]} input")]
    hr_crop = crop(hr, y, x, size) if hr is not None else None
    for m, label, img in outs:
        c = crop(img, y, x, size)
        p = psnr_y(c, hr_crop) if hr_crop is not None else None
        lp = lpips(c, hr_crop) if (lpips is not None and hr_crop is not None) else None
        tiles.append(Tile(label, c, _caption(p, lp), m, p, lp, lr_psnrs[m], fits[m], fits[m] >= min_lr_fit))
    if hr_crop is not None:
        tiles.append(Tile("HR", hr_crop, "reference"))
    width = max(2, size_hw[0] // 128)
    overview = thumbnail(draw_box(ref, y, x, size, width), thumb)
    label = "HR" if hr is not None else f"LR (bicubic ×{scale})"
    return Row(s.dataset, s.label, name, (y, x, size), score, overview, f"{label}\ncrop ({x}, {y}) {size}²", tiles, notes)


def rows_for(fig: PanelFigure, lpips: LpipsFn | None = None) -> list[Row]:
    return [compare_row(s, n, fig.crop, fig.min_lr_fit, lpips=lpips)
            for s in fig.sets for n in image_names(s.lr_dir, fig.images, fig.offset)]


def to_csv(fig: PanelFigure, rows: list[Row]) -> str:
    """One line per (image, method): the crop box, PSNR (Y) and LPIPS of the crop, LR consistency, used for the crop."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["figure", "dataset", "image", "method", "label", "crop_y", "crop_x", "crop_size", "crop_psnr_y",
                "crop_lpips", "lr_psnr_y", "lr_fit_r2", "real_image", "crop_score"])
    for r in rows:
        y, x, s = r.box
        for t in r.tiles:
            if not t.method:
                continue
            w.writerow([fig.name, r.dataset, r.image, t.method, t.label, y, x, s,
                        "" if t.psnr is None else f"{t.psnr:.4f}", "" if t.lpips is None else f"{t.lpips:.4f}",
                        "" if t.lr_psnr is None else f"{t.lr_psnr:.4f}", "" if t.lr_fit is None else f"{t.lr_fit:.4f}",
                        t.real, f"{r.score:.4f}"])
    return buf.getvalue()


def lpips_scorer() -> tuple[LpipsFn | None, str]:
    """(crop LPIPS-Alex, "") when its weights are on the machine, else (None, why not and the fix)."""
    from lgcaa.metrics.availability import missing_reason
    from lgcaa.metrics.registry import get

    why = missing_reason(get("lpips"))
    if why:
        return None, f"LPIPS under crops not shown: {why['reason']} (fix: {why['fix']})"
    import torch

    from lgcaa.metrics.build import get_model

    model = get_model("lpips", "cpu")

    def score(sr: np.ndarray, hr: np.ndarray) -> float:
        to = lambda a: torch.from_numpy(a).permute(2, 0, 1)[None].float() / 255.0
        with torch.no_grad():
            return float(model(to(sr), to(hr)).item())

    return score, ""
