"""Score a folder of SR outputs against a folder of HR images.

Each image pair is decoded once and fed to every available metric; metric models are built once per process
(`lgcaa.metrics.build`). Images of the same size are scored in batches of up to `batch_pixels` pixels (per-image
values are unchanged: tested). FID is computed per folder pair from the same decoded images (clean-fid resize).

Outputs: per-image long rows (image, metric, value) and an aggregate with the image count, the protocol lock
and, for each metric, either its mean or the reason it is missing. Before any metric runs, the SR and HR name
sets, every file's format (PNG data) and every pair's size are checked, and the memory the chunks need is
estimated (`lgcaa.metrics.memory`): the worker count is sized to it, a pair that cannot fit is refused naming
it. On CPU every image goes through a metric's strip-wise forward where it has one (SSIM, NIQE,
`lgcaa.metrics.tiled`: bitwise the same numbers, in less memory and time; on a GPU only images over 1 Mpx). A metric that fails (or returns NaN/inf) on an image fails the whole
evaluation naming that image — nothing is skipped silently — except where the registry declares why the
metric can be undefined (`undefined_reason`, NIQE on a flat image): that image's value is reported undefined
with the reason, left out of the mean, and the rest is scored. The work on one chunk (decode, score, the
errors naming an image) is `lgcaa.metrics.scoring`; this module plans, runs and aggregates the chunks.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lgcaa.data.manifest import folder_digest
from lgcaa.errors import UserError
from lgcaa.io import atomic_dir, list_images, write_json, write_text
from lgcaa.layout import AGGREGATE, LOCK, PER_IMAGE
from lgcaa.metrics.build import get_model
from lgcaa.metrics.fid import frechet_from_features
from lgcaa.metrics.lock import lock_hash, protocol
from lgcaa.metrics.memory import available_bytes, plan_workers
from lgcaa.metrics.registry import get
from lgcaa.metrics.scoring import Chunk, ChunkJob, MetricError
from lgcaa.progress import Progress

DEFAULT_BATCH_PIXELS = 4 * 512 * 512  # 4 images of 512² per forward; 16 of 256²


@dataclass
class Evaluation:
    rows: list[tuple[str, str, float]]  # (image, metric, value), images sorted, metrics in request order
    aggregate: dict[str, Any]
    timing: dict[str, Any] = field(default_factory=dict)  # seconds; not written to aggregate.json (not reproducible)
    digests: dict[str, dict[str, Any]] = field(default_factory=dict)  # {"sr"|"hr": folder_digest(...)}


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


def check_sizes(sr_dir: Path, hr_dir: Path, names: list[str], min_sides: dict[str, int]) -> dict[str, tuple[int, int]]:
    """{name: (H, W)} from the files' headers; UserError naming the first file that is not PNG data or over the
    decompression-bomb limit, or pair whose sizes differ or that is smaller than a metric's minimum side."""
    from lgcaa.metrics.decode import scoring_size

    sizes = {}
    for n in names:
        s, h = scoring_size(sr_dir / n), scoring_size(hr_dir / n)
        if s != h:
            raise UserError(f"{sr_dir / n}: SR size {s[0]}x{s[1]} (HxW) differs from HR {h[0]}x{h[1]} "
                            f"({hr_dir / n}); the SR method must output exactly scale x LR")
        for m, side in min_sides.items():
            if min(s) < side:
                raise UserError(f"{sr_dir / n}: {s[0]}x{s[1]} is smaller than {side} px, the minimum side for "
                                f"metric {m}; drop {m} (--metrics) or use larger images")
        sizes[n] = s
    return sizes


