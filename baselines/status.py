"""Why an SR job produced nothing: `<results>/sr/<dataset>/<method>.missing.json`.

`lgcaa sr` writes nothing into its output folder when it fails; instead it leaves `<out-dir>.missing.json` =
{"method", "dataset", "reason", "fix"} beside the folder (outside Snakemake's declared outputs, so it survives
`--keep-going` for the user to read) and deletes that file when a later run succeeds. The table step does not
read it: a table needs every cell's outputs, so Snakemake does not run it while an SR job of the table failed.
"""

from __future__ import annotations

from pathlib import Path

from lgcaa.io import write_json
from lgcaa.layout import MISSING, beside


def missing_record(out_dir: Path) -> Path:
    return beside(out_dir, MISSING)


def write_missing(out_dir: Path, method: str, dataset: str, reason: str, fix: str) -> Path:
    path = missing_record(out_dir)
    write_json(path, {"method": method, "dataset": dataset, "reason": reason, "fix": fix})
    return path


def clear_missing(out_dir: Path) -> None:
    missing_record(out_dir).unlink(missing_ok=True)
