"""Reproduced table cells from evaluator outputs.

An entry's aggregates (one `aggregate.json` per seed, with `per_image.csv` and the job record `run.json`
beside it) become one `Cell` per metric: the mean over seeds, a 95% t-interval when k > 1, and a bootstrap
95% interval over images. Every aggregate of a table must share one protocol lock (else UserError). An
aggregate whose image count differs from the dataset's expected count is *flagged* (`n_flag`): the cell
is shown with a mark, left out of best/second ranking and never reported as matching the paper.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lgcaa.errors import UserError
from lgcaa.layout import eval_record_of, per_image_of
from lgcaa.metrics.lock import require_same_lock
from lgcaa.tables.spec import Entry, TableSpec
from lgcaa.tables.stats import bootstrap_ci, seed_interval


@dataclass(frozen=True)
class Cell:
    dataset: str
    method: str
    metric: str
    status: str  # "ok" | "missing"
    mean: float | None = None
    half: float | None = None  # half-width of the seed t-interval (k > 1)
    seed_means: tuple[float, ...] = ()
    boot: tuple[float, float] | None = None  # bootstrap-over-images interval
    boot_note: str = ""  # why `boot` is None
    n: int = 0
    n_flag: str = ""  # non-empty: image count differs from the expected one
    reason: str = ""
    fix: str = ""
    records: tuple[str, ...] = ()  # job records (run.json) of the seeds' evaluations

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def rankable(self) -> bool:
        return self.ok and not self.n_flag and self.mean is not None


@dataclass
class LoadedTable:
    spec: TableSpec
    cells: dict[tuple[int, str], Cell]  # (entry index, metric) -> Cell
    lock: str  # "" when the table has no entries
    counts: dict[str, int] = field(default_factory=dict)  # dataset -> N (first aggregate seen)

    def cell(self, index: int, metric: str) -> Cell:
        return self.cells[(index, metric)]


def read_aggregate(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{p}: aggregate not found; run the evaluation first (snakemake {p})")
    try:
        agg = json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise UserError(f"{p}: not JSON ({exc}); delete it and rerun the evaluation") from None
    absent = [k for k in ("lock", "n_images", "metrics") if not isinstance(agg, dict) or k not in agg]
    if absent:
        raise UserError(f"{p}: not an evaluator aggregate (no {', '.join(absent)}); delete it and rerun the evaluation")
    return agg


def read_per_image(path: Path) -> dict[str, dict[str, float]]:
    """{metric: {image: value}} from a per_image.csv (image,metric,value). Every evaluation writes one (a header
    only when no metric has per-image values), so an absent file is an incomplete evaluation: UserError, never
    a table, figure or claim built without its per-image numbers."""
    out: dict[str, dict[str, float]] = {}
    if not path.is_file():
        raise UserError(f"{path}: per-image scores not found, the evaluation in that folder is incomplete; rerun it "
                        f"(snakemake {path}, or lgcaa eval), then rerun this")
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["metric"], {})[row["image"]] = float(row["value"])
    return out


def _n_flag(n_seeds: list[int], expected: int | None) -> str:
    if expected is not None and any(n != expected for n in n_seeds):
        return f"N = {', '.join(map(str, sorted(set(n_seeds))))} but {expected} expected"
    if len(set(n_seeds)) > 1:
        return f"seeds evaluated on different image counts ({', '.join(map(str, n_seeds))})"
    return ""


def entry_cells(spec: TableSpec, entry: Entry, aggs: list[dict[str, Any]], metrics: tuple[str, ...]) -> dict[str, Cell]:
    """Cells of one entry; `aggs` are its aggregates (one per seed), already lock-checked."""
    expected = spec.expected.get(entry.dataset)
    ns = [int(a["n_images"]) for a in aggs]
    flag = _n_flag(ns, expected)
    records = tuple(str(eval_record_of(p)) for p in entry.aggregates)
    per_image = [read_per_image(per_image_of(p)) for p in entry.aggregates]
    boot_cfg = spec.bootstrap
    out: dict[str, Cell] = {}
    for metric in metrics:
        base = {
            "dataset": entry.dataset,
            "method": entry.method,
            "metric": metric,
            "n": ns[0],
            "n_flag": flag,
            "records": records,
        }
        stats = [a["metrics"].get(metric) or {} for a in aggs]
        bad = [s for s in stats if s.get("status") != "ok"]
        if bad:  # missing in any seed: missing, with the first seed's reason
            reason = bad[0].get("reason") or f"metric '{metric}' was not evaluated in this profile"
            fix = bad[0].get("fix") or "add it to the profile's 'metrics' and rerun"
            out[metric] = Cell(status="missing", reason=reason, fix=fix, **base)
            continue
        means = [float(s["mean"]) for s in stats]
        mean, half = seed_interval(means, boot_cfg["level"])
        columns = [pi.get(metric, {}) for pi in per_image]
        images = sorted(set.intersection(*(set(c) for c in columns))) if all(columns) else []
        boot, note = None, ""
        if not images:
            note = "no per-image values (set-level metric)"
        else:
            x = np.array([[c[i] for c in columns] for i in images]).mean(axis=1)  # (N,) mean over seeds
            boot = bootstrap_ci(
                x,
                int(boot_cfg["n"]),
                int(boot_cfg["seed"]),
                f"{spec.name}|{entry.dataset}|{entry.method}|{metric}",
                boot_cfg["level"],
            )
            note = "" if boot else "fewer than 2 images"
        out[metric] = Cell(
            status="ok", mean=mean, half=half, seed_means=tuple(means), boot=boot, boot_note=note, **base
        )
    return out


def load_table(spec: TableSpec) -> LoadedTable:
    """Read every aggregate of `spec`; UserError on a lock mismatch or an unreadable file."""
    aggs = {p: read_aggregate(p) for p in spec.aggregates}
    lock = require_same_lock((p, a["lock"]) for p, a in aggs.items()) if aggs else ""
    cells: dict[tuple[int, str], Cell] = {}
    counts: dict[str, int] = {}
    for i, entry in enumerate(spec.entries):
        these = [aggs[p] for p in entry.aggregates]
        counts.setdefault(entry.dataset, int(these[0]["n_images"]))
        for metric, c in entry_cells(spec, entry, these, spec.metrics).items():
            cells[(i, metric)] = c
    return LoadedTable(spec, cells, lock, counts)
