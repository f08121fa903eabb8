"""`lgcaa bench metrics`: our evaluator vs a naive pyiqa loop, same images, same metrics, same process.

Naive loop (what a typical scoring script does): for each metric, `pyiqa.create_metric(...)` with our
registry options, then for each image call it on the file paths (pyiqa re-reads and decodes every image for
every metric); FID runs pyiqa's folder mode. Ours: `lgcaa.metrics.evaluate.evaluate` (decode once, models built
once, same-size images batched). Model building counts in both (our model cache is cleared before each run).

Both are warmed up first on one image (lazy imports, LAPACK/allocator first-use) and run `--repeat` times
in alternating order; medians are reported. Values must agree (max |naive - ours| per metric is reported).

Result keys: speedup = naive_s / ours_s (goal >= 2); overhead = ours_s / ours_forward_s - 1, where
ours_forward_s is the wall time the metrics' own forward calls need (on CPU: thread-seconds in forward / workers;
on a GPU, where forwards are serialised: their sum) (goal <= 0.15); overhead_excluding_model_build leaves out the one-time model loading
(which the naive loop pays too, and which dominates runs of a few images). Where the speedup comes from is shown by two references run in the same
loop: naive_1thread_s (the naive loop with torch limited to one intra-op thread, like our workers) and
ours_1worker_s (our evaluator with a single worker): naive_s/naive_1thread_s is the thread-policy share,
naive_1thread_s/ours_1worker_s the decode-once + batching share, ours_1worker_s/ours_s the workers' share
(`--no-references` skips these two loops: they are null then).
images_per_second = images / ours_s (all requested metrics per image); bitwise_equal_to_pyiqa_1thread: our values
are pyiqa's whole-image ones bit for bit at the same intra-op thread count (one, as our workers run; checked in an
untimed extra pass); load_average: the machine's load around the timed runs. Real pairs:
  lgcaa bench metrics --sr ../shared/data/osediff-outputs/realsr --hr ../shared/data/stablesr-crops/realsr/HR \
      --metrics psnr,ssim,niqe --limit 20

`--random-init` times all nine metrics without any weight file: every network is built at random
initialisation with its exact architecture (pyiqa's loaders, torchvision/timm ImageNet weights and OpenAI
CLIP are bypassed; CLIP RN50 is built from its published hyper-parameters; NIQE gets random pristine
statistics of its real shape). Values are meaningless, time and memory are those of the real metrics. GPU:
  lgcaa bench metrics --device cuda --random-init --size 512 --n-images 20
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lgcaa.metrics.registry import get, split_names
from lgcaa.metrics.registry import names as metric_names

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "hubble_deep_field", "retina",
          "china", "flower", "motorcycle_left")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sr", type=Path, default=None, help="SR folder (default: made from real photos)")
    parser.add_argument("--hr", type=Path, default=None, help="HR folder (default: made from real photos)")
    parser.add_argument("--metrics", default=",".join(metric_names()),
                        help="requested metrics; those without weights here are skipped and listed")
    parser.add_argument("--n-images", type=int, default=10,
                        help="image pairs when no folders are given (10 photos, then mirrored copies)")
    parser.add_argument("--limit", type=int, default=None,
                        help="with --sr/--hr: only the first N pairs (by name), e.g. of the RealSR HR / OSEDiff "
                             "pairs of the mirror")
    parser.add_argument("--size", type=int, default=256, help="HR side when no folders are given")
    parser.add_argument("--repeat", type=int, default=3, help="timed repeats (medians reported)")
    parser.add_argument("--device", default="auto", help="cpu, cuda, or auto")
    parser.add_argument("--batch-pixels", type=int, default=None, help="pixels per batched forward (default: evaluator's)")
    parser.add_argument("--no-references", action="store_true",
                        help="skip the one-thread naive and one-worker reference loops (halves the run time)")
    parser.add_argument("--random-init", action="store_true",
                        help="build every metric network at random init (no weight files; timing only)")


# OpenAI CLIP RN50's hyper-parameters (what pyiqa's clip build_model reads off the RN50.pt state dict)
CLIP_RN50 = {"embed_dim": 1024, "image_resolution": 224, "vision_layers": (3, 4, 6, 3), "vision_width": 64,
             "vision_patch_size": None, "context_length": 77, "vocab_size": 49408, "transformer_width": 512,
             "transformer_heads": 8, "transformer_layers": 12}
NIQE_FEATURES = 36  # length of NIQE's pristine mean vector (18 features x 2 scales)


@contextlib.contextmanager
def random_weights() -> Iterator[None]:
    """While active, metric networks are built at random init and no weight file is read or downloaded."""
    from unittest import mock

    import numpy as np
    import pyiqa  # noqa: F401  (imports every pyiqa arch module, whose names are patched below)
    import scipy.io
    import timm
    import torch
    import torchvision.models._api as tv_api
    from torch.nn.modules.module import _IncompatibleKeys

    from lgcaa.metrics import availability, build

    def no_load(*_args: Any, **_kwargs: Any) -> None:
        return None

    def random_clip(*_args: Any, **_kwargs: Any) -> Any:
        from pyiqa.archs.clip_model import CLIP

        return CLIP(**CLIP_RN50).float().eval()

    real_loadmat = scipy.io.loadmat

    def loadmat(path: Any, *args: Any, **kwargs: Any) -> Any:
        if "niqe" in str(path) and not Path(str(path)).is_file():
            rng = np.random.default_rng(0)
            a = rng.standard_normal((NIQE_FEATURES, NIQE_FEATURES))
            return {"mu_prisparam": rng.standard_normal((1, NIQE_FEATURES)), "cov_prisparam": a @ a.T / NIQE_FEATURES}
        return real_loadmat(path, *args, **kwargs)

    real_create = timm.create_model

    def create_model(name: str, *args: Any, **kwargs: Any) -> Any:
        kwargs["pretrained"] = False
        return real_create(name, *args, **kwargs)

    patches = [
        mock.patch.object(torch.nn.Module, "load_state_dict", lambda *_a, **_k: _IncompatibleKeys([], [])),
        mock.patch.object(tv_api.WeightsEnum, "get_state_dict", lambda *_a, **_k: {}),
        mock.patch.object(timm, "create_model", create_model),
        mock.patch.object(scipy.io, "loadmat", loadmat),
        mock.patch.object(availability, "missing_reason", lambda *_a, **_k: None),
        mock.patch.object(build, "missing_reason", lambda *_a, **_k: None),
        mock.patch("pyiqa.archs.clipiqa_arch.load", random_clip),
    ]
    for name, module in list(sys.modules.items()):
        if not name.startswith("pyiqa.") or module is None:
            continue
        if hasattr(module, "load_pretrained_network"):
            patches.append(mock.patch.object(module, "load_pretrained_network", no_load))
        if hasattr(module, "load_file_from_url"):
            patches.append(mock.patch.object(module, "load_file_from_url", lambda *_a, **_k: "random-init"))
    with contextlib.ExitStack() as stack:
        for p in patches:
            stack.enter_context(p)
        yield


def make_pairs(out: Path, n: int, size: int) -> tuple[Path, Path]:
    """HR: real photos (skimage/sklearn wheels) centre-cropped to size²; SR: bicubic x4 down then up."""
    import numpy as np
    from PIL import Image

    from lgcaa.io import write_png

    hr_dir, sr_dir = out / "hr", out / "sr"
    for i in range(n):  # beyond the 10 photos: mirrored / transposed copies (distinct images, same content)
        name, variant = PHOTOS[i % len(PHOTOS)], i // len(PHOTOS)
        img = _photo(name)
        img = [img, img[:, ::-1], img[::-1], img.transpose(1, 0, 2)][variant % 4]
        h, w = img.shape[:2]
        s = min(size, h, w) // 4 * 4
        img = np.ascontiguousarray(img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s])
        lr = Image.fromarray(img).resize((s // 4, s // 4), Image.BICUBIC)
        write_png(hr_dir / f"{name}_{variant}.png", img)
        write_png(sr_dir / f"{name}_{variant}.png", np.asarray(lr.resize((s, s), Image.BICUBIC)))
    return sr_dir, hr_dir


def _photo(name: str):
    import numpy as np

    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        return load_sample_image(f"{name}.jpg")
    import skimage.data

    if name == "motorcycle_left":
        return skimage.data.stereo_motorcycle()[0]
    img = getattr(skimage.data, name)()
    if img.dtype != np.uint8:
        img = (np.clip(img, 0, 1) * 255).round().astype(np.uint8)
    return img[..., :3]


def naive(sr: Path, hr: Path, metrics: list[str], names: list[str], device: str) -> tuple[float, dict]:
    """Seconds and {metric: {image: value}} for the create-per-metric, read-per-call loop."""
    import torch

    from lgcaa.metrics.build import build_metric

    t0 = time.perf_counter()
    values: dict[str, dict[str, float]] = {}
    with torch.no_grad():
        for m in metrics:
            spec = get(m)
            model = build_metric(m, device)
            if spec.mode == "SET":
                values[m] = {"*": float(model(str(sr), str(hr), mode=spec.options["mode"], num_workers=0,
                                              verbose=False))}
                continue
            values[m] = {}
            for n in names:
                v = model(str(sr / n), str(hr / n)) if spec.mode == "FR" else model(str(sr / n))
                values[m][n] = float(v.reshape(-1)[0])
    return time.perf_counter() - t0, values


def ours(sr: Path, hr: Path, metrics: list[str], device: str, batch_pixels: int | None,
         workers: int | None = None) -> tuple[float, Any]:
    from lgcaa.metrics.build import clear_cache
    from lgcaa.metrics.evaluate import DEFAULT_BATCH_PIXELS, evaluate

    clear_cache()
    t0 = time.perf_counter()
    ev = evaluate(sr, hr, metrics, device=device, batch_pixels=batch_pixels or DEFAULT_BATCH_PIXELS, workers=workers)
    return time.perf_counter() - t0, ev


def naive_one_thread(sr: Path, hr: Path, metrics: list[str], names: list[str], device: str) -> tuple[float, dict]:
    """`naive` with torch limited to one intra-op thread (as the evaluator's workers run)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return naive(sr, hr, metrics, names, device)
    finally:
        torch.set_num_threads(before)


def run(args: argparse.Namespace) -> dict[str, Any]:
    if not args.random_init:
        return _run(args)
    with random_weights():
        out = _run(args)
    out["weights"] = "random init (shape-identical networks; values meaningless, timing real)"
    return out


def _run(args: argparse.Namespace) -> dict[str, Any]:
    import pyiqa  # noqa: F401  (imported before timing: its import is not part of either loop)

    from lgcaa.metrics.evaluate import resolve_device

    device = resolve_device(args.device)
    with contextlib.ExitStack() as stack:
        sr, hr = _bench_pairs(args, stack)
        return _measure(args, sr, hr, device)


def _bench_pairs(args: argparse.Namespace, stack: contextlib.ExitStack) -> tuple[Path, Path]:
    """The (SR, HR) folders benchmarked: real photos made in a temporary folder, or --sr/--hr (their first --limit
    pairs copied to one); temporary folders live as long as `stack`."""
    if args.sr is not None and args.hr is not None and not args.limit:
        return args.sr, args.hr
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lgcaa-bench-metrics-")))
    if args.sr is None or args.hr is None:
        return make_pairs(tmp, args.n_images, args.size)
    return _first_pairs(args.sr, args.hr, args.limit, tmp)


def _measure(args: argparse.Namespace, sr: Path, hr: Path, device: str) -> dict[str, Any]:
    import torch

    from lgcaa.metrics.availability import missing_reason
    from lgcaa.metrics.evaluate import paired_names

    requested = split_names(args.metrics)
    skipped = {m: r["reason"] for m in requested if (r := missing_reason(get(m))) is not None}
    metrics = [m for m in requested if m not in skipped]
    names = paired_names(sr, hr)

    load_before = os.getloadavg()
    # warm-up, untimed: one image through each metric
    _, _ = naive(sr, hr, [m for m in metrics if get(m).mode != "SET"], names[:1], device)
    runs, naive_vals, ev = _timed_runs(sr, hr, metrics, names, device, args.batch_pixels, args.repeat,
                                       args.no_references)
    diffs = _max_diffs(naive_vals, ev, metrics)
    # bitwise check, untimed: pyiqa's whole-image calls at one intra-op thread, as our workers run (a reduction's
    # last bit depends on the thread count: pyiqa's own SSIM differs by 1 ulp between 1 and 2 threads)
    diffs_1thread = _max_diffs(naive_one_thread(sr, hr, metrics, names, device)[1], ev, metrics)

    keys = ("naive_s", "ours_s", "ours_forward_s", "naive_1thread_s", "ours_1worker_s")
    for r in runs:
        r.setdefault("naive_1thread_s", float("nan"))
        r.setdefault("ours_1worker_s", float("nan"))
    load_after = os.getloadavg()
    med = {k: statistics.median(r[k] for r in runs) for k in keys}
    build = statistics.median(r["ours_timing"]["build_s"] for r in runs)
    speedup = med["naive_s"] / med["ours_s"]
    overhead = med["ours_s"] / med["ours_forward_s"] - 1 if med["ours_forward_s"] > 0 else None
    overhead_ex = (med["ours_s"] - build) / med["ours_forward_s"] - 1 if med["ours_forward_s"] > 0 else None
    out = {
        "bench": "metrics",
        "device": device,
        "torch_threads": torch.get_num_threads(),
        "n_images": len(names),
        "image_sizes": sorted({f"{h}x{w}" for h, w in _sizes(sr, names)}),
        "metrics": metrics,
        "skipped_no_weights": skipped,
        "repeat": args.repeat,
        "naive_s": round(med["naive_s"], 4),
        "ours_s": round(med["ours_s"], 4),
        "ours_forward_s": round(med["ours_forward_s"], 4),
        "ours_workers": ev.timing["workers"],
        "naive_1thread_s": None if args.no_references else round(med["naive_1thread_s"], 4),
        "ours_1worker_s": None if args.no_references else round(med["ours_1worker_s"], 4),
        "images_per_second": round(len(names) / med["ours_s"], 3),
        "images_per_second_forward_only": round(len(names) / med["ours_forward_s"], 3) if med["ours_forward_s"] else None,
        "speedup": round(speedup, 3),
        "overhead": None if overhead is None else round(overhead, 4),
        "overhead_excluding_model_build": None if overhead_ex is None else round(overhead_ex, 4),
        "goal": {"speedup_ge_2": speedup >= 2, "overhead_le_0.15": overhead is not None and overhead <= 0.15},
        "max_abs_diff_naive_vs_ours": {m: float(f"{d:.3g}") for m, d in diffs.items()},
        "max_abs_diff_naive_1thread_vs_ours": {m: float(f"{d:.3g}") for m, d in diffs_1thread.items()},
        "bitwise_equal_to_pyiqa_1thread": {m: d == 0.0 for m, d in diffs_1thread.items()},
        # the machine's load (1, 5, 15 min) before and after the timed runs: shared cores make seconds lie
        "load_average": {"before": [round(v, 2) for v in load_before], "after": [round(v, 2) for v in load_after]},
        "cpus": len(os.sched_getaffinity(0)),
        "ours_forward_s_by_metric": {m: round(statistics.median(r["ours_timing"]["forward_s"][m] for r in runs), 4)
                                     for m in metrics},
        "ours_build_s": round(statistics.median(r["ours_timing"]["build_s"] for r in runs), 4),
        "ours_decode_s": round(statistics.median(r["ours_timing"]["decode_s"] for r in runs), 4),
        "runs_s": [{k: round(r[k], 4) for k in keys if r[k] == r[k]} for r in runs],
        "source": (f"{args.sr} vs {args.hr}" + (f", first {len(names)} pairs" if args.limit else "")
                   if args.sr is not None and args.hr is not None else "real photos (skimage/sklearn), bicubic x4 round trip"),
    }
    return out


def _timed_runs(sr: Path, hr: Path, metrics: list[str], names: list[str], device: str, batch_pixels: int | None,
                repeat: int, no_references: bool) -> tuple[list[dict[str, Any]], dict, Any]:
    """(per repeat {"naive_s", "ours_s", "ours_forward_s", "ours_timing"[, "naive_1thread_s", "ours_1worker_s"]},
    the last naive loop's values, the last Evaluation). The loops run in alternating order between repeats."""
    runs = []
    for r in range(repeat):
        order = ("naive", "ours") if no_references else ("naive", "ours", "naive1", "ours1")
        order = order if r % 2 == 0 else order[::-1]
        res: dict[str, Any] = {}
        for which in order:
            if which == "naive":
                res["naive_s"], naive_vals = naive(sr, hr, metrics, names, device)
            elif which == "naive1":
                res["naive_1thread_s"] = naive_one_thread(sr, hr, metrics, names, device)[0]
            elif which == "ours1":
                res["ours_1worker_s"] = ours(sr, hr, metrics, device, batch_pixels, workers=1)[0]
            else:
                res["ours_s"], ev = ours(sr, hr, metrics, device, batch_pixels)
                res["ours_forward_s"] = ev.timing["forward_wall_s"]
                res["ours_timing"] = ev.timing
        runs.append(res)
    return runs, naive_vals, ev


def _first_pairs(sr: Path, hr: Path, n: int, out: Path) -> tuple[Path, Path]:
    """Folders of links to the first `n` common PNG names of `sr` and `hr`."""
    from lgcaa.metrics.evaluate import paired_names

    names = paired_names(sr, hr)[:n]
    for src, dst in ((sr, out / "sr"), (hr, out / "hr")):
        dst.mkdir(parents=True)
        for name in names:
            (dst / name).symlink_to((src / name).resolve())
    return out / "sr", out / "hr"


def _max_diffs(naive_vals: dict[str, dict[str, float]], ev: Any, metrics: list[str]) -> dict[str, float]:
    """{metric: max |naive - ours|} over its images (a SET metric: its one folder value, key "*")."""
    ours_vals: dict[str, dict[str, float]] = {m: {} for m in metrics}
    for n, m, v in ev.rows:
        ours_vals[m][n] = v
    for m in metrics:
        if get(m).mode == "SET":
            ours_vals[m]["*"] = ev.aggregate["metrics"][m]["mean"]
    return {m: max(abs(naive_vals[m][k] - ours_vals[m][k]) for k in naive_vals[m]) for m in metrics}


def _sizes(folder: Path, names: list[str]) -> list[tuple[int, int]]:
    from lgcaa.metrics.decode import image_size

    return [image_size(folder / n) for n in names]
