"""Why a (dataset, method) cell of a table has no SR outputs — for the table step.

`lgcaa sr` writes nothing into its output folder when it fails; instead it leaves
`<results>/sr/<dataset>/<method>.missing.json` = {"reason", "fix", ...} (outside Snakemake's declared outputs,
so it survives `--keep-going`), and deletes that file when a later run succeeds. `sr_state` reads the
folder, the job record and that file and says, per cell, "done" or "missing" with a reason and a fix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from lgcaa.layout import MISSING, RECORD, Layout, beside

@dataclass(frozen=True)
class SrState:
    dataset: str
    method: str
    state: str  # "done" | "missing"
    reason: str = ""  # why missing (one line)
    fix: str = ""  # the command that fixes it
    n_images: int = 0


def missing_record(out_dir: Path) -> Path:
    return beside(out_dir, MISSING)


def write_missing(out_dir: Path, method: str, dataset: str, reason: str, fix: str) -> Path:
    from lgcaa.io import write_json

    path = missing_record(out_dir)
    write_json(path, {"method": method, "dataset": dataset, "reason": reason, "fix": fix})
    return path


def clear_missing(out_dir: Path) -> None:
    missing_record(out_dir).unlink(missing_ok=True)


def sr_state(results_dir: str | Path, dataset: str, method: str) -> SrState:
    """State of `<results>/sr/<dataset>/<method>`: done (job record + images) or missing with reason and fix."""
    out_dir = Path(Layout(str(results_dir)).sr_dir(dataset, method))
    record = beside(out_dir, RECORD)
    images = sorted(out_dir.glob("*.png")) if out_dir.is_dir() else []
    if record.is_file() and images:
        return SrState(dataset, method, "done", n_images=len(images))
    marker = missing_record(out_dir)
    if marker.is_file():
        info = json.loads(marker.read_text())
        return SrState(dataset, method, "missing", info.get("reason", ""), info.get("fix", ""))
    return SrState(dataset, method, "missing", f"no SR outputs at {out_dir} (the job has not run)",
                   f"lgcaa sr --method {method} --dataset {dataset} ... (or snakemake --keep-going tables)")
