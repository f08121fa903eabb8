"""Machine-readable outputs of a table: the long CSV (one row per cell, with intervals) and headline metrics.

The long CSV carries everything the displayed tables leave out: per-seed means, the seed t-interval, the
bootstrap-over-images interval, N and its flag, the rank mark, the missing reason, the lock and the job
records. The headline JSON (`dvc metrics show`) holds the means of the cells that are ok, and the compare
verdict counts.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from lgcaa.metrics.registry import get as metric_spec
from lgcaa.tables.cells import LoadedTable
from lgcaa.tables.grid import Grid

LONG_COLUMNS = (
    "table",
    "dataset",
    "method",
    "label",
    "keys",
    "metric",
    "direction",
    "status",
    "mean",
    "k",
    "seeds",
    "seed_means",
    "seed_ci_low",
    "seed_ci_high",
    "boot_ci_low",
    "boot_ci_high",
    "boot_note",
    "n",
    "n_flag",
    "mark",
    "reason",
    "fix",
    "lock",
    "records",
)


def _r(x: float | None) -> str:
    return "" if x is None else repr(x)


def to_long_csv(t: LoadedTable, grid: Grid) -> str:
    marks = {}
    for row in grid.rows:
        for c, mk in zip(row.cells, row.marks):
            marks[(c.dataset, c.method, c.metric)] = mk
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(LONG_COLUMNS)
    spec = t.spec
    for i, e in enumerate(spec.entries):
        for metric in spec.metrics:
            c = t.cell(i, metric)
            lo = hi = None
            if c.mean is not None and c.half is not None:
                lo, hi = c.mean - c.half, c.mean + c.half
            w.writerow(
                [
                    spec.name,
                    e.dataset,
                    e.method,
                    e.label,
                    "/".join(e.key),
                    metric,
                    "lower" if metric_spec(metric).lower_better else "higher",
                    c.status,
                    _r(c.mean),
                    len(e.seeds),
                    ";".join(map(str, e.seeds)),
                    ";".join(map(repr, c.seed_means)),
                    _r(lo),
                    _r(hi),
                    _r(c.boot[0] if c.boot else None),
                    _r(c.boot[1] if c.boot else None),
                    c.boot_note,
                    c.n,
                    c.n_flag,
                    marks.get((e.dataset, e.method, metric), ""),
                    c.reason,
                    c.fix,
                    t.lock,
                    ";".join(c.records),
                ]
            )
    return buf.getvalue()


def headline(t: LoadedTable, verdicts: dict[str, int] | None = None) -> dict[str, Any]:
    """{dataset: {method: {metric: mean}}} for ok cells, plus {"compare": verdict counts}."""
    out: dict[str, Any] = {}
    for i, e in enumerate(t.spec.entries):
        for metric in t.spec.metrics:
            c = t.cell(i, metric)
            if c.ok and c.mean is not None:
                out.setdefault(e.dataset, {}).setdefault(e.method, {})[metric] = round(c.mean, 6)
    if verdicts is not None:
        out["compare"] = verdicts
    return out