def chunks(sizes: dict[str, tuple[int, int]], batch_pixels: int, workers: int = 1) -> list[list[str]]:
    """Names grouped by size, each group split so that B*H*W <= batch_pixels (at least one image) and, when
    a group is small, into at least `workers` pieces so every worker gets one."""
    groups: dict[tuple[int, int], list[str]] = defaultdict(list)
    for n in sorted(sizes):
        groups[sizes[n]].append(n)
    out = []
    for (h, w), names in sorted(groups.items()):
        b = max(1, min(batch_pixels // (h * w), -(-len(names) // max(1, workers))))
        out += [names[i:i + b] for i in range(0, len(names), b)]
    return out


def default_workers(device: str) -> int:
    """Evaluator worker threads: on CPU one per core granted to this process (OMP_NUM_THREADS when set, as
    Snakemake does per job), capped at 8; on a GPU 4 (PNG decoding, which dominates there, runs in parallel
    while one worker at a time uses the device)."""
    import os

    if str(device).startswith("cuda"):
        return 4
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    cores = int(env) if env.isdigit() and int(env) > 0 else len(os.sched_getaffinity(0))
    return max(1, min(8, cores))


def resolve_device(device: str) -> str:
    """`device` as given, or for "auto" cuda when available, else cpu."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def evaluate(sr_dir: str | Path, hr_dir: str | Path, metric_names: list[str], device: str = "cpu",
             batch_pixels: int = DEFAULT_BATCH_PIXELS, workers: int | None = None,
             max_memory: int | None = None, progress: Progress | None = None) -> Evaluation:
    """Score every SR/HR pair with every available metric; see the module docstring. `max_memory`: bytes the
    workers may use (e.g. the job's allocation; never more than `lgcaa.metrics.memory.available_bytes`, the
    default).

    `progress` (optional) counts image x metric scores as they finish (lgcaa.progress).

    Parallelism: `workers` threads each take a chunk (same-size images, <= batch_pixels), decode it and run
    every metric on it. On CPU torch's intra-op threads are set to 1 meanwhile (one core per worker; restored
    after): the metrics' many small ops cost more on several OpenMP threads than they gain (measured: a naive
    pyiqa loop runs 2-4x faster on 2 cores with 1 intra-op thread than with torch's default of 2). Metrics marked thread_safe=False,
    and all metrics on a GPU, run one call at a time (a lock per metric / one for the device).
    """
    t_start = time.perf_counter()
    sr_dir, hr_dir = Path(sr_dir), Path(hr_dir)
    metric_names = list(dict.fromkeys(metric_names))
    specs = {m: get(m) for m in metric_names}
    names = paired_names(sr_dir, hr_dir)
    status, runnable = _triage(specs, len(names))
    sizes = check_sizes(sr_dir, hr_dir, names, {m: specs[m].min_side for m in runnable if specs[m].min_side > 1})
    n_workers = max(1, workers or default_workers(device))
    plan = chunks(sizes, batch_pixels, n_workers)
    on_host = [] if _on_gpu(device) else runnable  # on a GPU the host holds the decoded images only
    budget = min(max_memory, available_bytes()) if max_memory else None  # a job's allocation, if less is free
    n_workers, memory_estimate = plan_workers([(str(sr_dir / b[0]), *sizes[b[0]], len(b)) for b in plan], on_host,
                                              min(n_workers, len(plan)), budget)

    t0 = time.perf_counter()
    if progress is not None:
        progress.note(f"{len(names)} image pairs; building {', '.join(runnable) or 'no'} metric model(s) on {device}")
    models = {m: get_model(m, device) for m in runnable}
    build_s = time.perf_counter() - t0
    job = ChunkJob(sr_dir, hr_dir, device, runnable, specs, models, _metric_locks(specs, runnable, device), progress)
    if progress is not None:
        progress.start(len(names) * len(runnable))
    results = _run_chunks(job, plan, n_workers, device)

    rows, scored, forward_s = _scores(results, names, runnable, specs, sr_dir, hr_dir)
    status.update(scored)
    digests = {"sr": folder_digest(sr_dir), "hr": folder_digest(hr_dir)}
    aggregate = _aggregate(metric_names, len(names), status, digests)
    timing = _timing(results, forward_s, time.perf_counter() - t_start, build_s, n_workers, len(plan), device,
                     memory_estimate)
    return Evaluation(rows=rows, aggregate=aggregate, timing=timing, digests=digests)


def _on_gpu(device: str) -> bool:
    return str(device).startswith("cuda")


def _triage(specs: dict[str, Any], n_images: int) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """({metric: missing status} for the metrics that cannot run here, the runnable metrics in request order).

    Missing: no verified weights (`missing_reason`), or a folder-level (SET) metric on fewer than 2 images."""
    # looked up at call time: `lgcaa bench metrics --random-init` patches it on the module
    from lgcaa.metrics.availability import missing_reason

    status: dict[str, dict[str, Any]] = {}
    runnable = []
    for m, spec in specs.items():
        why = missing_reason(spec)
        if why is not None:
            status[m] = {"status": "missing", **why}
        elif spec.mode == "SET" and n_images < 2:
            status[m] = {"status": "missing", "reason": f"{m.upper()} needs at least 2 images, got {n_images}",
                         "fix": "evaluate a folder with more images"}
        else:
            runnable.append(m)
    return status, runnable


def _metric_locks(specs: dict[str, Any], runnable: list[str], device: str) -> dict[str, Any]:
    """{metric: lock or None}: on a GPU one lock shared by all metrics; on CPU a lock per metric that is not
    thread_safe, None for the others."""
    device_lock = threading.Lock() if _on_gpu(device) else None
    return {m: device_lock or (threading.Lock() if not specs[m].thread_safe else None) for m in runnable}


def _run_chunks(job: ChunkJob, plan: list[list[str]], n_workers: int, device: str) -> list[Chunk]:
    """`job` on every chunk of `plan`, on `n_workers` threads (CPU: one intra-op torch thread meanwhile);
    results in plan order. A failing chunk cancels the chunks not started yet and is raised."""
    with _intra_op_threads(None if _on_gpu(device) else 1):
        if n_workers == 1:
            return [job(b) for b in plan]
        with ThreadPoolExecutor(n_workers, thread_name_prefix="lgcaa-eval") as ex:
            futures = [ex.submit(job, b) for b in plan]
            try:
                return [f.result() for f in futures]
            except BaseException:
                ex.shutdown(wait=True, cancel_futures=True)
                raise


def _scores(results: list[Chunk], names: list[str], runnable: list[str], specs: dict[str, Any], sr_dir: Path,
            hr_dir: Path) -> tuple[list[tuple[str, str, float]], dict[str, dict[str, Any]], dict[str, float]]:
    """(per-image rows without undefined values, {metric: aggregate status}, {metric: forward seconds}) from the
    chunks' results; a folder-level (SET) metric's Fréchet distance is computed here from the chunks' features."""
    values = {k: v for r in results for k, v in r.values.items()}
    forward_s = {m: sum(r.forward_s[m] for r in results) for m in runnable}
    rows = [(n, m, values[(n, m)]) for n in names for m in runnable if (n, m) in values and not math.isnan(values[(n, m)])]
    status: dict[str, dict[str, Any]] = {}
    for m in runnable:
        if specs[m].mode == "SET":
            t0 = time.perf_counter()
            fid = frechet_from_features([r.fid["sr"] for r in results], [r.fid["hr"] for r in results])
            forward_s[m] += time.perf_counter() - t0
            if not math.isfinite(fid):
                raise MetricError(f"metric {m} returned {fid} for {sr_dir} vs {hr_dir}")
            status[m] = {"status": "ok", "mean": fid, "n": len(names), "scope": "folder pair (SR vs HR)"}
        else:
            status[m] = _per_image_status(m, specs[m], {n: values[(n, m)] for n in names})
    return rows, status, forward_s


def _aggregate(metric_names: list[str], n_images: int, status: dict[str, dict[str, Any]],
               digests: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """aggregate.json's content: image count, folder digests, protocol lock and every requested metric's status."""
    proto = protocol(metric_names)
    return {
        "n_images": n_images,
        # content digests of the scored folders (lgcaa.data.manifest.folder_digest: sha256 of `sha256sum *.png`)
        "sr_sha256": digests["sr"]["sha256"],
        "hr_sha256": digests["hr"]["sha256"],
        "lock": lock_hash(proto),
        "protocol": proto,
        "metrics": {m: status[m] for m in metric_names},
    }


def _timing(results: list[Chunk], forward_s: dict[str, float], total: float, build_s: float, n_workers: int,
            batches: int, device: str, memory_estimate: int) -> dict[str, Any]:
    """Where the evaluation's seconds went (Evaluation.timing; not reproducible, not written to aggregate.json)."""
    forward_total = sum(forward_s.values())
    return {
        "total_s": total, "build_s": build_s, "workers": n_workers, "batches": batches, "device": str(device),
        "memory_estimate_bytes": memory_estimate,
        "decode_s": sum(r.decode_s for r in results), "to_device_s": sum(r.to_device_s for r in results),
        "forward_s": forward_s,  # thread-seconds inside each metric's forward, summed over workers
        "forward_total_s": forward_total,
        # wall time the forwards need at best: on a GPU they are serialised (one device lock), on CPU spread
        # over the workers
        "forward_wall_s": forward_total if _on_gpu(device) else forward_total / n_workers,
    }


def _per_image_status(m: str, spec: Any, values: dict[str, float]) -> dict[str, Any]:
    """The aggregate entry of a per-image metric; images whose value is undefined (NaN, see `undefined_reason`)
    are listed with the reason and left out of the mean."""
    defined = [v for v in values.values() if not math.isnan(v)]
    undefined = sorted(n for n, v in values.items() if math.isnan(v))
    if not defined:
        return {"status": "missing", "reason": f"{m} is undefined on all {len(values)} images: {spec.undefined_reason}",
                "fix": f"drop {m} for this dataset (--metrics) or score images it is defined on"}
    out = {"status": "ok", "mean": sum(defined) / len(defined), "n": len(defined)}
    if undefined:
        out["undefined"] = {"n": len(undefined), "images": undefined, "reason": spec.undefined_reason}
    return out


@contextlib.contextmanager
def _intra_op_threads(n: int | None) -> Iterator[None]:
    """Set torch's intra-op thread count for the block (None: leave it), restoring it after."""
    if n is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# --- outputs -----------------------------------------------------------------------------------------------


def rows_to_csv(rows: list[tuple[str, str, float]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["image", "metric", "value"])
    for image, metric, value in rows:
        w.writerow([image, metric, repr(value)])
    return buf.getvalue()


def write_evaluation(out_dir: str | Path, ev: Evaluation, extra: dict[str, Any] | None = None) -> None:
    """Write per_image.csv, lock.json and aggregate.json into a folder built beside `out_dir` and swapped in
    whole (`lgcaa.io.atomic_dir`; its record is lock.json, which every evaluation folder holds): a kill or a
    full disk leaves the previous result or the new one, never the new per-image scores beside the old aggregate.
    A folder without lock.json that holds other files is never replaced (UserError)."""
    with atomic_dir(out_dir, LOCK, "eval") as tmp:
        write_text(tmp / PER_IMAGE, rows_to_csv(ev.rows))
        write_json(tmp / LOCK, {"lock": ev.aggregate["lock"], "protocol": ev.aggregate["protocol"]})
        write_json(tmp / AGGREGATE, {**ev.aggregate, **(extra or {})})
