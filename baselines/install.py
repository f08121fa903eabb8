"""`lgcaa baselines setup NAME`: the authors' code at the pinned commit, their environment, the weights.

Needs internet (git, conda, the weight hosts) and, to run afterwards, a CUDA GPU. Each step is skipped when
its result is already complete, and each is atomic: a checkout is cloned into a temporary folder and renamed
into place once the pinned commit is checked out; an environment is created under a temporary prefix and
renamed when conda (and `pip install -e <checkout>`, where the authors install their repo) succeeded.

Layout under the cache dir (`lgcaa.weights.roots.cache_dir`):
  baselines/<name>/...             weight files (their WeightFile.dest, fetched by lgcaa.weights.manager)
  baselines/src/<name>-<commit12>  the authors' code at the pinned commit
  baselines/env/<name>             the authors' environment (conda prefix); its python is bin/python,
                                   ENV_MARKER inside marks it complete
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from baselines.registry import get
from lgcaa.errors import UserError
from lgcaa.weights import manager

COMMIT_FILE = ".lgcaa-commit"
ENVS = Path(__file__).parent / "envs"
ENV_MARKER = ".lgcaa-complete"


def checkout_dir(cache: Path, name: str, commit: str | None) -> Path:
    return cache / "baselines" / "src" / f"{name}-{(commit or 'unpinned')[:12]}"


def env_dir(cache: Path, name: str) -> Path:
    return cache / "baselines" / "env" / name


def env_python(cache: Path, name: str) -> Path:
    return env_dir(cache, name) / "bin" / "python"


def env_ready(cache: Path, name: str) -> bool:
    return (env_dir(cache, name) / ENV_MARKER).is_file() and env_python(cache, name).exists()


def _run(argv: list[str], what: str, cwd: Path | None = None) -> str:
    res = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        last = (res.stderr.strip() or res.stdout.strip() or "no output").splitlines()[-1][:300]
        raise UserError(f"{what} failed ({' '.join(argv[:4])} ...: {last}); check the network and rerun")
    return res.stdout


def git_checkout(repository: str, commit: str | None, dest: Path) -> str:
    """Clone `repository` and check out `commit` at `dest`; returns the full commit id. Idempotent."""
    marker = dest / COMMIT_FILE
    if marker.is_file():
        resolved = marker.read_text().strip()
        if commit is None or resolved.startswith(commit):
            return resolved
        raise UserError(f"{dest}: holds commit {resolved[:12]}, not the pinned {commit[:12]}; delete the folder and rerun setup")
    tmp = dest.parent / f".{dest.name}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    _run(["git", "clone", "--quiet", "--no-checkout", repository, str(tmp)], f"git clone of {repository}")
    try:
        _run(["git", "-c", "advice.detachedHead=false", "checkout", "--quiet", commit or "HEAD"],
             f"checkout of {commit} in {repository}", cwd=tmp)
    except UserError:
        shutil.rmtree(tmp)
        raise
    resolved = _run(["git", "rev-parse", "HEAD"], "git rev-parse", cwd=tmp).strip()
    (tmp / COMMIT_FILE).write_text(resolved + "\n")
    os.replace(tmp, dest)
    return resolved


def conda_command() -> list[str]:
    """The env-create command prefix of the first conda-like tool on PATH; UserError when there is none."""
    for exe, create in (("micromamba", ["create", "-y"]), ("mamba", ["env", "create", "-y"]), ("conda", ["env", "create", "-y"])):
        path = shutil.which(exe)
        if path:
            return [path, *create]
    raise UserError("no conda, mamba or micromamba on PATH (the authors' environments need one); "
                    "install Miniforge from https://github.com/conda-forge/miniforge and rerun lgcaa baselines setup")


def create_env(env_file: Path, prefix: Path, checkout: Path | None) -> Path:
    """Create the conda environment at `prefix` (skipped when complete); returns its python.

    Conda prefixes are not relocatable, so the environment is built in place and marked complete by
    ENV_MARKER only after conda (and `pip install -e <checkout>`) succeeded; a partial prefix is rebuilt.
    """
    python = prefix / "bin" / "python"
    if (prefix / ENV_MARKER).is_file():
        return python
    if not env_file.is_file():
        raise UserError(f"{env_file}: environment file missing; reinstall the harness (pip install -e .)")
    if prefix.exists():
        shutil.rmtree(prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    _run([*conda_command(), "-p", str(prefix), "-f", str(env_file)], f"environment from {env_file}")
    if checkout is not None:
        _run([str(python), "-m", "pip", "install", "-e", str(checkout)], f"pip install -e {checkout}")
    (prefix / ENV_MARKER).write_text(str(env_file) + "\n")
    return python


def setup(name: str, cache: Path) -> dict[str, str]:
    """Checkout + environment + weights for one baseline; returns {step: result}. UserError (one line) naming
    every weight file that is still not verified (manual downloads, unpinned files to pin) and its fix."""

    b = get(name)
    done: dict[str, str] = {}
    if b.external is not None:
        spec = b.external
        co = checkout_dir(cache, name, spec.commit)
        done["checkout"] = f"{co} @ {git_checkout(spec.repository, spec.commit, co)}"
        done["environment"] = str(create_env(ENVS / spec.env_file, env_dir(cache, name), co if spec.install_checkout else None))
    if b.weights:
        states = [manager.fetch(w, cache) for w in b.weights]
        bad = [s for s in states if not s.verified]
        if bad:
            raise UserError(f"{name}: {len(bad)} weight file(s) not ready: " + "; ".join(f"{s.state}: {s.detail}" for s in bad))
        done["weights"] = ", ".join(str(s.path) for s in states)
    return done
