"""The protocol lock: a short hash of everything that changes a metric's number.

It covers the pyiqa version, every selected metric's pyiqa name and options, and the image format/range
fed to the metrics. It is written next to every per-image CSV, logged to MLflow and printed under every
table; combining results with different locks is refused.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable

from lgcaa.errors import UserError

IMAGE_PROTOCOL = {"format": "png-uint8-rgb", "range": "[0,1] float32", "crop_border": 0, "resize": "none"}


def protocol(metric_names: Iterable[str], pyiqa_version: str | None = None) -> dict[str, Any]:
    from lgcaa.metrics.registry import get

    if pyiqa_version is None:
        from importlib.metadata import version

        pyiqa_version = version("pyiqa")
    return {
        "pyiqa": pyiqa_version,
        "image": IMAGE_PROTOCOL,
        "metrics": {n: {"pyiqa_name": get(n).pyiqa_name, "options": get(n).options} for n in sorted(metric_names)},
    }


def lock_hash(proto: dict[str, Any]) -> str:
    blob = json.dumps(proto, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def require_same_lock(items: Iterable[tuple[str, str]]) -> str:
    """items: (source, lock). Return the common lock or raise UserError naming two differing sources."""
    first: tuple[str, str] | None = None
    for source, lock in items:
        if first is None:
            first = (source, lock)
        elif lock != first[1]:
            raise UserError(
                f"protocol lock mismatch: {first[0]} has {first[1]} but {source} has {lock}; "
                "re-evaluate both with the same pyiqa version and metric options"
            )
    if first is None:
        raise UserError("no results to combine")
    return first[1]
