"""The calibration gate: every metric whose weights are here scores IQA-PyTorch's calibration pairs and must
match the reference values, before anything is scored.

Pairs: the 5 TID2013 reference/distorted pairs of IQA-PyTorch's `ResultsCalibra/` at commit
01ae427f9afd66842031d3a7cb694dcad5b5cbb8 (file set `pyiqa-calibra`, `lgcaa/data/sources/pyiqa-calibra.json`:
fetched per file from raw GitHub URLs or a mirror, `--mirror` / `$LGCAA_DATA_MIRROR`, sha256-verified), with
`results_official.csv`, the scores of the metrics' official implementations.

What is compared, as IQA-PyTorch's own calibration test does (tests/test_metric_general.py,
`test_match_official_with_given_cases`, chaofengc/IQA-PyTorch @ 01ae427f9afd66842031d3a7cb694dcad5b5cbb8, unchanged
since ef87c7a, before the v0.1.15 tag, so the test of pyiqa 0.1.16): the metric built with pyiqa's default options
(`pyiqa.create_metric(name)`; spelled out in `REFERENCES`), on the distorted images against the references, each
image's score must satisfy `|score - official| <= atol + rtol * |official|` (`torch.allclose`), with that test's
tolerances: ATOL = RTOL = 1e-2 by default, and from its TOL_DICT niqe (1e-2, 6e-2) and musiq (1e-2, 3e-2).
The official NIQE row is the original NIQE code's (`niqe`, 15.75 on I03), not `niqe_matlab`'s (7.20), as that test
compares pyiqa's `niqe` with it. PSNR's official value is RGB (scikit-image), SSIM's on MATLAB's rgb2gray: pyiqa's
defaults (PSNR on RGB, SSIM on Y of YIQ), not the harness's Table I protocol (Y of YCbCr) — the gate checks the
metric implementations and weights; the protocol's options are checked by the golden test (lgcaa.metrics.peer_log).

The harness's own path scores them: the weights verified as for `lgcaa eval` (lgcaa.metrics.build), images
decoded by lgcaa.metrics.decode, per-image values by lgcaa.metrics.scoring (SSIM and NIQE strip by strip).

CLIPIQA, MANIQA (pipal) and FID have no official value in `results_official.csv`; they are checked against values
the harness pinned on the same images (`PINNED`, tolerance pyiqa's default 1e-2/1e-2). None is pinned yet: no
machine that ran this had their weights; with weights present and no pin they are reported "unpinned" (not a
failure) until a maintainer records the measured values here.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lgcaa.errors import UserError
from lgcaa.metrics.registry import get, split_names

FILE_SET = "pyiqa-calibra"
SOURCE = "chaofengc/IQA-PyTorch@01ae427f9afd66842031d3a7cb694dcad5b5cbb8:ResultsCalibra"
ATOL = RTOL = 1e-2  # IQA-PyTorch tests/test_metric_general.py ATOL, RTOL


@dataclass(frozen=True)
class Reference:
    """How one metric is calibrated: the row of results_official.csv (None: a pinned value), the tolerance, and
    the pyiqa options (pyiqa's defaults for that metric, as its calibration test builds it)."""

    row: str | None
    atol: float = ATOL
    rtol: float = RTOL
    options: dict[str, Any] | None = field(default=None)  # None: the registry's (FID: applied at feature extraction)

    @property
    def text(self) -> str:
        return f"|Δ| ≤ {self.atol:g} + {self.rtol:g}·|reference|"


REFERENCES: dict[str, Reference] = {
    "psnr": Reference("psnr", options={"test_y_channel": False, "crop_border": 0}),
    "ssim": Reference("ssim", options={"test_y_channel": True, "color_space": "yiq", "crop_border": 0,
                                       "downsample": False}),
    "lpips": Reference("lpips", options={"net": "alex", "version": "0.1"}),
    "musiq": Reference("musiq", 1e-2, 3e-2, options={"pretrained": "koniq10k"}),  # row 'musiq' = koniq
    "clipiqa": Reference(None, options={}),
    "dists": Reference("dists", options={}),
    "fid": Reference(None),
    "niqe": Reference("niqe", 1e-2, 6e-2, options={"test_y_channel": True, "color_space": "yiq", "crop_border": 0,
                                                   "version": "original"}),
    "maniqa": Reference(None, options={}),
}

# Values measured by the harness on these pairs for the metrics without an official value, by image (FID: "*",
# the distorted folder against the reference folder). Empty: never measured with their weights yet.
PINNED: dict[str, dict[str, float]] = {}


class CalibrationDrift(UserError):
    """A metric's score on the calibration pairs is outside its tolerance: the DAG stops here."""


@dataclass(frozen=True)
class CalibrationJob:
    """What one `lgcaa metrics calibrate` checks: these metrics, with the files in this download cache, into
    this result file."""

    metrics: list[str]
    cache: Path
    out: Path


def calibration_job(cfg: dict[str, Any], metrics: str | None = None, cache: Path | None = None,
                    out: Path | None = None) -> CalibrationJob:
    """The gate of profile `cfg`: the comma-separated `metrics` (default the profile's; an unknown name fails
    before any work), the download `cache` (default the profile's cache folder) and the result file `out`
    (default `<results>/checks/calibration.json`)."""
    from lgcaa.config import cache_dir
    from lgcaa.layout import Layout

    names = split_names(metrics) if metrics else list(cfg["metrics"])
    for m in names:
        get(m)  # unknown names fail before any work
    return CalibrationJob(names, cache or cache_dir(cfg), out or Path(Layout.of(cfg).check_file("calibration")))


def fetch_pairs(cache_dir: str | Path, mirror: str | Path | None = None) -> dict[str, Any]:
    """{"ref": {name: path}, "dist": {name: path}, "official": path}: the pinned calibration files, verified,
    in `<cache_dir>/downloads/...` (from the raw GitHub URLs, or the mirror: `mirror` or $LGCAA_DATA_MIRROR)."""
    from lgcaa.data.files import fetch_group, load_file_set, mirror_root

    fs = load_file_set(FILE_SET)
    root = mirror_root(mirror)
    return {"ref": fetch_group(fs, "ref", cache_dir, root), "dist": fetch_group(fs, "dist", cache_dir, root),
            "official": fetch_group(fs, "official", cache_dir, root)["results_official.csv"]}


def read_official(path: str | Path) -> dict[str, dict[str, float]]:
    """{row: {image: value}} of results_official.csv (header `Method,I03.bmp,...`)."""
    text = Path(path).read_text()
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or rows[0][0] != "Method":
        raise UserError(f"{path}: not IQA-PyTorch's results_official.csv (no 'Method,...' header)")
    images = rows[0][1:]
    try:
        return {r[0]: {i: float(v) for i, v in zip(images, r[1:], strict=True)} for r in rows[1:] if r}
    except ValueError as exc:
        raise UserError(f"{path}: a row does not have one number per image ({exc}); fetch it again") from exc


def within(measured: float, expected: float, atol: float, rtol: float) -> bool:
    """torch.allclose's rule for one value: |measured - expected| <= atol + rtol * |expected|."""
    return abs(measured - expected) <= atol + rtol * abs(expected)


def score_metric(metric: str, ref: dict[str, Path], dist: dict[str, Path], device: str = "cpu") -> dict[str, float]:
    """{image: score} of `metric` (built with its calibration options) on the distorted images against the
    references; FID: {"*": distance of the distorted folder to the reference folder}."""
    import torch

    from lgcaa.metrics.build import build_metric
    from lgcaa.metrics.decode import decode, to_batch
    from lgcaa.metrics.scoring import score_batch

    spec = get(metric)
    names = sorted(dist)
    if sorted(ref) != names:
        raise UserError(f"calibration pairs: reference names {sorted(ref)} differ from distorted {names}")
    model = build_metric(metric, device, options=REFERENCES[metric].options)
    dist_imgs, ref_imgs = [decode(dist[n]) for n in names], [decode(ref[n]) for n in names]
    with torch.no_grad():
        if spec.mode == "SET":
            from lgcaa.metrics.fid import fid_features, frechet_from_features

            return {"*": frechet_from_features([fid_features(model, dist_imgs, device)],
                                               [fid_features(model, ref_imgs, device)])}
        sr_t, hr_t = to_batch(dist_imgs).to(device), to_batch(ref_imgs).to(device)
        vals = score_batch(metric, model, spec, sr_t, hr_t, names, Path(dist[names[0]]).parent)
    return dict(zip(names, vals))


def calibrate(metrics: list[str], pairs: dict[str, Any], device: str = "cpu") -> dict[str, Any]:
    """Score `metrics` on the pairs and compare with their references. Result: {"check": "calibration", "ok",
    "images", "source", "pyiqa", "metrics": {metric: {...}}}: status "ok"/"drift" (with reference, tolerance,
    measured and expected per image, the drifting images), "missing" (weights absent here, with the reason
    and fix) or "unpinned" (weights here, no pinned value)."""
    from importlib.metadata import version

    from lgcaa.metrics.availability import missing_reason

    official = read_official(pairs["official"])
    images = sorted(pairs["dist"])
    out: dict[str, dict[str, Any]] = {}
    for m in metrics:
        spec, ref = get(m), REFERENCES[m]
        why = missing_reason(spec)
        if why is not None:
            out[m] = {"status": "missing", "reason": why["reason"], "fix": why["fix"]}
            continue
        if ref.row is None and m not in PINNED:
            out[m] = {"status": "unpinned", "reason": "no official value and none pinned yet: record the measured "
                                                      "values in PINNED (lgcaa/metrics/calibrate.py)"}
            continue
        expected = official[ref.row] if ref.row is not None else PINNED[m]
        measured = score_metric(m, pairs["ref"], pairs["dist"], device)
        bad = [i for i in expected if not within(measured[i], expected[i], ref.atol, ref.rtol)]
        out[m] = {"status": "drift" if bad else "ok",
                  "reference": f"results_official.csv row '{ref.row}'" if ref.row else "pinned by the harness",
                  "atol": ref.atol, "rtol": ref.rtol, "tolerance_text": ref.text,
                  "options": ref.options, "measured": measured, "expected": expected, "drifting_images": bad}
    ok = all(r["status"] != "drift" for r in out.values())
    return {"check": "calibration", "ok": ok, "images": images, "source": SOURCE, "pyiqa": version("pyiqa"),
            "device": device, "metrics": out}


def drift_line(result: dict[str, Any]) -> str:
    """One line naming every drifting metric with its worst image, expected and measured value."""
    parts = []
    for m, r in result["metrics"].items():
        if r["status"] != "drift":
            continue
        worst = max(r["drifting_images"], key=lambda i: abs(r["measured"][i] - r["expected"][i]))
        parts.append(f"{m} on {worst}: expected {r['expected'][worst]:.4f} ({r['reference']}, {r['tolerance_text']}), "
                     f"measured {r['measured'][worst]:.4f}")
    return "calibration drift: " + "; ".join(parts) + (
        " -- check the weights (lgcaa weights verify), the pyiqa version and the device" if parts else "")


def calibration_lines(result: dict[str, Any]) -> list[str]:
    """What `lgcaa metrics calibrate` prints of a result, one line per metric: its status and worst |Δ| against
    its reference and tolerance, or why it was not checked (and the fix)."""
    out = []
    for m, r in result["metrics"].items():
        if r["status"] in ("ok", "drift"):
            worst = max(abs(r["measured"][i] - r["expected"][i]) for i in r["expected"])
            out.append(f"{m:8s} {r['status']:6s} max |Δ| {worst:.4g} vs {r['reference']} ({r['tolerance_text']})")
        else:
            out.append(f"{m:8s} {r['status']}: {r['reason']}" + (f" (fix: {r['fix']})" if r.get("fix") else ""))
    return out


def calibration_summary(out: str | Path, result: dict[str, Any], metrics: list[str]) -> str:
    """The closing line of a passed gate: where the result went, how many of `metrics` were checked on what."""
    return (f"{out}: {sum(r['status'] == 'ok' for r in result['metrics'].values())} of {len(metrics)} metrics "
            f"checked on {len(result['images'])} pairs ({result['source']}, pyiqa {result['pyiqa']})")
