"""`lgcaa bench eval-memory`: peak resident memory of scoring one large pair with the offline metrics.

Makes a SIDE x SIDE pair from a real photo (scikit-image's astronaut, bicubic-enlarged to SIDE for HR; SR = HR
bicubic x4 down and up again), then runs `lgcaa eval SR HR --metrics METRICS` in a child process and reads
the child's peak RSS (`wait4` rusage: ru_maxrss). The result says whether it stays under `--bound`
(default BOUND_BYTES, the bound the README states for a 4000x4000 pair with psnr, ssim, niqe); before the
strip-wise SSIM/NIQE and the memory planning the same pair was killed by the kernel at 16.6 GB.

`--calibrate` instead measures, per metric and in a fresh process each, the peak bytes per pixel of one
whole-image forward (random images at 1000x1000 and 2000x2000) and the per-pixel slope of the strip-wise
forward (2000x2000 vs 3000x3000) — `bytes_per_pixel` / `tiled_bytes_per_pixel` in lgcaa/metrics/registry.py
come from this (rounded up).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lgcaa.layout import AGGREGATE
from lgcaa.metrics.memory import gib, parse_bytes

BOUND_BYTES = 3 << 30  # 3 GiB for a 4000x4000 pair, psnr + ssim + niqe, one worker
OFFLINE_METRICS = "psnr,ssim,niqe"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--side", type=int, default=4000, help="image side in pixels (default 4000)")
    parser.add_argument("--metrics", default=OFFLINE_METRICS, help=f"metrics to score (default {OFFLINE_METRICS})")
    parser.add_argument("--bound", default=str(BOUND_BYTES), help="peak RSS the run must stay under (e.g. 3G)")
    parser.add_argument("--workers", type=int, default=None, help="evaluator workers (default: its own choice)")
    parser.add_argument("--calibrate", action="store_true",
                        help="measure bytes per pixel of each metric's forward instead (fills the registry's costs)")


def run(args: argparse.Namespace) -> dict[str, Any]:
    metrics = [m for m in args.metrics.split(",") if m]
    if args.calibrate:
        return calibrate(metrics)
    bound = parse_bytes(args.bound)
    with tempfile.TemporaryDirectory(prefix="lgcaa-evalmem-") as tmp:
        sr, hr = make_pair(Path(tmp), args.side)
        argv = [sys.executable, "-m", "lgcaa", "eval", str(sr), str(hr), "--metrics", ",".join(metrics),
                "--device", "cpu", "--out", str(Path(tmp) / "out")]
        if args.workers:
            argv += ["--workers", str(args.workers)]
        peak, seconds, rc, output = peak_rss(argv)
        aggregate = json.loads((Path(tmp) / "out" / AGGREGATE).read_text()) if rc == 0 else {}
    return {
        "side": args.side, "metrics": metrics, "rc": rc, "seconds": round(seconds, 1),
        "peak_rss_bytes": peak, "peak_rss": gib(peak), "bound_bytes": bound, "bound": gib(bound),
        "below_bound": rc == 0 and peak < bound,
        "values": {m: s.get("mean") for m, s in aggregate.get("metrics", {}).items()},
        **({"output_tail": output[-2000:]} if rc != 0 else {}),
    }


def make_pair(folder: Path, side: int) -> tuple[Path, Path]:
    """HR: astronaut bicubic-resized to side x side; SR: HR bicubic x1/4 then x4 (PNG, uint8 RGB)."""
    import numpy as np
    import skimage.data
    from PIL import Image

    from lgcaa.io import write_png

    hr = Image.fromarray(skimage.data.astronaut()).resize((side, side), Image.BICUBIC)
    sr = hr.resize((side // 4, side // 4), Image.BICUBIC).resize((side, side), Image.BICUBIC)
    write_png(folder / "hr" / "pair.png", np.asarray(hr))
    write_png(folder / "sr" / "pair.png", np.asarray(sr))
    return folder / "sr", folder / "hr"


def peak_rss(argv: list[str]) -> tuple[int, float, int, str]:
    """(peak RSS bytes of the child, seconds, return code, its output) of running `argv`."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    return usage.ru_maxrss * 1024, time.perf_counter() - t0, proc.returncode, text


_PROBE = r"""
import sys, numpy as np, torch
from pathlib import Path
torch.set_num_threads(1)
metric, side, tiled = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
from lgcaa.metrics.build import get_model
from lgcaa.metrics.registry import get
spec, model = get(metric), get_model(metric, "cpu")
rng = np.random.default_rng(0)
a = rng.integers(0, 256, (1, 3, side, side), dtype=np.uint8)
b = np.clip(a.astype(np.int16) + rng.integers(-8, 9, a.shape, dtype=np.int16), 0, 255).astype(np.uint8)
x, y = (torch.from_numpy(t).float() / 255 for t in (a, b))
del a, b
def status(key):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
base = status("VmRSS")
with torch.no_grad():
    if tiled:
        spec.tiled(model, x, y)
    else:
        model(x, y) if spec.mode == "FR" else model(x)
print(status("VmHWM") - base)
"""


def calibrate(metrics: list[str]) -> dict[str, Any]:
    """Peak bytes per pixel of each metric's forward (fresh process per measurement, peak RSS reset after the
    images are made): whole-image at 1000 and 2000 px sides; strip-wise at 2000 and 3000, fitted as
    bytes/pixel x pixels + a constant (the strip)."""
    from lgcaa.metrics.registry import get

    def probe(metric: str, side: int, tiled: bool) -> int:
        res = subprocess.run([sys.executable, "-c", _PROBE, metric, str(side), "1" if tiled else "0"],
                             capture_output=True, text=True, check=True)
        return int(res.stdout.strip().splitlines()[-1])

    out: dict[str, Any] = {}
    for m in metrics:
        whole = {side: probe(m, side, False) for side in (1000, 2000)}
        entry: dict[str, Any] = {"whole_bytes_per_pixel": {str(k): round(v / k**2) for k, v in whole.items()},
                                 "registry_bytes_per_pixel": get(m).bytes_per_pixel}
        if get(m).tiled is not None:
            peaks = {side: probe(m, side, True) for side in (2000, 3000)}
            slope = (peaks[3000] - peaks[2000]) / (3000**2 - 2000**2)
            entry["tiled_peak_bytes"] = {str(k): v for k, v in peaks.items()}
            entry["tiled_bytes_per_pixel"] = round(slope)
            entry["tiled_constant_bytes"] = round(peaks[2000] - slope * 2000**2)
            entry["registry_tiled_bytes_per_pixel"] = get(m).tiled_bytes_per_pixel
        out[m] = entry
    return {"calibration": out, "note": "peak RSS above the RSS before the forward (VmHWM reset) / pixels; one "
                                        "intra-op thread"}
