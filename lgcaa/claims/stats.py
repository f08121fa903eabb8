"""Test statistics of the claims and the paired bootstrap that gives them an interval and a p-value.

Every test reduces to one statistic T over entity means, oriented so the claim holds exactly when T > 0
(values are negated for lower-is-better metrics first, so "better" is always "larger"). The functions take
arrays whose leading axis runs over entities and whose other axes (if any) run over bootstrap draws, so one
code path serves the observed means (shape (M,)) and the bootstrap means (shape (M, B)).

Bootstrap: per draw, images are resampled with replacement — the same indices for every entity on that
dataset (paired) — and, where an entity has k > 1 seeds, its seeds are resampled too. Values without
per-image numbers (set-level metrics such as FID, or the paper's printed numbers) stay fixed.
"""

from __future__ import annotations

import zlib

import numpy as np


def _desc(values: np.ndarray) -> np.ndarray:
    """Sort along axis 0, largest first."""
    return -np.sort(-values, axis=0)


def t_rank(subject: np.ndarray, others: np.ndarray, rank: int) -> np.ndarray:
    """Subject exactly `rank`-th: better than the rank-th best other, worse than the (rank-1)-th best."""
    o = _desc(others)
    if rank < 1 or rank > o.shape[0] + 1:
        raise ValueError(f"rank {rank} impossible among {o.shape[0] + 1} entities")
    below = subject - o[rank - 1] if rank - 1 < o.shape[0] else np.full_like(subject, np.inf)
    if rank == 1:
        return below
    return np.minimum(o[rank - 2] - subject, below)


def t_at_most(subject: np.ndarray, others: np.ndarray, rank: int) -> np.ndarray:
    """Subject among the best `rank`: better than the rank-th best other."""
    o = _desc(others)
    if rank > o.shape[0]:
        return np.full_like(subject, np.inf)
    return subject - o[rank - 1]


def t_top_group(group: np.ndarray, rest: np.ndarray, k: int) -> np.ndarray:
    """The best k overall all belong to the group: the group's k-th best beats the best non-member."""
    g = _desc(group)
    if k > g.shape[0]:
        raise ValueError(f"top {k} cannot all come from a group of {g.shape[0]}")
    return g[k - 1] - rest.max(axis=0)


def t_beats_nth(subject: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    """Subject better than the group's n-th best member."""
    return subject - _desc(group)[n - 1]


def nth_best(group: np.ndarray, n: int) -> np.ndarray:
    return _desc(group)[n - 1]


def draw_images(n_images: int, n_boot: int, seed: int, key: str) -> np.ndarray:
    """(B, N) image indices drawn with replacement; determined by (seed, key) alone."""
    rng = np.random.default_rng([int(seed), zlib.crc32(key.encode())])
    return rng.integers(0, n_images, size=(n_boot, n_images))


def boot_means(per_image: np.ndarray, image_idx: np.ndarray, seed: int, key: str) -> np.ndarray:
    """(B,) bootstrap means of an (N, k) image x seed array: images by `image_idx` (B, N), seeds resampled."""
    n_boot = image_idx.shape[0]
    per_seed = per_image[image_idx].mean(axis=1)  # (B, k): mean over the drawn images, per seed
    k = per_image.shape[1]
    if k == 1:
        return per_seed[:, 0]
    rng = np.random.default_rng([int(seed), zlib.crc32(("seeds|" + key).encode())])
    pick = rng.integers(0, k, size=(n_boot, k))
    return np.take_along_axis(per_seed, pick, axis=1).mean(axis=1)


def verdict(observed: float, draws: np.ndarray | None, alpha: float) -> tuple[str, float | None, tuple[float, float] | None]:
    """(verdict, p-value, two-sided 1-alpha percentile interval of T) from the observed T and its draws.

    supported: P*(T <= 0) < alpha; refuted: P*(T >= 0) < alpha; else inconclusive. p-value: of the verdict
    reached (the smaller of the two one-sided values when inconclusive). Without draws (point values only):
    the sign of T decides, with no p-value or interval.
    """
    if draws is None:
        if np.isinf(observed) or observed > 0:
            return "supported", None, None
        return ("refuted", None, None) if observed < 0 else ("inconclusive", None, None)
    b = draws.shape[0]
    p_support = (1 + int(np.sum(draws <= 0))) / (b + 1)
    p_refute = (1 + int(np.sum(draws >= 0))) / (b + 1)
    finite = draws[np.isfinite(draws)]
    interval = (
        (float(np.quantile(finite, alpha / 2)), float(np.quantile(finite, 1 - alpha / 2))) if finite.size else None
    )
    if p_support < alpha:
        return "supported", p_support, interval
    if p_refute < alpha:
        return "refuted", p_refute, interval
    return "inconclusive", min(p_support, p_refute), interval


def beyond_margin(observed: float, draws: np.ndarray | None, alpha: float) -> tuple[bool, float | None]:
    """Whether M = min over parts of (T + tolerance) is below 0 — some part falls short by more than its
    table's tolerance — and significantly so: P*(M >= 0) < alpha. Without draws the observed sign decides.
    Returns (beyond, p-value of M >= 0 or None)."""
    if observed >= 0:
        return False, None
    if draws is None:
        return True, None
    p = (1 + int(np.sum(draws >= 0))) / (draws.shape[0] + 1)
    return p < alpha, p
