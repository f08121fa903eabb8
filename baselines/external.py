"""Run an author's own inference script (diffusion family) on a dataset folder and collect its outputs.

An `ExternalSpec` says how: the repository and pinned commit (checked out under the cache dir by
`baselines.setup`), the conda environment file (baselines/envs/), and the command line as a template:

  {python}   the environment's python        {input}  a staging folder of links to the LR PNGs
  {output}   the folder the script writes to  {seed}   the effective seed
  {s[key]}   a setting of the baseline        {w[name]} the path of a declared weight file
  {config}   a patched copy of `config_patch[0]` (keys set to the values of `config_patch[1]`)

The run is resumable: the staging folder (`.<method>.external` next to the output folder) survives a failed
or killed run, and the scripts that skip existing outputs (StableSR, LDM) continue where they stopped.
Collection maps every LR file name to the image the script wrote under that stem, checks its size (scale x
LR) and writes it atomically as PNG under the dataset's name. A missing image fails the job with the names
— PASD's script catches per-image exceptions and continues, so counting is the only way to notice.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lgcaa.errors import UserError
from lgcaa.io import read_rgb, write_png, write_text

PRODUCED_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass(frozen=True)
class ExternalSpec:
    repository: str  # git URL of the authors' code
    commit: str | None  # pinned commit (None: unpinned — the default branch, recorded at setup)
    env_file: str  # conda environment file under baselines/envs/
    script: str  # entry script, relative to the checkout (its presence marks a complete checkout)
    argv: tuple[str, ...]  # command template (see module docstring)
    output_subdir: str = ""  # where the script puts the images, relative to {output}
    flags: tuple[tuple[str, Any, str], ...] = ()  # (setting, value, token): token appended when setting == value
    links: tuple[tuple[str, str], ...] = ()  # (path inside the checkout, weight name): symlinked before the run
    config_patch: tuple[str, dict[str, Any]] | None = None  # (config in checkout, {dotted.key: value})
    install_checkout: bool = False  # `pip install -e <checkout>` into the environment at setup
    notes: tuple[str, ...] = field(default_factory=tuple)


def render_argv(spec: ExternalSpec, python: str, input_dir: str, output_dir: str, seed: int,
                settings: dict[str, Any], weights: dict[str, str], config: str = "") -> list[str]:
    """The command line for one run (pure). KeyError names a template field that has no value."""
    values = {"python": python, "input": input_dir, "output": output_dir, "seed": seed,
              "s": settings, "w": weights, "config": config}
    argv = [part.format_map(values) for part in spec.argv]
    argv += [token for key, value, token in spec.flags if settings.get(key) == value]
    return argv


def patch_config(src: Path, dest: Path, overrides: dict[str, Any]) -> Path:
    """Copy a YAML config with `overrides` ({"a.b.c": value}) applied; every key path must exist."""
    import yaml

    data = yaml.safe_load(src.read_text())
    for dotted, value in overrides.items():
        node = data
        *parents, last = dotted.split(".")
        for key in parents:
            if not isinstance(node, dict) or key not in node:
                raise UserError(f"{src}: has no '{dotted}' to patch; the checkout is not at the pinned commit — rerun lgcaa baselines setup")
            node = node[key]
        node[last] = value
    write_text(dest, yaml.safe_dump(data, sort_keys=False))
    return dest


def stage_inputs(lr_files: list[Path], input_dir: Path) -> None:
    """A fresh folder holding one symlink per LR file (the scripts list whole folders)."""
    if input_dir.exists():
        shutil.rmtree(input_dir)
    input_dir.mkdir(parents=True)
    for f in lr_files:
        (input_dir / f.name).symlink_to(f.resolve())


def link_weights(checkout: Path, links: tuple[tuple[str, str], ...], weights: dict[str, str]) -> None:
    """Symlink declared weights to the paths the authors' code hard-codes (inside the checkout)."""
    for rel, name in links:
        dest = checkout / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.is_symlink() or dest.exists():
            if dest.is_symlink() and os.readlink(dest) == weights[name]:
                continue
            if dest.is_dir() and not dest.is_symlink():
                shutil.rmtree(dest)
            else:
                dest.unlink()
        dest.symlink_to(weights[name])


def find_produced(produced_dir: Path, lr_name: str) -> Path | None:
    stem = Path(lr_name).stem
    for suffix in PRODUCED_SUFFIXES:
        p = produced_dir / f"{stem}{suffix}"
        if p.is_file():
            return p
    return None


def collect_outputs(method: str, produced_dir: Path, lr_files: list[Path], out_dir: Path, scale: int,
                    log: Path | None = None) -> int:
    """Write every produced image under its LR file name into `out_dir` (PNG, atomic); returns the count.

    UserError when any LR image has no output (names listed) or an output is not `scale` x its LR size.
    """

    found = {f.name: find_produced(produced_dir, f.name) for f in lr_files}
    absent = sorted(n for n, p in found.items() if p is None)
    if absent:
        see = f"; see {log}" if log else ""
        raise UserError(
            f"{produced_dir}: {method} wrote {len(lr_files) - len(absent)} of {len(lr_files)} images, missing "
            f"{', '.join(absent[:5])}{' ...' if len(absent) > 5 else ''} (the script skipped them{see}); "
            "fix the cause and rerun — finished images are kept"
        )
    for lr in lr_files:
        sr = read_rgb(found[lr.name])
        want = _size(lr)
        want = (want[0] * scale, want[1] * scale)
        if sr.shape[:2] != want:
            raise UserError(f"{found[lr.name]}: {method} output is {sr.shape[1]}x{sr.shape[0]}, expected "
                            f"{want[1]}x{want[0]} ({scale}x {lr.name}); check the script's size settings")
        write_png(out_dir / lr.name, sr)
    return len(lr_files)


def _size(path: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as im:
        return im.size[1], im.size[0]


def run_external(method: str, spec: ExternalSpec, lr_files: list[Path], out_dir: Path, settings: dict[str, Any],
                 seed: int, python: Path, checkout: Path, weights: dict[str, str], scale: int = 4) -> dict[str, Any]:
    """Run the authors' script, then collect. Prerequisites are checked by the caller. Returns a summary."""
    stage = out_dir.parent / f".{out_dir.name}.external"
    log = out_dir.parent / f"{out_dir.name}.external.log"
    input_dir, output_dir = stage / "input", stage / "output"
    stage_inputs(lr_files, input_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    link_weights(checkout, spec.links, weights)
    config = ""
    if spec.config_patch:
        rel, overrides = spec.config_patch
        config = str(patch_config(checkout / rel, stage / Path(rel).name, overrides))
    argv = render_argv(spec, str(python), str(input_dir), str(output_dir), seed, settings, weights, config)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(checkout), os.environ.get("PYTHONPATH")]))}
    t0 = time.perf_counter()
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as fh:
        fh.write("$ " + " ".join(argv) + f"\n# cwd {checkout}\n")
        fh.flush()
        rc = subprocess.run(argv, cwd=checkout, env=env, stdout=fh, stderr=subprocess.STDOUT, check=False).returncode
    if rc != 0:
        raise UserError(f"{log}: {method}'s inference script exited with code {rc}; read the log, fix, rerun (finished images are kept)")
    n = collect_outputs(method, output_dir / spec.output_subdir, lr_files, out_dir, scale, log)
    seconds = time.perf_counter() - t0
    shutil.rmtree(stage)
    return {"n_images": n, "n_computed": n, "seconds": seconds, "seconds_per_image": seconds / max(n, 1),
            "command": argv, "log": str(log)}
