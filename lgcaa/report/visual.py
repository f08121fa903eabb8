"""Which images and methods the report compares visually, and the comparison panels themselves.

`build_visual_spec(cfg)` reads the optional `report` section of a profile:
    report: {"datasets": [...], "methods": [...], "images": 3, "crop": 64, "thumb": 256}
Defaults: Table I's datasets and methods, the first 3 images (sorted by name), a 64-px HR crop.
Per image, the panels are LR | each method | HR, cropped where the methods disagree most (`crops`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lgcaa.layout import Layout
from lgcaa.report.crops import best_window, crop, disagreement, draw_box
from lgcaa.tables.spec import dataset_label, method_label

DEFAULT_REPORT = {"images": 3, "crop": 64, "thumb": 256}


@dataclass(frozen=True)
class VisualDataset:
    name: str
    label: str
    lr_dir: str
    hr_dir: str
    methods: tuple[tuple[str, str, str], ...]  # (method, label, SR folder)


@dataclass(frozen=True)
class VisualSpec:
    datasets: tuple[VisualDataset, ...]
    images: int
    crop: int
    thumb: int

    @property
    def folders(self) -> list[str]:
        return [f for d in self.datasets for f in (d.lr_dir, d.hr_dir, *(m[2] for m in d.methods))]

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @staticmethod
    def from_json(text: str) -> VisualSpec:
        d = json.loads(text)
        ds = tuple(VisualDataset(**{**v, "methods": tuple(tuple(m) for m in v["methods"])}) for v in d.pop("datasets"))
        return VisualSpec(datasets=ds, **d)


def build_visual_spec(cfg: dict[str, Any]) -> VisualSpec:
    rep = {**DEFAULT_REPORT, **cfg.get("report", {})}
    t1 = cfg.get("tables", {}).get("table1", {})
    layout = Layout.of(cfg)
    datasets = []
    for ds in rep.get("datasets", t1.get("datasets", [])):
        methods = tuple((m, method_label(cfg, m), layout.sr_dir(ds, m)) for m in rep.get("methods", t1.get("methods", [])))
        datasets.append(VisualDataset(ds, dataset_label(cfg, ds), layout.lr_dir(ds), layout.hr_dir(ds), methods))
    return VisualSpec(tuple(datasets), int(rep["images"]), int(rep["crop"]), int(rep["thumb"]))


@dataclass
class Comparison:
    dataset: str
    dataset_label: str
    image: str
    box: tuple[int, int, int]  # y, x, size in HR pixels
    score: float  # mean disagreement (luminance std, 0-255) inside the box
    overview: np.ndarray  # HR with the box drawn, downscaled to <= thumb px
    panels: list[tuple[str, np.ndarray]]  # (label, crop); LR crop at LR resolution
    notes: list[str]


def _thumb(img: np.ndarray, size: int) -> np.ndarray:
    h, w = img.shape[:2]
    if max(h, w) <= size:
        return img
    from PIL import Image

    f = size / max(h, w)
    return np.asarray(
        Image.fromarray(img).resize((max(1, round(w * f)), max(1, round(h * f))), Image.Resampling.LANCZOS)
    )


def compare_image(d: VisualDataset, name: str, crop_size: int, thumb: int) -> Comparison:
    from lgcaa.io import read_rgb

    hr = read_rgb(Path(d.hr_dir) / name)
    lr = read_rgb(Path(d.lr_dir) / name)
    notes = []
    outs: list[tuple[str, np.ndarray]] = []
    for method, label, folder in d.methods:
        p = Path(folder) / name
        if not p.is_file():
            notes.append(f"{label}: no output {p}")
            continue
        img = read_rgb(p)
        if img.shape != hr.shape:
            notes.append(f"{label}: output {img.shape[1]}x{img.shape[0]} differs from HR {hr.shape[1]}x{hr.shape[0]}")
            continue
        outs.append((label, img))
    scale = max(1, hr.shape[0] // lr.shape[0])
    size = max(scale, (min(crop_size, *hr.shape[:2]) // scale) * scale)
    if len(outs) >= 2:
        dmap = disagreement([o for _, o in outs])
        y, x = best_window(dmap, size, align=scale)
        score = float(crop(dmap, y, x, size).mean())
    else:
        notes.append("fewer than two method outputs: crop at the centre")
        y, x = ((hr.shape[0] - size) // 2 // scale) * scale, ((hr.shape[1] - size) // 2 // scale) * scale
        score = 0.0
    panels = [("LR", crop(lr, y // scale, x // scale, size // scale))]
    panels += [(label, crop(o, y, x, size)) for label, o in outs]
    panels.append(("HR", crop(hr, y, x, size)))
    width = max(2, hr.shape[0] // 128)
    return Comparison(
        d.name, d.label, name, (y, x, size), score, _thumb(draw_box(hr, y, x, size, width), thumb), panels, notes
    )


def comparisons(spec: VisualSpec) -> list[Comparison]:
    from lgcaa.io import list_images

    out = []
    for d in spec.datasets:
        names = [p.name for p in list_images(d.hr_dir)][: spec.images]
        out += [compare_image(d, n, spec.crop, spec.thumb) for n in names]
    return out
