"""A peer's published per-image scores: OSEDiff's `test_METRICS_*.log`, parsed and compared with ours.

OSEDiff (cswry/OSEDiff @ fcc4f09c7ed66a9bc0ba9433940d76b343142426) publishes, beside its ×4 outputs of
StableSR's RealSR/DRealSR test crops, the log its `test_metrics.py` wrote (pyiqa; PSNR/SSIM on Y of YCbCr,
no border crop). Its lines (what `parse_peer_log` reads; anything else is ignored):

    <date> <time> - INFO: Directory [results_osediff]: 100 GT images vs 100 SR images.
    <date> <time> - INFO: results_osediff/Canon_001_LR4.png | PSNR: 25.793726; SSIM: 0.851268; ...; MANIQA: 0.607102 | Runtime: 1.06 sec
    ...
    ===== Average Metrics for [results_osediff] =====
    PSNR: 25.1511; SSIM: 0.7341; ...; MANIQA: 0.6331 | FID: 123.493817 | FID Runtime: 6.79 sec

Labels are our registry's (`MetricSpec.label`: PSNR, SSIM, LPIPS, DISTS, CLIPIQA, NIQE, MUSIQ, MANIQA, FID); an
unknown label, a malformed value, an image listed twice or a count that differs from the "Directory" line is a
`UserError` naming the file and line. Per-image values are printed with 6 decimals, means with 4 (FID 6).

`compare_with_log` is the golden check: our per-image values (what `lgcaa.metrics.evaluate` produced) against
the log's, image by image and in the mean, within `GOLDEN_TOLERANCES`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Container
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lgcaa.errors import UserError
from lgcaa.metrics.registry import METRICS

LABELS = {spec.label: name for name, spec in METRICS.items()}  # "PSNR" -> "psnr"

# (per image, mean) |ours - log|. PSNR/SSIM/NIQE: issue 20's acceptance bounds (today's main scored by hand:
# PSNR max 8e-6, SSIM 1.2e-6, NIQE 0.018 per image). The weight-bound metrics: bounds chosen for float32
# networks run on another device (OSEDiff scored on a GPU); not yet checked here (no weights offline).
GOLDEN_TOLERANCES: dict[str, tuple[float, float]] = {
    "psnr": (1e-4, 1e-4),
    "ssim": (1e-4, 1e-4),
    "niqe": (0.02, 1e-3),
    "lpips": (1e-3, 1e-3),
    "dists": (1e-3, 1e-3),
    "clipiqa": (2e-3, 1e-3),
    "musiq": (0.05, 0.02),
    "maniqa": (2e-3, 1e-3),
}

_IMAGE = re.compile(r" - INFO: (?P<path>\S+\.png) \| (?P<scores>[^|]*)\| Runtime: ")
_DIRECTORY = re.compile(r"Directory \[[^\]]*\]: (?P<gt>\d+) GT images vs (?P<sr>\d+) SR images")
_AVERAGE_HEAD = "===== Average Metrics for"
_PAIR = re.compile(r"^\s*(?P<label>[A-Za-z0-9_-]+): (?P<value>-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)\s*$")


@dataclass(frozen=True)
class PeerLog:
    path: Path
    images: dict[str, dict[str, float]]  # image file name -> {metric: value}, in log order
    means: dict[str, float]  # metric -> the log's average (FID: its folder value)
    n_declared: int  # the "N GT images vs N SR images" count

    @property
    def metrics(self) -> list[str]:
        """Per-image metrics of the log, in its order."""
        first = next(iter(self.images.values()), {})
        return list(first)


def _pairs(text: str, path: Path, lineno: int) -> dict[str, float]:
    """'PSNR: 25.79; SSIM: 0.85' -> {'psnr': 25.79, 'ssim': 0.85}; UserError naming the line otherwise."""
    out: dict[str, float] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        m = _PAIR.match(part)
        if m is None:
            raise UserError(f"{path}:{lineno}: cannot read {part.strip()!r} as 'METRIC: value'; is this an OSEDiff "
                            "test_METRICS log?")
        label = m["label"]
        if label not in LABELS:
            raise UserError(f"{path}:{lineno}: unknown metric {label!r} (known: {', '.join(LABELS)}); add it to "
                            "lgcaa/metrics/registry.py or drop it from the log")
        if LABELS[label] in out:
            raise UserError(f"{path}:{lineno}: metric {label} given twice")
        out[LABELS[label]] = float(m["value"])
    return out


def parse_peer_log(path: str | Path) -> PeerLog:
    """The per-image scores and averages of an OSEDiff `test_METRICS_*.log` (see the module docstring)."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the peer's log ({exc}); fetch it again") from exc
    images: dict[str, dict[str, float]] = {}
    means: dict[str, float] = {}
    declared = None
    for i, line in enumerate(lines, 1):
        if (d := _DIRECTORY.search(line)) is not None:
            if d["gt"] != d["sr"]:
                raise UserError(f"{path}:{i}: the log scored {d['sr']} SR images against {d['gt']} GT images")
            declared = int(d["gt"])
        elif (m := _IMAGE.search(line)) is not None:
            name = m["path"].rsplit("/", 1)[-1]
            if name in images:
                raise UserError(f"{path}:{i}: image {name} listed twice")
            scores = _pairs(m["scores"], path, i)
            if images and list(scores) != list(next(iter(images.values()))):
                raise UserError(f"{path}:{i}: {name} has metrics {list(scores)}, the first image "
                                f"{list(next(iter(images.values())))}")
            images[name] = scores
        elif line.startswith(_AVERAGE_HEAD) and i < len(lines):
            parts = lines[i].split("|")  # the line after the heading: "A: x; B: y | FID: z | FID Runtime: t sec"
            means = _pairs(parts[0], path, i + 1)
            means.update(_pairs(";".join(p for p in parts[1:] if "Runtime" not in p), path, i + 1))
    if declared is None:
        raise UserError(f"{path}: no 'Directory [...]: N GT images vs N SR images' line; is this an OSEDiff "
                        "test_METRICS log?")
    if len(images) != declared:
        raise UserError(f"{path}: {len(images)} per-image lines, but the log says it scored {declared} images "
                        "(truncated file?)")
    if not means:
        raise UserError(f"{path}: no '{_AVERAGE_HEAD} ...' section (truncated file?)")
    return PeerLog(path, images, means, declared)


