"""Where weight files live: the one resolution of the torch hub folder and of the harness cache dir.

hub dir   = `torch.hub.get_dir()` (`$TORCH_HOME/hub`, where torchvision, pyiqa and CLIP look): metric weights
cache dir = `--cache-dir`, else $LGCAA_CACHE_DIR, else `results/cache` (the profile default
            `lgcaa.config.cache_dir` for `paths.results = results`): baseline weights, the authors' checkouts
            and environments (`baselines.install`)

A `WeightFile` names its root (`HUB` or `CACHE`); `root_of(f, cache) / f.dest` is where it lives.
"""

from __future__ import annotations

import os
from pathlib import Path

from lgcaa.weights.manifest import HUB, WeightFile

CACHE_ENV = "LGCAA_CACHE_DIR"
DEFAULT_CACHE = Path("results/cache")


def hub_dir() -> Path:
    import torch

    return Path(torch.hub.get_dir())


def cache_dir(explicit: str | os.PathLike | None = None) -> Path:
    return Path(explicit or os.environ.get(CACHE_ENV) or DEFAULT_CACHE)


def root_of(f: WeightFile, cache: str | os.PathLike | None = None) -> Path:
    """The folder `f.dest` is relative to."""
    return hub_dir() if f.root == HUB else cache_dir(cache)
