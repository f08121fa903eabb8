"""Uncertainty of a table cell: a t-interval over seeds and a bootstrap-over-images interval.

Both are pure functions of their inputs. The bootstrap's random stream is derived from (seed, cell key), so
a cell's interval depends on nothing else: adding a method or a dataset leaves every other interval unchanged.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence

import numpy as np


def seed_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float | None]:
    """(mean, half-width of the `level` Student-t interval) over per-seed means; half-width None when k < 2."""
    k = len(values)
    if k == 0:
        raise ValueError("seed_interval needs at least one value")
    mean = float(np.mean(values))
    if k < 2:
        return mean, None
    from scipy.stats import t

    sd = float(np.std(values, ddof=1))
    return mean, float(t.ppf(0.5 + level / 2, k - 1) * sd / math.sqrt(k))


def cell_rng(seed: int, key: str) -> np.random.Generator:
    """A generator determined by (seed, key) alone."""
    return np.random.default_rng([int(seed), zlib.crc32(key.encode())])


def bootstrap_ci(
    per_image: np.ndarray, n_boot: int, seed: int, key: str, level: float = 0.95
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the mean over images (resampled with replacement).

    per_image: (N,) values, one per image (already averaged over seeds). None when N < 2.
    """
    x = np.asarray(per_image, dtype=np.float64)
    if x.ndim != 1 or x.size < 2:
        return None
    rng = cell_rng(seed, key)
    idx = rng.integers(0, x.size, size=(n_boot, x.size))  # (B, N)
    means = x[idx].mean(axis=1)  # (B,)
    alpha = (1.0 - level) / 2
    lo, hi = np.quantile(means, [alpha, 1.0 - alpha])
    return float(lo), float(hi)
