"""Where baseline artefacts live on disk: weights, authors' checkouts, their environments, imported outputs.

cache dir   = `--cache-dir`, else $LGCAA_CACHE_DIR, else `results/cache` (the profile default
              `lgcaa.config.cache_dir` for `paths.results = results`)
imports dir = `--imports`, else $LGCAA_IMPORTS_DIR, else `results/imports`

Layout under the cache dir:
  baselines/<name>/...             weight files (WeightFile.dest)
  baselines/src/<name>-<commit12>  the authors' code at the pinned commit
  baselines/env/<name>             the authors' environment (conda prefix); its python is bin/python,
                                   ENV_MARKER inside marks it complete
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "LGCAA_CACHE_DIR"
IMPORTS_ENV = "LGCAA_IMPORTS_DIR"
DEFAULT_CACHE = Path("results/cache")
DEFAULT_IMPORTS = Path("results/imports")
ENV_MARKER = ".lgcaa-complete"


def cache_dir(explicit: str | Path | None = None) -> Path:
    return Path(explicit or os.environ.get(CACHE_ENV) or DEFAULT_CACHE)


def imports_dir(explicit: str | Path | None = None) -> Path:
    return Path(explicit or os.environ.get(IMPORTS_ENV) or DEFAULT_IMPORTS)


def checkout_dir(cache: Path, name: str, commit: str | None) -> Path:
    return cache / "baselines" / "src" / f"{name}-{(commit or 'unpinned')[:12]}"


def env_dir(cache: Path, name: str) -> Path:
    return cache / "baselines" / "env" / name


def env_python(cache: Path, name: str) -> Path:
    return env_dir(cache, name) / "bin" / "python"


def env_ready(cache: Path, name: str) -> bool:
    return (env_dir(cache, name) / ENV_MARKER).is_file() and env_python(cache, name).exists()
