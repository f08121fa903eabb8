"""Which metrics can run here: a metric is available only when every weight file it loads is present AND
verified (sha256 against the manifest's pin or the digest recorded/pinned for it; NIQE's generated parameters
by content). An unverified file is never handed to pyiqa, whose loaders unpickle.

Files with an offline producer (NIQE's parameters from basicsr's npz, LPIPS' heads from the lpips wheel) are
made on demand. The verdicts are cached by size+mtime (`lgcaa.weights.manager`), so only the first evaluation
after a file appears or changes pays for hashing it.
"""

from __future__ import annotations

from pathlib import Path

from lgcaa.metrics.registry import FIX_COMMAND, METRICS, TABLE_ORDER, MetricSpec
from lgcaa.weights import manager
from lgcaa.weights.manifest import BY_DEST
from lgcaa.weights.roots import hub_dir

__all__ = ["absent_weights", "ensure_offline_weights", "hub_dir", "missing_reason", "verified_paths"]


def ensure_offline_weights(spec: MetricSpec) -> None:
    """Create the files of `spec.generated_offline` that are missing (no network)."""
    for rel in spec.generated_offline:
        f = BY_DEST[rel]
        if not manager.inspect(f).usable:
            manager.fetch(f)


def missing_reason(spec: MetricSpec) -> dict[str, str] | None:
    """None when `spec` can run (every file verified); else {'reason': ..., 'fix': ...} naming the files."""
    ensure_offline_weights(spec)
    bad = [s for s in manager.verify_for_use(BY_DEST[rel] for rel in spec.weights) if not s.verified]
    if not bad:
        return None
    absent = [s for s in bad if s.state == manager.MISSING]
    other = [s for s in bad if s.state != manager.MISSING]
    parts = []
    if absent:
        parts.append("weights absent: " + ", ".join(str(s.path) for s in absent))
    if other:
        parts.append("weights not verified: " + "; ".join(f"{s.state}: {s.detail}" for s in other))
    fix = FIX_COMMAND.format(name=spec.name)
    if any(s.state == manager.UNRECORDED for s in other):
        fix = "compare the file with a trusted copy, then `lgcaa weights pin FILE SHA256`"
    elif any(s.state == manager.CORRUPT for s in other):
        fix = f"delete the corrupt file(s), then {fix}"
    return {"reason": "; ".join(parts), "fix": fix}


def verified_paths(spec: MetricSpec) -> set[Path]:
    """Resolved paths of `spec`'s files whose sha256 is pinned in the manifest and verified (the only files a
    loader may unpickle without `weights_only`, see lgcaa.metrics.build)."""
    states = manager.verify_for_use(BY_DEST[rel] for rel in spec.weights)
    return {s.path.resolve() for s in states if s.verified and s.file.sha256 is not None}


def absent_weights(hub: Path) -> dict[str, list[str]]:
    """{metric: [paths of absent files under `hub`]} for the nine metrics ([] = runnable here; presence only,
    no hashing: what `lgcaa weights list` shows)."""
    out = {}
    for m in TABLE_ORDER:  # metrics' files live under the hub
        states = [manager.inspect(BY_DEST[w], hub) for w in METRICS[m].weights]
        out[m] = [str(s.path) for s in states if not s.usable]
    return out