def compare_with_log(ours: dict[str, dict[str, float]], log: PeerLog, missing: dict[str, str] | None = None,
                     tolerances: dict[str, tuple[float, float]] | None = None) -> dict[str, Any]:
    """The golden check: `ours` {metric: {image: value}} against the log, per image and in the mean.

    `missing` {metric: reason}: log metrics that could not be scored here (weights absent); they are reported
    "skipped" with the reason. A per-image metric of the log that is neither scored nor missing fails the check
    (status "not scored"). Result: {"ok": bool, "n_images", "log", "metrics": {metric: {...}}}, where each
    scored metric has status "ok" or "drift", the tolerances, max |Δ| per image (and the image), the means
    (ours over the log's images, the log's printed one) and |Δ| of the means."""
    tolerances = GOLDEN_TOLERANCES if tolerances is None else tolerances
    missing = missing or {}
    names = list(log.images)
    result: dict[str, dict[str, Any]] = {}
    for m in log.metrics:
        if m in missing:
            result[m] = {"status": "skipped", "reason": missing[m]}
            continue
        if m not in ours:
            result[m] = {"status": "not scored", "reason": f"{m} is in the log but was not requested"}
            continue
        tol_image, tol_mean = tolerances[m]
        absent = [n for n in names if n not in ours[m]]
        if absent:
            result[m] = {"status": "drift", "reason": f"{len(absent)} images of the log not scored, e.g. {absent[:3]}"}
            continue
        diffs = {n: abs(ours[m][n] - log.images[n][m]) for n in names}
        worst = max(diffs, key=lambda n: (diffs[n], n))
        mean_ours = math.fsum(ours[m][n] for n in names) / len(names)
        entry = {
            "tolerance_per_image": tol_image, "tolerance_mean": tol_mean,
            "n": len(names),
            "max_abs_diff": diffs[worst], "worst_image": worst,
            "worst_ours": ours[m][worst], "worst_log": log.images[worst][m],
            "over_tolerance": sorted(n for n in names if not diffs[n] <= tol_image),
            "mean_ours": mean_ours,
        }
        if m in log.means:
            entry["mean_log"] = log.means[m]
            entry["mean_abs_diff"] = abs(mean_ours - log.means[m])
        drift = bool(entry["over_tolerance"]) or not entry.get("mean_abs_diff", 0.0) <= tol_mean
        result[m] = {"status": "drift" if drift else "ok", **entry}
    ok = all(r["status"] in ("ok", "skipped") for r in result.values())
    return {"ok": ok, "n_images": len(names), "log": str(log.path), "metrics": result}


