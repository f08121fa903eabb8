"""`lgcaa bench degrade`: images/s of our batched degradation vs basicsr's per-image reference loop.

Both run in the same process, in alternating rounds (rates = best round of each, robust to other load on
the machine), on the same HR images (real packaged photos, resized to cover SIZE and centre-cropped) with the
same per-image plans, so the outputs should agree up to float rounding (`agreement_psnr_db`). The reference
loop is the straightforward use of basicsr: per image, basicsr's `USMSharp` module (51x51 2-D Gaussian),
`filter2D`, then the same tail (DiffJPEG built once, as RealESRGANModel does) and basicsr's own noise
functions. Ours: separable USM (banded matrix products) +
per-sample-kernel `filter2D` on whole batches, Poisson noise counting levels by bincount.
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

import numpy as np


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, default=16, help="images for our batched path")
    parser.add_argument("--reference-n", type=int, default=8, help="images for basicsr's reference loop")
    parser.add_argument("--size", type=int, default=512, help="HR side (pixels)")
    parser.add_argument("--batch-size", type=int, default=8, help="images per batch of our batched path (default 8)")
    parser.add_argument("--config", default="realesrgan-x4plus", help="degradation config (lgcaa.data.degrade.CONFIGS)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    parser.add_argument("--device", default="cpu", help="torch device for our path: cpu, cuda (default cpu)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating timing rounds; rates are the best round of each path (robust to load)")


def hr_images(n: int, size: int) -> list[np.ndarray]:
    """n (size,size,3) uint8 crops of the packaged photos (cycled; resized up when smaller than size)."""
    from PIL import Image

    from lgcaa.data.photos import PHOTOS, center_crop, load_photo

    names = [p for p in PHOTOS if p != "immunohistochemistry"]
    out = []
    for i in range(n):
        img = load_photo(names[i % len(names)])
        h, w = img.shape[:2]
        if min(h, w) < size:
            f = size / min(h, w)
            img = np.asarray(Image.fromarray(img).resize((math.ceil(w * f), math.ceil(h * f)), Image.BICUBIC))
        out.append(center_crop(img, size))
    return out


def reference_degrade(hr, plan, usm=None):
    """basicsr per-image loop: (3,H,W) -> (3,H/s,W/s) with basicsr's USMSharp module and filter2D."""
    import torch

    from lgcaa.compat import import_basicsr
    from lgcaa.data.degrade import basicsr_poisson_noise, degrade_tail

    import_basicsr()
    from basicsr.utils import USMSharp
    from basicsr.utils.img_process_util import filter2D

    usm = usm or USMSharp()
    with torch.no_grad():
        gt = hr.unsqueeze(0)
        out = usm(gt) if plan.usm else gt
        out = filter2D(out, torch.from_numpy(plan.kernel1.weights).unsqueeze(0))
        return degrade_tail(out, plan, tuple(hr.shape[-2:]), poisson=basicsr_poisson_noise)[0]


def run(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from lgcaa.compat import import_basicsr
    from lgcaa.data.degrade import degrade_batch, image_seed, load_degradation_config, plan_degradation

    import_basicsr()
    from basicsr.utils import USMSharp

    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = load_degradation_config(args.config)
    n_ref = min(args.reference_n, args.n)
    imgs = [torch.from_numpy(a).permute(2, 0, 1).float() / 255.0 for a in hr_images(args.n, args.size)]
    plans = [plan_degradation(image_seed("bench", str(i), 0), cfg) for i in range(args.n)]
    usm = USMSharp()
    # warm-up both paths (imports, DiffJPEG tables, allocator)
    degrade_batch(imgs[0][None].to(args.device), [], cfg=cfg, plans=plans[:1])
    reference_degrade(imgs[0], plans[0], usm)

    def time_ours() -> tuple[float, list]:
        t0, out = time.perf_counter(), []
        for i in range(0, args.n, args.batch_size):
            batch = torch.stack(imgs[i : i + args.batch_size]).to(args.device)
            out.extend(degrade_batch(batch, [], cfg=cfg, plans=plans[i : i + args.batch_size]).cpu())
        return time.perf_counter() - t0, out

    def time_ref() -> tuple[float, list]:
        t0 = time.perf_counter()
        out = [reference_degrade(imgs[i], plans[i], usm) for i in range(n_ref)]
        return time.perf_counter() - t0, out

    t_ours, t_ref = [], []
    for _ in range(max(1, args.rounds)):  # alternate, so a load spike from other processes hits both paths
        dt, ours = time_ours()
        t_ours.append(dt)
        dt, ref = time_ref()
        t_ref.append(dt)

    psnrs = []
    for a, b in zip(ours[:n_ref], ref):
        mse = float(torch.mean((a.cpu() * 255 - b * 255) ** 2))
        psnrs.append(math.inf if mse == 0 else 10 * math.log10(255**2 / mse))
    finite = [p for p in psnrs if math.isfinite(p)]
    ours_ips, ref_ips = args.n / min(t_ours), n_ref / min(t_ref)
    return {
        "bench": "degrade",
        "config": args.config,
        "hr_size": args.size,
        "device": args.device,
        "torch_threads": torch.get_num_threads(),
        "rounds": len(t_ours),
        "ours": {"images": args.n, "batch_size": args.batch_size, "seconds_per_round": [round(t, 3) for t in t_ours],
                 "images_per_s": round(ours_ips, 3)},
        "basicsr_reference_loop": {"images": n_ref, "seconds_per_round": [round(t, 3) for t in t_ref],
                                   "images_per_s": round(ref_ips, 3)},
        "speedup": round(ours_ips / ref_ips, 2),
        "agreement_psnr_db": {
            "identical": len(psnrs) - len(finite),
            "min": round(min(finite), 2) if finite else None,
            "mean": round(float(np.mean(finite)), 2) if finite else None,
        },
        "projected_minutes_3000_images": {"ours": round(3000 / ours_ips / 60, 1),
                                          "basicsr_reference_loop": round(3000 / ref_ips / 60, 1)},
    }
