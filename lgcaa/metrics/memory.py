"""How much memory scoring an image costs, estimated from its header before anything is decoded.

The evaluator sizes its worker count so that the chunks scored at once fit the memory available, and refuses
(one line naming the image) a pair that cannot fit even alone. Costs are peak resident bytes per image pixel,
measured on CPU (`lgcaa bench eval-memory --calibrate`: `ru_maxrss` around one forward in a fresh process,
one intra-op thread) and kept in the metric registry (`bytes_per_pixel`, `tiled_bytes_per_pixel`):

- decoding a pair for scoring: uint8 SR + HR and their float32 (B,3,H,W) tensors: DECODE_BYTES_PER_PIXEL;
- a metric's whole-image forward: `bytes_per_pixel` x pixels + `bytes_per_image` (MANIQA's crops, FID's
  299x299 copies, the networks' fixed activations);
- a metric with a strip-wise forward (lgcaa.metrics.tiled), which the evaluator uses at every size: `tiled_bytes_per_pixel`
  x pixels (what it keeps for the whole image) + one strip with its halo at `bytes_per_pixel`.

A metric without a measured cost (CLIPIQA: its JIT RN50 cannot be rebuilt with random weights here) is counted
at the largest measured rate (UNMEASURED_BYTES_PER_PIXEL).

Measured (2 cores, torch 2.14 CPU, pyiqa 0.1.16, one intra-op thread, peak RSS reset before the forward):
- offline metrics, `lgcaa bench eval-memory --calibrate` (B/px at 1000^2 / 2000^2; strip-wise slope between
  2000^2 and 3000^2): PSNR 44 / 26, SSIM 1052 / 1056 (strip-wise 15 B/px + ~256 MB), NIQE 409 / 397
  (strip-wise 82 B/px);
- weight-bound metrics with random weights of their real architectures (the same tensors, so the same memory;
  built as tests/test_metrics_plumbing.py does), peak bytes at 256^2 / 512^2 / 1024^2: LPIPS 45 / 95 / 288 MB,
  DISTS 73 / 452 / 1604 MB; at 512^2 / 1024^2: MUSIQ 171 / 369 MB, MANIQA 2311 / 2336 MB (its crops: a fixed
  cost), FID 41 / 29 MB (299x299 copies).
The registry's `bytes_per_pixel` / `bytes_per_image` are chosen to cover every measurement.
"""

from __future__ import annotations

import os
from pathlib import Path

from lgcaa.errors import UserError
from lgcaa.metrics.registry import METRICS
from lgcaa.metrics.tiled import NIQE_RESIZE_HALO, niqe_rows, ssim_rows

DECODE_BYTES_PER_PIXEL = 30  # 3 + 3 (uint8 SR, HR) + 12 + 12 (float32 tensors)
UNMEASURED_BYTES_PER_PIXEL = max(s.bytes_per_pixel or 0 for s in METRICS.values())  # CLIPIQA (JIT RN50)
STRIP_ROWS = {"ssim": lambda w, b: ssim_rows(w, b), "niqe": lambda w, b: niqe_rows(w)}  # rows per strip
STRIP_HALO = NIQE_RESIZE_HALO  # rows a strip reads beyond its own, per side (the largest halo)
HEADROOM = 0.85  # share of the available memory the workers may plan to use
MEMORY_ENV = "LGCAA_EVAL_MEMORY"  # bytes the evaluator may use (e.g. a cluster job's allocation); else measured


def metric_bytes(metric: str, h: int, w: int, batch: int = 1) -> int:
    """Peak bytes of `metric`'s forward on a batch of `batch` images of h x w pixels."""
    spec = METRICS[metric]
    whole = UNMEASURED_BYTES_PER_PIXEL if spec.bytes_per_pixel is None else spec.bytes_per_pixel
    if spec.tiled is not None:  # strip-wise at every size (lgcaa.metrics.scoring)
        rows = STRIP_ROWS[metric](w, batch) if metric in STRIP_ROWS else h
        strip = (rows + 2 * STRIP_HALO) * w
        return batch * ((spec.tiled_bytes_per_pixel or whole) * h * w + whole * min(h * w, strip))
    return batch * (whole * h * w + spec.bytes_per_image)


def chunk_bytes(h: int, w: int, batch: int, metrics: list[str]) -> int:
    """Peak bytes of scoring one chunk: its decoded pairs plus the costliest metric (metrics run one by one)."""
    return batch * DECODE_BYTES_PER_PIXEL * h * w + max((metric_bytes(m, h, w, batch) for m in metrics), default=0)


def available_bytes() -> int:
    """Bytes this process may still use: $LGCAA_EVAL_MEMORY if set, else the smaller of MemAvailable and the
    cgroup's limit minus its usage (containers, SLURM jobs)."""
    env = os.environ.get(MEMORY_ENV, "").strip()
    if env:
        return parse_bytes(env)
    candidates = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                candidates.append(int(line.split()[1]) * 1024)
    except OSError:
        pass
    for limit, usage in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                         ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            lim = Path(limit).read_text().strip()
            if lim.isdigit() and int(lim) < 1 << 60:
                candidates.append(int(lim) - int(Path(usage).read_text().strip()))
        except (OSError, ValueError):
            continue
    return max(0, min(candidates)) if candidates else 1 << 62


def parse_bytes(text: str) -> int:
    """'123', '512M', '4G', '1.5GiB' -> bytes; UserError otherwise."""
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}.get(t[-1:], 1)
    try:
        return int(float(t[:-1] if scale > 1 else t) * scale)
    except ValueError:
        raise UserError(f"memory size {text!r} not understood; write e.g. 4G, 512M or a number of bytes") from None


def gib(n: int) -> str:
    return f"{n / (1 << 30):.2f} GiB"


def plan_workers(chunks: list[tuple[str, int, int, int]], metrics: list[str], wanted: int,
                 budget: int | None = None) -> tuple[int, int]:
    """(workers, estimated peak bytes) for chunks [(first image, H, W, batch)] so that the `workers` costliest
    chunks at once fit HEADROOM x `budget` (default `available_bytes()`); UserError naming the costliest image
    when even it alone does not fit."""
    if not chunks:
        return max(1, wanted), 0
    budget = available_bytes() if budget is None else budget
    usable = int(budget * HEADROOM)
    costs = sorted(((chunk_bytes(h, w, b, metrics), name, h, w) for name, h, w, b in chunks), reverse=True)
    worst, name, h, w = costs[0]
    if worst > usable:
        costly = max(metrics, key=lambda m: metric_bytes(m, h, w), default="")
        raise UserError(f"{name}: scoring this {w}x{h} pair with {', '.join(metrics)} needs about "
                        f"{gib(worst)}, more than the {gib(usable)} this job may use ({gib(budget)} available); "
                        f"score it on a machine with more memory (or set {MEMORY_ENV}), or drop {costly} (--metrics)")
    workers = 1
    while workers < min(wanted, len(costs)) and sum(c[0] for c in costs[:workers + 1]) <= usable:
        workers += 1
    return workers, sum(c[0] for c in costs[:workers])
