"""The protocol lock: a short hash of everything that changes a metric's number.

It covers the pyiqa version, every selected metric's pyiqa name, options and weight digests (from the
manifest; "unpinned" where none is published), and the decoding rules / format / range of the images fed to
the metrics (lgcaa.metrics.decode.DECODE_PROTOCOL). It is written next to every per-image CSV, logged to
MLflow and printed under every table; combining results with different locks is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from lgcaa.errors import UserError
from lgcaa.metrics.decode import DECODE_PROTOCOL
from lgcaa.metrics.registry import get
from lgcaa.weights.manifest import BY_DEST


def image_protocol() -> dict[str, Any]:

    return {**DECODE_PROTOCOL, "crop_border": 0}


def protocol(metric_names: Iterable[str], pyiqa_version: str | None = None) -> dict[str, Any]:

    if pyiqa_version is None:
        from importlib.metadata import version

        pyiqa_version = version("pyiqa")

    def entry(n: str) -> dict[str, Any]:
        spec = get(n)
        return {"pyiqa_name": spec.pyiqa_name, "options": spec.options,
                "weights": {w: BY_DEST[w].sha256 or "unpinned" for w in spec.weights}}

    return {"pyiqa": pyiqa_version, "image": image_protocol(), "metrics": {n: entry(n) for n in sorted(metric_names)}}


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