def restrict_to(log: PeerLog, names: list[str]) -> PeerLog:
    """The log cut to the images `names` (a profile's `limit` scores the first N pairs of a set): per-image values
    only, since the log's means cover all of its images. UserError naming the log when an image is not in it."""
    absent = sorted(set(names) - set(log.images))
    if absent:
        raise UserError(f"{log.path}: {len(absent)} of our images are not in the peer's log, e.g. {absent[:3]}; is it "
                        "the log of this dataset?")
    if sorted(names) == sorted(log.images):
        return log
    return PeerLog(log.path, {n: v for n, v in log.images.items() if n in set(names)}, {}, len(names))


def _check_requested(ours: dict[str, dict[str, float]], log: PeerLog, status: dict[str, dict[str, Any]],
                     requested: Container[str] | None = None) -> dict[str, Any]:
    """`compare_with_log` of an evaluation's scores: the metrics its `status` (aggregate.json's "metrics") reports
    not ok are skipped with their reason and fix; `requested` (None: every metric of the log) keeps the result to
    those metrics. Which images are compared is the caller's choice of `log`: the whole log (a folder's golden
    check: an image of the log not scored is a drift) or the log cut to a stated subset (`restrict_to`)."""
    missing = {m: f"{s.get('reason', s['status'])}" + (f" (fix: {s['fix']})" if s.get("fix") else "")
               for m, s in status.items() if s["status"] != "ok"}
    check = compare_with_log(ours, log, missing)
    if requested is not None:  # a chosen subset of metrics: the log's other metrics are not part of this check
        check["metrics"] = {m: r for m, r in check["metrics"].items() if m in requested}
        check["ok"] = all(r["status"] in ("ok", "skipped") for r in check["metrics"].values())
    return check


def compare_scores(ours: dict[str, dict[str, float]], aggregate: dict[str, Any], log_path: str | Path) -> dict[str, Any]:
    """The golden check on scores already computed (a DAG evaluation's per_image.csv as {metric: {image: value}}
    and its aggregate.json): the log is cut to the images scored (`restrict_to`; a profile's stated `limit`
    subset compares per image only), metrics the evaluation reports missing are skipped with its reason, and only
    metrics both sides have are checked."""
    log = parse_peer_log(log_path)
    scored = sorted({n for per in ours.values() for n in per})
    status = aggregate["metrics"]
    check = _check_requested(ours, restrict_to(log, scored), status, requested=status)
    subset = len(scored) < len(log.images)
    return {**check, "lock": aggregate["lock"], "subset": subset, "n_log_images": len(log.images),
            "means_compared": not subset}


