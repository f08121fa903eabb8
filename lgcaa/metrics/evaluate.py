"""Score a folder of SR outputs against a folder of HR images.

Each image pair is decoded once and fed to every available metric (models built once per process).
Outputs: per-image long rows (image, metric, value) and an aggregate with the image count, the protocol
lock and, for each metric, either its mean or the reason it is missing. A metric that fails on an image
fails the whole evaluation naming that image — nothing is skipped silently.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lgcaa.errors import UserError
from lgcaa.io import list_images, read_rgb, write_json, write_text


@dataclass
class Evaluation:
    rows: list[tuple[str, str, float]]  # (image, metric, value)
    aggregate: dict[str, Any]


def paired_names(sr_dir: str | Path, hr_dir: str | Path) -> list[str]:
    """Sorted common PNG names; UserError listing the first differences if the name sets differ."""
    sr = {p.name for p in list_images(sr_dir)}
    hr = {p.name for p in list_images(hr_dir)}
    if sr != hr:
        only_sr, only_hr = sorted(sr - hr), sorted(hr - sr)
        raise UserError(
            f"{sr_dir} vs {hr_dir}: image names differ ({len(only_sr)} only in SR, e.g. {only_sr[:3]}; "
            f"{len(only_hr)} only in HR, e.g. {only_hr[:3]}); rerun the SR job so every HR image has an output"
        )
    if not sr:
        raise UserError(f"{sr_dir}: no PNG images to evaluate")
    return sorted(sr)


def to_tensor(img):
    """(H,W,3) uint8 -> (1,3,H,W) float32 in [0,1]."""
    import torch

    return torch.from_numpy(img).permute(2, 0, 1).unsqueeze(0).float().div(255.0)


def build_metric(name: str, device: str):
    """A pyiqa metric built from our registry entry (weights must be present)."""
    import pyiqa

    from lgcaa.metrics.availability import hub_dir
    from lgcaa.metrics.registry import get

    spec = get(name)
    options = dict(spec.options)
    if name == "niqe":
        options["pretrained_model_path"] = str(hub_dir() / spec.weights[0])
    return pyiqa.create_metric(spec.pyiqa_name, device=device, as_loss=False, **options)


def evaluate(sr_dir: str | Path, hr_dir: str | Path, metric_names: list[str], device: str = "cpu") -> Evaluation:
    import torch

    from lgcaa.metrics.availability import missing_reason
    from lgcaa.metrics.lock import lock_hash, protocol
    from lgcaa.metrics.registry import get

    names = paired_names(sr_dir, hr_dir)
    status: dict[str, dict[str, Any]] = {}
    models = {}
    for m in metric_names:
        spec = get(m)
        why = missing_reason(spec)
        if why is not None:
            status[m] = {"status": "missing", **why}
        elif spec.mode == "SET":
            status[m] = {"status": "missing", "reason": "set-level metric not computed by this evaluator yet",
                         "fix": "lgcaa eval --help"}
        else:
            models[m] = build_metric(m, device)
    rows: list[tuple[str, str, float]] = []
    with torch.no_grad():
        for name in names:
            sr_img, hr_img = read_rgb(Path(sr_dir) / name), read_rgb(Path(hr_dir) / name)
            if sr_img.shape != hr_img.shape:
                raise UserError(
                    f"{Path(sr_dir) / name}: SR size {sr_img.shape[:2]} differs from HR {hr_img.shape[:2]}; "
                    "the SR method must output exactly scale x LR"
                )
            sr_t, hr_t = to_tensor(sr_img).to(device), to_tensor(hr_img).to(device)
            for m, model in models.items():
                try:
                    value = model(sr_t, hr_t) if get(m).mode == "FR" else model(sr_t)
                    value = float(value.reshape(-1)[0])
                except Exception as exc:  # name the image, then fail the job
                    raise RuntimeError(f"metric {m} failed on {Path(sr_dir) / name}: {exc}") from exc
                if value != value:  # NaN
                    raise RuntimeError(f"metric {m} returned NaN on {Path(sr_dir) / name}")
                rows.append((name, m, value))
    for m in models:
        values = [v for _, mm, v in rows if mm == m]
        status[m] = {"status": "ok", "mean": sum(values) / len(values), "n": len(values)}
    proto = protocol(metric_names)
    aggregate = {
        "n_images": len(names),
        "lock": lock_hash(proto),
        "protocol": proto,
        "metrics": {m: status[m] for m in metric_names},
    }
    return Evaluation(rows=rows, aggregate=aggregate)


def rows_to_csv(rows: list[tuple[str, str, float]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["image", "metric", "value"])
    for image, metric, value in rows:
        w.writerow([image, metric, repr(value)])
    return buf.getvalue()


def write_evaluation(out_dir: str | Path, ev: Evaluation, extra: dict[str, Any] | None = None) -> None:
    """Write per_image.csv, lock.json and aggregate.json (last, so its presence means complete)."""
    out_dir = Path(out_dir)
    write_text(out_dir / "per_image.csv", rows_to_csv(ev.rows))
    write_json(out_dir / "lock.json", {"lock": ev.aggregate["lock"], "protocol": ev.aggregate["protocol"]})
    write_json(out_dir / "aggregate.json", {**ev.aggregate, **(extra or {})})
