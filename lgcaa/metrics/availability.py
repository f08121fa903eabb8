"""Which metrics can run here: a metric is available only when every weight file it loads is present.

Files listed in `generated_offline` are produced on demand (NIQE's parameters from basicsr's npz).
"""

from __future__ import annotations

from pathlib import Path

from lgcaa.metrics.registry import FIX_COMMAND, MetricSpec


def hub_dir() -> Path:
    import torch

    return Path(torch.hub.get_dir())


def ensure_offline_weights(spec: MetricSpec) -> None:
    """Create the files of `spec.generated_offline` that are missing."""
    for rel in spec.generated_offline:
        dest = hub_dir() / rel
        if not dest.is_file() and rel.endswith("niqe_modelparameters.mat"):
            from lgcaa.metrics.niqe_params import write_niqe_mat

            write_niqe_mat(dest)


def missing_reason(spec: MetricSpec) -> dict[str, str] | None:
    """None when `spec` can run; else {'reason': ..., 'fix': ...} naming the absent files."""
    ensure_offline_weights(spec)
    absent = [rel for rel in spec.weights if not (hub_dir() / rel).is_file()]
    if not absent:
        return None
    return {
        "reason": f"weights absent: {', '.join(str(hub_dir() / a) for a in absent)}",
        "fix": FIX_COMMAND.format(name=spec.name),
    }