def drift_lines(check: dict[str, Any]) -> list[str]:
    """One line per metric that failed the golden check: metric, worst image, log value, ours, tolerance."""
    out = []
    for m, r in check["metrics"].items():
        if r["status"] == "not scored" or "max_abs_diff" not in r and r["status"] == "drift":
            out.append(f"{m}: {r['reason']}")
        elif r["status"] == "drift":
            if r["over_tolerance"]:
                out.append(f"{m}: {len(r['over_tolerance'])} of {r['n']} images off by more than "
                           f"{r['tolerance_per_image']:g}; worst {r['worst_image']}: log {r['worst_log']:.6f}, ours "
                           f"{r['worst_ours']:.6f} (|Δ| {r['max_abs_diff']:.3g})")
            if not r.get("mean_abs_diff", 0.0) <= r["tolerance_mean"]:
                out.append(f"{m}: mean log {r['mean_log']:.4f}, ours {r['mean_ours']:.4f} "
                           f"(|Δ| {r['mean_abs_diff']:.3g} > {r['tolerance_mean']:g})")
    return out


def golden_lines(check: dict[str, Any]) -> list[str]:
    """What `lgcaa metrics golden` prints of a golden check: one line per metric (its worst per-image difference
    and the means against their tolerances, or its status and why), then the count, lock, seconds and log."""
    out = []
    for m, r in check["metrics"].items():
        if "max_abs_diff" in r:
            out.append(f"{m:8s} {r['status']:7s} max |Δ| per image {r['max_abs_diff']:.3g} (≤ {r['tolerance_per_image']:g}; "
                       f"{r['worst_image']}), mean ours {r['mean_ours']:.4f} vs log {r.get('mean_log', float('nan')):.4f} "
                       f"(|Δ| {r.get('mean_abs_diff', float('nan')):.3g} ≤ {r['tolerance_mean']:g})")
        else:
            out.append(f"{m:8s} {r['status']}: {r['reason']}")
    return [*out, f"N={check['n_images']} lock={check['lock']} time={check['seconds']}s log={check['log']}"]


def compare_log_line(out: str | Path, check: dict[str, Any]) -> str:
    """The one line of `lgcaa metrics compare-log`: where the check went, passed or not, over which images."""
    scope = (f"{check['n_images']} of the log's {check['n_log_images']} images, per image only" if check["subset"]
             else f"{check['n_images']} images, per image and means")
    return f"{out}: {'passed' if check['ok'] else 'FAILED'} ({scope})"


def golden_check(sr_dir: str | Path, hr_dir: str | Path, log_path: str | Path, device: str = "cpu",
                 workers: int | None = None, metrics: list[str] | None = None) -> dict[str, Any]:
    """Score `sr_dir` against `hr_dir` with the harness's protocol (`lgcaa.metrics.evaluate`, what `lgcaa eval`
    runs) and compare with the peer's whole log (`compare_with_log`): every image of the log must be scored, an
    image missing from `sr_dir` is a drift (never a subset). `metrics`: default the log's per-image metrics;
    those without weights here are skipped with the reason. The result also records the protocol lock, the
    folders' digests and the seconds the scoring took."""
    from lgcaa.metrics.evaluate import evaluate

    log = parse_peer_log(log_path)
    wanted = metrics if metrics is not None else log.metrics
    ev = evaluate(sr_dir, hr_dir, wanted, device=device, workers=workers)
    ours: dict[str, dict[str, float]] = {}
    for image, m, v in ev.rows:
        ours.setdefault(m, {})[image] = v
    check = _check_requested(ours, log, ev.aggregate["metrics"], requested=metrics)
    return {**check, "sr_dir": str(sr_dir), "hr_dir": str(hr_dir), "lock": ev.aggregate["lock"],
            "sr_sha256": ev.aggregate["sr_sha256"], "hr_sha256": ev.aggregate["hr_sha256"],
            "seconds": round(ev.timing["total_s"], 1)}
