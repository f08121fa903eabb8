"""Which metrics can run here: a metric is available only when every weight file it loads is present.

Files with an offline producer (NIQE's parameters from basicsr's npz, LPIPS' heads from the lpips wheel) are
made on demand. Presence is checked by existence and, where the manifest knows it, size; digests are checked
by `lgcaa weights verify` / `fetch` (hashing ~1 GB per evaluation job would dominate small runs).
"""

from __future__ import annotations

from pathlib import Path

from lgcaa.metrics.registry import FIX_COMMAND, MetricSpec


def hub_dir() -> Path:
    from lgcaa.weights.manager import hub_dir as _hub

    return _hub()


def ensure_offline_weights(spec: MetricSpec) -> None:
    """Create the files of `spec.generated_offline` that are missing (no network)."""
    from lgcaa.weights.manager import fetch, inspect
    from lgcaa.weights.manifest import BY_DEST

    for rel in spec.generated_offline:
        f = BY_DEST[rel]
        if not inspect(f).usable:
            fetch(f)


def missing_reason(spec: MetricSpec) -> dict[str, str] | None:
    """None when `spec` can run; else {'reason': ..., 'fix': ...} naming the absent files."""
    from lgcaa.weights.manager import inspect
    from lgcaa.weights.manifest import BY_DEST

    ensure_offline_weights(spec)
    bad = [s for s in (inspect(BY_DEST[rel]) for rel in spec.weights) if not s.usable]
    if not bad:
        return None
    return {
        "reason": "weights absent: " + ", ".join(str(s.path) + ("" if s.state == "missing" else f" ({s.state})")
                                                  for s in bad),
        "fix": FIX_COMMAND.format(name=spec.name),
    }
